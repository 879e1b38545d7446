// What the page keeps of its run so that the run outlives its socket and a reload: the
// last frame's weights, biases and epoch (sent back as start's resume_from, docs/protocol.md),
// the setup and the loss curves. A snapshot is plain JSON, kept in localStorage.

const KEY = "backprop-lab.playground-run";
const VERSION = 1;
// Curve points a saved run keeps (thinned evenly beyond, the last one always kept).
const MAX_SAVED_POINTS = 10000;

// base64 of a Float32Array's bytes (little-endian on every platform browsers run on)
export function base64Floats(values) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function curves(losses, epoch) {
  let n = losses.epochs.length;
  while (n && losses.epochs[n - 1] > epoch) n--;
  const stride = Math.ceil(n / MAX_SAVED_POINTS) || 1;
  const pick = (a) => a.slice(0, n).filter((_, i) => i % stride === 0 || i === n - 1);
  return { epochs: pick(losses.epochs), train: pick(losses.train), test: pick(losses.test), acc: pick(losses.acc) };
}

export class RunKeeper {
  constructor(storage = window.localStorage) {
    this.storage = storage;
    this.last = null;  // the current run's last frame: {epoch, weights, biases}
  }

  // A "ready" event: a new run has no frame yet; a resumed one keeps its last until the next.
  ready(msg) {
    if (!msg.epoch) this.last = null;
  }

  frame(header, blocks) {
    this.last = { epoch: header.epoch, weights: blocks.weights.data, biases: blocks.biases.data };
  }

  get epoch() {
    return this.last ? this.last.epoch : 0;
  }

  // The run as it is now: `config` (its setup), whether it plays, its curves and parameters.
  snapshot(config, playing, losses) {
    const f = this.last;
    return {
      version: VERSION, saved: Date.now(), config, playing,
      resume: f ? { epoch: f.epoch, weights: base64Floats(f.weights), biases: base64Floats(f.biases) } : null,
      losses: f ? curves(losses, f.epoch) : null,
    };
  }

  save(snapshot) {
    if (!snapshot.resume) return;
    try {
      this.storage.setItem(KEY, JSON.stringify(snapshot));
    } catch {
      // full or refused (private mode): the run lives on in this page only
    }
  }

  load() {
    try {
      const saved = JSON.parse(this.storage.getItem(KEY) || "null");
      return saved?.version === VERSION && saved.resume ? saved : null;
    } catch {
      return null;
    }
  }

  forget() {
    this.storage.removeItem(KEY);
  }
}
