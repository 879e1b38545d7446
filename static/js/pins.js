// Pin run: keep up to four runs' loss curves and setups, draw them faintly behind the
// current run, and list only the settings in which the runs differ.

import { spoken } from "./state.js";

const KEYS = ["dataset", "features", "hidden_layers", "activation", "init", "learning_rate", "optimizer", "batch_size", "regularization", "regularization_rate", "noise", "train_ratio", "n_samples", "seed", "loss"];
const MAX_PINS = 4;
const show = (v) => (Array.isArray(v) ? v.join("-") : v == null ? "–" : String(v));
const lastOf = (curve) => (curve && curve.length && curve.at(-1) != null ? curve.at(-1).toFixed(3) : "–");

export class PinnedRuns {
  // table: the comparison table; losses: the LossChart (its curves, and where pins are drawn)
  constructor(table, losses, { onUnpin } = {}) {
    Object.assign(this, { table, losses, onUnpin, pins: [] });
  }

  // Pin the current run (config: the accepted setup); false if it has no epochs yet.
  pin(config) {
    const l = this.losses;
    if (!config || !l.epochs.length) return false;
    if (this.pins.length >= MAX_PINS) this.pins.shift();
    const n = this.pins.length ? Math.max(...this.pins.map((p) => p.n)) + 1 : 1;
    this.pins.push({ n, config: { ...config }, epochs: [...l.epochs], train: [...l.train], test: [...l.test] });
    this.draw(config);
    return true;
  }

  draw(current) {
    const { pins, table, losses } = this;
    losses.setPins(pins);
    table.hidden = !pins.length;
    if (!pins.length) { table.replaceChildren(); return; }
    const runs = [...pins.map((p) => ({ label: `Run ${p.n}`, config: p.config, curves: p, pin: p })), { label: "Now", config: current || {}, curves: losses }];
    const differ = KEYS.filter((k) => new Set(runs.map((r) => show(r.config[k]))).size > 1);
    const head = `<caption>Pinned runs${differ.length ? "" : " — the same settings"}</caption><thead><tr><th scope="col">Run</th>${differ.map((k) => `<th scope="col">${spoken(k)}</th>`).join("")}<th scope="col">Epochs</th><th scope="col">Train loss</th><th scope="col">Test loss</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>`;
    const rows = runs.map((r) => `<tr><th scope="row"><span class="pin-swatch pin-${r.pin ? r.pin.n % 4 : "now"}"></span>${r.label}</th>${differ.map((k) => `<td>${show(r.config[k])}</td>`).join("")}<td>${r.curves.epochs.length}</td><td>${lastOf(r.curves.train)}</td><td>${lastOf(r.curves.test)}</td><td>${r.pin ? `<button type="button" class="unpin" data-n="${r.pin.n}" aria-label="Unpin run ${r.pin.n}">×</button>` : ""}</td></tr>`).join("");
    table.innerHTML = `${head}<tbody>${rows}</tbody>`;
    table.querySelectorAll(".unpin").forEach((b) => b.addEventListener("click", () => {
      this.pins = this.pins.filter((p) => p.n !== Number(b.dataset.n));
      this.draw(current);
      this.onUnpin?.();
    }));
  }
}
