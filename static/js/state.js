// One declarative table: page control <-> run config key <-> URL hash key.
// The same snake_case keys travel through the URL, the WebSocket and nn_core. Defaults,
// ranges and choices are the server's (the run config's schema, from /api/options).

import { choices, defaults, fits, isNumber, nullable, range, valid } from "./schema.js";

const num = (v) => (v === "" || v == null ? null : Number(v));
const list = (v) => (v === "" ? [] : String(v).split(","));
// A link's text that is no number stays text, so a refusal can quote it as it was written.
const numberOrText = (v) => (v === "" ? null : Number.isNaN(Number(v)) ? v : Number(v));
const ints = (v) => (list(v).some((n) => Number.isNaN(Number(n))) ? v : list(v).map(Number));

// key: the config key; id: the control; read/write convert between control and config;
// live: changes apply to the running network without a restart (a "set" message);
// min: the control's own lower end, where it steps coarser than the config allows.
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
  { key: "n_samples", id: "n-samples", read: num, min: 50 },
  { key: "n_classes", id: "n-classes", read: num },
];

// Keys kept out of the URL hash: points are too long for a link.
const NOT_IN_LINK = ["points"];
const hashKeys = (schema) => Object.keys(schema.properties).filter((k) => !NOT_IN_LINK.includes(k));
const PARSE = { features: list, hidden_layers: ints, activation: (v) => (v.includes(",") ? list(v) : v) };

// What a link carries besides the settings: the preset or lesson the page shows (their
// titles and texts come back with the link) and the lesson's step.
export const EXTRA_KEYS = ["preset", "lesson", "step"];
export const linkExtras = new Map();

export function readHash(hash, schema, unknown = []) {
  const out = {};
  const keys = hashKeys(schema);
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  linkExtras.clear();
  for (const [k, v] of params) {
    if (EXTRA_KEYS.includes(k)) { linkExtras.set(k, v); continue; }
    if (!keys.includes(k)) { unknown.push(k); continue; }
    const parse = PARSE[k];
    if (parse) out[k] = parse(v);
    else if (isNumber(schema, k)) out[k] = numberOrText(v);
    else out[k] = v;
  }
  return out;
}

