// The connection line under the page: a full server or a dropped socket, in words, with a
// countdown to the next try (the socket retries by itself). The playground shows a dropped
// socket in the banner of offline.js instead, and this line only when the server is full.

export class ConnectionLine {
  constructor(el) {
    this.el = el;
    this.timer = null;
    this.full = 0;  // how many learners fill the server, from its busy status
  }

  clear() {
    clearInterval(this.timer);
    this.el.textContent = "";
  }

  closed(ev, wait) {
    clearInterval(this.timer);
    let left = Math.round(wait / 1000);
    const learners = this.full === 1 ? "1 learner is" : `${this.full || "all its"} learners are`;
    const say = () => {
      this.el.textContent = ev.code === 1013
        ? `The server is full: ${learners} training. Retrying in ${left} s…`
        : `The connection dropped. Reconnecting${left ? ` in ${left} s` : ""}…`;
      left = Math.max(0, left - 1);
    };
    say();
    this.timer = setInterval(say, 1000);
  }
}

// Screen readers hear state changes, and while training a summary every few seconds,
// not the read-outs that change 100 times a second.
export class Announcer {
  // descriptions: the elements that describe the charts (their names never change)
  constructor(el, losses, descriptions) {
    Object.assign(this, { el, losses, descriptions, last: "" });
  }

  say(text) {
    this.el.textContent = text;
  }

  // The latest losses in words; also the charts' descriptions.
  summary() {
    const l = this.losses;
    const last = (a) => (a.length && a.at(-1) != null ? a.at(-1).toFixed(3) : "not yet known");
    const acc = l.acc.at(-1) != null ? `, test accuracy ${(100 * l.acc.at(-1)).toFixed(1)}%` : "";
    const text = l.epochs.length ? `after ${l.epochs.at(-1)} epochs: training loss ${last(l.train)}, test loss ${last(l.test)}${acc}` : "no epochs yet";
    for (const el of this.descriptions) el.textContent = `${text[0].toUpperCase()}${text.slice(1)}.`;
    return text;
  }

  // every 5 s while `training()` says so, if anything changed
  every(seconds, training) {
    setInterval(() => {
      if (!training() || !this.losses.epochs.length) return;
      const text = this.summary();
      if (text !== this.last) { this.last = text; this.say(`Training, ${text}.`); }
    }, seconds * 1000);
  }
}
