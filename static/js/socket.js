// The WebSocket client: JSON events by type, and binary boundary frames decoded in place.

const MAGIC = "BPF1";
const TYPED = { uint8: Uint8Array, float32: Float32Array };

export function decodeFrame(buffer) {
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== MAGIC) throw new Error("not a Backprop Lab frame");
  const headLength = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headLength)));
  const base = 8 + headLength;
  const blocks = {};
  for (const b of header.blocks) {
    const Typed = TYPED[b.dtype];
    const count = b.shape.reduce((a, n) => a * n, 1);
    blocks[b.name] = { ...b, data: new Typed(buffer, base + b.offset, count) };
  }
  return { header, blocks };
}

export class TrainSocket {
  constructor(path, handlers) {
    this.path = path;
    this.handlers = handlers;
    this.queue = [];
    this.retry = 0;
    this.connect();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    // "try": how often an older server sent us on ("rebalance"); this one ignores it
    this.ws = new WebSocket(`${proto}//${location.host}${this.path}${this.tries ? `?try=${this.tries}` : ""}`);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => {
      const again = this.dropped;
      this.retry = 0;
      this.tries = 0;
      this.dropped = false;
      this.handlers.open?.(again);
      for (const m of this.queue.splice(0)) this.ws.send(m);
    };
    this.ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const msg = JSON.parse(ev.data);
        this.handlers[msg.type]?.(msg);
      } else {
        this.handlers.frame?.(decodeFrame(ev.data));
      }
    };
    this.ws.onclose = (ev) => {
      if (ev.code === 1013 && ev.reason === "rebalance") {
        // Never sent since the supervisor places each connection (app/serving/supervisor.py);
        // older servers did, which a page may meet in a rolling update: reconnect at once.
        this.tries = (this.tries || 0) + 1;
        this.connect();
        return;
      }
      if (ev.code === 1008) { this.handlers.close?.(ev, 0); return; } // refused: do not retry
      // full: try again in 10 s; dropped (a restart, a deploy, flaky Wi-Fi): back off
      const wait = ev.code === 1013 ? 10000 : Math.min(10000, 500 * 2 ** this.retry++);
      if (ev.code !== 1013) this.dropped = true;
      this.handlers.close?.(ev, wait);
      this.timer = setTimeout(() => this.connect(), wait);
    };
  }

  // Try to reconnect now rather than at the next try.
  retryNow() {
    if (this.ws.readyState !== WebSocket.CLOSED) return;
    clearTimeout(this.timer);
    this.connect();
  }

  // Messages waiting for the socket to open (sent once, in order, right after "open").
  get waiting() {
    return this.queue.length;
  }

  send(msg) {
    const text = JSON.stringify(msg);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else {
      this.queue.push(text);
      this.handlers.queued?.();
    }
  }
}
