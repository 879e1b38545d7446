// Trace a point: one sample's forward pass, loss, backward pass and update, a step at a
// time, with the formula and that sample's numbers (all from the server's float64 trace).

import { FEATURE_SPOKEN, unitName } from "./network.js";

const MAX_UNITS = 6;   // units written out per step; the rest are summarised
const MAX_TERMS = 4;   // terms of a sum written out

// d significant digits at least (four unless a change between two numbers needs more)
const num = (v, d = 4) => {
  if (v == null || !Number.isFinite(v)) return "NaN";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) {
    const [m, e] = v.toExponential(d - 1).split("e");
    return `${m.replace("-", "−")}·10<sup>${Number(e)}</sup>`;
  }
  return (a < 1 ? v.toPrecision(d) : v.toFixed(d)).replace("-", "−");
};
// a parameter before and after its update, with the digits it takes to see them differ
const apart = (before, after) => {
  for (let d = 4; d < 16; d++) {
    const shown = [num(before, d), num(after, d)];
    if (shown[0] !== shown[1] || before === after) return shown;
  }
  return [num(before, 16), num(after, 16)];
};
// a number inside a formula: negative values in brackets
const par = (v) => (v < 0 ? `(${num(v)})` : num(v));
const sub = (name) => {
  // "h1.2" -> h<sub>1.2</sub>; "x1" -> x<sub>1</sub>; "output" stays
  const m = /^([a-z]+)([\d.]+)$/.exec(name);
  return m ? `<var>${m[1]}</var><sub>${m[2]}</sub>` : `<var>${name}</var>`;
};

export class TracePanel {
  constructor(root, { onTrace, onHighlight }) {
    this.root = root;
    this.onTrace = onTrace;
    this.onHighlight = onHighlight;
    this.body = root.querySelector("#trace-body");
    this.status = root.querySelector("#trace-status");
    this.prev = root.querySelector("#trace-prev");
    this.next = root.querySelector("#trace-next");
    this.trace = null;
    this.step = 0;
    this.live = { epoch: null, running: false };  // the run now (follow)
    // while the run trains, the trace can be taken again at the current epoch
    this.refresh = document.createElement("button");
    this.refresh.type = "button";
    this.refresh.className = "trace-refresh";
    this.refresh.textContent = "Refresh";
    this.refresh.title = "Trace the same point again with the parameters of the current epoch";
    this.refresh.hidden = true;
    this.refresh.addEventListener("click", () => this.trace && this.onTrace?.(this.trace.split, this.trace.index));
    this.next.after(this.refresh);
    this.prev.addEventListener("click", () => this.go(this.step - 1));
    this.next.addEventListener("click", () => this.go(this.step + 1));
    this.render();
  }

  // The run's latest epoch and whether it trains: a trace of an older epoch offers Refresh.
  follow({ epoch = this.live.epoch, running = this.live.running }) {
    this.live = { epoch, running };
    this.showRefresh();
  }

  showRefresh() {
    const t = this.trace;
    const hide = !t || !(this.live.running || (this.live.epoch != null && this.live.epoch !== t.epoch));
    if (hide && document.activeElement === this.refresh) this.next.focus();
    this.refresh.hidden = hide;
  }

  // features: the run's input feature keys; sizes: [inputs, ...hidden, outputs]
  setNetwork(features, sizes) {
    this.features = features;
    this.sizes = sizes;
    this.live.epoch = null;  // a new run: its epochs come with its progress
    this.clear();
  }

  clear() {
    this.trace = null;
    this.step = 0;
    this.onHighlight(0);
    this.render();
  }

  setTrace(t) {
    const keep = this.trace && this.trace.index === t.index && this.trace.split === t.split;
    this.trace = t;
    this.steps = this.buildSteps(t.layers.length);
    this.step = keep ? Math.min(this.step, this.steps.length) : 1;
    this.render();
  }

  buildSteps(n) {
    const steps = [];
    for (let l = 1; l <= n; l++) steps.push({ kind: "forward", layer: l });
    steps.push({ kind: "loss" });
    for (let l = n; l >= 1; l--) steps.push({ kind: "backward", layer: l });
    steps.push({ kind: "update" });
    return steps;
  }

  go(k) {
    if (!this.trace) return;
    this.step = Math.max(1, Math.min(this.steps.length, k));
    this.render();
  }

  label(s) {
    if (s.kind === "forward" || s.kind === "backward") return `${s.kind}, layer ${s.layer}`;
    return s.kind;
  }

