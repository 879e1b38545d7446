// Training health: per layer, against the epoch, the gradient norm and the update-to-weight
// ratio (log axes, the healthy band marked), the dead or saturated fraction, a verdict in
// words, a table of the latest figures, and histograms of weights and gradients.

import { keepFitted } from "./charts.js";

const LAYER_COLORS = ["#183d4e", "#0877bd", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];
const MAX_POINTS = 1500;
const BINS = 20;
const sci = (v) => (v == null || !Number.isFinite(v) ? "–" : v === 0 ? "0" : Math.abs(v) < 1e-2 || Math.abs(v) >= 1e3 ? v.toExponential(2) : v.toPrecision(3));
// the points on which a ReLU layer is all off ("–" where units cannot be off: the cell the
// "stuck" verdict quotes)
const allOff = (h, n) => (h.silent == null ? "–" : `${h.silent} of ${n}${h.silent_other ? `<span class="other">${h.silent_other} of another class</span>` : ""}`);

export class HealthPanel {
  // band: the update ratios of healthy training, [low, high] (/api/options' health)
  constructor({ verdict, grad, ratio, dead, table, hist, histLayer, band }) {
    Object.assign(this, { verdictEl: verdict, gradEl: grad, ratioEl: ratio, deadEl: dead, tableEl: table, histEl: hist, histLayer, band });
    histLayer.addEventListener("change", () => this.drawHist());
    this.reset([]);
  }

  // names: one per weight matrix, e.g. ["layer 1", "layer 2", "output"]
  reset(names) {
    this.names = names;
    this.epochs = [];
    this.series = names.map(() => ({ grad: [], ratio: [], frac: [] }));
    this.latest = null;
    const keep = this.histLayer.value;
    this.histLayer.replaceChildren(...names.map((n, l) => new Option(n, String(l))));
    if (keep && Number(keep) < names.length) this.histLayer.value = keep;
    this.verdictEl.textContent = "";
    this.tableEl.replaceChildren();
    this.scheduleDraw();
  }

  add(msg) {
    if (msg.layers.length !== this.series.length) return;
    if (this.epochs.length && msg.epoch <= this.epochs.at(-1)) {
      // a step back (reset) or the same epoch again (an edit): replace the last point
      while (this.epochs.length && this.epochs.at(-1) >= msg.epoch) {
        this.epochs.pop();
        this.series.forEach((s) => { s.grad.pop(); s.ratio.pop(); s.frac.pop(); });
      }
    }
    this.epochs.push(msg.epoch);
    msg.layers.forEach((h, l) => {
      const s = this.series[l];
      s.grad.push(h.grad_norm);
      s.ratio.push(h.update_ratio);
      s.frac.push((h.dead + h.saturated) / h.units);
    });
    if (this.epochs.length > MAX_POINTS) this.thin();
    this.latest = msg;
    this.scheduleDraw();
  }

  thin() {
    const keep = (_, i) => i % 2 === 0 || i === this.epochs.length - 1;
    this.epochs = this.epochs.filter(keep);
    for (const s of this.series) for (const k of ["grad", "ratio", "frac"]) s[k] = s[k].filter(keep);
  }

  setBlocks(blocks, sizes) {
    this.blocks = blocks;
    this.sizes = sizes;
    this.scheduleDraw();
  }

