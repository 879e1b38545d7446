// The network diagram: a heatmap per neuron, links drawn by weight (or, with Show
// gradients, by dL/dw), layer and neuron controls, and a card to read, edit and verify
// any weight or bias.

import { ParamCard } from "./card.js";
import { BLUE, ORANGE } from "./charts.js";
import { FeatureSwitch } from "./featureswitch.js";
import { LayerControl } from "./layerctl.js";
import { drawLinks, fmt, paintGrid } from "./paint.js";

// Plain names for screen readers and cards ("weight from x1 to h1.2").
// Said from the page's labels (X₁² -> x1²) when the diagram is made from the options.
export const FEATURE_SPOKEN = {};
const say = (label) => label.toLowerCase().replace(/[₀-₉]/g, (d) => String(d.charCodeAt(0) - 0x2080));
// The backward pass gets its own colours, so nobody mistakes a gradient for a weight.
export const GRAD_POS = "#b0287a";
export const GRAD_NEG = "#1b8a6b";
// room above the neurons for the layer controls (taller tap targets on phones)
const top = () => (window.matchMedia("(max-width: 760px)").matches ? 100 : 78);
const SVGNS = "http://www.w3.org/2000/svg";
const MAX_SVG_LINKS = 1200;  // above this, links are drawn on a canvas (see build)
export function unitName(layer, unit, nLayers, nOut) {
  // layer: 1..nLayers-1 counts hidden layers, the last is the output
  if (layer === nLayers - 1) return nOut === 1 ? "output" : `output ${unit + 1}`;
  return `h${layer}.${unit + 1}`;
}

export class NetworkDiagram {
  // labels: the features' names on the page, by feature, in the server's order; neurons:
  // [fewest, most] per hidden layer; values: [lo, hi] of an edited weight or bias; previews:
  // each feature over the plane (all from /api/options)
  constructor(el, { labels, neurons, values, previews, activations, onFeatures, onLayers, onActivation, onEdit, onVerify, onPreview }) {
    this.neurons = neurons;
    this.values = values;
    this.previews = previews;
    this.featureNames = Object.keys(labels);
    for (const [name, label] of Object.entries(labels)) FEATURE_SPOKEN[name] = say(label);
    this.onPreview = onPreview;
    this.activations = activations;
    this.onActivation = onActivation;
    this.onEdit = onEdit;
    this.onVerify = onVerify;
    this.el = el;
    this.labels = labels;
    this.onFeatures = onFeatures;
    this.onLayers = onLayers;
    this.showGradients = false;
    this.blocks = null;
    this.dead = new Set();
    this.card = null;
    new ResizeObserver(() => this.relayout()).observe(el);
  }

  relayout() {
    const width = this.el.clientWidth;
    if (!this.features || Math.abs(width - (this.builtWidth || 0)) < 8) return;
    const focused = document.activeElement?.dataset?.key;
    this.build(this.features, this.hidden, this.nOut, this.activation);
    if (this.blocks) this.update(this.blocks);
    if (focused) this.el.querySelector(`[data-key="${focused}"]`)?.focus();
  }