  render() {
    const t = this.trace;
    // aria-disabled, not disabled: at the first or last step the button keeps the focus
    // (a disabled one would drop it to the page) and a press does nothing
    this.prev.setAttribute("aria-disabled", String(!t || this.step <= 1));
    this.next.setAttribute("aria-disabled", String(!t || this.step >= (this.steps?.length || 0)));
    this.showRefresh();
    if (!t) {
      this.body.innerHTML = `<p class="empty-state">Press <b>Trace a point</b>, or click a training point on the output, to follow one sample through the forward pass, the loss, the backward pass and the update — with its own numbers.</p>`;
      this.status.textContent = "";
      return;
    }
    const s = this.steps[this.step - 1];
    this.status.textContent = `Step ${this.step} of ${this.steps.length}: ${this.label(s)}`;
    this.onHighlight(s.kind === "forward" || s.kind === "backward" ? s.layer : 0, s);
    const head = `<p class="trace-sample">${t.split === "train" ? "Training" : "Test"} point ${t.index + 1} at (${num(t.point[0])}, ${num(t.point[1])}), target ${this.vector(t.target)} · <span class="trace-epoch">traced at epoch ${t.epoch}</span></p>`;
    const progress = this.steps.map((st, i) => `<li class="${i + 1 === this.step ? "now" : i + 1 < this.step ? "done" : ""} ${st.kind}">${st.kind === "loss" ? "L" : st.kind === "update" ? "Δ" : (st.kind === "forward" ? "→" : "←") + st.layer}</li>`).join("");
    this.body.innerHTML = `${head}<ol class="trace-steps" aria-hidden="true">${progress}</ol><h3>${this.title(s)}</h3>${this[`${s.kind}Step`](s)}`;
    this.onRender?.(t, s, this.step, this.body);  // e.g. predict-then-reveal (predict.js)
  }

  title(s) {
    const n = this.trace.layers.length;
    const which = (l) => (l === n ? `layer ${l} (output)` : `layer ${l}`);
    if (s.kind === "forward") return `Forward: ${which(s.layer)}`;
    if (s.kind === "backward") return `Backward: ${which(s.layer)}`;
    if (s.kind === "loss") return "Loss";
    return "Update";
  }

  vector(v) {
    return `(${v.map((x) => num(x)).join(", ")})`;
  }

  // names of layer l's inputs (l counts weight matrices from 1) and units
  inputNames(l) {
    if (l === 1) return this.features.map((f) => FEATURE_SPOKEN[f] || f);
    return Array.from({ length: this.sizes[l - 1] }, (_, j) => unitName(l - 1, j, this.sizes.length, this.sizes.at(-1)));
  }

  unitNames(l) {
    return Array.from({ length: this.sizes[l] }, (_, j) => unitName(l, j, this.sizes.length, this.sizes.at(-1)));
  }

  inputsOf(l) {
    return l === 1 ? this.trace.input : this.trace.layers[l - 2].a;
  }

  units(n, row) {
    const shown = Math.min(n, MAX_UNITS);
    let out = "";
    for (let j = 0; j < shown; j++) out += row(j);
    if (n > shown) out += `<p class="hint">… and ${n - shown} more unit${n - shown === 1 ? "" : "s"} computed the same way.</p>`;
    return out;
  }

  sum(terms, extra) {
    const shown = terms.slice(0, MAX_TERMS).join(" + ");
    return terms.length > MAX_TERMS ? `${shown} + … (${terms.length} terms)${extra}` : `${shown}${extra}`;
  }

  forwardStep(s) {
    const l = s.layer;
    const layer = this.trace.layers[l - 1];
    const act = this.trace.activations[l - 1];
    const ins = this.inputNames(l), names = this.unitNames(l), a = this.inputsOf(l);
    const rows = this.units(names.length, (j) => {
      const terms = ins.map((_, i) => `${par(layer.weights[i][j])}·${par(a[i])}`);
      const general = `<var>z</var> = Σ<sub><var>i</var></sub> <var>w</var><sub><var>i</var>j</sub>·<var>a</var><sub><var>i</var></sub> + <var>b</var>`;
      return `<div class="formula" data-unit="${names[j]}"><span>${sub("z")}<sub class="who">${names[j]}</sub> = ${this.sum(terms, ` + ${par(layer.biases[j])}`)} = <b class="z">${num(layer.z[j])}</b></span>
        <span>${sub("a")}<sub class="who">${names[j]}</sub> = ${act === "linear" ? "" : act.replace("_", " ")}(${num(layer.z[j])}) = <b class="a">${num(layer.a[j])}</b></span>${j === 0 ? `<span class="hint">${general}, <var>a</var> = <var>f</var>(<var>z</var>)</span>` : ""}</div>`;
    });
    return `<p class="hint">Each unit adds up its inputs times their weights, plus its bias, then applies ${act.replace("_", " ")}.</p>${rows}`;
  }

