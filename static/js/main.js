// The playground page: controls <-> state <-> URL, the socket, the charts, the diagram
// and the backward pass (gradients, trace, health, pinned runs).

import { BoundaryChart, LossChart } from "./charts.js";
import { HealthPanel } from "./health.js";
import { GRAD_NEG, GRAD_POS, NetworkDiagram } from "./network.js";
import { TrainSocket } from "./socket.js";
import { applyOnCommit, buildControls, showControl, trackBarHeight } from "./controls.js";
import { CONTROLS, State, bindControls, linkMessage, linkNote, linkProblems, readHash, refusal, renderControls, sanitize, spoken, writeHash } from "./state.js";
import { range } from "./schema.js";
import { DATASET_NAMES, STATE_WORDS, learnWords } from "./words.js";
import { Readout } from "./readout.js";
import { showLayerLimits } from "./layerctl.js";
import { Transport } from "./transport.js";
import { enableTooltips } from "./tooltip.js";
import { Announcer, ConnectionLine } from "./connection.js";
import { RunResumer } from "./resume.js";
import { datasetThumbs, parseCsv } from "./datasets.js";
import { PinnedRuns } from "./pins.js";
import { Downloads, copyLink } from "./share.js";
import { TracePanel } from "./trace.js";
import { Teaching } from "./teach.js";

const $ = (id) => document.getElementById(id);
const FIELD_IDS = Object.fromEntries(CONTROLS.map((c) => [c.key, c.id]));
const PARAM_FIELDS = ["layer", "kind", "i", "j", "value"];

let options;                  // /api/options: the server's facts, loaded before anything else
let state;                    // the one source of truth for the setup (made from the options)
let accepted = null;          // the setup the server last accepted: the only one in the link
let transport;                // Play/Step/Reset: whether the learner asked the run to play
let serverState = "paused";
let downloads;                // the Download buttons (share.js)
let ready = null;             // the current run's "ready" event
let pins;                     // PinnedRuns
let linkNotes = [];           // what was wrong with the link, shown once the page runs
let lossFromPreset = false;   // the loss was set by a preset (and goes when the data changes)
let layerDiedSaid = false;    // the "layer has died" message was shown for this run
const losses = new LossChart($("loss-curve"));
const line = new ConnectionLine($("connection"));
const resumer = new RunResumer({ socket: () => socket, transport: () => transport, state: () => state, accepted: () => accepted, losses, start, setAlert, loadSetup });
const voice = new Announcer($("announcer"), losses, [$("loss-summary"), $("boundary-summary")]);
voice.every(5, () => transport?.running && serverState === "running");
let boundary;
let readout;
let diagram;
let tracer;
let health;
let teach;                    // lessons, many seeds, the matrix form (teach.js)

function setAlert(text, field) {
  $("alert").textContent = text || "";
  document.querySelectorAll("[aria-invalid=true]").forEach((el) => el.removeAttribute("aria-invalid"));
  if (field && FIELD_IDS[field]) $(FIELD_IDS[field])?.setAttribute("aria-invalid", "true");
}

function label(field) {
  const ctl = FIELD_IDS[field] && $(FIELD_IDS[field]);
  const text = ctl?.labels?.[0]?.textContent;
  return text || spoken(field);
}

