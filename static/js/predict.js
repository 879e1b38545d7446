// Predict, then reveal: with "Predict first" on, each step of a trace hides its result (the
// first unit's activation, the loss, the first unit's δ, the first weight after the update)
// until the learner types a guess into "Your prediction". Then the page shows the true
// value, how far off the guess was, and, when the guess is what the step gives with one of
// its terms left out, which one — all from the numbers the step already shows.

const $ = (id) => document.getElementById(id);
const fmt = (v) => (Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4) ? v.toExponential(3) : v.toPrecision(4)).replace("-", "−");
// A guess this close (relative, or absolute near 0) is right, or is that alternative.
const CLOSE = 0.02;
const near = (a, b) => Math.abs(a - b) <= CLOSE * Math.max(Math.abs(b), 1e-3);

// The step's hidden result: the element that shows it, its value, and what a guess that
// left one thing out would have been ([words, value] pairs).
function answer(t, s, body) {
  const n = t.layers.length;
  if (s.kind === "forward") {
    const layer = t.layers[s.layer - 1];
    const ins = s.layer === 1 ? t.input : t.layers[s.layer - 2].a;
    const terms = ins.map((a, i) => layer.weights[i][0] * a);
    const misses = [["the bias b", layer.z[0] - layer.biases[0]]];
    terms.forEach((v, i) => misses.push([`the term w·a of input ${i + 1}`, layer.z[0] - v]));
    // z and a = f(z) both give it away: both wait for the guess
    const els = [body.querySelector("b.z"), body.querySelector("b.a")];
    return { el: els[0], also: els[1], value: layer.z[0], misses, what: "z of the first unit" };
  }
  if (s.kind === "loss") {
    return { el: body.querySelector("b.loss"), value: t.loss, misses: [["the minus sign", -t.loss]], what: "the loss L on this sample" };
  }
  if (s.kind === "backward") {
    const layer = t.layers[s.layer - 1];
    const misses = [];
    if (layer.slope != null) {
      misses.push(["the slope f′(z)", layer.upstream[0]]);
      if (s.layer < n || !t.fused) misses.push([s.layer === n ? "the loss's slope ∂L/∂ŷ" : "the sum Σ w·δ from the layer above", layer.slope[0]]);
    }
    if (s.layer === n && t.fused) misses.push(["the sign: δ is ŷ − y, not y − ŷ", -layer.delta[0]]);
    return { el: body.querySelector("b.delta"), value: layer.delta[0], misses, what: "δ of the first unit" };
  }
  const layer = t.layers[n - 1];
  const w = layer.weights[0][0], after = layer.new_weights[0][0], g = layer.step_grad_w[0][0], eta = t.learning_rate;
  const misses = [["the learning rate η (a step of the whole gradient)", w - g], ["the sign: the step goes against the gradient", w + eta * g], ["the step itself (w did change)", w]];
  return { el: body.querySelector(".step-w b.new"), value: after, misses: t.optimizer === "sgd" ? misses : misses.slice(2), what: "the first weight after the update" };
}

export class PredictFirst {
  constructor() {
    this.toggle = $("predict-first");
    this.on = false;
    this.revealed = new Map();  // steps of this trace the learner has checked: its verdict
    this.toggle.addEventListener("click", () => {
      this.on = this.toggle.getAttribute("aria-checked") !== "true";
      this.toggle.setAttribute("aria-checked", String(this.on));
      this.rerender?.();
    });
  }

  // After the trace panel drew step `s` of trace `t` into `body`.
  decorate(t, s, step, body, rerender) {
    this.rerender = rerender;
    const key = `${t.split}:${t.index}:${t.epoch}`;
    if (key !== this.key) { this.key = key; this.revealed.clear(); }
    if (!this.on || !t || !s) return;
    const a = answer(t, s, body);
    if (!a.el || a.value == null) return;
    const box = document.createElement("div");
    box.className = "predict";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Predict first");
    const result = document.createElement("p");
    result.className = "predict-result";
    result.setAttribute("role", "status");
    result.textContent = this.revealed.get(step) || "";
    const hidden = [a.el, a.also].filter(Boolean);
    const shown = hidden.map((el) => el.innerHTML);  // exponents are <sup>s
    if (!this.revealed.has(step)) hidden.forEach((el) => { el.textContent = "?"; });
    hidden.forEach((el) => el.classList.add("predicted"));
    box.innerHTML = `<label>Your prediction of ${a.what} <input id="your-prediction" type="text" inputmode="decimal" autocomplete="off" aria-describedby="predict-result"></label> <button type="button" class="predict-check">Check</button>`;
    result.id = "predict-result";
    box.append(result);
    body.append(box);
    const input = box.querySelector("input");
    const check = () => {
      const guess = Number(input.value.replace("−", "-").replace(",", "."));
      if (!input.value.trim() || !Number.isFinite(guess)) {
        result.textContent = "Type a number, e.g. 0.42 or -1.3e-2.";
        input.setAttribute("aria-invalid", "true");
        return;
      }
      input.removeAttribute("aria-invalid");
      hidden.forEach((el, i) => { el.innerHTML = shown[i]; });
      result.textContent = this.verdict(guess, a);
      this.revealed.set(step, result.textContent);
    };
    box.querySelector(".predict-check").addEventListener("click", check);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); check(); } });
  }

  verdict(guess, a) {
    const off = guess - a.value;
    const rel = a.value !== 0 ? ` (${fmt(Math.abs(off / a.value) * 100)} %)` : "";
    if (near(guess, a.value)) return `Right: ${fmt(a.value)}. Your ${fmt(guess)} is off by ${fmt(Math.abs(off))}${rel}.`;
    const missed = a.misses.find(([, v]) => v != null && Number.isFinite(v) && near(guess, v));
    const why = missed ? ` Your number is what you get without ${missed[0]}.` : "";
    return `The true value is ${fmt(a.value)}; your ${fmt(guess)} is off by ${fmt(Math.abs(off))}${rel}.${why}`;
  }
}
