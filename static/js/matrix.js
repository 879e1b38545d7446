// The backward pass in the tutorials' matrix form: a switch "Matrix form" in the trace panel
// asks the server (`matrix`) for the next mini-batch's or the whole training set's passes,
// layer by layer, and shows Z, A, dZ, dW, db and dA_prev as small heat-mapped tables with
// their shapes, in the tutorials' notation (W is n_out × n_in, samples are columns).

import { COLORS } from "./paint.js";

const $ = (id) => document.getElementById(id);
const ROWS_NAMED = 8;  // the batch's first points named in the status line
const num = (v) => (v == null ? "–" : v === 0 ? "0" : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toPrecision(3));

// What each matrix is, by name: its formula in the tutorials' notation.
function formulas(l, last, fused) {
  const [k, up] = [l + 1, l + 2];
  const dz = last && fused ? `dZ${k} = A${k} − Y` : `dZ${k} = dA${k} ⊙ f′(Z${k})${last ? "" : `, dA${k} = W${up}ᵀ·dZ${up}`}`;
  return {
    A_prev: l === 0 ? "A0 = X (the inputs)" : `A${l} (the layer below's output)`,
    Z: `Z${k} = W${k}·A${l} + b${k}`,
    A: `A${k} = f(Z${k})`,
    dZ: dz,
    dW: `dW${k} = (1/m)·dZ${k}·A${l}ᵀ`,
    db: `db${k} = (1/m)·Σ dZ${k}`,
    dA_prev: `dA${l} = W${k}ᵀ·dZ${k}`,
  };
}

export class MatrixPanel {
  // send(message): to the training socket
  constructor({ send }) {
    this.send = send;
    this.toggle = $("matrix-form");
    this.body = $("matrix-body");
    this.on = false;
    this.toggle.addEventListener("click", () => this.setOn(this.toggle.getAttribute("aria-checked") !== "true"));
    document.querySelectorAll("input[name=matrix-batch]").forEach((r) => r.addEventListener("change", () => this.request()));
    $("matrix-refresh").addEventListener("click", () => this.request());
    new ResizeObserver(() => this.fits()).observe(this.body);  // a phone turned, a wider window
  }

  // Tables wider than their box scroll sideways in it: the hint above says so.
  fits() { $("matrix-swipe").hidden = this.body.scrollWidth <= this.body.clientWidth; }

  get batch() { return document.querySelector("input[name=matrix-batch]:checked")?.value || "next"; }

  setOn(on) {
    this.on = on;
    this.toggle.setAttribute("aria-checked", String(on));
    $("matrix-panel").hidden = !on;
    if (on) this.request();
  }

  request() {
    if (!this.on) return;
    $("matrix-status").textContent = "Computing the batch's passes…";
    this.send({ type: "matrix", batch: this.batch });
  }

  // The run changed under the tables (a step, an edit, a new run): ask again.
  stale() { if (this.on) this.request(); }

  // The server's `matrix` event.
  show(msg) {
    const cut = [];
    const first = msg.layers[0];
    if (msg.m > msg.columns_shown) cut.push(`the first ${msg.columns_shown} of its ${msg.m} samples`);
    if (msg.layers.some((l) => l.shapes.Z[0] > msg.units_shown)) cut.push(`the first ${msg.units_shown} units of a layer`);
    const which = msg.batch === "train" ? `the whole training set (m = ${msg.m})` : `the next mini-batch (m = ${msg.m}, points ${msg.rows.slice(0, ROWS_NAMED).join(", ")}${msg.rows.length > ROWS_NAMED ? ", …" : ""})`;
    $("matrix-status").textContent = `Epoch ${msg.epoch}, ${which}; loss ${num(msg.loss)}.${cut.length ? ` Tables show ${cut.join(" and ")}; shapes are whole.` : ""}`;
    const n = msg.layers.length;
    this.body.replaceChildren(...msg.layers.map((lay, l) => {
      const f = formulas(l, l === n - 1, msg.fused);
      const sec = document.createElement("section");
      sec.className = "matrix-layer";
      const h = document.createElement("h4");
      h.textContent = `Layer ${l + 1}${l === n - 1 ? " (output)" : ""}: ${lay.activation}, W${l + 1} is ${lay.shapes.W.join(" × ")}`;
      sec.append(h);
      const grid = document.createElement("div");
      grid.className = "matrix-grid";
      for (const name of ["Z", "A", "dZ", "dW", "db", "dA_prev"]) grid.append(table(name, f[name], lay[name], lay.shapes[name]));
      sec.append(grid);
      return sec;
    }));
    if (first && msg.batch === "train") {
      const note = document.createElement("p");
      note.className = "hint";
      note.textContent = "Over the whole training set, dW plus the regulariser's part is exactly the ∂L/∂w a neuron's card shows (transposed: the card's w is n_in × n_out).";
      this.body.append(note);
    }
    this.fits();
  }
}

// One matrix as a table: each cell tinted on the diverging scale (its largest |value| the
// ends), its value written in and in its title for hover.
function table(name, formula, rows, shape) {
  const t = document.createElement("table");
  t.className = "matrix";
  const cap = document.createElement("caption");
  cap.innerHTML = `<b></b> <span class="shape"></span>`;
  cap.querySelector("b").textContent = formula;
  cap.querySelector(".shape").textContent = `(${shape.join(" × ")})`;
  t.append(cap);
  let max = 1e-12;
  for (const r of rows) for (const v of r) if (v != null) max = Math.max(max, Math.abs(v));
  const body = document.createElement("tbody");
  rows.forEach((r, i) => {
    const tr = document.createElement("tr");
    r.forEach((v, j) => {
      const td = document.createElement("td");
      td.textContent = num(v);
      td.title = `${name}[${i + 1}, ${j + 1}] = ${v}`;
      if (v != null) {
        const k = Math.round(127.5 + 127.5 * (v / max));
        const c = COLORS.subarray(k * 4, k * 4 + 3);
        td.style.background = `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
        if (Math.abs(v / max) > 0.6) td.style.color = "#fff";
      }
      tr.append(td);
    });
    body.append(tr);
  });
  t.append(body);
  return t;
}
