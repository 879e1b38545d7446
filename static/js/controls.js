// The playground's controls made from /api/options: every menu lists the choices the
// server accepts (the run config's schema and the registries), every number input and
// slider spans the range the server allows, and the hints quote the server's limits.

import { choices, field, isNumber, range } from "./schema.js";
import { CONTROLS, showValue } from "./state.js";
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

// A typed number's box shows the value that runs: a refused value leaves it (the message
// still names it), and an accepted one is written as the run reads it ("0.10" is 0.1).
export function showControl(state, key) {
  const ctl = CONTROLS.find((c) => c.key === key);
  const el = ctl && $(ctl.id);
  if (!el || el.type !== "number") return;
  const value = state.get(key);
  el.value = value == null ? "" : String(value);
  showValue(ctl, value);
}

// A menu whose choice replaces the whole setup (the presets): the arrow keys and typed
// letters move through it without applying each choice; Enter, a choice made with the
// pointer, or leaving the menu applies it. pending(value, applied): moved to by key.
export function applyOnCommit(select, apply, pending) {
  const MOVES = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"];
  let keyed = false;
  let applied = select.value;
  const commit = () => {
    keyed = false;
    if (select.value !== applied) { applied = select.value; apply(select.value); }
  };
  select.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); commit(); return; }
    // Alt+ArrowDown and space open the list: a choice made in it is committed by its change
    keyed = !e.altKey && (MOVES.includes(e.key) || (e.key.length === 1 && e.key !== " "));
  });
  select.addEventListener("pointerdown", () => { keyed = false; });
  select.addEventListener("change", () => (keyed ? pending(select.value, select.value === applied) : commit()));
  select.addEventListener("blur", commit);
}

// The bar's height as --bar-h: the CSS keeps what sticks or scrolls into view below the bar.
export function trackBarHeight(bar) {
  const set = () => document.documentElement.style.setProperty("--bar-h", `${bar.offsetHeight}px`);
  new ResizeObserver(set).observe(bar);
  set();
}
