// A run that outlives its socket: the banner while the connection is down (what happened,
// the next try, what the run will do when it is back), the note once it is back, and the
// offer after a reload to restore the run this browser kept.

const $ = (id) => document.getElementById(id);
const NOTE_SECONDS = 12;

export class OfflineBanner {
  // onTry(): the learner asked to try again now
  constructor({ onTry }) {
    this.el = $("offline");
    this.note = $("online-note");
    this.timer = null;
    $("offline-try").addEventListener("click", () => onTry());
  }

  // The socket is down: `problem` in words, the next try in `wait` ms, `run` what the run does.
  down(problem, wait, run) {
    clearInterval(this.timer);
    this.note.hidden = true;
    this.el.hidden = false;
    $("offline-problem").textContent = problem;
    this.setRun(run);
    let left = Math.round(wait / 1000);
    const say = () => {
      $("offline-next").textContent = left > 0 ? `Trying again in ${left} s…` : "Trying again now…";
      left -= 1;
    };
    say();
    this.timer = setInterval(say, 1000);
  }

  setRun(text) {
    $("offline-run").textContent = text;
  }

  get shown() {
    return !this.el.hidden;
  }

  // The socket is back; `text`: what became of the run (shown for a while), if anything.
  up(text = "") {
    clearInterval(this.timer);
    this.el.hidden = true;
    if (!text) return;
    this.note.textContent = text;
    this.note.hidden = false;
    clearTimeout(this.noteTimer);
    this.noteTimer = setTimeout(() => { this.note.hidden = true; }, NOTE_SECONDS * 1000);
  }
}

// "3 min ago", from a time in ms
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export class RestoreOffer {
  // onRestore(saved), onFresh(): the learner's answer
  constructor({ onRestore, onFresh }) {
    this.el = $("restore-offer");
    this.saved = null;
    $("restore-run").addEventListener("click", () => { const s = this.saved; this.hide(); onRestore(s); });
    $("restore-fresh").addEventListener("click", () => { this.hide(); onFresh(); });
  }

  get pending() {
    return this.saved !== null;
  }

  // `saved`: a RunKeeper snapshot; `name`: its data set in words
  show(saved, name) {
    this.saved = saved;
    const c = saved.config;
    const layers = c.hidden_layers.length ? `a ${c.hidden_layers.join("-")} network` : "a network with no hidden layer";
    const epoch = saved.resume.epoch.toLocaleString("en");
    $("restore-text").textContent = `This browser kept your last run: ${name}, ${layers}, at epoch ${epoch} (saved ${ago(saved.saved)}). Restore it, or start fresh from this page's setup?`;
    this.el.hidden = false;
  }

  hide() {
    this.saved = null;
    this.el.hidden = true;
  }
}
