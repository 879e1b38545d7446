// "Join a class" on the playground: a small dialog asks for the class code and a name, the
// training socket joins (docs/protocol.md, "Classes"), and the bar shows the class until the
// learner leaves or the teacher ends it. A setup the teacher sends is offered, never forced.
// The code and name live in sessionStorage only (this tab, while the class is on), so a
// reconnect or a reload joins again; nothing else is kept.

const KEY = "backprop-class";
const $ = (id) => document.getElementById(id);

export class ClassJoin {
  // send(msg): over the training socket; load(config, label, lesson): the playground loads
  // a setup, or opens a lesson (its id) with its setup
  constructor({ send, load }) {
    this.send = send;
    this.load = load;
    this.seat = JSON.parse(sessionStorage.getItem(KEY) || "null");  // { code, name, setup }
    this.pending = false;  // a join was sent and is not answered yet
    this.offered = null;
    this.dialog = $("join-dialog");
    $("join-class").addEventListener("click", () => this.ask());
    $("join-form").addEventListener("submit", (e) => { e.preventDefault(); this.join(); });
    $("join-cancel").addEventListener("click", () => this.dialog.close());
    $("leave-class").addEventListener("click", () => { this.send({ type: "leave" }); this.forget(); });
    $("class-load").addEventListener("click", () => { this.hideOffer(); this.load(this.offered.config, this.offered.label, this.offered.lesson); });
    $("class-skip").addEventListener("click", () => this.hideOffer());
    this.handlers = {
      joined: (msg) => this.joined(msg),
      left: () => this.forget(),
      class_setup: (msg) => this.offer(msg),
      class_ended: (msg) => { this.forget(); $("class-note").textContent = `You left the class: ${msg.message}.`; },
    };
    this.show();
  }

  // /api/options "classes": the rules the fields show
  rules(r) {
    $("join-code").maxLength = r.code_length + 2;
    $("join-name").maxLength = r.name_length;
  }

  ask() {
    $("join-error").textContent = "";
    $("join-code").value = this.seat?.code || "";
    this.dialog.showModal();
    $("join-code").focus();
  }

  join() {
    const code = $("join-code").value.trim();
    const name = $("join-name").value.trim();
    if (!code) return this.refuse("code", "is needed: the teacher's screen shows it");
    if (!name) return this.refuse("name", "is needed: your teacher sees it on your tile");
    this.pending = { code, name };
    this.send({ type: "join", code, name });
  }

  // The socket is open again (a reconnect, a reload): sit down in the same class.
  rejoin() {
    if (this.seat) this.send({ type: "join", code: this.seat.code, name: this.seat.name });
  }

  joined(msg) {
    this.pending = false;
    this.seat = { code: msg.code, name: msg.name, setup: this.seat?.code === msg.code ? this.seat.setup : null };
    this.keep();
    if (this.dialog.open) this.dialog.close();
    $("class-note").textContent = "";
    this.show();
  }

  // An error event: true if it is about the join (shown in the dialog, or the bar).
  error(msg) {
    if (!["code", "name"].includes(msg.field) || (!this.pending && !this.seat)) return false;
    if (!this.pending) {  // a rejoin the server refused: the class is over
      this.forget();
      $("class-note").textContent = `You are no longer in a class: the class code ${msg.message}.`;
      return true;
    }
    this.refuse(msg.field, msg.message);
    return true;
  }

  refuse(field, message) {
    this.pending = false;
    $("join-error").textContent = `${field === "code" ? "Class code" : "Your name"} ${message}.`;
    const input = $(field === "code" ? "join-code" : "join-name");
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  offer(msg) {
    if (this.seat?.setup === msg.sent) return;  // offered before this reconnect
    this.seat.setup = msg.sent;
    this.keep();
    this.offered = msg;
    $("class-offer-text").textContent = msg.lesson
      ? `Your teacher sent a lesson: ${msg.label}. Open it? Your current run is replaced by the lesson's.`
      : `Your teacher sent a setup${msg.label ? `: ${msg.label}` : ""}. Load it? Your current run is replaced.`;
    $("class-load").textContent = msg.lesson ? "Open lesson" : "Load setup";
    $("class-offer").hidden = false;
    $("class-load").focus();
  }

  hideOffer() {
    $("class-offer").hidden = true;
  }

  forget() {
    this.seat = null;
    this.pending = false;
    sessionStorage.removeItem(KEY);
    this.hideOffer();
    this.show();
  }

  keep() {
    sessionStorage.setItem(KEY, JSON.stringify(this.seat));
  }

  show() {
    const on = Boolean(this.seat);
    $("join-class").hidden = on;
    $("class-joined").hidden = !on;
    if (on) {
      $("joined-code").textContent = this.seat.code;
      $("joined-name").textContent = this.seat.name;
    }
    for (const id of ["join-code", "join-name"]) $(id).removeAttribute("aria-invalid");
  }
}