  lossStep() {
    const t = this.trace;
    const y = t.target, p = t.output;
    let formula;
    if (t.loss_name === "bce") {
      formula = `<var>L</var> = −[<var>y</var> log <var>ŷ</var> + (1 − <var>y</var>) log(1 − <var>ŷ</var>)] = −[${num(y[0])}·log ${num(p[0])} + ${num(1 - y[0])}·log ${num(1 - p[0])}]`;
    } else if (t.loss_name === "cross_entropy") {
      const c = y.indexOf(1);
      formula = `<var>L</var> = −log <var>ŷ</var><sub>${c}</sub> = −log ${num(p[c])}`;
    } else if (t.loss_name === "mse") {
      const terms = p.map((v, k) => `(${num(v)} − ${par(y[k])})²`);
      formula = `<var>L</var> = <span class="frac"><span>1</span><span>${p.length}</span></span> Σ (<var>ŷ</var> − <var>y</var>)² = ${p.length > 1 ? `(${this.sum(terms, "")}) / ${p.length}` : terms[0]}`;
    } else {
      const terms = p.map((v, k) => `(${num(v)} − ${par(y[k])})²`);
      formula = `<var>L</var> = ½ Σ (<var>ŷ</var> − <var>y</var>)² = ½ · (${this.sum(terms, "")})`;
    }
    return `<p>Prediction <var>ŷ</var> = ${this.vector(p)}, target <var>y</var> = ${this.vector(y)}.</p>
      <div class="formula"><span>${formula} = <b class="loss">${num(t.loss)}</b></span></div>
      <p class="hint">Loss: ${t.loss_name.replace("_", "-")}${t.regularization !== "none" ? `; the ${t.regularization.toUpperCase()} penalty is added to the gradient in the update` : ""}.</p>${t.loss == null ? `<p class="loss-nan">This loss is not a number: the run diverged. Lower the learning rate and press Reset.</p>` : ""}${t.note ? `<p class="hint">This network is wide: the trace ${t.note}.</p>` : ""}`;
  }

  backwardStep(s) {
    const t = this.trace;
    const l = s.layer, n = t.layers.length;
    const layer = t.layers[l - 1];
    const act = t.activations[l - 1];
    const names = this.unitNames(l), ins = this.inputNames(l), a = this.inputsOf(l);
    // f'(z) and the sum Σwδ (or dL/dŷ at the output) come from the server: printed, never recomputed
    const slope = (j) => (layer.slope == null ? null : layer.slope[j]);
    const formula = layer.slope_formula ? ` = ${layer.slope_formula}` : "";
    let deltas;
    if (l === n) {
      const fused = t.fused;
      deltas = this.units(names.length, (j) => `<div class="formula"><span>${sub("δ")}<sub class="who">${names[j]}</sub> = ∂<var>L</var>/∂<var>z</var> = ${fused ? `<var>ŷ</var> − <var>y</var> = ${num(t.output[j])} − ${par(t.target[j])}` : slope(j) == null ? `<var>J</var><sub><var>f</var></sub>ᵀ · ∂<var>L</var>/∂<var>ŷ</var>` : `<var>f</var>′(<var>z</var>) · ∂<var>L</var>/∂<var>ŷ</var> = ${num(slope(j))} · ${par(layer.upstream[j])}`} = <b class="delta">${num(layer.delta[j])}</b></span></div>`);
      deltas = `<p class="hint">${fused ? `With ${act.replace("_", " ")} and ${t.loss_name.replace("_", "-")} the derivative simplifies to prediction minus target.` : `The loss's slope times the output activation's slope <var>f</var>′(<var>z</var>)${formula}.`}</p>${deltas}`;
    } else {
      const upper = t.layers[l];
      const above = this.unitNames(l + 1);
      deltas = this.units(names.length, (j) => {
        const terms = above.map((_, k) => `${par(upper.weights[j][k])}·${par(upper.delta[k])}`);
        return `<div class="formula"><span>${sub("δ")}<sub class="who">${names[j]}</sub> = <var>f</var>′(<var>z</var>) · Σ<sub><var>k</var></sub> <var>w</var>·<var>δ</var><sub>next</sub> = ${num(slope(j))} · (${this.sum(terms, "")}) = ${num(slope(j))} · ${par(layer.upstream[j])} = <b class="delta">${num(layer.delta[j])}</b></span></div>`;
      });
      deltas = `<p class="hint">Each unit collects the δ of the layer above through its outgoing weights, times its own slope <var>f</var>′(<var>z</var>)${formula} (${act.replace("_", " ")}).</p>${deltas}`;
    }
    const grads = [];
    outer: for (let j = 0; j < names.length; j++) {
      for (let i = 0; i < ins.length; i++) {
        if (grads.length >= MAX_TERMS) break outer;
        grads.push(`<span>∂<var>L</var>/∂<var>w</var><sub>${ins[i]}→${names[j]}</sub> = <var>a</var>·<var>δ</var> = ${par(a[i])}·${par(layer.delta[j])} = <b class="grad">${num(layer.grad_w[i][j])}</b></span>`);
      }
    }
    const more = ins.length * names.length - grads.length;
    const biases = names.slice(0, MAX_TERMS).map((name, j) => `<span>∂<var>L</var>/∂<var>b</var><sub>${name}</sub> = <var>δ</var> = <b class="grad-b">${num(layer.grad_b[j])}</b></span>`);
    const left = names.length - biases.length;
    return `${deltas}<div class="formula grads">${grads.join("")}${more > 0 ? `<span class="hint">… ${more} more weights: input activation times δ.</span>` : ""}${biases.join("")}${left > 0 ? `<span class="hint">… ${left} more biases: each one's δ.</span>` : ""}</div>`;
  }