// ------------------------------------------------------------------ socket
let socket;
const handlers = {
  open() {
    line.clear();
    if (!resumer.open()) start();  // the run lived in the old connection: the new one goes on
  },
  close(ev, wait) {
    if (ev.code === 1008) { setAlert("This page's address is not allowed to train here (origin refused)."); return; }
    if (ev.code === 1013 && !resumer.offline) line.closed(ev, wait);  // full: nothing to keep yet
    else resumer.closed(ev, wait);
  },
  queued: () => resumer.queued(),
  ready(msg) {
    ready = msg;
    layerDiedSaid = false;
    accepted = { ...msg.config };
    writeHash(accepted, options.schema);
    readout.reset(msg);
    resumer.ready(msg, readout);
    boundary.setData(msg);
    const hidden = msg.layers.slice(1, -1);
    diagram.build(state.get("features"), hidden, msg.layers[msg.layers.length - 1], msg.config.activation);
    $("activation").value = Array.isArray(msg.config.activation) ? "" : msg.config.activation;
    $("layer-count").textContent = `${hidden.length} hidden layer${hidden.length === 1 ? "" : "s"}`;
    showLayerLimits(hidden.length, range(options.schema, "hidden_layers", { length: true }));
    const n = msg.layers.length - 1;
    health.reset(Array.from({ length: n }, (_, l) => (l === n - 1 ? `layer ${l + 1} (output)` : `layer ${l + 1}`)));
    tracer.setNetwork(msg.config.features, msg.layers);
    boundary.setTraced(null);
    if (linkNotes.length) { setAlert(linkMessage(linkNotes)); linkNotes = []; }
    const act = Array.isArray(msg.config.activation) ? msg.config.activation.join(", ") : msg.config.activation;
    $("network").setAttribute("aria-label", `Network diagram: inputs ${msg.config.features.join(", ")}; ${hidden.length ? `hidden layers of ${hidden.join(", ")} ${act} neurons` : "no hidden layer"}; ${msg.layers.at(-1)} ${msg.output_activation} output${msg.layers.at(-1) > 1 ? "s" : ""}`);
    // your own points: all of them are shown, test points ringed, so none seem to vanish
    if (msg.config.dataset === "custom" && !$("show-test").checked) { $("show-test").checked = true; boundary.setOptions({ showTest: true }); }
    voice.summary();
    pins.refresh();
  },
  progress(msg) {
    losses.add(msg);
    readout.progress(msg);
    voice.summary();  // the charts' descriptions hold the latest losses (not announced)
    pins.refresh();
    tracer.follow({ epoch: msg.epochs.at(-1) });
  },
  frame({ header, blocks }) {
    resumer.frame(header, blocks);
    boundary.update(blocks);
    diagram.update(blocks);
    health.setBlocks(blocks, ready?.layers);
    gradientLegend();
  },
  health(msg) {
    health.add(msg);
    diagram.setDead(msg.dead_units, msg.n_points);
    // a whole ReLU layer inactive everywhere: nothing can flow back through it any more
    const gone = msg.layers.findIndex((h, l) => l < msg.layers.length - 1 && h.dead === h.units);
    if (gone >= 0 && !layerDiedSaid) {
      layerDiedSaid = true;
      setAlert(`Layer ${gone + 1} has died: all its ReLU units are inactive on every training point, so no gradient reaches the layers before it and lowering the learning rate (now ${accepted?.learning_rate}) cannot revive it. Lower the rate, then press Reset.`);
    }
  },
  status(msg) {
    if (msg.state !== serverState) voice.say(`Training ${STATE_WORDS[msg.state] || msg.state} at epoch ${msg.epoch ?? 0}.`);
    serverState = msg.state;
    tracer.follow({ running: msg.state === "running", epoch: msg.epoch });
    if (msg.epoch !== undefined) $("epoch").textContent = String(msg.epoch);
    $("epoch").dataset.state = msg.state;  // what the server's run does (the button: what was asked)
    // the button shows what the run does ("stopped": the server goes away, the run goes on)
    if (msg.state === "running" || msg.state === "paused") transport.set(msg.state === "running", true);
    if (msg.state === "diverged") {
      transport.set(false);
      setAlert(`Training diverged at epoch ${msg.epoch}: the loss became too large to compute. Lower the learning rate (now ${accepted?.learning_rate}), then press Reset.`);
    } else if (msg.state === "done") {
      transport.set(false);
    } else if (msg.state === "busy") {
      line.full = msg.learners || 0;
      transport.set(false);
    }
  },
  set(msg) {
    setAlert("");
    for (const key of ["learning_rate", "regularization_rate", "batch_size", "speed"]) if (msg[key] !== undefined && accepted) accepted[key] = msg[key];
    if (accepted) writeHash(accepted, options.schema);
    pins.refresh();
  },
  edited() {
    diagram.edited();
    if (tracer.trace) requestTrace(tracer.trace.split, tracer.trace.index);  // the trace follows the edit
  },
  verify(msg) { diagram.showVerify(msg); },
  trace(msg) {
    tracer.setTrace(msg);
    boundary.setTraced(msg.point);
  },
  error(msg) {
    if (resumer.error(msg)) return;
    if (PARAM_FIELDS.includes(msg.field) && diagram.card && !diagram.card.el.hidden) {
      diagram.showEditError(`${msg.field === "value" ? "The value" : `“${msg.field}”`} ${msg.message}.`);
      return;
    }
    if (msg.field === "index") { $("trace-status").textContent = `That point is not there: ${msg.message}.`; return; }
    if (accepted && msg.field in accepted) state.set(msg.field, accepted[msg.field]); // refused: the state keeps the accepted value
    showControl(state, msg.field);
    if (!ready && msg.field in state.defaults) {
      // the server refused a value from the link before any run: use the default and say so
      // with the link's other refusals, once the run is ready
      linkNotes.push(linkNote(msg.field, state.get(msg.field), options.schema, msg.message));
      state.set(msg.field, state.defaults[msg.field]);
      renderControls(state);
      start(false);
      return;
    }
    setAlert(`${label(msg.field)} ${msg.message}.`, msg.field);
  },
  export: (msg) => downloads.save(msg),
};


function start(clear = true) {
  if (clear) setAlert("");
  socket.send({ type: "start", config: state.toRunConfig(), paused: !transport.running });
}

