// The playground page: controls <-> state <-> URL, the socket, the charts and the diagram.

import { BoundaryChart, LossChart } from "./charts.js";
import { NetworkDiagram } from "./network.js";
import { TrainSocket } from "./socket.js";
import { CONTROLS, State, bindControls, readHash, renderControls, writeHash } from "./state.js";

const $ = (id) => document.getElementById(id);
const FIELD_IDS = Object.fromEntries(CONTROLS.map((c) => [c.key, c.id]));
const NAMES = {
  circle: "Circle", xor: "Exclusive or", gaussian: "Gaussian", spiral: "Spiral", moons: "Moons",
  flower: "Flower", blobs: "Blobs (multiclass)", multi_spiral: "Spirals (multiclass)",
  plane: "Plane (regression)", multi_gaussian: "Bumps (regression)", custom: "Your own points",
};

let options;
let state;
let running = false;       // what the user asked for: playing or not
let serverState = "paused";
let exportWanted = null;
const boundary = new BoundaryChart($("boundary"), { onClick: addPoint });
const losses = new LossChart($("loss-curve"));
let diagram;

function setAlert(text, field) {
  $("alert").textContent = text || "";
  document.querySelectorAll("[aria-invalid=true]").forEach((el) => el.removeAttribute("aria-invalid"));
  if (field && FIELD_IDS[field]) $(FIELD_IDS[field])?.setAttribute("aria-invalid", "true");
}

function setPlaying(on) {
  running = on;
  const play = $("play");
  play.setAttribute("aria-label", on ? "Pause" : "Play");
  play.classList.toggle("running", on);
}

function label(field) {
  const ctl = FIELD_IDS[field] && $(FIELD_IDS[field]);
  const text = ctl?.labels?.[0]?.textContent;
  return text || field.replaceAll("_", " ");
}

// ------------------------------------------------------------------ socket
let socket;
const handlers = {
  open() { $("connection").textContent = ""; start(); },
  close(ev) {
    $("connection").textContent = ev.code === 1013 ? "Server busy — reload in a minute." : "Reconnecting…";
  },
  ready(msg) {
    losses.reset();
    $("epoch").textContent = "0";
    $("train-loss").textContent = $("test-loss").textContent = $("accuracy").textContent = "–";
    boundary.setData(msg);
    const hidden = msg.layers.slice(1, -1);
    diagram.build(state.get("features"), hidden, msg.layers[msg.layers.length - 1], msg.config.activation);
    $("activation").value = Array.isArray(msg.config.activation) ? "" : msg.config.activation;
    $("layer-count").textContent = `${hidden.length} hidden layer${hidden.length === 1 ? "" : "s"}`;
    const multi = msg.n_classes > 2;
    $("legend-lo").textContent = msg.problem === "regression" ? "−1" : multi ? "" : "class 0";
    $("legend-hi").textContent = msg.problem === "regression" ? "1" : multi ? "" : "class 1";
    document.querySelector(".legend").style.visibility = multi ? "hidden" : "visible";
    $("accuracy").closest("div").style.display = msg.problem === "regression" ? "none" : "";
  },
  progress(msg) {
    losses.add(msg);
    const n = msg.epochs.length - 1;
    $("epoch").textContent = String(msg.epochs[n]);
    const fmt = (v) => (v == null ? "NaN" : v.toFixed(3));
    $("train-loss").textContent = fmt(msg.train_loss[n]);
    $("test-loss").textContent = fmt(msg.test_loss[n]);
    if (msg.accuracy[n] != null) $("accuracy").textContent = `${(100 * msg.accuracy[n]).toFixed(1)}%`;
  },
  frame({ header, blocks }) {
    boundary.update(blocks);
    diagram.update(blocks);
  },
  status(msg) {
    serverState = msg.state;
    if (msg.epoch !== undefined) $("epoch").textContent = String(msg.epoch);
    if (msg.state === "diverged") {
      setPlaying(false);
      setAlert(`Training diverged at epoch ${msg.epoch}: ${msg.message || "the loss is no longer a number"}. Lower the learning rate, then Reset.`);
    } else if (msg.state === "done") {
      setPlaying(false);
    } else if (msg.state === "busy") {
      setAlert(msg.message);
    }
  },
  set() { setAlert(""); },
  error(msg) { setAlert(`${label(msg.field)} ${msg.message}`, msg.field); },
  export(msg) {
    if (exportWanted === "script") download(new Blob([msg.script], { type: "text/x-python" }), msg.filename.replace(".npz", ".py"));
    else download(new Blob([Uint8Array.from(atob(msg.npz), (c) => c.charCodeAt(0))]), msg.filename);
    exportWanted = null;
  },
};

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function start() {
  setAlert("");
  writeHash(state.config);
  socket.send({ type: "start", config: state.toRunConfig(), paused: !running });
}

