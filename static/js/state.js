// One declarative table: page control <-> run config key <-> URL hash key.
// The same snake_case keys travel through the URL, the WebSocket and nn_core.

export const DEFAULTS = {
  dataset: "circle", n_samples: 500, noise: 0, train_ratio: 0.5, features: ["x1", "x2"],
  hidden_layers: [4, 2], activation: "tanh", problem: "classification", loss: "auto",
  learning_rate: 0.03, init: "xavier", optimizer: "sgd", batch_size: 10, regularization: "none",
  regularization_rate: 0, seed: 0, n_classes: 3, max_epochs: null, speed: 0,
};

const num = (v) => (v === "" || v == null ? null : Number(v));
const list = (v) => (v === "" ? [] : String(v).split(","));
const ints = (v) => list(v).map(Number);

// key: the config key; id: the control; read/write convert between control and config;
// live: changes apply to the running network without a restart (a "set" message).
export const CONTROLS = [
  { key: "dataset", id: "dataset" },
  { key: "learning_rate", id: "learning-rate", read: num, live: true },
  { key: "activation", id: "activation" },
  { key: "init", id: "init" },
  { key: "optimizer", id: "optimizer" },
  { key: "regularization", id: "regularization" },
  { key: "regularization_rate", id: "regularization-rate", read: num, live: true },
  { key: "problem", id: "problem" },
  { key: "loss", id: "loss" },
  { key: "max_epochs", id: "max-epochs", read: num },
  { key: "speed", id: "speed", read: num, live: true },
  { key: "train_ratio", id: "train-ratio", read: (v) => Number(v) / 100, write: (v) => Math.round(v * 100) },
  { key: "noise", id: "noise", read: (v) => Number(v) / 100, write: (v) => Math.round(v * 100) },
  { key: "batch_size", id: "batch-size", read: num, live: true },
  { key: "n_samples", id: "n-samples", read: num },
  { key: "n_classes", id: "n-classes", read: num },
];

// Keys kept in the URL hash (points are too long for a link; everything else is there).
const HASH_KEYS = [...Object.keys(DEFAULTS), "seed"];
const PARSE = { features: list, hidden_layers: ints, activation: (v) => (v.includes(",") ? list(v) : v) };

export function readHash(hash = location.hash, unknown = []) {
  const out = {};
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  for (const [k, v] of params) {
    if (!HASH_KEYS.includes(k)) { unknown.push(k); continue; }
    const parse = PARSE[k];
    if (parse) out[k] = parse(v);
    else if (typeof DEFAULTS[k] === "number" || k === "max_epochs" || k === "seed") out[k] = v === "" ? null : Number(v);
    else out[k] = v;
  }
  return out;
}

