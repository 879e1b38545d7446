// Plotly charts: the decision boundary (heatmap + points) and the loss curve.

export const ORANGE = "#f59322";
export const BLUE = "#0877bd";
export const CLASS_COLORS = [ORANGE, BLUE, "#2ca02c", "#9467bd", "#d62728", "#8c564b"];
// TensorFlow Playground's diverging scale: orange (low / class 0) - white - blue (high / class 1).
export const DIVERGING = [[0, ORANGE], [0.5, "#f4f4f4"], [1, BLUE]];

// Keep a chart as wide as its box: one drawn while its box had no width (not laid out yet,
// or hidden) gets Plotly's default 700 px and would stick out of the page until the window
// itself changed size. Call after each draw; observes the box once.
export function keepFitted(el) {
  if (el.fitted || !window.ResizeObserver) return;
  el.fitted = new ResizeObserver(() => {
    const width = el.clientWidth;
    if (width && el._fullLayout && Math.abs(el._fullLayout.width - width) > 1) Plotly.Plots.resize(el);
  });
  el.fitted.observe(el);
}

function linspace(lo, hi, n) {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

function tint(hex, amount) {
  const n = parseInt(hex.slice(1), 16);
  const mix = (c) => Math.round(c + (255 - c) * amount);
  return `rgb(${mix(n >> 16)},${mix((n >> 8) & 255)},${mix(n & 255)})`;
}

function classScale(k) {
  const scale = [];
  for (let c = 0; c < k; c++) {
    scale.push([c / k, tint(CLASS_COLORS[c], 0.85)]);
    scale.push([(c + 1) / k - 1e-6, tint(CLASS_COLORS[c], 0.15)]);
  }
  scale[scale.length - 1][0] = 1;
  return scale;
}

export class BoundaryChart {
  // extent: the plane shown is [-extent, extent]^2 (the server's coordinate range)
  constructor(el, { extent, onClick, onPointClick }) {
    this.extent = extent;
    this.onPointClick = onPointClick;
    this.traced = null;
    this.el = el;
    this.grid = 0;
    this.pending = null;
    this.discretize = false;
    this.showTest = false;
    this.problem = "classification";
    this.nClasses = 2;
    this.train = [];
    this.test = [];
    this.ready = false;
    this.onClick = onClick;
  }

  layout() {
    const e = this.extent;
    const tickvals = Array.from({ length: Math.floor(e / 2) * 2 + 1 }, (_, i) => i * 2 - Math.floor(e / 2) * 2);
    const axis = { range: [-e, e], zeroline: false, showgrid: false, ticks: "outside",
                   tickvals, fixedrange: true, linecolor: "#c9d1db", mirror: true };
    return {
      margin: { l: 30, r: 8, t: 6, b: 26 }, showlegend: false, dragmode: false,
      xaxis: { ...axis }, yaxis: { ...axis, scaleanchor: "x" },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", hovermode: "closest",
    };
  }

  pointTrace(points, test) {
    const regression = this.problem === "regression";
    return {
      type: "scatter", mode: "markers", hoverinfo: "text",
      x: points.map((p) => p[0]), y: points.map((p) => p[1]),
      text: points.map((p) => `${test ? "test" : "train"} (${p[0].toFixed(2)}, ${p[1].toFixed(2)}) → ${regression ? p[2].toFixed(2) : "class " + p[2]}`),
      marker: {
        size: 6,
        line: { width: 1, color: test ? "#111" : "#fff" },
        color: regression ? points.map((p) => p[2]) : points.map((p) => CLASS_COLORS[p[2]] || "#333"),
        ...(regression ? { colorscale: DIVERGING, cmin: -1, cmax: 1 } : {}),
      },
    };
  }

  setData(ready) {
    this.problem = ready.problem;
    this.nClasses = ready.n_classes || 2;
    this.train = ready.train_points;
    this.test = ready.test_points;
    this.grid = ready.config.grid;
    this.draw();
  }

  setPoints(train) {
    this.train = train;
    this.test = [];
    this.draw();
  }

  heatTrace(z) {
    const ticks = linspace(-this.extent, this.extent, this.grid || 2);
    const multi = this.problem === "classification" && this.nClasses > 2;
    return {
      type: "heatmap", x: ticks, y: ticks, z: z || [[0]], hoverinfo: "skip", showscale: false,
      colorscale: multi ? classScale(this.nClasses) : DIVERGING,
      zmin: 0, zmax: multi ? this.nClasses : 255, zsmooth: this.discretize ? false : "best",
    };
  }

  draw() {
    if (!window.Plotly) return;
    const data = [this.heatTrace(this.lastZ), this.pointTrace(this.train, false)];
    data.push(this.showTest ? this.pointTrace(this.test, true) : { type: "scatter", x: [], y: [] });
    data.push({
      type: "scatter", mode: "markers", hoverinfo: "skip", x: this.traced ? [this.traced[0]] : [], y: this.traced ? [this.traced[1]] : [],
      marker: { size: 18, color: "rgba(0,0,0,0)", line: { width: 3, color: "#b0287a" } },
    });
    Plotly.react(this.el, data, this.layout(), { displayModeBar: false, responsive: true });
    if (!this.ready) {
      this.ready = true;
      this.el.addEventListener("click", (ev) => setTimeout(() => this.click(ev), 0));
      // a click on a training (or shown test) point traces it through backprop
      this.el.on("plotly_click", (ev) => {
        const p = ev.points?.[0];
        if (!p || (p.curveNumber !== 1 && p.curveNumber !== 2) || !this.onPointClick) return;
        if (this.onPointClick(p.curveNumber === 1 ? "train" : "test", p.pointIndex)) this.pointClicked = performance.now();
      });
    }
  }

  // Show one neuron's output over the plane in place of the network's (null: back).
  preview(p) {
    this.previewing = p;
    if (p) {
      const ticks = linspace(-this.extent, this.extent, p.side);
      const z = Array.from({ length: p.side }, (_, r) => Array.from(p.data.subarray(r * p.side, (r + 1) * p.side)));
      if (window.Plotly && this.el.data) {
        Plotly.restyle(this.el, { z: [z], x: [ticks], y: [ticks], colorscale: [DIVERGING], zmin: [0], zmax: [255] }, [0]);
      }
      this.el.dataset.preview = p.name;  // its name stays; the preview note describes it
    } else {
      delete this.el.dataset.preview;
      this.draw();
      if (this.lastBlocks) this.render(this.lastBlocks);
    }
    this.onPreviewChange?.(p);
  }

  setTraced(point) {
    this.traced = point;
    this.draw();
  }

  click(ev) {
    if (!this.onClick || performance.now() - (this.pointClicked || 0) < 400) return;
    const full = this.el._fullLayout;
    if (!full) return;
    const rect = this.el.getBoundingClientRect();
    const xa = full.xaxis, ya = full.yaxis;
    const x = xa.p2l(ev.clientX - rect.left - xa._offset);
    const y = ya.p2l(ev.clientY - rect.top - ya._offset);
    if (Math.abs(x) <= this.extent && Math.abs(y) <= this.extent) this.onClick(x, y);
  }

  // A frame arrives: keep only the newest and draw it on the next animation frame.
  update(blocks) {
    this.pending = blocks;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      const b = this.pending;
      this.pending = null;
      if (b) this.render(b);
    });
  }

  render(blocks) {
    const out = blocks.output;
    const [rows, cols] = out.shape;
    const multi = blocks.classes !== undefined;
    const z = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const row = new Array(cols);
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        if (multi) {
          const conf = this.discretize ? 0.999 : out.data[i] / 256;
          row[c] = blocks.classes.data[i] + conf;
        } else {
          const v = out.data[i];
          row[c] = this.discretize ? (v >= 128 ? 255 : 0) : v;
        }
      }
      z[r] = row;
    }
    this.lastZ = z;
    this.lastBlocks = blocks;
    this.grid = rows;
    if (!window.Plotly || this.previewing) return;
    if (!this.el.data) this.draw();
    else Plotly.restyle(this.el, { z: [z], zsmooth: [this.discretize ? false : "best"] }, [0]);
  }

  setOptions({ discretize, showTest }) {
    if (discretize !== undefined) this.discretize = discretize;
    if (showTest !== undefined) this.showTest = showTest;
    if (this.lastBlocks) this.render(this.lastBlocks);
    this.draw();
  }
}

