// Presenter mode: large type for a projector. The button "Presenter mode" (a toggle, its
// state in aria-pressed) puts the page in large type with the run's controls, read-outs,
// boundary and loss curve in one screen and a lesson's step as a caption along the bottom;
// the choice lasts for the tab (sessionStorage), not past it.

const KEY = "backprop-lab.presenter";

export class Presenter {
  constructor(button, { onChange } = {}) {
    this.button = button;
    this.onChange = onChange;
    button.addEventListener("click", () => this.set(!this.on));
    this.set(sessionStorage.getItem(KEY) === "1", true);
  }

  get on() { return document.body.classList.contains("presenter"); }

  set(on, quiet = false) {
    document.body.classList.toggle("presenter", on);
    this.button.setAttribute("aria-pressed", String(on));
    if (on) sessionStorage.setItem(KEY, "1"); else sessionStorage.removeItem(KEY);
    // the charts measure their boxes: let them redraw at the new size
    if (!quiet) window.dispatchEvent(new Event("resize"));
    this.onChange?.(on);
  }
}
