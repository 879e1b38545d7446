// The digits page: draw with mouse, finger or pen; see the prediction live.

import "./mnist.js";
import { showModelWeights } from "./firstlayer.js";
import { fetchModels, showMine } from "./models.js";
import { Presenter } from "./presenter.js";
import { clearSaliency, drawSaliency } from "./saliency.js";

const $ = (id) => document.getElementById(id);
new Presenter($("presenter"));  // on when the playground's tab had it on
const canvas = $("digit-canvas");
const ctx = canvas.getContext("2d");
const PEN = 16;
let strokes = [];      // each stroke: [[x, y], ...] in canvas pixels
let current = null;
let inFlight = false;
let queued = false;
let lastSent = 0;

// How many pen points the drawing has, and (on #prediction) how many the answer shown was
// for: equal once the prediction on screen is the whole drawing's.
const points = () => strokes.reduce((n, s) => n + s.length, 0);

function paint() {
  canvas.dataset.points = points();
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#111";
  ctx.fillStyle = "#111";
  ctx.lineWidth = PEN;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const s of strokes) {
    if (s.length === 1) {
      ctx.beginPath();
      ctx.arc(s[0][0], s[0][1], PEN / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(s[0][0], s[0][1]);
    for (const [x, y] of s.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }
  if (!strokes.length) {
    ctx.fillStyle = "#b8c2cc";
    ctx.font = "16px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText("draw a digit here", canvas.width / 2, canvas.height / 2);
  }
}

function point(ev) {
  const r = canvas.getBoundingClientRect();
  return [
    Math.round(((ev.clientX - r.left) * canvas.width) / r.width * 10) / 10,
    Math.round(((ev.clientY - r.top) * canvas.height) / r.height * 10) / 10,
  ];
}

canvas.addEventListener("pointerdown", (ev) => {
  ev.preventDefault();
  canvas.setPointerCapture(ev.pointerId);
  current = [point(ev)];
  strokes.push(current);
  paint();
  predictSoon();
});
canvas.addEventListener("pointermove", (ev) => {
  if (!current) return;
  for (const e of ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev]) current.push(point(e));
  paint();
  predictSoon();
});
const end = () => {
  if (!current) return;
  current = null;
  predict();
};
canvas.addEventListener("pointerup", end);
canvas.addEventListener("pointercancel", end);

$("clear").addEventListener("click", () => { strokes = []; paint(); showEmpty(); });
$("undo").addEventListener("click", () => { strokes.pop(); paint(); strokes.length ? predict() : showEmpty(); });
$("model").addEventListener("change", () => {
  showModelInfo();
  showModelWeights($("model").value);
  $("model").dataset.shown = $("model").value;
  if (strokes.length) predict();
});

// Throttle: at most one request in flight, and at most ~8 a second while drawing.
function predictSoon() {
  const now = performance.now();
  if (now - lastSent > 120) predict();
  else if (!predictSoon.timer) predictSoon.timer = setTimeout(() => { predictSoon.timer = null; predict(); }, 120);
}

// A prediction the server could not be asked for (it is down or restarting): said in
// words, and asked again every RETRY ms until it answers or the drawing is cleared.
const RETRY = 2000;
let retry = null;

function trouble(text) {
  $("prediction").textContent = "";
  $("confidence").textContent = text;
  $("confidence").classList.add("trouble");
  clearTimeout(retry);
  retry = setTimeout(() => { retry = null; predict(); }, RETRY);
}

async function predict() {
  if (!strokes.length) return;
  if (inFlight) { queued = true; return; }
  inFlight = true;
  lastSent = performance.now();
  const sent = points();
  try {
    let r;
    try {
      r = await fetch("/api/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ strokes, width: canvas.width, height: canvas.height, model: $("model").value || undefined, saliency: true }),
      });
    } catch {  // no answer at all: the server is down, restarting, or out of reach
      trouble("Can't reach the server to classify your drawing; trying again…");
      return;
    }
    if (r.status >= 500) {  // a proxy with no server behind it, or a server in trouble
      trouble(`The server could not classify your drawing (error ${r.status}); trying again…`);
      return;
    }
    const body = await r.json();
    if (!r.ok) throw new Error(`${body.detail.field} ${body.detail.message}`);
    clearTimeout(retry);
    $("confidence").classList.remove("trouble");
    show(body);
    $("prediction").dataset.points = sent;
  } catch (err) {
    $("confidence").classList.add("trouble");
    $("confidence").textContent = `Could not classify: ${err.message}`;
  } finally {
    inFlight = false;
    if (queued) { queued = false; predict(); }
  }
}

function classNames() {
  const info = models.find((m) => m.name === $("model").value);
  return info?.classes || ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
}

function drawBars(p, label, unsure = false) {
  if (!window.Plotly) return;  // not loaded yet: drawn on the page's load
  const names = classNames();
  const colors = p.map((_, i) => (i !== label ? "#b9c6d3" : unsure ? "#7d8a99" : "#0877bd"));
  Plotly.react($("probabilities"), [{
    type: "bar", x: names, y: p, marker: { color: colors },
    hovertemplate: "%{x}: %{y:.1%}<extra></extra>",
  }], {
    margin: { l: 36, r: 8, t: 8, b: 30 }, height: 220, yaxis: { range: [0, 1], tickformat: ".0%", fixedrange: true },
    xaxis: { type: "category", fixedrange: true }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
  }, { displayModeBar: false, responsive: true });
}

