// A lesson on the digits page (#lesson=<id>&step=<n>): the lesson panel (lesson.js) kept
// in view at the foot of the page; its checks read "Train your own"'s latest epoch and its
// actions use the page's own form, so a step's button does what the learner's click would.
// A playground lesson's link opens the playground instead.

import { LessonPanel } from "./lesson.js";
import { trainView } from "./mnist.js";

const $ = (id) => document.getElementById(id);
// the form's controls by the run config's field (a lesson's setup sets them)
const FIELDS = { learning_rate: "train-lr", epochs: "train-epochs", batch_size: "train-batch", optimizer: "train-optimizer" };

function setForm(config) {
  if (config.architecture) {
    $("architecture").value = config.architecture;
    $("architecture").dispatchEvent(new Event("change"));  // its optimizer, rate and batch
  }
  for (const [key, id] of Object.entries(FIELDS)) {
    if (!(key in config)) continue;
    $(id).value = String(config[key]);
    $(id).dispatchEvent(new Event("input"));
  }
  if ("augment" in config) $("train-augment").checked = config.augment;
}

function relink(panel) {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (panel.id) {
    params.set("lesson", panel.id);
    params.set("step", String(panel.step + 1));
  } else {
    params.delete("lesson");
    params.delete("step");
  }
  const hash = params.toString();
  history.replaceState(null, "", hash ? `#${hash}` : location.pathname);
}

const panel = new LessonPanel({
  metrics: () => trainView.metrics(),
  act(action) {
    if (action.do === "set") setForm(action.config);
    if (action.do === "pause") {
      if (trainView.state() === "running") $("train-pause").click();
      return;
    }
    $("train-start").click();  // "train", and "set" starts the run again as the form is
    $("mnist-curve").scrollIntoView({ block: "nearest" });  // the run's curves in view
  },
  onLeave: () => relink(panel),
});
trainView.onUpdate = () => panel.evaluate();
for (const id of ["lesson-next", "lesson-prev"]) $(id).addEventListener("click", () => relink(panel));

async function open() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const id = params.get("lesson");
  if (!id) return;
  const step = Number(params.get("step") || 1);
  const lesson = await panel.load(id);
  if (!lesson) {
    $("train-error").textContent = `The link's lesson “${id}” is not one of this server's lessons: see the Lessons page for those there are.`;
    relink(panel);
    return;
  }
  if (lesson.page !== "digits") {  // a playground lesson: open it there, at its step
    location.replace(`${lesson.href}&step=${Number.isInteger(step) && step > 0 ? step : 1}`);
    return;
  }
  setForm(lesson.config);
  if (Number.isInteger(step) && step > 1) panel.show(step - 1);
  relink(panel);
}

open();
window.addEventListener("hashchange", open);
