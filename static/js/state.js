// One declarative table: page control <-> run config key <-> URL hash key.
// The same snake_case keys travel through the URL, the WebSocket and nn_core.

export const DEFAULTS = {
  dataset: "circle", n_samples: 500, noise: 0, train_ratio: 0.5, features: ["x1", "x2"],
  hidden_layers: [4, 2], activation: "tanh", problem: "classification", loss: "auto",
  learning_rate: 0.03, optimizer: "sgd", batch_size: 10, regularization: "none",
  regularization_rate: 0, seed: 0, n_classes: 3, max_epochs: null,
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
  { key: "optimizer", id: "optimizer" },
  { key: "regularization", id: "regularization" },
  { key: "regularization_rate", id: "regularization-rate", read: num, live: true },
  { key: "problem", id: "problem" },
  { key: "max_epochs", id: "max-epochs", read: num },
  { key: "train_ratio", id: "train-ratio", read: (v) => Number(v) / 100, write: (v) => Math.round(v * 100) },
  { key: "noise", id: "noise", read: (v) => Number(v) / 100, write: (v) => Math.round(v * 100) },
  { key: "batch_size", id: "batch-size", read: num, live: true },
  { key: "n_samples", id: "n-samples", read: num },
  { key: "n_classes", id: "n-classes", read: num },
];

// Keys kept in the URL hash (points are too long for a link; everything else is there).
const HASH_KEYS = [...Object.keys(DEFAULTS), "seed"];
const PARSE = { features: list, hidden_layers: ints, activation: (v) => (v.includes(",") ? list(v) : v) };

export function readHash(hash = location.hash) {
  const out = {};
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  for (const [k, v] of params) {
    if (!HASH_KEYS.includes(k)) continue;
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

export class State {
  constructor(initial) {
    this.config = { ...DEFAULTS, ...initial };
    this.points = [];
  }
  get(key) { return this.config[key]; }
  set(key, value) { this.config[key] = value; }
  merge(partial) { Object.assign(this.config, partial); }
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
  label.textContent = ctl.key === "train_ratio" ? `${Math.round(value * 100)}%` : String(value);
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