const PIN_COLORS = ["#9467bd", "#8c564b", "#e377c2", "#bcbd22"];

function thinLike(arr, n) {
  if (n <= 1500) return arr.slice(); // a new array, so Plotly.react sees the change
  const stride = Math.ceil(n / 1500);
  return arr.filter((_, i) => i % stride === 0 || i === n - 1);
}

export class LossChart {
  constructor(el) {
    this.el = el;
    this.reset();
  }

  reset() {
    this.epochs = []; this.train = []; this.test = []; this.acc = [];
    this.draw();
  }

  // Pinned runs are drawn faintly behind the current one.
  setPins(pins) {
    this.pins = pins;
    this.draw();
  }

  add(msg) {
    for (let i = 0; i < msg.epochs.length; i++) {
      // an edit's figures come again for the same epoch: they replace its point
      const k = this.epochs.at(-1) === msg.epochs[i] ? this.epochs.length - 1 : this.epochs.length;
      this.epochs[k] = msg.epochs[i];
      this.train[k] = msg.train_loss[i];
      this.test[k] = msg.test_loss[i];
      this.acc[k] = msg.accuracy[i];
    }
    if (!this.timer) this.timer = setTimeout(() => { this.timer = null; this.draw(); }, 150);
  }

  // A run that goes on from `epoch`: its curves up to there stay.
  keepUntil(epoch) {
    let n = this.epochs.length;
    while (n && this.epochs[n - 1] > epoch) n--;
    for (const a of [this.epochs, this.train, this.test, this.acc]) a.length = n;
    this.draw();
  }

