// "Train your own": an MNIST run over /ws/mnist with live curves, a confusion matrix and
// a gallery of mistakes; then save it and use it on the canvas.

import { ConnectionLine } from "./connection.js";
import { showTrainingWeights } from "./firstlayer.js";
import { fetchModels, ownerToken } from "./models.js";
import { TrainSocket } from "./socket.js";

const $ = (id) => document.getElementById(id);
const ARCH = window.MNIST_ARCHITECTURES;
let names = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
let history = { epochs: [], train: [], test: [], acc: [] };
let state = "idle";
let connected = false;
let asked = null;   // the config of the last start sent: "Start it again" sends it again
let layers = [];    // the layer sizes of the run under way
let runRate = null; // and its learning rate
const line = new ConnectionLine($("connection"));

// What a lesson on this page (digitlesson.js) reads of the run, and its hook for updates.
export const trainView = {
  onUpdate: null,
  state: () => state,
  metrics() {
    const n = history.epochs.length;
    return {
      test_loss: n ? history.test[n - 1] : null,
      train_loss: n ? history.train[n - 1] : null,
      accuracy: n ? history.acc[n - 1] : null,
      epoch: n ? history.epochs[n - 1] : 0,
      learning_rate: runRate,
    };
  },
};

for (const [key, a] of Object.entries(ARCH)) $("architecture").append(new Option(a.title, key));
if (window.FASHION) $("train-dataset").append(new Option("Fashion-MNIST (60,000 / 10,000)", "fashion"));

function applyArchitecture() {
  const a = ARCH[$("architecture").value];
  $("train-optimizer").value = a.optimizer;
  $("train-lr").value = a.learning_rate;
  $("train-batch").value = a.batch_size;
  fullBatchNote();
}

// Full batch: an epoch is a single step, so curves move slowly per epoch.
function fullBatchNote() {
  const full = Number($("train-batch").value) >= 8000;
  $("full-batch-note").textContent = full ? "Full batch: each epoch is one update of the weights, so expect hundreds of epochs, not ten (784-10-10 needs about 300 for 88 %; up to 1,000)." : "";
}
$("train-batch").addEventListener("input", fullBatchNote);
$("architecture").addEventListener("change", applyArchitecture);
applyArchitecture();

function setError(text) { $("train-error").textContent = text || ""; }

function buttons() {
  $("train-pause").disabled = !connected || !(state === "running" || state === "paused");
  $("train-pause").textContent = state === "paused" ? "Resume" : "Pause";
  $("save").disabled = !connected || !["done", "paused"].includes(state) || !history.epochs.length;
}

// The run lived in the connection: say where it stopped and why, and offer to start it again.
function cut(why) {
  const epoch = history.epochs.at(-1) ?? 0;
  state = "cut";
  const head = document.createElement("strong");
  head.textContent = `Training stopped at epoch ${epoch}${asked ? ` of ${asked.epochs}` : ""} because ${why}.`;
  $("train-cut-text").replaceChildren(head, " The run ended with the connection; start it again from the same setup (same seed).");
  $("train-cut").hidden = false;
  $("train-status").textContent = "";
  $("pace-note").textContent = "";
  buttons();
}

function send(msg) {
  if (msg.type === "start") asked = msg.config;
  socket.send(msg);
}

