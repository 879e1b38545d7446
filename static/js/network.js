// The network diagram: a heatmap per neuron, links drawn by weight, layer and neuron controls.

import { BLUE, ORANGE } from "./charts.js";

const FEATURE_NAMES = ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"];
const SIZE = 40;   // neuron box, px
const GAP = 14;    // vertical gap between neurons
const TOP = 68;    // room for the layer controls
const SVGNS = "http://www.w3.org/2000/svg";

// 256-entry lookup from a quantised value to the diverging colour scale.
function lut() {
  const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  const [o, w, b] = [hex(ORANGE), [244, 244, 244], hex(BLUE)];
  const table = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const [from, to, u] = t < 0.5 ? [o, w, t * 2] : [w, b, (t - 0.5) * 2];
    for (let c = 0; c < 3; c++) table[i * 4 + c] = from[c] + (to[c] - from[c]) * u;
    table[i * 4 + 3] = 255;
  }
  return table;
}
export const COLORS = lut();

export function paintGrid(canvas, data, offset, side) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const v = data[offset + r * side + c];
      const o = ((side - 1 - r) * side + c) * 4; // row 0 is the bottom of the plane
      img.data.set(COLORS.subarray(v * 4, v * 4 + 4), o);
    }
  }
  ctx.putImageData(img, 0, 0);
}

export class NetworkDiagram {
  constructor(el, { labels, activations, onFeatures, onLayers, onActivation }) {
    this.activations = activations;
    this.onActivation = onActivation;
    this.el = el;
    this.labels = labels;
    this.onFeatures = onFeatures;
    this.onLayers = onLayers;
    this.sizes = [];
  }

