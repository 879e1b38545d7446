// A weight's or a bias's card: its value, dL/dw split into data and regularisation, the last
// update, an editor and a finite-difference check. One card per diagram, opened on hover,
// focus or click; it reads the diagram's latest frame.

import { fmt } from "./paint.js";

export class ParamCard {
  constructor(diagram) {
    this.d = diagram;
    this.param = null;
    this.pinned = false;
    const [lo, hi] = diagram.values;  // the server's range for an edited value
    const minus = (v) => String(v).replace("-", "−");
    const el = document.createElement("div");
    el.className = "param-card";
    el.setAttribute("role", "dialog");
    el.hidden = true;
    el.innerHTML = `<p class="card-title"></p><dl></dl>
      <form class="card-edit" novalidate><label>New value <input type="number" step="any" min="${lo}" max="${hi}" aria-describedby="card-error"></label>
      <button type="submit">Set</button></form>
      <p class="card-error" id="card-error" role="alert"></p>
      <button type="button" class="verify">Verify</button>
      <div class="verify-out" aria-live="polite"></div>`;
    diagram.el.append(el);
    this.el = el;
    this.title = el.querySelector(".card-title");
    this.dl = el.querySelector("dl");
    this.input = el.querySelector("input");
    this.error = el.querySelector(".card-error");
    this.verifyOut = el.querySelector(".verify-out");
    el.addEventListener("mouseenter", () => clearTimeout(this.leaveTimer));
    el.addEventListener("mouseleave", () => this.leave());
    el.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); this.close(true); } });
    el.querySelector("form").addEventListener("submit", (e) => {
      e.preventDefault();
      const raw = this.input.value.trim();
      const v = Number(raw);
      if (raw === "" || !Number.isFinite(v) || v < lo || v > hi) {
        this.showError(`Type a number between ${minus(lo)} and ${minus(hi)}.`);
        return;
      }
      this.input.removeAttribute("aria-invalid");
      this.error.textContent = "";
      this.d.onEdit({ ...this.address(), value: v });
    });
    el.querySelector(".verify").addEventListener("click", () => {
      this.verifyOut.textContent = "Checking with finite differences…";
      this.d.onVerify(this.address());
    });
  }

  // the parameter as the protocol names it: layer, kind, i, j
  address() {
    const p = this.param;
    return p.kind === "weight"
      ? { layer: p.link.layer, kind: "weight", i: p.link.from, j: p.link.to }
      : { layer: p.unit.layer, kind: "bias", j: p.unit.j };
  }

  values() {
    const bl = this.d.blocks;
    const p = this.param;
    if (!bl) return {};
    const k = p.kind === "weight" ? p.link.index : p.unit.index;
    const get = (name) => (bl[name] ? bl[name].data[k] : undefined);
    if (p.kind === "weight") {
      const g = get("grad_weights"), reg = get("grad_weights_reg");
      return { value: get("weights"), grad: g, reg, data: g - reg, update: get("update_weights") };
    }
    return { value: get("biases"), grad: get("grad_biases"), update: get("update_biases") };
  }

  open(param, pinned) {
    clearTimeout(this.leaveTimer);
    if (!this.el.hidden && this.pinned && !pinned && this.param !== param) return;
    this.pinned = pinned || (this.pinned && this.param === param);
    this.param = param;
    this.el.hidden = false;
    const name = param.kind === "weight" ? param.link.name : `bias of ${param.unit.name}`;
    this.title.textContent = name[0].toUpperCase() + name.slice(1);
    this.el.setAttribute("aria-label", this.title.textContent);
    this.verifyOut.textContent = "";
    this.input.value = "";
    this.input.removeAttribute("aria-invalid");
    this.error.textContent = "";
    this.fill();
    this.place();
    const d = this.d;
    d.links.forEach((k) => k.path?.classList.toggle("selected", param.kind === "weight" && k === param.link));
    if (pinned) this.input.focus();
  }

  // Beside the parameter and inside the diagram, never over it: right of it, else left,
  // else below it (where a Verify result has room to grow). A weight's box is the middle
  // of its link.
  place() {
    const d = this.d, p = this.param, gap = 12;
    const [x, y, w, h] = p.kind === "weight" ? [p.link.mid[0] - 4, p.link.mid[1] - 4, 8, 8] : [p.unit.node.x, p.unit.node.y, d.size, d.size];
    const cw = this.el.offsetWidth, room = d.el.clientWidth;
    const clampX = (left) => Math.max(0, Math.min(room - cw, left));
    const top = Math.max(0, y - 8);
    let at;
    if (x + w + gap + cw <= room) at = [x + w + gap, top];
    else if (x - gap - cw >= 0) at = [x - gap - cw, top];
    else at = [clampX(x + w / 2 - cw / 2), y + h + gap];
    this.el.style.left = `${at[0]}px`;
    this.el.style.top = `${at[1]}px`;
  }

  fill() {
    if (this.el.hidden || !this.param) return;
    const weight = this.param.kind === "weight";
    const v = this.values();
    const rows = [[weight ? "weight w" : "bias b", fmt(v.value)]];
    if (weight) {
      rows.push(["∂L/∂w", fmt(v.grad)], ["  data part", fmt(v.data)], ["  regularisation part", fmt(v.reg)]);
    } else {
      rows.push(["∂L/∂b (mean δ)", fmt(v.grad)]);
    }
    rows.push([weight ? "last update Δw" : "last update Δb", fmt(v.update)]);
    list(this.dl, rows);
    this.input.placeholder = fmt(v.value);
  }

  leave() {
    clearTimeout(this.leaveTimer);
    this.leaveTimer = setTimeout(() => {
      if (!this.pinned && !this.el.contains(document.activeElement) && !this.el.matches(":hover")) this.close();
    }, 250);
  }

  close(refocus = false) {
    if (this.el.hidden) return;
    const p = this.param;
    this.el.hidden = true;
    this.pinned = false;
    this.d.links?.forEach((k) => k.path?.classList.remove("selected"));
    if (refocus && p) {
      this.d.refocusing = true;  // back on its parameter, without opening the card again
      (p.kind === "weight" ? p.link.hit : p.unit.node.div).focus();
      this.d.refocusing = false;
    }
  }

  showVerify(msg) {
    const a = this.param && this.address();
    if (!a || a.kind !== msg.kind || a.layer !== msg.layer || a.j !== msg.j || (a.kind === "weight" && a.i !== msg.i)) return;
    const e = msg.relative_error;
    const dl = document.createElement("dl");
    list(dl, [["analytic (backprop)", fmt(msg.analytic, 8)], ["numeric (finite difference)", fmt(msg.numeric, 8)], ["relative error", e == null ? "–" : e.toExponential(1)]]);
    const verdict = document.createElement("p");
    verdict.className = msg.matches ? "matches" : "differs";
    verdict.textContent = msg.matches ? "✓ matches (relative error below 10⁻⁶)" : "✗ differs by more than 10⁻⁶";
    this.verifyOut.replaceChildren(dl, verdict);
    if (msg.note) {
      const note = document.createElement("p");
      note.className = "hint";
      note.textContent = msg.note[0].toUpperCase() + msg.note.slice(1) + ".";
      this.verifyOut.append(note);
    }
  }

  // The parameters changed (an edit): a gradient check from before no longer holds.
  verifyStale() {
    if (!this.verifyOut.childElementCount) return;
    const note = document.createElement("p");
    note.className = "hint verify-stale";
    note.textContent = "The parameters changed since this check: press Verify to check again.";
    this.verifyOut.replaceChildren(note);
  }

  showError(message) {
    this.error.textContent = message;
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }
}

// rows of [term, value] as a definition list
function list(dl, rows) {
  dl.replaceChildren();
  for (const [k, val] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = val;
    dl.append(dt, dd);
  }
}