  // Curves kept from before a reload ({epochs, train, test, acc}).
  load(curves) {
    this.epochs = [...curves.epochs]; this.train = [...curves.train]; this.test = [...curves.test]; this.acc = [...curves.acc];
    this.draw();
  }

  // Long runs are thinned for drawing (every epoch stays in memory).
  thin(arr) {
    return thinLike(arr, arr.length);
  }

  draw() {
    if (!window.Plotly) return;
    const x = this.thin(this.epochs);
    const hasAcc = this.acc.some((a) => a != null);
    const data = [
      { x, y: this.thin(this.train), name: "Training loss", mode: "lines", line: { color: "#5f6b7a", width: 2 },
        hovertemplate: "epoch %{x}<br>training loss %{y:.4f}<extra></extra>" },
      { x, y: this.thin(this.test), name: "Test loss", mode: "lines", line: { color: BLUE, width: 2 },
        hovertemplate: "epoch %{x}<br>test loss %{y:.4f}<extra></extra>" },
    ];
    const pinned = [];
    for (const p of this.pins || []) {
      const color = PIN_COLORS[p.n % PIN_COLORS.length];
      const px = thinLike(p.epochs, p.epochs.length);
      pinned.push({ x: px, y: thinLike(p.train, p.epochs.length), name: `Run ${p.n} training`, mode: "lines", opacity: 0.45, showlegend: false,
        line: { color, width: 1.5 }, hovertemplate: `run ${p.n} training %{y:.4f}<extra></extra>` });
      pinned.push({ x: px, y: thinLike(p.test, p.epochs.length), name: `Run ${p.n} test`, mode: "lines", opacity: 0.45, showlegend: false,
        line: { color, width: 1.5, dash: "dot" }, hovertemplate: `run ${p.n} test %{y:.4f}<extra></extra>` });
    }
    data.unshift(...pinned);
    // the best test loss so far: when the curve climbs away from it, the network overfits
    let best = -1;
    this.test.forEach((v, i) => { if (v != null && (best < 0 || v < this.test[best])) best = i; });
    if (best >= 0 && this.epochs.length > 1) {
      data.push({ x: [this.epochs[best]], y: [this.test[best]], name: "Best test loss", mode: "markers", showlegend: false,
        marker: { symbol: "star", size: 11, color: "#b0287a", line: { color: "#fff", width: 1 } },
        hovertemplate: "best test loss %{y:.4f} at epoch %{x}<extra></extra>" });
    }
    this.best = best >= 0 ? { epoch: this.epochs[best], loss: this.test[best] } : null;
    if (hasAcc) data.push({ x, y: this.thin(this.acc), name: "Test accuracy", yaxis: "y2", mode: "lines",
      line: { color: "#2ca02c", width: 1.5, dash: "dot" },
      hovertemplate: "epoch %{x}<br>accuracy %{y:.1%}<extra></extra>" });
    const layout = {
      margin: { l: 40, r: hasAcc ? 40 : 8, t: 4, b: 28 }, height: this.el.clientHeight || 170,  // the CSS sets it
      legend: { orientation: "h", y: 1.18, x: 0, font: { size: 11 } },
      xaxis: { title: { text: "" }, rangemode: "tozero", fixedrange: true, visible: this.epochs.length > 0 },
      yaxis: { rangemode: "tozero", fixedrange: true, tickformat: ".2f", visible: this.epochs.length > 0 },
      yaxis2: { overlaying: "y", side: "right", range: [0, 1.02], tickformat: ".0%", fixedrange: true, showgrid: false, visible: hasAcc },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff", hovermode: "x unified",
      datarevision: `${this.epochs.length}-${(this.pins || []).length}`,
      annotations: this.epochs.length ? [] : [{ text: "Press play: the loss of every epoch appears here",
        showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: "#5f6b7a", size: 12 } }],
    };
    Plotly.react(this.el, data, layout, { displayModeBar: false, responsive: true });
    keepFitted(this.el);
  }
}