export function writeHash(config, schema) {
  const params = new URLSearchParams();
  for (const k of hashKeys(schema)) {
    const v = config[k];
    if (v == null) continue;
    params.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  for (const [k, v] of linkExtras) params.set(k, v);
  const hash = "#" + params.toString().replace(/%2C/g, ",");
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

// What a link may hold, checked before anything reaches the state: a bad or unknown value
// falls back to its default and is named to the learner.
const SPOKEN = {
  learning_rate: "learning rate", regularization_rate: "regularization rate", batch_size: "batch size",
  n_samples: "points", train_ratio: "ratio of training data", n_classes: "classes", max_epochs: "stop after",
  hidden_layers: "hidden layers", init: "initialization", grid: "boundary grid",
};
export const spoken = (key) => SPOKEN[key] || key.replaceAll("_", " ");

export function sanitize(raw, options) {
  const ok = {};
  const rejected = [];
  const schema = options.schema;
  // beyond the schema: each feature once, data sets the server has (custom needs points)
  const extra = {
    dataset: (v) => v in options.datasets,
    features: (v) => new Set(v).size === v.length,
  };
  for (const [k, v] of Object.entries(raw)) {
    if (valid(schema, k, v) && (!extra[k] || extra[k](v))) ok[k] = v;
    else rejected.push(k);
  }
  const layers = ok.hidden_layers || schema.properties.hidden_layers.default;
  if (Array.isArray(ok.activation) && ok.activation.length !== layers.length) {
    delete ok.activation;
    rejected.push("activation");
  }
  return { config: ok, rejected };
}

// The range a key allows, in the words of its control (a share as a percentage).
export function allowed(key, schema) {
  if (!isNumber(schema, key)) return "";
  const [lo, hi] = range(schema, key);
  return `${onPage(key, lo)} to ${onPage(key, hi)}`;
}

// A config value on its control's scale: noise as TensorFlow Playground's 0-50, the ratio
// as a percentage; everything else as it is.
const SCALED = Object.fromEntries(CONTROLS.filter((c) => c.write).map((c) => [c.key, c.write]));
const UNIT = { train_ratio: "%" };
function onPage(key, value) {
  return SCALED[key] ? `${SCALED[key](value)}${UNIT[key] || ""}` : String(value);
}

// What a refused link value was, quoted as the link wrote it (a number on the page's scale).
function quoted(key, value) {
  if (value == null || value === "") return "left empty";
  if (typeof value === "number") return onPage(key, value);
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return value.join(",");
  return `“${Array.isArray(value) ? value.join(",") : value}”`;
}

// One refused value in words: the control, the value, and why (its allowed range, on the
// page's scale and, where a link writes it otherwise, on the link's).
export function linkNote(key, value, schema, why = "") {
  return `${spoken(key)} ${quoted(key, value)} (${why || rule(key, schema)})`;
}

// What a key allows, from the run config's schema.
function rule(key, schema) {
  if (isNumber(schema, key)) {
    const [lo, hi] = range(schema, key);
    return `allowed ${allowed(key, schema)}${SCALED[key] ? `; a link writes it as ${lo} to ${hi}` : ""}`;
  }
  if (key === "hidden_layers") {
    const [lo, hi] = range(schema, key, { items: true });
    return `up to ${range(schema, key, { length: true })[1]} layers of ${lo} to ${hi} neurons, as 4,2`;
  }
  const names = choices(schema, key).filter((n) => n !== "custom");  // own points need a drawing
  if (key === "features") return `each once, from ${names.join(", ")}`;
  return names.length ? `one of ${names.join(", ")}` : "not a value it takes";
}

// Everything a link held that could not be used: refused values and keys that are no setting.
export function linkProblems(raw, rejected, unknown, schema) {
  return [...rejected.map((k) => linkNote(k, raw[k], schema)), ...unknown.map((k) => `“${k}” (not a setting)`)];
}

export function linkMessage(notes) {
  return notes.length ? `The link had values we could not use, so these start at their defaults: ${notes.join("; ")}.` : "";
}

// One State for the page's lifetime: presets and a changed link write into it, then the
// controls are rendered from it, so no control can keep writing into a stale copy.
export class State {
  constructor(schema) {
    this.defaults = defaults(schema);
    delete this.defaults.points;  // the learner's own points are kept apart
    this.config = structuredClone(this.defaults);
    this.points = [];
  }
  get(key) { return this.config[key]; }
  set(key, value) { this.config[key] = value; }
  merge(partial) { Object.assign(this.config, partial); }
  reset(config) { this.config = { ...structuredClone(this.defaults), ...config }; }
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
const TYPED = ["learning_rate", "regularization_rate", "max_epochs"];
export function refusal(key, value, schema, name) {
  if (!TYPED.includes(key)) return "";
  if (value == null && nullable(schema, key)) return "";
  const [lo, hi] = range(schema, key);
  if (value == null || !Number.isFinite(value)) return `${name}: type a number from ${lo} to ${hi}.`;
  if (value < lo || value > hi) return `${name}: ${value} is outside the allowed range, ${lo.toLocaleString("en", { maximumFractionDigits: 6 })} to ${hi.toLocaleString("en")}.`;
  if (!fits(schema.properties[key], value)) return `${name}: type a whole number of epochs.`;
  return "";
}

// Which losses fit the run's problem (the Loss menu disables the others): the server lists
// them in "ready" (each on the output it makes: TF Playground's turns two classes into one
// tanh unit); "auto" fits any.
export function lossFits(loss, ready) {
  return loss === "auto" || (ready.losses || []).includes(loss);
}