  // activation: one name for every hidden layer, or a list with one per layer
  build(features, hidden, nOut, activation) {
    this.activation = activation;
    this.features = features;
    this.hidden = hidden;
    this.nOut = nOut;
    this.closeCard();
    // Rebuilding must not throw keyboard users back to the top: remember what had focus.
    const active = this.el.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    this.el.replaceChildren();
    this.card = null;
    const width = Math.max(this.el.clientWidth, 300);
    this.builtWidth = this.el.clientWidth;
    const columns = hidden.length + 2;
    const TOP = top();
    // Neurons shrink for tall layers so every allowed network fits a laptop screen.
    const tallest = Math.max(this.featureNames.length, ...hidden, nOut);
    const colGap = (width - 70 - 50) / (columns - 1);
    const size = Math.max(14, Math.min(40, Math.floor(560 / tallest) - 10, Math.floor(colGap * 0.55)));
    const gap = Math.max(4, Math.min(16, Math.floor(size * 0.35)));
    this.size = size;
    const colX = (i) => 62 + ((width - 62 - size - 8) * i) / (columns - 1);
    this.el.style.height = `${TOP + tallest * (size + gap) + 14}px`;
    this.el.style.setProperty("--neuron", `${size}px`);
    // the links' layer goes in after the neurons (drawn beneath them by the CSS), so the
    // keyboard meets the feature switches before the weights
    const svg = document.createElementNS(SVGNS, "svg");
    this.svg = svg;
    this.nodes = []; // per column: [{x, y, canvas?}]
    this.focusables = [];
    // inputs: every feature is shown; the active ones feed the network
    const inputs = [];
    this.featureNames.forEach((name, i) => {
      const on = features.includes(name);
      const node = this.neuron(colX(0), TOP + i * (size + gap), `feature ${on ? "" : "off"}`);
      new FeatureSwitch(node, name, {
        features, names: this.featureNames, label: this.labels[name], spoken: FEATURE_SPOKEN[name] || name,
        preview: this.previews[name], onFeatures: this.onFeatures,
      });
      if (on) inputs.push(node);
    });
    this.nodes.push(inputs);
    const nLayers = hidden.length + 2;
    hidden.forEach((n, l) => {
      const col = [];
      for (let j = 0; j < n; j++) col.push(this.neuron(colX(l + 1), TOP + j * (size + gap), "hidden"));
      col.forEach((node, j) => { node.name = unitName(l + 1, j, nLayers, nOut); });
      this.nodes.push(col);
      new LayerControl(this, colX(l + 1), l, n, colGap);
    });
    const out = [];
    for (let j = 0; j < nOut; j++) {
      const node = this.neuron(colX(columns - 1), TOP + j * (size + gap), "output");
      node.name = unitName(columns - 1, j, nLayers, nOut);
      out.push(node);
    }
    this.nodes.push(out);
    const label = document.createElement("div");
    label.className = "layer-ctl out-label";
    label.style.left = `${colX(columns - 1) + size / 2}px`;
    label.style.top = "8px";
    label.textContent = "output";
    this.el.append(label);
    // each neuron's place in the frame's thumbnails; hovering or focusing one shows it large
    let thumb = 0;
    for (const col of this.nodes) {
      for (const node of col) {
        const k = thumb++;
        const show = () => this.preview(k, node);
        node.div.addEventListener("mouseenter", show);
        node.div.addEventListener("focus", show);
        node.div.addEventListener("mouseleave", () => this.onPreview?.(null));
        node.div.addEventListener("blur", () => this.onPreview?.(null));
      }
    }
    // links, one per weight, in the order the frame lists weights (layer, i, j)
    this.links = [];
    let index = 0;
    // Thousands of links would make thousands of DOM nodes to restyle 30 times a second:
    // a large network draws its links together on one canvas, a few times a second.
    let count = 0;
    for (let l = 0; l + 1 < this.nodes.length; l++) count += this.nodes[l].length * this.nodes[l + 1].length;
    this.large = count > MAX_SVG_LINKS;
    this.el.classList.toggle("large", this.large);
    if (this.large) {
      this.canvas = document.createElement("canvas");
      this.canvas.className = "links-canvas";
      this.canvas.width = width;
      this.canvas.height = parseFloat(this.el.style.height);
      this.canvas.setAttribute("aria-hidden", "true");
      this.el.prepend(this.canvas);
      const note = document.createElement("p");
      note.className = "hint large-note";
      note.textContent = `A large network: its ${count.toLocaleString("en")} weights are drawn together and cannot be picked one by one; every neuron still can.`;
      this.el.append(note);
    }
    for (let l = 0; l + 1 < this.nodes.length; l++) {
      for (const [i, a] of this.nodes[l].entries()) {
        for (const [j, b] of this.nodes[l + 1].entries()) {
          const x0 = a.x + size, y0 = a.y + size / 2, x1 = b.x, y1 = b.y + size / 2;
          const mx = (x0 + x1) / 2;
          if (this.large) {
            this.links.push({ from: i, to: j, layer: l, index: index++, geom: [x0, y0, mx, x1, y1], mid: [mx, (y0 + y1) / 2] });
            continue;
          }
          const d = `M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`;
          const path = document.createElementNS(SVGNS, "path");
          path.setAttribute("d", d);
          path.setAttribute("class", "link");
          path.setAttribute("stroke", "#ccc");
          // an invisible 10 px wide twin takes the pointer and the focus: thin links stay easy to hit
          const hit = document.createElementNS(SVGNS, "path");
          hit.setAttribute("d", d);
          hit.setAttribute("class", "link-hit");
          const name = `weight from ${a.name} to ${b.name}`;
          hit.setAttribute("role", "button");
          hit.setAttribute("aria-label", name);
          hit.setAttribute("tabindex", "-1");
          hit.dataset.key = `w-${l}-${i}-${j}`;
          svg.append(path);
          const link = { path, hit, from: i, to: j, layer: l, index: index++, name, mid: [mx, (y0 + y1) / 2] };
          this.links.push(link);
          this.bindParam(hit, { kind: "weight", link });
        }
      }
    }
    // hit areas above every visible link
    for (const link of this.links) if (link.hit) svg.append(link.hit);
    this.el.append(svg);
    // neurons that own a bias: hidden and output units, in the frame's bias order
    this.units = [];
    let b = 0;
    for (let l = 1; l < this.nodes.length; l++) {
      for (const [j, node] of this.nodes[l].entries()) {
        const unit = { node, layer: l - 1, j, index: b++, name: node.name };
        node.div.setAttribute("role", "button");
        node.div.setAttribute("aria-label", l === this.nodes.length - 1 ? `${nOut === 1 ? "output neuron" : `neuron ${node.name}`}` : `neuron ${node.name}`);
        node.div.tabIndex = -1;
        node.div.dataset.key = `b-${l - 1}-${j}`;
        const delta = document.createElement("span");
        delta.className = "delta-tag";
        delta.setAttribute("aria-hidden", "true");
        node.div.append(delta);
        node.delta = delta;
        this.units.push(unit);
        this.bindParam(node.div, { kind: "bias", unit });
      }
    }
    // one tab stop for all weights and biases: arrows move between them (roving focus)
    for (let l = 0; l + 1 < this.nodes.length; l++) {
      this.focusables.push(...this.links.filter((k) => k.layer === l && k.hit).map((k) => k.hit));
      this.focusables.push(...this.units.filter((u) => u.layer === l).map((u) => u.node.div));
    }
    if (this.focusables.length) this.focusables[0].setAttribute("tabindex", "0");
    this.layerSizes = this.nodes.map((c) => c.length);
    this.applyDead();
    this.highlight(this.highlighted);
    if (active) {
      const again = this.el.querySelector(`[data-key="${active}"]`);
      if (again) { this.refocusing = true; again.focus(); this.refocusing = false; }
    }
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

  // ---------------------------------------------------------- parameters
  bindParam(el, param) {
    el.addEventListener("mouseenter", () => this.openCard(param, false));
    el.addEventListener("mouseleave", () => this.leave());
    el.addEventListener("focus", () => { this.rove(el); if (!this.refocusing) this.openCard(param, false); });
    el.addEventListener("click", (e) => { e.stopPropagation(); this.openCard(param, true); });
    el.addEventListener("keydown", (e) => {
      const i = this.focusables.indexOf(el);
      const go = (k) => { e.preventDefault(); const t = this.focusables[Math.max(0, Math.min(this.focusables.length - 1, k))]; t?.focus(); };
      if (e.key === "ArrowDown" || e.key === "ArrowRight") go(i + 1);
      else if (e.key === "ArrowUp" || e.key === "ArrowLeft") go(i - 1);
      else if (e.key === "Home") go(0);
      else if (e.key === "End") go(this.focusables.length - 1);
      else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.openCard(param, true); }
      else if (e.key === "Escape") this.closeCard();
    });
  }