// ---------------------------------------------------------------- controls
function onControl(ctl, value) {
  if (ctl.live) {
    socket.send({ type: "set", [ctl.key]: value });
    writeHash(state.config);
    return;
  }
  if (ctl.key === "dataset") markDataset();
  start();
}

function markDataset() {
  const name = state.get("dataset");
  $("dataset").value = name;
  document.querySelectorAll("#dataset-thumbs button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.name === name)));
  const spec = options.datasets[name];
  $("n-classes").closest(".field").hidden = !(spec && spec.multiclass);
  if (spec) {
    state.set("problem", spec.problem);
    $("problem").value = spec.problem;
  }
}

function datasetThumbs() {
  const box = $("dataset-thumbs");
  for (const name of [...Object.keys(options.datasets)]) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.name = name;
    b.title = `${NAMES[name] || name}: ${options.datasets[name].description}`;
    b.setAttribute("aria-label", NAMES[name] || name);
    const c = document.createElement("canvas");
    c.width = c.height = 48;
    b.append(c);
    b.addEventListener("click", () => { state.set("dataset", name); markDataset(); start(); });
    box.append(b);
  }
}

// Draw each data set's thumbnail from a tiny run-free sample the server sends on "ready":
// cheaper to paint them once from the options' sample points.
function paintThumbs() {
  for (const b of document.querySelectorAll("#dataset-thumbs button")) {
    const sample = options.samples?.[b.dataset.name];
    if (!sample) continue;
    const ctx = b.querySelector("canvas").getContext("2d");
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, 48, 48);
    for (const [x, y, v] of sample) {
      const colors = ["#f59322", "#0877bd", "#2ca02c", "#9467bd", "#d62728", "#8c564b"];
      ctx.fillStyle = options.datasets[b.dataset.name].problem === "regression" ? (v > 0 ? "#0877bd" : "#f59322") : colors[v];
      ctx.fillRect(24 + x * 3.8 - 1, 24 - y * 3.8 - 1, 2.2, 2.2);
    }
  }
}

function addPoint(x, y) {
  if (state.get("dataset") !== "custom") return;
  const cls = Number(document.querySelector("input[name=point-class]:checked").value);
  if (state.points.length >= 5000) return setAlert("Your own data holds at most 5000 points.");
  state.points.push([+x.toFixed(3), +y.toFixed(3), cls]);
  boundary.setPoints(state.points);
  clearTimeout(addPoint.timer);
  addPoint.timer = setTimeout(() => { if (state.points.length >= 2) start(); }, 400);
}

function readCsv(file) {
  file.text().then((text) => {
    const pts = [];
    for (const [n, line] of text.split(/\r?\n/).entries()) {
      if (!line.trim() || (n === 0 && /[a-z]/i.test(line))) continue;
      const cells = line.split(/[,;\t]/).map(Number);
      if (cells.length < 3 || cells.some((v) => !Number.isFinite(v))) {
        return setAlert(`CSV line ${n + 1} must be three numbers: x1,x2,label`);
      }
      if (Math.abs(cells[0]) > 6 || Math.abs(cells[1]) > 6) return setAlert(`CSV line ${n + 1}: x1 and x2 must be between -6 and 6`);
      pts.push([cells[0], cells[1], cells[2]]);
    }
    if (pts.length < 2 || pts.length > 5000) return setAlert("CSV points must number between 2 and 5000");
    const regression = pts.some((p) => !Number.isInteger(p[2]));
    state.points = pts;
    state.set("dataset", "custom");
    state.set("problem", regression ? "regression" : "classification");
    markDataset();
    $("problem").value = state.get("problem");
    start();
  });
}

