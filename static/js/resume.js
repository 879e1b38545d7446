// A run that outlives its socket: when the socket drops the page shows the run as stopped
// and keeps it (RunKeeper); when the socket is back it sends the run back (start's
// resume_from, docs/protocol.md) before the changes made meanwhile, which wait in the
// socket's queue and follow once, in order. After a reload it offers the kept run.

import { CONTROLS } from "./state.js";
import { DATASET_NAMES } from "./words.js";
import { RunKeeper } from "./keeper.js";
import { OfflineBanner, RestoreOffer } from "./offline.js";

const RESUME_FIELDS = ["epoch", "weights", "biases"];  // start's resume_from
const LIVE_KEYS = CONTROLS.filter((c) => c.live).map((c) => c.key);
const SAVE_EVERY_MS = 2000;  // how often the run is written to this browser's storage
// what a restored run's optimizer lost: its state is not in the frames (docs/protocol.md)
const OPTIMIZER_RESTARTED = {
  momentum: " Momentum starts again from rest: its velocity was not kept.",
  adam: " Adam's running averages start again: they were not kept.",
};

export class RunResumer {
  // page: the playground's parts, as functions where they come later (socket, transport,
  // state, accepted) — { socket, transport, state, accepted, losses, start, setAlert, loadSetup }
  constructor(page) {
    this.page = page;
    this.offline = false;    // the socket is down: nothing trains
    this.resumeWith = null;  // the run as it was when the socket dropped, for when it is back
    this.resuming = null;    // the snapshot a "start" with resume_from was sent for
    this.refused = false;    // the server refused to resume: a fresh start is on its way
    this.runPoints = [];     // the learner's own points of the current run
    this.lastSave = 0;
    this.keeper = new RunKeeper();
    this.banner = new OfflineBanner({ onTry: () => page.socket().retryNow() });
    this.offer = new RestoreOffer({ onRestore: (s) => this.restore(s), onFresh: () => this.keeper.forget() });
    window.addEventListener("pagehide", () => { if (!this.offer.pending && !this.offline) this.save(); });
  }

  // A reload: offer the run this browser kept, and keep it until the learner chose.
  offerKept() {
    const saved = this.keeper.load();
    if (saved?.resume.epoch > 0) this.offer.show(saved, DATASET_NAMES[saved.config.dataset] || saved.config.dataset);
  }

  // The socket opened; true when it sent a kept run back (else the page starts its setup).
  open() {
    this.offline = false;
    this.page.transport().setOffline(false);
    this.banner.up();
    const snap = this.resumeWith;
    this.resumeWith = null;
    if (snap) this.resume(snap);
    return Boolean(snap);
  }

  closed(ev, wait) {
    if (!this.offline) {
      this.offline = true;
      // a restore under way keeps its own snapshot
      this.resumeWith = this.resuming || this.snapshot();
      this.resuming = null;
      this.page.transport().setOffline(true);
    }
    const problem = ev.code === 1013 ? "The server is full." : "Lost the connection to the server.";
    this.banner.down(problem, wait, this.words());
  }

  // A message waits for the socket: the banner counts it.
  queued() {
    queueMicrotask(() => { if (this.offline) this.banner.setRun(this.words()); });
  }

  // A "ready" event, after the read-outs were reset: a resumed run keeps its curves.
  ready(msg, readout) {
    const { losses, state } = this.page;
    // the ready of a start sent before the learner chose to restore (a slow server): the
    // restored run's own ready (at its epoch) or its refusal is still to come
    if (this.resuming?.resume && msg.epoch !== this.resuming.resume.epoch) return;
    this.refused = false;
    this.keeper.ready(msg);
    if (msg.epoch) losses.keepUntil(msg.epoch);
    else { losses.reset(); this.runPoints = structuredClone(state().points); }
    const n = losses.epochs.length - 1;
    if (n >= 0) readout.progress({ epochs: [losses.epochs[n]], train_loss: [losses.train[n]], test_loss: [losses.test[n]], accuracy: [losses.acc[n]] });
    if (!this.resuming) return;
    const snap = this.resuming;
    this.resuming = null;
    const how = msg.epoch ? `Your run goes on from epoch ${msg.epoch.toLocaleString("en")}, with the weights it had.${OPTIMIZER_RESTARTED[msg.config.optimizer] || ""}` : "Your run started again from its setup.";
    this.banner.up(`${snap.reload ? "Restored." : "Back online."} ${how}`);
  }

  frame(header, blocks) {
    this.keeper.frame(header, blocks);
    if (!this.offer.pending && Date.now() - this.lastSave > SAVE_EVERY_MS) this.save();
  }

  // An "error" event; true when it was about the kept run (handled here).
  error(msg) {
    if (this.resuming && RESUME_FIELDS.includes(msg.field)) {
      // the server would not take the kept parameters: start the setup afresh and say why
      this.resuming = null;
      this.refused = true;
      this.page.setAlert(`The run could not go on where it was (its ${msg.field} ${msg.message}), so it starts again from its setup.`);
      this.page.start(false);
      return true;
    }
    return this.refused && msg.field === "type";  // changes that found no run: the fresh start has them
  }

  // The current run's setup: as the server accepted it, with the live settings the learner
  // changed since (acknowledged or still on their way).
  config() {
    const accepted = this.page.accepted();
    const state = this.page.state();
    if (!accepted) return state.toRunConfig();
    const config = { ...accepted };
    for (const key of LIVE_KEYS) config[key] = state.get(key);
    if (config.dataset === "custom") config.points = this.runPoints;
    return config;
  }

  snapshot() {
    return this.keeper.snapshot(this.config(), this.page.transport().running, this.page.losses);
  }

  save() {
    this.lastSave = Date.now();
    this.keeper.save(this.snapshot());
  }

  // Start a kept run again: from its last frame's parameters when it has them.
  resume(snap) {
    this.resuming = snap;
    const msg = { type: "start", config: snap.config, paused: !snap.playing };
    if (snap.resume) msg.resume_from = snap.resume;
    this.page.socket().send(msg);
  }

  // While offline: where the run stopped, and what it does when the connection is back.
  words() {
    const n = this.page.socket().waiting;
    const playing = this.page.transport().running;
    const changes = n ? ` Your ${n === 1 ? "change" : `${n} changes`} made meanwhile will be applied then, in order.` : "";
    const kept = this.resumeWith?.resume;
    if (!kept) return `When the connection is back, the run starts${playing ? " and plays" : ""}.${changes}`;
    const then = playing ? "it goes on playing" : "it stays paused";
    return `Your run is kept at epoch ${kept.epoch.toLocaleString("en")}; when the connection is back, ${then}.${changes}`;
  }

  // The learner chose to restore the run this browser kept (after a reload).
  restore(saved) {
    const { points = [], ...config } = saved.config;
    this.page.loadSetup(config);
    this.page.state().points = points;
    this.runPoints = structuredClone(points);
    if (saved.losses) this.page.losses.load(saved.losses);
    this.page.transport().set(saved.playing);
    this.page.setAlert("");
    this.resume({ ...saved, reload: true });
  }
}