const socket = new TrainSocket("/ws/mnist", {
  open() {
    connected = true;
    line.clear();
    $("train-again").textContent = "Start it again";
    buttons();
  },
  close(ev, wait) {
    connected = false;
    if (ev.code === 1008) setError("This page's address is not allowed to train here (origin refused).");
    else line.closed(ev, wait);
    if (state === "running" || state === "paused") cut("the connection to the server was lost");
    $("train-again").textContent = "Start it again when the server is back";
    buttons();
  },
  ready(msg) {
    $("train-empty").hidden = true;
    $("train-cut").hidden = true;
    $("pace-note").textContent = "";
    names = msg.classes;
    layers = msg.layers;
    runRate = msg.config.learning_rate;
    history = { epochs: [], train: [], test: [], acc: [] };
    $("train-status").textContent = `Training ${msg.layers.join("-")} (${msg.n_parameters.toLocaleString()} weights) on ${msg.n_train.toLocaleString()} images…`;
    drawCurve();
    trainView.onUpdate?.();
  },
  progress(msg) {
    msg.epochs.forEach((e, i) => {
      history.epochs.push(e);
      history.train.push(msg.train_loss[i]);
      history.test.push(msg.test_loss[i]);
      history.acc.push(msg.accuracy[i]);
    });
    const n = history.epochs.length - 1;
    $("train-status").textContent = `Epoch ${history.epochs[n]}: test accuracy ${(100 * history.acc[n]).toFixed(2)} %`;
    drawCurve();
    trainView.onUpdate?.();
  },
  pace(msg) {
    const pct = Math.floor((100 * msg.batches_done) / msg.batches);
    const s = msg.epoch_seconds;
    const per = s < 120 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} minutes`;
    $("train-status").textContent = `Epoch ${msg.epoch}: ${pct} % (${msg.batches_done.toLocaleString("en")} of ` +
      `${msg.batches.toLocaleString("en")} batches); about ${per} per epoch`;
    if (msg.message) $("pace-note").textContent = msg.message;
  },
  evaluation(msg) { drawConfusion(msg.confusion); drawGallery(msg.misclassified, msg.n_wrong); },
  first_layer(msg) { showTrainingWeights(msg, layers); },
  status(msg) {
    if (msg.state === "stopped") { cut("the server was shutting down"); return; }
    if (msg.state === "busy") line.full = msg.learners;
    state = msg.state;
    buttons();
    if (state === "done") $("train-status").textContent += " — done. Name it and save it.";
    if (state === "diverged") setError("Training diverged: lower the learning rate and train again.");
  },
  saved(msg) {
    $("train-status").textContent = `Saved as ${msg.name}. It is now selected above: draw!`;
    window.dispatchEvent(new CustomEvent("models-changed", { detail: msg.name }));
  },
  error(msg) { setError(`${FIELD_WORDS[msg.field] || msg.field} ${msg.message}.`); },
});

const FIELD_WORDS = {
  epochs: "Epochs", learning_rate: "Learning rate", batch_size: "Batch size", name: "Save as:",
  hidden_layers: "Architecture", optimizer: "Optimizer", dataset: "Training data",
};

// The form's numbers, checked in words before anything is sent, against the ranges the
// server wrote into the inputs (from its MNIST config).
function formProblem() {
  const checks = [["train-lr", "Learning rate", false], ["train-epochs", "Epochs", true], ["train-batch", "Batch size", true]];
  for (const [id, name, whole] of checks) {
    const [lo, hi] = [Number($(id).min), Number($(id).max)];
    const raw = $(id).value.trim();
    const v = Number(raw);
    if (raw === "" || !Number.isFinite(v) || v < lo || v > hi || (whole && !Number.isInteger(v))) {
      $(id).setAttribute("aria-invalid", "true");
      return `${name}: type a ${whole ? "whole number" : "number"} from ${lo} to ${hi.toLocaleString("en")}.`;
    }
    $(id).removeAttribute("aria-invalid");
  }
  return "";
}

$("train-start").addEventListener("click", () => {
  setError("");
  const problem = formProblem();
  if (problem) return setError(problem);
  const a = ARCH[$("architecture").value];
  if (!connected) $("train-status").textContent = "Training starts as soon as the server is back…";
  send({ type: "start", config: {
    dataset: $("train-dataset").value, hidden_layers: a.hidden, activation: a.activation,
    output_activation: a.output, loss: a.loss, init: a.init, init_scale: a.init_scale ?? null,
    optimizer: $("train-optimizer").value, learning_rate: Number($("train-lr").value),
    batch_size: Number($("train-batch").value), epochs: Number($("train-epochs").value),
    augment: $("train-augment").checked,
  } });
});
$("train-pause").addEventListener("click", () => send({ type: state === "paused" ? "resume" : "pause" }));
$("train-again").addEventListener("click", () => {
  $("train-cut").hidden = true;
  $("train-status").textContent = connected ? "Starting again…" : "Starting again as soon as the server is back…";
  send({ type: "start", config: asked });
});
$("save").addEventListener("click", async () => {
  setError("");
  const field = $("save-name");
  const name = field.value.trim();
  if (!field.checkValidity() || !name) {
    field.setAttribute("aria-invalid", "true");
    return setError(`Save as: use 1 to ${field.maxLength} letters, digits, - or _, starting with a letter or digit.`);
  }
  field.removeAttribute("aria-invalid");
  // another browser's name is refused at once; saving over one of yours asks first
  // (the server checks again: a list it could not send leaves the check to it)
  const known = await fetchModels().then((b) => b.models.find((m) => m.name === name), () => null);
  if (known && !known.yours) {
    field.setAttribute("aria-invalid", "true");
    return setError(known.builtin
      ? `Save as: “${name}” is the shipped model: pick another name.`
      : `Save as: a model named “${name}” already belongs to someone else: pick another name.`);
  }
  if (known && !window.confirm(`You already saved a model named “${name}”. Replace it?`)) {
    $("train-status").textContent = `Not saved: your “${name}” is kept. Choose another name.`;
    return;
  }
  send({ type: "save", name, owner: ownerToken() });
});

function drawCurve() {
  Plotly.react($("mnist-curve"), [
    { x: history.epochs, y: history.train, name: "Training loss", mode: "lines+markers", line: { color: "#5f6b7a" } },
    { x: history.epochs, y: history.test, name: "Test loss", mode: "lines+markers", line: { color: "#0877bd" } },
    { x: history.epochs, y: history.acc, name: "Test accuracy", yaxis: "y2", mode: "lines+markers", line: { color: "#2ca02c", dash: "dot" } },
  ], {
    margin: { l: 40, r: 44, t: 24, b: 30 }, height: 230, legend: { orientation: "h", y: 1.2 },
    xaxis: { title: { text: "epoch" }, fixedrange: true }, yaxis: { rangemode: "tozero", fixedrange: true },
    yaxis2: { overlaying: "y", side: "right", tickformat: ".0%", fixedrange: true, showgrid: false },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", datarevision: history.epochs.length,
  }, { displayModeBar: false, responsive: true });
}

function drawConfusion(m) {
  Plotly.react($("confusion"), [{
    type: "heatmap", z: m.map((row) => row.map(Math.sqrt)), x: names, y: names, showscale: false,
    colorscale: [[0, "#f7fbff"], [0.3, "#9ecae1"], [1, "#08306b"]], customdata: m,
    hovertemplate: "true %{y}, predicted %{x}: %{customdata}<extra></extra>",
    text: m.map((row) => row.map(String)), texttemplate: "%{text}", textfont: { size: 10 },
  }], {
    margin: { l: 40, r: 8, t: 24, b: 40 }, height: 300, title: { text: "Confusion matrix (test)", font: { size: 12 } },
    xaxis: { title: { text: "predicted" }, type: "category", fixedrange: true },
    yaxis: { title: { text: "true" }, type: "category", autorange: "reversed", fixedrange: true },
    paper_bgcolor: "rgba(0,0,0,0)",
  }, { displayModeBar: false, responsive: true });
}

function drawGallery(items, nWrong) {
  const box = $("gallery");
  box.replaceChildren();
  for (const item of items) {
    const fig = document.createElement("figure");
    const c = document.createElement("canvas");
    c.width = c.height = 28;
    const px = Uint8Array.from(atob(item.pixels), (ch) => ch.charCodeAt(0));
    const img = c.getContext("2d").createImageData(28, 28);
    px.forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
    c.getContext("2d").putImageData(img, 0, 0);
    const cap = document.createElement("figcaption");
    cap.textContent = `${names[item.label]}→${names[item.predicted]}`;
    cap.title = `true ${names[item.label]}, predicted ${names[item.predicted]}`;
    // click (or Enter) shows what the network thought of this digit
    fig.tabIndex = 0;
    fig.setAttribute("role", "button");
    fig.setAttribute("aria-label", `A ${names[item.label]} read as ${names[item.predicted]}: show its probabilities`);
    const open = () => showMistake(item);
    fig.addEventListener("click", open);
    fig.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
    fig.append(c, cap);
    box.append(fig);
  }
  box.setAttribute("aria-label", `Misclassified test digits: ${nWrong} in all, first ${items.length} shown`);
}

function showMistake(item) {
  const box = $("mistake");
  const ranked = item.probabilities.map((p, k) => [p, k]).sort((a, b) => b[0] - a[0]).slice(0, 3);
  box.innerHTML = `<p><b>A ${names[item.label]} read as ${names[item.predicted]}.</b> The network's top three:</p>` +
    `<ol>${ranked.map(([p, k]) => `<li><span class="bar" style="width:${(100 * p).toFixed(0)}%"></span>${names[k]}: ${(100 * p).toFixed(1)} %${k === item.label ? " (the truth)" : ""}</li>`).join("")}</ol>` +
    `<p class="hint">Its probability for the true ${names[item.label]}: ${(100 * item.probabilities[item.label]).toFixed(1)} %.</p>`;
  box.hidden = false;
}