function wire() {
  bindControls(state, onControl);
  $("play").addEventListener("click", () => {
    if (serverState === "diverged") return setAlert("Training diverged: lower the learning rate, then Reset.");
    setPlaying(!running);
    socket.send({ type: running ? "resume" : "pause" });
  });
  $("step").addEventListener("click", () => { setPlaying(false); socket.send({ type: "step" }); });
  // keyboard: space plays/pauses, "s" steps (not while typing in a field)
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea, button, [role=switch]") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === " ") { e.preventDefault(); $("play").click(); }
    else if (e.key === "s") $("step").click();
  });
  $("reset").addEventListener("click", () => { setPlaying(false); setAlert(""); socket.send({ type: "reset" }); });
  $("regenerate").addEventListener("click", () => {
    state.set("seed", Math.floor(Math.random() * 1e6));
    $("seed").textContent = state.get("seed");
    start();
  });
  $("add-layer").addEventListener("click", () => {
    const h = state.get("hidden_layers");
    if (h.length < 8) { diagram.onLayers([...h, h.length ? h[h.length - 1] : 2]); }
  });
  $("remove-layer").addEventListener("click", () => {
    const h = state.get("hidden_layers");
    if (h.length) { diagram.onLayers(h.slice(0, -1)); }
  });
  $("show-test").addEventListener("change", (e) => boundary.setOptions({ showTest: e.target.checked }));
  $("discretize").addEventListener("change", (e) => boundary.setOptions({ discretize: e.target.checked }));
  $("export-model").addEventListener("click", () => { exportWanted = "model"; socket.send({ type: "export" }); });
  $("export-script").addEventListener("click", () => { exportWanted = "script"; socket.send({ type: "export" }); });
  $("copy-link").addEventListener("click", () => navigator.clipboard?.writeText(location.href));
  $("csv").addEventListener("change", (e) => e.target.files[0] && readCsv(e.target.files[0]));
  $("clear-points").addEventListener("click", () => { state.points = []; boundary.setPoints([]); });
  $("preset").addEventListener("change", (e) => {
    const preset = options.presets[e.target.value];
    if (!preset) return;
    state = new State({ ...preset.config, seed: state.get("seed") });
    renderControls(state);
    markDataset();
    setPlaying(false);
    setAlert("");
    $("alert").textContent = "";
    start();
    e.target.title = preset.about;
  });
  window.addEventListener("hashchange", () => {
    state = new State(readHash());
    renderControls(state);
    markDataset();
    start();
  });
}

async function main() {
  options = await (await fetch("/api/options")).json();
  const fill = (id, values) => { for (const v of values) $(id).append(new Option(v.replaceAll("_", " "), v)); };
  fill("activation", options.activations);
  $("activation").append(new Option("per layer", "", false, false));
  $("activation").lastChild.disabled = true;
  fill("optimizer", options.optimizers);
  for (const name of [...Object.keys(options.datasets), "custom"]) $("dataset").append(new Option(NAMES[name] || name, name));
  for (const [key, p] of Object.entries(options.presets)) $("preset").append(new Option(p.title, key));
  state = new State(readHash());
  $("seed").textContent = state.get("seed");
  diagram = new NetworkDiagram($("network"), {
    labels: options.features,
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
  });
  datasetThumbs();
  paintThumbs();
  renderControls(state);
  markDataset();
  if (readHash().problem) { state.set("problem", readHash().problem); $("problem").value = state.get("problem"); }
  wire();
  socket = new TrainSocket("/ws/train", handlers); // its "open" sends the first start
  // plotly.js loads after this module: draw what arrived meanwhile once it is there
  whenPlotly(() => { boundary.draw(); if (boundary.lastBlocks) boundary.render(boundary.lastBlocks); losses.draw(); });
}

function whenPlotly(fn) {
  if (window.Plotly) fn();
  else window.addEventListener("load", fn, { once: true });
}

main();
