// The playground's controls made from /api/options: every menu lists the choices the
// server accepts (the run config's schema and the registries), every number input and
// slider spans the range the server allows, and the hints quote the server's limits.

import { choices, field, isNumber, range } from "./schema.js";
import { CONTROLS } from "./state.js";
import { DATASET_NAMES, MENU_WORDS } from "./words.js";

const $ = (id) => document.getElementById(id);
const idOf = (key) => CONTROLS.find((c) => c.key === key).id;
const word = (key, v) => MENU_WORDS[key]?.[v] ?? v.replaceAll("_", " ");

export function buildControls(options) {
  const schema = options.schema;
  for (const key of ["init", "regularization", "loss", "problem", "activation", "optimizer"]) {
    $(idOf(key)).replaceChildren(...choices(schema, key).map((v) => new Option(word(key, v), v)));
  }
  // the Activation menu shows "per layer" when the layers differ; it is no choice itself
  $("activation").append(new Option("per layer", "", false, false));
  $("activation").lastChild.disabled = true;
  $("dataset").replaceChildren(...choices(schema, "dataset").map((v) => new Option(DATASET_NAMES[v] || v, v)));
  for (const [key, p] of Object.entries(options.presets)) $("preset").append(new Option(p.title, key));
  for (const ctl of CONTROLS) {
    const el = $(ctl.id);
    if (!el || el.tagName !== "INPUT" || !isNumber(schema, ctl.key)) continue;
    const write = ctl.write || ((v) => v);
    const [lo, hi] = range(schema, ctl.key);
    el.min = String(ctl.min ?? write(lo));
    el.max = String(write(hi));
  }
  const x1 = field(schema, "points").items.prefixItems[0];
  $("coordinates").textContent = `${fmt(x1.minimum)}…${fmt(x1.maximum)}`;
}

const fmt = (v) => String(v).replace("-", "−");
