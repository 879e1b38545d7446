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

  // `on`: whether the run is to play; `quiet`: the status that said so was announced already.
  // A pause is announced with its epoch by the server's status (epochs trained before the
  // request arrived still count), not with the read-out of the click's moment.
  set(on, quiet = false) {
    if (on !== this.running && !quiet) this.voice.say(this.offline
      ? `When the connection is back, the run will ${on ? "play" : "stay paused"}.`
      : on ? "Training started." : "Pausing…");
    this.running = on;
    this.show();
  }

  // While the socket is down nothing trains: the button shows a stopped run, and a click
  // says what the run will do once the connection is back.
  setOffline(offline) {
    this.offline = offline;
    this.show();
  }

  show() {
    const playing = this.running && !this.offline;
    const label = this.offline ? (this.running ? "Stay paused when back" : "Play when back") : playing ? "Pause" : "Play";
    this.play.setAttribute("aria-label", label);
    this.play.classList.toggle("running", playing);
    this.play.classList.toggle("offline", Boolean(this.offline));
  }
}
