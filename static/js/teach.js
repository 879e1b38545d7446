// Teaching with the playground: a lesson beside it (#lesson=<id>), many seeds at once, the
// backward pass in matrix form, predict-then-reveal, presenter mode, joining a class, and
// presets and lessons that keep their title and text in a shared link. It plugs into the page's socket handlers and drives the page's own
// controls, so a lesson's action does exactly what the learner's click would.

import { ClassJoin } from "./classjoin.js";
import { LessonPanel } from "./lesson.js";
import { MatrixPanel } from "./matrix.js";
import { PredictFirst } from "./predict.js";
import { Presenter } from "./presenter.js";
import { SeedsPanel } from "./seeds.js";
import { linkExtras } from "./state.js";

const $ = (id) => document.getElementById(id);
const LIVE = ["learning_rate", "regularization_rate", "batch_size", "speed"];

export class Teaching {
  // page: what the page lends: state(), start(), render(), transport(), tracer(), losses,
  // pins(), setAlert(text), load(config) (a setup to load, paused)
  constructor({ options, handlers, send, page }) {
    Object.assign(this, { options, page, send });
    this.lastHealth = null;
    this.lesson = new LessonPanel({
      metrics: () => this.metrics(),
      act: (action) => this.act(action),
      onLeave: () => { linkExtras.delete("lesson"); linkExtras.delete("step"); this.relink(); },
    });
    this.seeds = new SeedsPanel({ send, limits: options.limits, onHistory: (msg) => this.pickedSeed(msg) });
    this.matrix = new MatrixPanel({ send });
    this.predict = new PredictFirst();
    this.presenter = new Presenter($("presenter"));
    const tracer = page.tracer();
    tracer.onRender = (t, s, step, body) => this.predict.decorate(t, s, step, body, () => tracer.render());
    // a class (classjoin.js): its setup is loaded as a preset is, paused; its bar sits in
    // the top bar, and on a phone (no room there) under the controls
    const bar = document.querySelector(".class-bar"), home = $("presenter");
    const narrow = matchMedia("(max-width: 760px)");
    const place = () => (narrow.matches ? $("alert").after(bar) : home.before(bar));
    narrow.addEventListener("change", place);
    place();
    this.classJoin = new ClassJoin({
      send,
      load: (config, label, lesson) => (lesson ? this.openLesson(lesson) : page.load(config)),
    });
    this.classJoin.rules(options.classes);
    this.hook(handlers);
    $("lesson-next").addEventListener("click", () => this.keepStep());
    $("lesson-prev").addEventListener("click", () => this.keepStep());
    $("preset").addEventListener("change", (e) => {
      if (options.presets[e.target.value]) linkExtras.set("preset", e.target.value);
    });
  }

  // Wrap the page's handlers: checks follow every update, the panels get their events.
  hook(handlers) {
    const after = (name, fn) => {
      const before = handlers[name];
      handlers[name] = (msg) => { before?.(msg); fn(msg); };
    };
    after("progress", () => this.lesson.evaluate());
    after("health", (msg) => { this.lastHealth = msg; this.lesson.evaluate(); });
    after("ready", () => { this.lastHealth = null; this.lesson.evaluate(); this.matrix.stale(); });
    after("frame", ({ header }) => { if (header.epoch !== this.matrixEpoch) { this.matrixEpoch = header.epoch; if (!this.page.transport()?.running) this.matrix.stale(); } });
    after("edited", () => this.matrix.stale());
    after("open", () => this.classJoin.rejoin());
    const error = handlers.error;
    handlers.error = (msg) => { if (!this.classJoin.error(msg)) error(msg); };
    Object.assign(handlers, this.classJoin.handlers);
    handlers.seeds = (msg) => this.seeds.update(msg);
    handlers.seed_history = (msg) => this.seeds.history(msg);
    handlers.matrix = (msg) => this.matrix.show(msg);
  }

  // Before the first run: a link's lesson (its setup, unless the link has settings of its
  // own) and a link's preset (its title and text). Returns the lesson's config or null.
  async fromLink(hasSettings) {
    const key = linkExtras.get("preset");
    const preset = key && this.options.presets[key];
    if (preset) {
      $("preset").value = key;
      $("preset-about").textContent = preset.about;
    } else linkExtras.delete("preset");
    const id = linkExtras.get("lesson");
    if (!id) return null;
    const lesson = await this.lesson.load(id);
    if (!lesson) {
      linkExtras.delete("lesson");
      this.page.setAlert(`The link's lesson “${id}” is not one of this server's lessons.`);
      return null;
    }
    const step = Number(linkExtras.get("step") || 1);
    if (lesson.page !== "playground") {  // a lesson of the digits page: open it there
      location.replace(`${lesson.href}&step=${Number.isInteger(step) && step > 0 ? step : 1}`);
      return null;
    }
    if (Number.isInteger(step) && step > 1) this.lesson.show(step - 1);
    this.keepStep();
    return hasSettings ? null : lesson.config;
  }

  // A lesson the teacher sent: beside the page from its first step, its setup loaded.
  async openLesson(id) {
    const lesson = await this.lesson.load(id);
    if (!lesson) return this.page.setAlert(`The lesson “${id}” is not one of this server's lessons.`);
    this.keepStep();
    this.page.load(lesson.config);
  }

  keepStep() {
    if (!this.lesson.id) return;
    linkExtras.set("lesson", this.lesson.id);
    linkExtras.set("step", String(this.lesson.step + 1));
    this.relink();
  }

  relink() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    for (const k of ["preset", "lesson", "step"]) {
      if (linkExtras.has(k)) params.set(k, linkExtras.get(k)); else params.delete(k);
    }
    history.replaceState(null, "", "#" + params.toString().replace(/%2C/g, ","));
  }

  // What a lesson's check reads: the latest epoch's numbers, the network, the health.
  metrics() {
    const { losses, state, pins } = this.page;
    const s = state();
    const n = losses.epochs.length;
    const hidden = s.get("hidden_layers");
    return {
      test_loss: n ? losses.test[n - 1] : null,
      train_loss: n ? losses.train[n - 1] : null,
      accuracy: n ? losses.acc[n - 1] : null,
      epoch: Number($("epoch").textContent) || 0,
      neurons: hidden.reduce((a, b) => a + b, 0),
      hidden_layers: hidden.length,
      dead_units: this.lastHealth ? this.lastHealth.dead_units.length : null,
      pinned: pins().pins.length ? 1 : 0,
    };
  }

  // A step's action, done through the page's own controls.
  act(action) {
    const transport = this.page.transport();
    if (action.do === "pin") $("pin-run").click();
    else if (action.do === "play" && !transport.running) $("play").click();
    else if (action.do === "pause" && transport.running) $("play").click();
    else if (action.do === "reset") $("reset").click();
    else if (action.do === "regenerate") $("regenerate").click();
    else if (action.do === "set") this.apply(action.config);
  }

  // Settings from a lesson: the live ones are sent as the learner's edits would be; any
  // other starts the run again with them, as changing that control does.
  apply(config) {
    const state = this.page.state();
    const keys = Object.keys(config);
    for (const k of keys) state.set(k, config[k]);
    this.page.render();
    if (keys.every((k) => LIVE.includes(k))) this.send({ type: "set", ...config });
    else this.page.start();
  }

  // A seed picked in the Seeds region: its curves become the run's, its seed the setup's.
  pickedSeed(msg) {
    const { losses, state } = this.page;
    losses.load({ epochs: msg.epochs, train: msg.train_loss, test: msg.test_loss, acc: msg.accuracy });
    state().set("seed", msg.seed);
    $("seed").textContent = String(msg.seed);
  }
}
