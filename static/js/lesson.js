// A lesson beside the playground (#lesson=<id>): its steps one at a time, each with its
// text, an optional action button, a question whose answer the learner reveals, and a
// check the page evaluates on every update, ticked when it holds; "Next step" moves on.
// Lessons are data files on the server (/api/options lists them, /api/lessons/<id> serves
// one); what a check may test is /api/options' lesson_metrics.

const $ = (id) => document.getElementById(id);
const OPS = { "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b, "==": (a, b) => a === b };

export class LessonPanel {
  // metrics(): the page's current values by lesson metric (null when not known yet);
  // act(action): do a step's action; onLeave(): the learner left the lesson
  constructor({ metrics, act, onLeave }) {
    Object.assign(this, { metrics, act, onLeave });
    this.el = $("lesson");
    this.lesson = null;
    this.step = 0;
    this.met = new Set();  // steps whose check held once (a tick stays)
    $("lesson-next").addEventListener("click", () => this.show(this.step + 1));
    $("lesson-prev").addEventListener("click", () => this.show(this.step - 1));
    $("lesson-leave").addEventListener("click", () => this.leave());
    $("lesson-action").addEventListener("click", () => {
      const action = this.lesson?.steps[this.step].action;
      if (action) this.act(action);
    });
    $("lesson-reveal").addEventListener("click", () => {
      const shown = $("lesson-answer").hidden;
      $("lesson-answer").hidden = !shown;
      $("lesson-reveal").setAttribute("aria-expanded", String(shown));
      $("lesson-reveal").textContent = shown ? "Hide the answer" : "Show the answer";
    });
  }

  get id() { return this.lesson?.id ?? null; }

  // Fetch a lesson; null (and a message) if there is none by that id.
  async load(id) {
    const r = await fetch(`/api/lessons/${encodeURIComponent(id)}`);
    if (!r.ok) return null;
    this.lesson = await r.json();
    this.met.clear();
    this.el.hidden = false;
    $("lesson-title").textContent = this.lesson.title;
    $("lesson-about").textContent = this.lesson.about;
    this.show(0);
    return this.lesson;
  }

  show(k) {
    const steps = this.lesson.steps;
    this.step = Math.max(0, Math.min(steps.length - 1, k));
    const step = steps[this.step];
    this.el.dataset.step = String(this.step);
    $("lesson-count").textContent = `Step ${this.step + 1} of ${steps.length}`;
    $("lesson-text").textContent = step.text;
    $("lesson-action").hidden = !step.action;
    $("lesson-action").textContent = step.action?.label ?? "";
    $("lesson-question").hidden = !step.question;
    $("lesson-question-text").textContent = step.question ?? "";
    $("lesson-answer").textContent = step.answer ?? "";
    $("lesson-answer").hidden = true;
    $("lesson-reveal").setAttribute("aria-expanded", "false");
    $("lesson-reveal").textContent = "Show the answer";
    $("lesson-prev").disabled = this.step === 0;
    $("lesson-next").disabled = this.step === steps.length - 1;
    this.evaluate();
  }

  // Whether the current step's check holds now; its tick stays once it held.
  evaluate() {
    if (!this.lesson) return;
    const step = this.lesson.steps[this.step];
    const check = $("lesson-check");
    check.hidden = !step.check;
    if (!step.check) return;
    const values = this.metrics();
    const holds = step.check.all.every((c) => values[c.metric] != null && OPS[c.op](values[c.metric], c.value));
    if (holds) this.met.add(this.step);
    const done = this.met.has(this.step);
    check.classList.toggle("done", done);
    $("lesson-check-mark").textContent = done ? "✓" : "○";
    $("lesson-check-text").textContent = `${done ? "Done" : "To do"}: ${step.check.says}`;
  }

  leave() {
    this.lesson = null;
    this.el.hidden = true;
    this.onLeave();
  }
}