  rove(el) {
    for (const f of this.focusables) f.setAttribute("tabindex", f === el ? "0" : "-1");
  }

  // the parameter card (card.js), made on first use
  openCard(param, pinned) {
    if (!this.card) this.card = new ParamCard(this);
    this.card.open(param, pinned);
  }

  leave() { this.card?.leave(); }

  closeCard(refocus = false) { this.card?.close(refocus); }

  showVerify(msg) { this.card?.showVerify(msg); }

  showEditError(message) { this.card?.showError(message); }

  // An edit was applied: the card's old gradient check no longer holds.
  edited() {
    this.showEditError("");
    this.card?.verifyStale();
  }

  preview(k, node) {
    const thumbs = this.blocks?.neurons;
    if (!thumbs || k >= thumbs.shape[0] || !this.onPreview) return;
    const side = thumbs.shape[1];
    const name = node.name || "this neuron";
    this.onPreview({ data: thumbs.data.subarray(k * side * side, (k + 1) * side * side), side, name });
  }

  // --------------------------------------------------------------- drawing
  setShowGradients(on) {
    this.showGradients = on;
    this.el.classList.toggle("gradients", on);
    if (this.blocks) this.update(this.blocks);
  }

  update(blocks) {
    this.blocks = blocks;
    if (!this.nodes) return;
    if (this.large) {
      // a large network repaints a few times a second, always with the newest frame
      const wait = 250 - (performance.now() - (this.painted || 0));
      if (wait > 0) {
        if (!this.repaint) this.repaint = setTimeout(() => { this.repaint = null; this.update(this.blocks); }, wait);
        return;
      }
      this.painted = performance.now();
      this.linksDrawn = 0;
    }
    const thumbs = blocks.neurons;  // a busy server sends them every other frame
    if (thumbs) {
      const side = thumbs.shape[1];
      let k = 0;
      // thumbnails: active inputs, hidden neurons, then the output units
      for (let l = 0; l < this.nodes.length; l++) {
        for (const node of this.nodes[l]) {
          if (k < thumbs.shape[0]) paintGrid(node.canvas, thumbs.data, k * side * side, side);
          k++;
        }
      }
    }
    const grads = this.showGradients && blocks.grad_weights;
    const w = grads ? blocks.grad_weights.data : blocks.weights.data;
    let maxAbs = 1e-12;
    for (const v of w) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
    this.range = maxAbs;
    const scale = grads ? maxAbs : Math.max(1, maxAbs);
    if (this.large) {
      this.drawCanvasLinks(w, scale, grads);
    } else for (let i = 0; i < this.links.length && i < w.length; i++) {
      const link = this.links[i];
      const v = w[i];
      const pos = grads ? GRAD_POS : BLUE, neg = grads ? GRAD_NEG : ORANGE;
      link.path.setAttribute("stroke", v >= 0 ? pos : neg);
      link.path.setAttribute("stroke-width", (0.5 + 5.5 * Math.min(1, Math.abs(v) / scale)).toFixed(2));
    }
    const b = blocks.biases.data;
    const gb = blocks.grad_biases?.data;
    let maxDelta = 1e-12;
    if (gb) for (const v of gb) if (Number.isFinite(v)) maxDelta = Math.max(maxDelta, Math.abs(v));
    for (const unit of this.units) {
      const v = b[unit.index];
      if (v === undefined) continue;
      unit.node.bias.style.background = v >= 0 ? BLUE : ORANGE;
      unit.node.bias.style.opacity = String(Math.min(1, 0.25 + Math.abs(v)));
      const d = gb ? gb[unit.index] : null;
      unit.node.delta.textContent = grads && d != null && this.size >= 30 ? `δ ${fmt(d, 3)}` : "";
      unit.node.div.style.setProperty("--delta-color", d >= 0 ? GRAD_POS : GRAD_NEG);
      unit.node.div.style.setProperty("--delta-width", grads && d != null ? `${(1 + 3 * Math.min(1, Math.abs(d) / maxDelta)).toFixed(1)}px` : "0px");
    }
    this.deltaRange = maxDelta;
    this.card?.fill();
  }