  updateStep() {
  const t = this.trace;
  const eta = t.learning_rate;
  const rule = {
    sgd: `<var>w</var> ← <var>w</var> − <var>η</var>·<var>g</var>`,
    momentum: `<var>v</var> ← 0.9<var>v</var> − <var>η</var>·<var>g</var>, <var>w</var> ← <var>w</var> + <var>v</var>`,
    adam: `<var>w</var> ← <var>w</var> − <var>η</var>·<var>m̂</var>/(√<var>v̂</var> + ε), with running means <var>m</var>, <var>v</var> of <var>g</var> and <var>g</var>²`,
  }[t.optimizer] || "";
  const reg = t.regularization !== "none" && t.regularization_rate > 0;
  // one parameter's step: before, the rule's numbers (SGD), after, and the change itself
  const row = (name, cls, before, g, after) => {
    const [b, a] = apart(before, after);
    const body = t.optimizer === "sgd" ? `${b} − ${num(eta)}·${par(g)} = <b class="new">${a}</b>` : `${b} → <b class="new">${a}</b>`;
    return `<span class="${cls}">${name}: ${body} <span class="change">(Δ = ${num(after - before)})</span></span>`;
  };
  const rows = [], biases = [];
  const n = t.layers.length;
  for (let l = n; l >= 1; l--) {
    const layer = t.layers[l - 1];
    const ins = this.inputNames(l), names = this.unitNames(l);
    for (let j = 0; j < names.length; j++) {
      if (rows.length < MAX_TERMS) rows.push(row(`<var>w</var><sub>${ins[0]}→${names[j]}</sub>`, "step-w", layer.weights[0][j], layer.step_grad_w[0][j], layer.new_weights[0][j]));
      if (biases.length < MAX_TERMS) biases.push(row(`<var>b</var><sub>${names[j]}</sub>`, "step-b", layer.biases[j], layer.grad_b[j], layer.new_biases[j]));
    }
  }
  return `<div class="formula"><span>${rule}, <var>η</var> = ${num(eta)}${reg ? `, <var>g</var> = ∂<var>L</var>/∂<var>w</var> + ${t.regularization === "l2" ? `${num(t.regularization_rate)}·<var>w</var>` : `${num(t.regularization_rate)}·sign(<var>w</var>)`}` : ""}</span>${rows.join("")}${biases.join("")}<span class="hint">Biases take the same step with <var>g</var> = ∂<var>L</var>/∂<var>b</var> = <var>δ</var>${reg ? " (no penalty on biases)" : ""}.</span></div>
    <p class="loss-change">Loss on this sample: <b class="before">${num(t.loss)}</b> before → <b class="after">${num(t.loss_after)}</b> after this step ${t.loss_after < t.loss ? "(lower: the step went downhill)" : "(not lower: the step was too large)"}.</p>
    <p class="hint">The playground's training steps on batches, not single points; this step shows what ${t.optimizer === "sgd" ? "gradient descent" : t.optimizer} would do with this sample alone, and changes nothing.</p>`;
}
}
