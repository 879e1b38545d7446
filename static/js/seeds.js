// Many seeds at once: "Run 16 seeds" trains the current setup from 16 seeds beside the
// learner's own run (the server's `seeds` request, one stack on the server). The "Seeds"
// region shows each seed's boundary, its test loss and dead units, and a one-line summary
// of how many got stuck; a click on a seed makes it the learner's run, as trained.

import { paintGrid } from "./paint.js";

const $ = (id) => document.getElementById(id);
const COUNT = 16;
const loss3 = (v) => (v == null ? "–" : v.toFixed(3));

export class SeedsPanel {
  // send(message): to the training socket; limits: /api/options limits (seeds, seed_epochs);
  // onHistory(msg): a picked seed's curves arrived (the page shows them as its run's)
  constructor({ send, limits, onHistory }) {
    Object.assign(this, { send, onHistory });
    this.grid = $("seeds-grid");
    this.summary = $("seeds-summary");
    this.epochsBox = $("seed-epochs");
    const [lo, hi] = limits.seed_epochs;
    Object.assign(this.epochsBox, { min: lo, max: hi });
    this.count = Math.min(COUNT, limits.seeds[1]);
    $("run-seeds").textContent = `Run ${this.count} seeds`;
    $("run-seeds").addEventListener("click", () => this.run());
    $("stop-seeds").addEventListener("click", () => this.stop());
    this.tiles = new Map();
    this.running = false;
  }

  run() {
    const epochs = Number(this.epochsBox.value);
    const [lo, hi] = [Number(this.epochsBox.min), Number(this.epochsBox.max)];
    if (!Number.isInteger(epochs) || epochs < lo || epochs > hi) {
      this.summary.textContent = `Epochs each must be a whole number from ${lo} to ${hi}.`;
      this.epochsBox.setAttribute("aria-invalid", "true");
      return;
    }
    this.epochsBox.removeAttribute("aria-invalid");
    this.grid.replaceChildren();
    this.tiles.clear();
    this.running = true;
    this.summary.textContent = `Training this setup from ${this.count} seeds, ${epochs} epochs each…`;
    $("stop-seeds").hidden = false;
    this.send({ type: "seeds", seeds: this.count, seed_epochs: epochs });
  }

  stop() {
    this.send({ type: "seeds", stop: true });
    this.running = false;
    $("stop-seeds").hidden = true;
    this.summary.textContent = `Stopped. ${this.last?.summary ?? ""}`.trim();
  }

  // The server's `seeds` event: where every seed is.
  update(msg) {
    if (!this.running) return;  // stopped: a last event on its way is not news
    this.last = msg;
    for (const s of msg.seeds) this.tile(s, msg).update(s, msg);
    this.summary.textContent = msg.done ? `${msg.summary}.` : `${msg.summary} (epoch ${Math.min(...msg.seeds.map((s) => s.epoch))} of ${msg.epochs}).`;
    if (msg.done) { this.running = false; $("stop-seeds").hidden = true; }
  }

  tile(s, msg) {
    let t = this.tiles.get(s.seed);
    if (!t) {
      t = new SeedTile(s.seed, msg.grid, () => this.pick(s.seed));
      this.tiles.set(s.seed, t);
      this.grid.append(t.el);
    }
    return t;
  }

  pick(seed) {
    this.send({ type: "pick_seed", seed });
    this.picked = seed;
  }

  // `seed_history` comes before the picked run's `ready`: the tile leaves the grid.
  history(msg) {
    const t = this.tiles.get(msg.seed);
    if (t) { t.el.remove(); this.tiles.delete(msg.seed); }
    this.summary.textContent = `Seed ${msg.seed} is your run now, at epoch ${msg.epochs.at(-1) ?? 0}. ${this.last?.summary ?? ""}`.trim();
    this.onHistory(msg);
  }
}

class SeedTile {
  constructor(seed, side, onPick) {
    this.el = document.createElement("li");
    this.button = document.createElement("button");
    this.button.type = "button";
    this.button.className = "seed-tile";
    this.canvas = Object.assign(document.createElement("canvas"), { width: side, height: side });
    this.canvas.setAttribute("aria-hidden", "true");
    this.text = document.createElement("span");
    this.text.className = "seed-text";
    this.badge = document.createElement("span");
    this.badge.className = "seed-badge";
    this.button.append(this.canvas, this.text, this.badge);
    this.button.addEventListener("click", onPick);
    this.el.append(this.button);
    this.seed = seed;
    this.side = side;
  }

  update(s, msg) {
    paintGrid(this.canvas, Uint8Array.from(atob(s.boundary), (c) => c.charCodeAt(0)), 0, this.side);
    const stuck = s.test_loss == null || s.test_loss > msg.stuck_above;
    const dead = s.dead_units ? `${s.dead_units} dead` : "";
    this.text.textContent = `seed ${s.seed} · ${loss3(s.test_loss)}`;
    this.badge.textContent = [stuck && msg.done ? "stuck" : "", dead].filter(Boolean).join(" · ");
    this.button.classList.toggle("stuck", stuck && msg.done);
    const deadWords = s.dead_units ? `, ${s.dead_units} dead unit${s.dead_units === 1 ? "" : "s"}` : "";
    this.button.setAttribute("aria-label", `Seed ${s.seed}: test loss ${loss3(s.test_loss)} at epoch ${s.epoch}${deadWords}${stuck && msg.done ? ", stuck" : ""}. Make it your run`);
  }
}