  drawCanvasLinks(w, scale, grads) {
    const now = performance.now();
    if (now - (this.linksDrawn || 0) < 250) return;  // a few times a second is plenty
    this.linksDrawn = now;
    drawLinks(this.canvas, this.links, w, scale, grads ? [GRAD_POS, GRAD_NEG] : [BLUE, ORANGE]);
  }

  // Dead units get a badge; the health event lists them as [layer, unit].
  setDead(deadUnits, nPoints) {
    this.dead = new Set(deadUnits.map(([l, j]) => `${l}-${j}`));
    this.nPoints = nPoints;
    this.applyDead();
  }

  applyDead() {
    if (!this.units) return;
    for (const unit of this.units) {
      const dead = this.dead.has(`${unit.layer}-${unit.j}`);
      unit.node.div.classList.toggle("dead", dead);
      let badge = unit.node.div.querySelector(".dead-badge");
      if (dead && !badge) {
        badge = document.createElement("span");
        badge.className = "dead-badge";
        badge.textContent = "dead";
        unit.node.div.append(badge);
      } else if (!dead && badge) badge.remove();
      const base = unit.node.div.getAttribute("aria-label").replace(/, dead:.*$/, "");
      const why = `${unit.name} dead: inactive on all ${this.nPoints} training points, so its incoming weights get no gradient`;
      unit.node.div.setAttribute("aria-label", dead ? `${base}, dead: inactive on all ${this.nPoints} training points` : base);
      if (badge) badge.title = why;
    }
  }

  // The trace highlights one layer (1.. for weight matrices; 0 for none).
  highlight(layer) {
    this.highlighted = layer;
    if (!this.nodes) return;
    this.el.classList.toggle("tracing", Boolean(layer));
    this.links.forEach((k) => k.path?.classList.toggle("lit", k.layer + 1 === layer));
    this.nodes.forEach((col, l) => col.forEach((n) => n.div.classList.toggle("lit", Boolean(layer) && (l === layer || l === layer - 1))));
  }
}