  // activation: one name for every hidden layer, or a list with one per layer
  build(features, hidden, nOut, activation) {
    this.activation = activation;
    this.features = features;
    this.hidden = hidden;
    this.nOut = nOut;
    this.el.replaceChildren();
    const width = Math.max(this.el.clientWidth, 360);
    const columns = hidden.length + 2;
    const colX = (i) => 70 + ((width - 70 - SIZE - 10) * i) / (columns - 1);
    const tallest = Math.max(FEATURE_NAMES.length, ...hidden, nOut);
    this.el.style.height = `${TOP + tallest * (SIZE + GAP) + 10}px`;
    const svg = document.createElementNS(SVGNS, "svg");
    this.el.append(svg);
    this.nodes = []; // per column: [{x, y, canvas?}]
    // inputs: every feature is shown; the active ones feed the network
    const inputs = [];
    FEATURE_NAMES.forEach((name, i) => {
      const on = features.includes(name);
      const node = this.neuron(colX(0), TOP + i * (SIZE + GAP), `feature ${on ? "" : "off"}`);
      node.div.title = `${this.labels[name]}: ${on ? "used" : "not used"} as an input (click to toggle)`;
      node.div.setAttribute("role", "switch");
      node.div.setAttribute("aria-checked", String(on));
      node.div.setAttribute("aria-label", `Feature ${this.labels[name]}`);
      node.div.tabIndex = 0;
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = this.labels[name];
      node.div.append(tag);
      const toggle = () => {
        const next = on ? features.filter((f) => f !== name) : FEATURE_NAMES.filter((f) => f === name || features.includes(f));
        if (next.length) this.onFeatures(next);
      };
      node.div.addEventListener("click", toggle);
      node.div.addEventListener("keydown", (e) => { if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(); } });
      if (on) inputs.push(node);
    });
    this.nodes.push(inputs);
    hidden.forEach((n, l) => {
      const col = [];
      for (let j = 0; j < n; j++) col.push(this.neuron(colX(l + 1), TOP + j * (SIZE + GAP), "hidden"));
      this.nodes.push(col);
      this.layerControl(colX(l + 1), l, n);
    });
    const out = [];
    for (let j = 0; j < nOut; j++) out.push(this.neuron(colX(columns - 1), TOP + j * (SIZE + GAP), "output"));
    this.nodes.push(out);
    const label = document.createElement("div");
    label.className = "layer-ctl";
    label.style.left = `${colX(columns - 1)}px`;
    label.style.top = "8px";
    label.textContent = "output";
    this.el.append(label);
    // links, one path per weight, in the order the frame lists weights
    this.links = [];
    for (let l = 0; l + 1 < this.nodes.length; l++) {
      for (const [i, a] of this.nodes[l].entries()) {
        for (const [j, b] of this.nodes[l + 1].entries()) {
          const path = document.createElementNS(SVGNS, "path");
          const x0 = a.x + SIZE, y0 = a.y + SIZE / 2, x1 = b.x, y1 = b.y + SIZE / 2;
          const mx = (x0 + x1) / 2;
          path.setAttribute("d", `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`);
          path.setAttribute("stroke", "#ccc");
          path.setAttribute("stroke-opacity", "0.75");
          const title = document.createElementNS(SVGNS, "title");
          path.append(title);
          svg.append(path);
          this.links.push({ path, title, from: i, to: j, layer: l });
        }
      }
    }
    this.layerSizes = this.nodes.map((c) => c.length);
  }

  neuron(x, y, kind) {
    const div = document.createElement("div");
    div.className = `neuron ${kind}`;
    div.style.left = `${x}px`;
    div.style.top = `${y}px`;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 16;
    div.append(canvas);
    const bias = document.createElement("span");
    bias.className = "bias-dot";
    div.append(bias);
    this.el.append(div);
    return { x, y, div, canvas, bias };
  }

  layerControl(x, layer, n) {
    const box = document.createElement("div");
    box.className = "layer-ctl";
    box.style.left = `${x}px`;
    box.style.top = "0px";
    const buttons = document.createElement("div");
    for (const [text, delta] of [["+", 1], ["−", -1]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "round tiny";
      b.textContent = text;
      b.setAttribute("aria-label", `${delta > 0 ? "Add" : "Remove"} a neuron in layer ${layer + 1}`);
      b.addEventListener("click", () => {
        const next = [...this.hidden];
        next[layer] = Math.min(64, Math.max(1, next[layer] + delta));
        if (next[layer] !== this.hidden[layer]) this.onLayers(next);
      });
      buttons.append(b);
    }
    const label = document.createElement("span");
    label.textContent = `${n} neuron${n === 1 ? "" : "s"}`;
    const select = document.createElement("select");
    select.className = "layer-activation";
    select.setAttribute("aria-label", `Activation of layer ${layer + 1}`);
    select.title = "This layer's activation (the Activation menu sets every layer)";
    for (const name of this.activations) select.append(new Option(name.replace("_", " "), name));
    select.value = Array.isArray(this.activation) ? this.activation[layer] : this.activation;
    select.addEventListener("change", () => {
      const per = this.hidden.map((_, i) => (Array.isArray(this.activation) ? this.activation[i] : this.activation));
      per[layer] = select.value;
      this.onActivation(per.every((a) => a === per[0]) ? per[0] : per);
    });
    box.append(buttons, label, select);
    this.el.append(box);
  }

  update(blocks) {
    if (!this.nodes) return;
    const thumbs = blocks.neurons;
    const side = thumbs.shape[1];
    let k = 0;
    // thumbnails: active inputs, hidden neurons, then the output units
    for (let l = 0; l < this.nodes.length; l++) {
      for (const node of this.nodes[l]) {
        if (k < thumbs.shape[0]) paintGrid(node.canvas, thumbs.data, k * side * side, side);
        k++;
      }
    }
    const w = blocks.weights.data;
    let maxAbs = 1e-6;
    for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
    for (let i = 0; i < this.links.length && i < w.length; i++) {
      const link = this.links[i];
      const v = w[i];
      link.path.setAttribute("stroke", v >= 0 ? BLUE : ORANGE);
      link.path.setAttribute("stroke-width", (0.4 + 5 * Math.min(1, Math.abs(v) / Math.max(1, maxAbs))).toFixed(2));
      link.title.textContent = `weight ${v.toFixed(4)} (layer ${link.layer + 1}, ${link.from + 1} → ${link.to + 1})`;
    }
    const b = blocks.biases.data;
    let j = 0;
    for (let l = 1; l < this.nodes.length; l++) {
      for (const [n, node] of this.nodes[l].entries()) {
        const v = b[j++];
        if (v === undefined) continue;
        const isOut = l === this.nodes.length - 1;
        node.div.title = `${isOut ? "Output" : `Layer ${l}, neuron ${n + 1}`} · bias ${v.toFixed(4)}`;
        node.bias.style.background = v >= 0 ? BLUE : ORANGE;
        node.bias.style.opacity = String(Math.min(1, 0.25 + Math.abs(v)));
      }
    }
  }
}