function show(body) {
  const names = classNames();
  const p = body.probabilities;
  const name = names[body.label];
  const pct = `${(100 * p[body.label]).toFixed(1)} %`;
  // "may not be a digit": no big answer as if sure; the warning first, then the best guess
  const unsure = body.maybe_not_a_digit;
  $("prediction").textContent = unsure ? "?" : name;
  $("prediction").classList.toggle("unsure", unsure);
  $("prediction").style.fontSize = !unsure && name.length > 2 ? "28px" : "";
  $("not-digit").textContent = unsure ? `This may not be a digit: ${body.why.join("; ")}.` : "";
  $("confidence").textContent = unsure ? `It looks most like ${name} (${pct}).` : `${pct} sure`;
  $("confidence").classList.toggle("unsure", unsure);
  drawBars(p, body.label, unsure);
  const seen = $("seen").getContext("2d");
  const img = seen.createImageData(28, 28);
  body.input.forEach((v, i) => {
    const g = Math.round(v * 255);
    img.data.set([g, g, g, 255], i * 4);
  });
  seen.putImageData(img, 0, 0);
  if (body.saliency) showSaliency(body.input, body.saliency, name);
  const box = $("activations");
  box.replaceChildren();
  for (const layer of body.hidden) {
    const c = document.createElement("canvas");
    c.width = layer.length;
    c.height = 1;
    c.title = `${layer.length} neurons`;
    const max = Math.max(1e-6, ...layer.map(Math.abs));
    const strip = c.getContext("2d").createImageData(layer.length, 1);
    layer.forEach((v, i) => {
      const t = Math.min(1, Math.abs(v) / max);
      strip.data.set([Math.round(244 - 236 * t), Math.round(244 - 125 * t), Math.round(244 - 55 * t), 255], i * 4);
    });
    c.getContext("2d").putImageData(strip, 0, 0);
    box.append(c);
  }
}

function showSaliency(input, sal, name) {
  drawSaliency($("saliency"), input, sal);
  $("saliency-title").textContent = `Pixels that would raise / lower the ${name}`;
  $("saliency-legend-up").textContent = `raises p(${name})`;
  $("saliency-legend-down").textContent = `lowers p(${name})`;
}

function showEmpty() {
  clearTimeout(retry);
  $("confidence").classList.remove("trouble");
  clearSaliency($("saliency"));
  $("saliency-title").textContent = "Pixels that would raise / lower the answer";
  $("saliency-legend-up").textContent = "raises the answer";
  $("saliency-legend-down").textContent = "lowers the answer";
  $("prediction").textContent = "";
  $("prediction").dataset.points = 0;
  $("prediction").classList.remove("unsure");
  $("confidence").classList.remove("unsure");
  $("confidence").textContent = "Draw in the box";
  $("not-digit").textContent = "";
  if (window.Plotly) drawBars(new Array(10).fill(0), -1);
  $("seen").getContext("2d").clearRect(0, 0, 28, 28);
  $("activations").replaceChildren();
}

let models = [];
export async function loadModels(select) {
  let body;
  try {
    body = await fetchModels();
  } catch {  // the server is down: the list comes when it is back
    setTimeout(() => loadModels(select), RETRY);
    return;
  }
  models = body.models;
  const el = $("model");
  const keep = select || el.value || body.default;
  el.replaceChildren();
  for (const m of models) {
    const acc = m.accuracy == null ? "" : ` — ${(100 * m.accuracy).toFixed(1)} %`;
    const option = new Option(`${m.name}${acc} (${m.architecture.join("-")}, ${m.dataset})`, m.name);
    option.title = m.name;
    el.append(option);
  }
  const before = el.dataset.shown;
  el.value = models.some((m) => m.name === keep) ? keep : body.default;
  showModelInfo();
  if (el.value !== before) showModelWeights(el.value);  // (a fresh list of the same model keeps them)
  el.dataset.shown = el.value;
  showMine(models);
}

function showModelInfo() {
  const m = models.find((x) => x.name === $("model").value);
  if (!m) return;
  $("model-download").href = `/api/models/${encodeURIComponent(m.name)}/download`;
  $("model-download").textContent = `Download ${m.name} (.npz, loads with nn_core.Network.load)`;
  $("model").title = m.name;
  $("model-info").textContent = `${m.architecture.join("–")} ${m.activation.join("/")} → ${m.output_activation}; ` +
    `held-out accuracy ${m.accuracy == null ? "?" : (100 * m.accuracy).toFixed(2) + " %"} on ${m.dataset}; ` +
    `${m.epochs ?? "?"} epochs${m.date ? ", " + m.date : ""}${m.builtin ? " (shipped)" : ""}.`;
}

window.addEventListener("models-changed", (ev) => loadModels(ev.detail));
paint();
loadModels();
// plotly.js loads after this module: draw the bars once it is there (a drawing made
// before then is asked about again, for its bars)
if (window.Plotly) showEmpty();
else window.addEventListener("load", () => (strokes.length ? predict() : showEmpty()), { once: true });
