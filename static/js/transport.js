// The transport: Play/Pause, Step and Reset, their keys (space plays or pauses, "s" steps,
// not while typing in a field), and whether the learner asked the run to play.

const $ = (id) => document.getElementById(id);

export class Transport {
  // voice: the Announcer; onPlay(playing) after Play toggled (return false to refuse),
  // onStep() and onReset() after those buttons paused the run
  constructor(voice, { onPlay, onStep, onReset }) {
    this.voice = voice;
    this.running = false;
    this.play = $("play");
    this.play.addEventListener("click", () => {
      if (onPlay(!this.running) !== false) this.set(!this.running);
    });
    $("step").addEventListener("click", () => { this.set(false); onStep(); });
    $("reset").addEventListener("click", () => { this.set(false); onReset(); });
    document.addEventListener("keydown", (e) => {
      if (e.target.closest("input, select, textarea, button, [role=switch], [role=button], [role=dialog]") || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === " ") { e.preventDefault(); this.play.click(); }
      else if (e.key === "s") $("step").click();
    });
  }

  set(on) {
    if (on !== this.running) this.voice.say(on ? "Training started." : `Training paused at epoch ${$("epoch").textContent}.`);
    this.running = on;
    this.play.setAttribute("aria-label", on ? "Pause" : "Play");
    this.play.classList.toggle("running", on);
  }
}
