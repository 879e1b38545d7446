// Pin run: keep up to four runs' loss curves and setups, draw them faintly behind the
// current run, and list only the settings in which the runs differ. The "Now" row is the
// current run: its figures and the settings that differ follow it as it trains and changes.

import { spoken } from "./state.js";

const KEYS = ["dataset", "features", "hidden_layers", "activation", "init", "learning_rate", "optimizer", "batch_size", "regularization", "regularization_rate", "noise", "train_ratio", "n_samples", "seed", "loss"];
const MAX_PINS = 4;
const REFRESH_MS = 200;  // the Now row follows a few times a second, not at every epoch
const show = (v) => (Array.isArray(v) ? v.join("-") : v == null ? "–" : String(v));
const lastOf = (curve) => (curve && curve.length && curve.at(-1) != null ? curve.at(-1).toFixed(3) : "–");
// a run's last epoch and its losses there, as the table's cells show them
const figures = (c) => [String(c.epochs.at(-1) ?? 0), lastOf(c.train), lastOf(c.test)];

export class PinnedRuns {
  // table: the comparison table; losses: the LossChart (its curves, and where pins are
  // drawn); current: () => the setup the server accepted for the run now
  constructor(table, losses, { current = () => null, onUnpin } = {}) {
    Object.assign(this, { table, losses, current, onUnpin, pins: [], shape: "" });
  }

  // Pin the current run (config: the accepted setup); false if it has no epochs yet.
  pin(config) {
    const l = this.losses;
    if (!config || !l.epochs.length) return false;
    if (this.pins.length >= MAX_PINS) this.pins.shift();
    const n = this.pins.length ? Math.max(...this.pins.map((p) => p.n)) + 1 : 1;
    this.pins.push({ n, config: { ...config }, epochs: [...l.epochs], train: [...l.train], test: [...l.test] });
    this.losses.setPins(this.pins);
    this.draw();
    return true;
  }

  // The current run trained, restarted or changed a setting: redraw its row soon.
  refresh() {
    if (!this.pins.length || this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.draw(); }, REFRESH_MS);
  }

  draw() {
    const { pins, table, losses } = this;
    table.hidden = !pins.length;
    if (!pins.length) { table.replaceChildren(); this.shape = ""; return; }
    const now = { label: "Now", config: this.current() || {}, curves: losses };
    const runs = [...pins.map((p) => ({ label: `Run ${p.n}`, config: p.config, curves: p, pin: p })), now];
    const differ = KEYS.filter((k) => new Set(runs.map((r) => show(r.config[k]))).size > 1);
    // rebuilt only when the rows or columns change, so a focused Unpin button keeps focus
    const shape = JSON.stringify([pins.map((p) => p.n), differ, differ.map((k) => show(now.config[k]))]);
    if (shape !== this.shape) this.build(runs, differ, shape);
    const f = figures(losses);
    table.querySelectorAll(".now-row .fig").forEach((td, k) => { td.textContent = f[k]; });
  }

  build(runs, differ, shape) {
    const { table } = this;
    this.shape = shape;
    const focused = table.contains(document.activeElement) ? document.activeElement.dataset.n : null;
    const head = `<caption>Pinned runs${differ.length ? "" : " — the same settings"}</caption><thead><tr><th scope="col">Run</th>${differ.map((k) => `<th scope="col">${spoken(k)}</th>`).join("")}<th scope="col">Epochs</th><th scope="col">Train loss</th><th scope="col">Test loss</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>`;
    const rows = runs.map((r) => `<tr${r.pin ? "" : ` class="now-row"`}><th scope="row"><span class="pin-swatch pin-${r.pin ? r.pin.n % 4 : "now"}"></span>${r.label}</th>${differ.map((k) => `<td>${show(r.config[k])}</td>`).join("")}${figures(r.curves).map((f) => `<td class="fig">${f}</td>`).join("")}<td>${r.pin ? `<button type="button" class="unpin" data-n="${r.pin.n}" aria-label="Unpin run ${r.pin.n}">×</button>` : ""}</td></tr>`).join("");
    table.innerHTML = `${head}<tbody>${rows}</tbody>`;
    table.querySelectorAll(".unpin").forEach((b) => b.addEventListener("click", () => {
      this.pins = this.pins.filter((p) => p.n !== Number(b.dataset.n));
      this.losses.setPins(this.pins);
      this.draw();
      this.onUnpin?.();
    }));
    if (focused) table.querySelector(`.unpin[data-n="${focused}"]`)?.focus();
  }
}
