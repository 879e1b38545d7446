// The Output panel's read-outs: epoch, losses and accuracy, the colour legend, the loss's
// name and menu, and the notes on the learner's own points and the full batch.

import { lossFits } from "./state.js";
import { LOSS_NAMES } from "./words.js";

const $ = (id) => document.getElementById(id);
const fmt = (v) => (v == null ? "NaN" : v.toFixed(3));

export class Readout {
  // losses: which output activation each loss needs (options.losses)
  constructor(losses) {
    this.losses = losses;
  }

  // A new run: its "ready" event.
  reset(msg) {
    $("epoch").textContent = String(msg.epoch || 0);  // a resumed run goes on from its epoch
    $("train-loss").textContent = $("test-loss").textContent = $("accuracy").textContent = "–";
    const regression = msg.problem === "regression";
    const multi = msg.n_classes > 2;
    $("legend-lo").textContent = regression ? "−1" : multi ? "" : "class 0";
    $("legend-hi").textContent = regression ? "1" : multi ? "" : "class 1";
    document.querySelector(".legend").style.visibility = multi ? "hidden" : "visible";
    $("accuracy").closest("div").style.display = regression ? "none" : "";
    $("loss-name").textContent = LOSS_NAMES[msg.loss] || msg.loss;
    for (const opt of $("loss").options) opt.disabled = !lossFits(opt.value, msg, this.losses);
    $("loss").value = msg.config.loss;
    const custom = msg.config.dataset === "custom";
    $("own-points-note").textContent = custom ? `${msg.train_points.length} of your points train the network (filled); ${msg.test_points.length} are held out to test it (ringed).` : "";
    // batch size reaches the whole training set (full batch)
    const batch = $("batch-size");
    batch.max = String(msg.train_points.length);
    $("batch-size-value").textContent = Number(batch.value) >= msg.train_points.length ? `${batch.value} (full batch)` : batch.value;
  }

  // One "progress" event: the newest epoch's figures.
  progress(msg) {
    const n = msg.epochs.length - 1;
    $("epoch").textContent = String(msg.epochs[n]);
    $("train-loss").textContent = fmt(msg.train_loss[n]);
    $("test-loss").textContent = fmt(msg.test_loss[n]);
    if (msg.accuracy[n] != null) $("accuracy").textContent = `${(100 * msg.accuracy[n]).toFixed(1)}%`;
  }
}