export function writeHash(config) {
  const params = new URLSearchParams();
  for (const k of HASH_KEYS) {
    const v = config[k];
    if (v == null) continue;
    params.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  const hash = "#" + params.toString().replace(/%2C/g, ",");
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

// What a link may hold, checked before anything reaches the state: a bad or unknown value
// falls back to its default and is named to the learner.
const SPOKEN = {
  learning_rate: "learning rate", regularization_rate: "regularization rate", batch_size: "batch size",
  n_samples: "points", train_ratio: "ratio of training data", n_classes: "classes", max_epochs: "stop after",
  hidden_layers: "hidden layers", init: "initialization",
};
export const spoken = (key) => SPOKEN[key] || key.replaceAll("_", " ");

export function sanitize(raw, options) {
  const ok = {};
  const rejected = [];
  const limits = options.limits;
  const oneOf = (v, list) => list.includes(v);
  const check = {
    dataset: (v) => oneOf(v, Object.keys(options.datasets)),
    features: (v) => Array.isArray(v) && v.length >= 1 && v.length <= 7 && v.every((f) => f in options.features) && new Set(v).size === v.length,
    hidden_layers: (v) => Array.isArray(v) && v.length <= 8 && v.every((n) => Number.isInteger(n) && n >= 1 && n <= 64),
    activation: (v) => (Array.isArray(v) ? v.every((a) => oneOf(a, options.activations)) : oneOf(v, options.activations)),
    optimizer: (v) => oneOf(v, options.optimizers),
    regularization: (v) => oneOf(v, ["none", "l1", "l2"]),
    problem: (v) => oneOf(v, ["classification", "regression"]),
    loss: (v) => oneOf(v, ["auto", "bce", "cross_entropy", "mse", "quadratic"]),
    init: (v) => oneOf(v, ["xavier", "he", "normal"]),
  };
  for (const [k, v] of Object.entries(raw)) {
    let good;
    if (check[k]) good = check[k](v);
    else if (k === "max_epochs" && v == null) good = true;
    else if (limits[k]) {
      const [lo, hi] = limits[k];
      const integer = ["n_samples", "batch_size", "seed", "n_classes", "max_epochs"].includes(k);
      good = typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi && (!integer || Number.isInteger(v));
    } else good = false;
    if (good) ok[k] = v;
    else rejected.push(k);
  }
  if (Array.isArray(ok.activation) && ok.activation.length !== (ok.hidden_layers || DEFAULTS.hidden_layers).length) {
    delete ok.activation;
    rejected.push("activation");
  }
  return { config: ok, rejected };
}

export function allowed(key, options) {
  const lim = options.limits[key];
  if (key === "train_ratio" && lim) return `${lim[0] * 100}% to ${lim[1] * 100}%`;
  if (key === "noise" && lim) return `0 to ${lim[1] * 100}`;
  return lim ? `${lim[0]} to ${lim[1]}` : "";
}

// One State for the page's lifetime: presets and a changed link write into it, then the
// controls are rendered from it, so no control can keep writing into a stale copy.
export class State {
  constructor(initial) {
    this.config = { ...DEFAULTS, ...initial };
    this.points = [];
  }
  get(key) { return this.config[key]; }
  set(key, value) { this.config[key] = value; }
  merge(partial) { Object.assign(this.config, partial); }
  reset(config) { this.config = { ...DEFAULTS, ...config }; }
  // The config sent to the server (defaults left for the server to fill).
  toRunConfig() {
    const c = { ...this.config };
    if (c.max_epochs == null) delete c.max_epochs;
    if (c.dataset === "custom") c.points = this.points;
    return c;
  }
}

export function bindControls(state, onChange) {
  for (const ctl of CONTROLS) {
    const el = document.getElementById(ctl.id);
    if (!el) continue;
    const read = ctl.read || ((v) => v);
    el.addEventListener("change", () => {
      const value = read(el.value);
      state.set(ctl.key, value);
      onChange(ctl, value);
    });
    el.addEventListener("input", () => showValue(ctl, read(el.value)));
  }
}

export function showValue(ctl, value) {
  const label = document.getElementById(ctl.id + "-value");
  if (!label) return;
  // noise reads as TensorFlow Playground's 0-50; the ratio as a percentage
  label.textContent = ctl.key === "train_ratio" ? `${Math.round(value * 100)}%` : ctl.key === "noise" ? String(Math.round(value * 100)) : String(value);
}

export function renderControls(state) {
  for (const ctl of CONTROLS) {
    const el = document.getElementById(ctl.id);
    if (!el) continue;
    const value = state.get(ctl.key);
    el.value = value == null ? "" : (ctl.write ? ctl.write(value) : value);
    showValue(ctl, value);
  }
}

// A typed number is checked before it is sent: a refused value never reaches the run or
// the link, and the message names the control (`name`) and its range in plain words.
export function refusal(key, value, limits, name) {
  const lim = limits[key];
  if (!lim || !["learning_rate", "regularization_rate", "max_epochs"].includes(key)) return "";
  if (key === "max_epochs" && value == null) return "";
  const [lo, hi] = lim;
  if (value == null || !Number.isFinite(value)) return `${name}: type a number from ${lo} to ${hi}.`;
  if (value < lo || value > hi) return `${name}: ${value} is outside the allowed range, ${lo.toLocaleString("en", { maximumFractionDigits: 6 })} to ${hi.toLocaleString("en")}.`;
  if (key === "max_epochs" && !Number.isInteger(value)) return `${name}: type a whole number of epochs.`;
  return "";
}

// Which losses fit the run's output (the Loss menu disables the others).
export function lossFits(loss, ready) {
  const out = ready.output_activation;
  if (loss === "bce") return out === "sigmoid";
  if (loss === "cross_entropy") return out === "softmax";
  return true;
}