  scheduleDraw() {
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.draw(); }, 250);
  }

  draw() {
    this.drawTable();
    if (!window.Plotly || !this.gradEl.isConnected) return;
    const lines = (key) => this.series.map((s, l) => ({
      x: this.epochs.slice(), y: s[key].slice(), mode: "lines", name: this.names[l], line: { color: LAYER_COLORS[l % 9], width: 1.8 },
      hovertemplate: `${this.names[l]}: %{y:.3g}<extra></extra>`,
    }));
    const base = (title, log, extra = {}) => ({
      height: 190, margin: { l: 52, r: 8, t: 26, b: 30 }, showlegend: false,
      title: { text: title, font: { size: 12 }, x: 0.02 },
      xaxis: { title: { text: "epoch", font: { size: 10 } }, fixedrange: true, rangemode: "tozero" },
      yaxis: { type: log ? "log" : "linear", fixedrange: true, exponentformat: "power" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", hovermode: "x unified", ...extra,
    });
    const cfg = { displayModeBar: false, responsive: true };
    Plotly.react(this.gradEl, lines("grad"), base("Gradient norm ‖∂L/∂W‖", true), cfg);
    const band = [{ type: "rect", xref: "paper", x0: 0, x1: 1, yref: "y", y0: this.band[0], y1: this.band[1], fillcolor: "#2ca02c", opacity: 0.1, line: { width: 0 } }];
    const ratioLayout = base("Update ratio ‖ΔW‖/‖W‖ (green: healthy)", true, { shapes: band });
    Plotly.react(this.ratioEl, lines("ratio"), ratioLayout, cfg);
    const fracLayout = base("Dead or saturated units", false);
    fracLayout.yaxis = { ...fracLayout.yaxis, range: [0, 1.02], tickformat: ".0%" };
    Plotly.react(this.deadEl, lines("frac"), fracLayout, cfg);
    for (const el of [this.gradEl, this.ratioEl, this.deadEl]) keepFitted(el);
    this.drawHist();
  }

  // The verdict and the table are written from the same message, in the same moment: the
  // verdict's figures (formatted by the server as sci() does) are the table's.
  drawTable() {
    const msg = this.latest;
    if (!msg) { this.tableEl.replaceChildren(); this.verdictEl.textContent = ""; return; }
    const said = msg.verdict ? msg.verdict[0].toUpperCase() + msg.verdict.slice(1) + "." : "";
    if (this.verdictEl.textContent !== said) this.verdictEl.textContent = said; // (a live region)
    this.verdictEl.className = `verdict ${msg.code === "healthy" ? "ok" : "warn"}`;
    const head = "<thead><tr><th scope=\"col\">Layer</th><th scope=\"col\">‖∂L/∂W‖</th><th scope=\"col\">‖W‖</th><th scope=\"col\" title=\"the largest step of the recent frames\">‖ΔW‖/‖W‖</th><th scope=\"col\">Dead</th><th scope=\"col\">Saturated</th><th scope=\"col\" title=\"training points on which every unit of this layer is off: they all get one output and send the layer no gradient; below, those not of their most common class\">All units off</th></tr></thead>";
    const rows = msg.layers.map((h, l) => `<tr><th scope="row"><span class="swatch" style="background:${LAYER_COLORS[l % 9]}"></span> ${this.names[l]}</th><td>${sci(h.grad_norm)}</td><td>${sci(h.weight_norm)}</td><td>${sci(h.recent_ratio)}</td><td>${h.rectifier ? `${h.dead} of ${h.units}` : "–"}</td><td>${h.saturating ? `${h.saturated} of ${h.units}` : "–"}</td><td>${allOff(h, msg.n_points)}</td></tr>`).join("");
    const loss = msg.loss == null ? "" : `; loss ${sci(msg.loss)} (chance ${sci(msg.chance)})`;
    const steps = msg.window > 1 ? `; <span style="white-space:nowrap">‖ΔW‖/‖W‖</span>: the largest step of the last ${msg.window} frames` : "";
    this.tableEl.innerHTML = `<caption>Epoch ${msg.epoch}, over ${msg.n_points} training points${loss}${steps}</caption>${head}<tbody>${rows}</tbody>`;
  }

  // Exact histograms: BINS equal bins from the layer's minimum to its maximum.
  static histogram(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!Number.isFinite(lo)) return { edges: [], counts: [] };
    if (hi === lo) { lo -= 0.5; hi += 0.5; }
    const width = (hi - lo) / BINS;
    const counts = new Array(BINS).fill(0);
    for (const v of values) if (Number.isFinite(v)) counts[Math.min(BINS - 1, Math.floor((v - lo) / width))]++;
    const edges = Array.from({ length: BINS + 1 }, (_, i) => lo + i * width);
    return { edges, counts };
  }

  layerSlice(name, l) {
    const sizes = this.sizes;
    let start = 0;
    for (let k = 0; k < l; k++) start += sizes[k] * sizes[k + 1];
    return this.blocks[name].data.subarray(start, start + sizes[l] * sizes[l + 1]);
  }

  drawHist() {
    if (!window.Plotly || !this.blocks || !this.sizes || !this.blocks.grad_weights) return;
    const l = Number(this.histLayer.value || 0);
    if (l >= this.sizes.length - 1) return;
    const traces = [];
    for (const [name, label, color, axis] of [["weights", "weights W", "#0877bd", ""], ["grad_weights", "gradients ∂L/∂W", "#b0287a", "2"]]) {
      const { edges, counts } = HealthPanel.histogram(this.layerSlice(name, l));
      traces.push({
        type: "bar", x: edges.slice(0, -1).map((e, i) => (e + edges[i + 1]) / 2), y: counts, width: edges.length > 1 ? edges[1] - edges[0] : 1,
        marker: { color }, name: label, xaxis: `x${axis}`, yaxis: `y${axis}`,
        customdata: edges.slice(0, -1).map((e, i) => [e, edges[i + 1]]),
        hovertemplate: `[%{customdata[0]:.3g}, %{customdata[1]:.3g}): %{y}<extra>${label}</extra>`,
      });
    }
    const layout = {
      height: 190, margin: { l: 36, r: 8, t: 26, b: 30 }, showlegend: false, bargap: 0.05,
      grid: { rows: 1, columns: 2, pattern: "independent" },
      annotations: [
        { text: "Weights W", x: 0.0, xref: "paper", y: 1.14, yref: "paper", showarrow: false, font: { size: 12 }, xanchor: "left" },
        { text: "Gradients ∂L/∂W", x: 0.55, xref: "paper", y: 1.14, yref: "paper", showarrow: false, font: { size: 12 }, xanchor: "left" },
      ],
      xaxis: { fixedrange: true, exponentformat: "e" }, xaxis2: { fixedrange: true, exponentformat: "e" },
      yaxis: { fixedrange: true }, yaxis2: { fixedrange: true },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
    };
    Plotly.react(this.histEl, traces, layout, { displayModeBar: false, responsive: true });
    keepFitted(this.histEl);
  }
}