function requestTrace(split, index) {
  socket.send({ type: "trace", split, index });
}

// A click on a point traces it, except on your own data, where a click adds a point.
function tracePoint(split, index) {
  if (state.get("dataset") === "custom") return false;
  requestTrace(split, index);
  document.querySelector(".trace-panel").scrollIntoView({ behavior: "smooth", block: "nearest" });
  return true;
}

function gradientLegend() {
  const r = diagram.range;
  if (!r) return;
  $("grad-lo").textContent = `−${r.toPrecision(2)}`;
  $("grad-hi").textContent = `+${r.toPrecision(2)}`;
}

// ---------------------------------------------------------------- controls
function onControl(ctl, value) {
  const problem = refusal(ctl.key, value, options.schema, label(ctl.key));
  if (problem) {
    if (accepted && ctl.key in accepted) state.set(ctl.key, accepted[ctl.key]);
    showControl(state, ctl.key);
    setAlert(problem, ctl.key);
    return;
  }
  showControl(state, ctl.key);
  if (ctl.key === "loss") lossFromPreset = false;
  if (ctl.live) {
    socket.send({ type: "set", [ctl.key]: value });
    return;
  }
  if (ctl.key === "dataset") markDataset(true);
  start();
}

function markDataset(changed = false) {
  const name = state.get("dataset");
  // a preset's loss belongs to the preset's data: a new data set starts from automatic
  if (changed && lossFromPreset) { state.set("loss", "auto"); $("loss").value = "auto"; lossFromPreset = false; }
  $("dataset").value = name;
  document.querySelectorAll("#dataset-thumbs button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.name === name)));
  const spec = options.datasets[name];
  $("n-classes").closest(".field").hidden = !(spec && spec.multiclass);
  if (spec) {
    state.set("problem", spec.problem);
    $("problem").value = spec.problem;
  }
}

function readCsv(file) {
  file.text().then((text) => {
    const { points, regression, error } = parseCsv(text, options.limits);
    if (error) return setAlert(error);
    state.points = points;
    state.set("dataset", "custom");
    state.set("problem", regression ? "regression" : "classification");
    markDataset();
    $("problem").value = state.get("problem");
    start();
  });
}

function addPoint(x, y) {
  if (state.get("dataset") !== "custom") return;
  const cls = Number(document.querySelector("input[name=point-class]:checked").value);
  const most = options.limits.points[1];
  if (state.points.length >= most) return setAlert(`Your own data holds at most ${most} points.`);
  state.points.push([+x.toFixed(3), +y.toFixed(3), cls]);
  boundary.setPoints(state.points);
  clearTimeout(addPoint.timer);
  addPoint.timer = setTimeout(() => { if (state.points.length >= 2) start(); }, 400);
}

// A link or a preset writes into the one state; refused link values fall back to defaults.
function loadSetup(raw, unknown = []) {
  const { config, rejected } = sanitize(raw, options);
  state.reset(config);
  renderControls(state);
  markDataset();
  if (raw.problem && !rejected.includes("problem")) { state.set("problem", raw.problem); $("problem").value = raw.problem; }
  $("seed").textContent = state.get("seed");
  return linkProblems(raw, rejected, unknown, options.schema);
}


function wire() {
  bindControls(state, onControl);
  transport = new Transport(voice, {
    onPlay(on) {
      if (serverState === "diverged") { setAlert(`Training diverged: lower the learning rate (now ${accepted?.learning_rate}), then press Reset.`); return false; }
      socket.send({ type: on ? "resume" : "pause" });
    },
    onStep: () => socket.send({ type: "step" }),
    onReset: () => { setAlert(""); socket.send({ type: "reset" }); },
  });
  $("regenerate").addEventListener("click", () => {
    state.set("seed", Math.floor(Math.random() * 1e6));
    $("seed").textContent = state.get("seed");
    start();
  });
  $("add-layer").addEventListener("click", () => {
    const h = state.get("hidden_layers");
    if (h.length < range(options.schema, "hidden_layers", { length: true })[1]) diagram.onLayers([...h, h.length ? h[h.length - 1] : 2]);
  });
  $("remove-layer").addEventListener("click", () => {
    const h = state.get("hidden_layers");
    if (h.length) { diagram.onLayers(h.slice(0, -1)); }
  });
  $("show-gradients").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-checked") !== "true";
    e.currentTarget.setAttribute("aria-checked", String(on));
    diagram.setShowGradients(on);
    document.querySelector(".network-panel").classList.toggle("show-gradients", on);
    gradientLegend();
  });
  $("show-test").addEventListener("change", (e) => boundary.setOptions({ showTest: e.target.checked }));
  $("discretize").addEventListener("change", (e) => boundary.setOptions({ discretize: e.target.checked }));
  downloads = new Downloads((m) => socket.send(m));
  $("copy-link").addEventListener("click", () => copyLink($("link-box"), $("share-link"), $("copy-status")));
  $("pin-run").addEventListener("click", () => {
    if (!pins.pin(accepted)) setAlert("Train for a few epochs first, then pin the run to compare it with the next.");
  });
  $("trace-random").addEventListener("click", () => {
    const n = ready?.train_points?.length || 0;
    if (n) requestTrace("train", Math.floor(Math.random() * n));
  });
  $("csv").addEventListener("change", (e) => e.target.files[0] && readCsv(e.target.files[0]));
  $("clear-points").addEventListener("click", () => { state.points = []; boundary.setPoints([]); });
  applyOnCommit($("preset"), (key) => {
    const preset = options.presets[key];
    if (!preset) return;
    loadSetup({ ...preset.config, seed: preset.config.seed ?? state.get("seed") });
    lossFromPreset = "loss" in preset.config;
    $("preset-about").textContent = preset.about;
    transport.set(false);
    setAlert("");
    start();
  }, (key, loaded) => { $("preset-about").textContent = options.presets[key] ? `${loaded ? "" : "Press Enter to load this preset. "}${options.presets[key].about}` : ""; });
  window.addEventListener("hashchange", () => {
    const unknown = [];
    linkNotes = loadSetup(readHash(location.hash, options.schema, unknown), unknown);
    start();
  });
}

async function main() {
  // the options come first: the state, its checks, the menus and the ranges are made from them
  options = await (await fetch("/api/options")).json();
  learnWords(options.words);
  state = new State(options.schema);
  readout = new Readout(options.losses);
  buildControls(options);
  trackBarHeight(document.querySelector(".controls"));
  boundary = new BoundaryChart($("boundary"), { extent: options.limits.coordinate[1], onClick: addPoint, onPointClick: tracePoint });
  diagram = new NetworkDiagram($("network"), {
    labels: options.features,
    neurons: range(options.schema, "hidden_layers", { items: true }),
    values: options.limits.value,
    previews: options.feature_maps,
    onFeatures: (f) => { state.set("features", f); start(); },
    activations: options.activations,
    onLayers: (h) => {
      const act = state.get("activation");
      // a per-layer list follows the layers: the last one's activation for a new layer
      if (Array.isArray(act)) state.set("activation", h.map((_, i) => act[Math.min(i, act.length - 1)]));
      state.set("hidden_layers", h);
      start();
    },
    onActivation: (a) => {
      state.set("activation", a);
      $("activation").value = Array.isArray(a) ? "" : a;
      start();
    },
    onEdit: (edit) => socket.send({ type: "edit", ...edit }),
    onPreview: (p) => {
      boundary.preview(p);
      $("preview-note").textContent = p ? `Showing what ${p.name} outputs over the plane.` : "";
    },
    onVerify: (param) => socket.send({ type: "verify", ...param }),
  });
  tracer = new TracePanel(document.querySelector(".trace-panel"), { onTrace: requestTrace, onHighlight: (layer) => diagram.highlight(layer) });
  health = new HealthPanel({
    verdict: $("verdict"), grad: $("health-grad"), ratio: $("health-ratio"), dead: $("health-dead"),
    table: $("health-table"), hist: $("histograms"), histLayer: $("hist-layer"), band: options.health.healthy_band,
  });
  document.documentElement.style.setProperty("--grad-pos", GRAD_POS);
  document.documentElement.style.setProperty("--grad-neg", GRAD_NEG);
  datasetThumbs($("dataset-thumbs"), options, DATASET_NAMES, (name) => { state.set("dataset", name); markDataset(true); start(); });
  pins = new PinnedRuns($("pins"), losses, { current: () => accepted, onUnpin: () => $("pin-run").focus() });
  enableTooltips();
  teach = new Teaching({ options, handlers, send: (m) => socket.send(m), page: { state: () => state, start, render: () => renderControls(state), transport: () => transport, tracer: () => tracer, losses, pins: () => pins, setAlert,
    load: (config) => { setAlert(linkMessage(loadSetup(config))); transport.set(false); start(false); } } });  // a class's setup, paused
  const unknown = [];
  const linked = readHash(location.hash, options.schema, unknown);
  linkNotes = loadSetup((await teach.fromLink(Object.keys(linked).length > 0)) || linked, unknown);
  wire();
  socket = new TrainSocket("/ws/train", handlers); // its "open" sends the first start
  resumer.offerKept();
  // plotly.js loads after this module: draw what arrived meanwhile once it is there
  whenPlotly(() => { boundary.draw(); if (boundary.lastBlocks) boundary.render(boundary.lastBlocks); losses.draw(); health.draw(); });
}

function whenPlotly(fn) {
  if (window.Plotly) fn();
  else window.addEventListener("load", fn, { once: true });
}

main();
