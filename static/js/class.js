// The teacher's view (docs/teaching.md): start a class over /ws/class, show its code, draw
// every joined learner's tile as the server sends them (a few times a second), send a setup
// (a preset or a playground link) and end the class. The code and the teacher's token stay
// in sessionStorage for this tab only, so a reload or a dropped socket takes the class back.

import { TrainSocket } from "./socket.js";
import { ConnectionLine } from "./connection.js";
import { paintGrid, fmt } from "./paint.js";
import { readHash } from "./state.js";
import { Presenter } from "./presenter.js";

const KEY = "backprop-teacher";
const $ = (id) => document.getElementById(id);
const LINK = "link";  // the setup menu's "a playground link" choice
const LESSON = "lesson:";  // ... and its lessons' values: the prefix, then the lesson's id

let options;
let held = JSON.parse(sessionStorage.getItem(KEY) || "null");  // { code, token }
const tiles = new Map();  // learner id -> its tile's elements
const line = new ConnectionLine($("connection"));
new Presenter($("presenter"));  // the class code and the tiles in large type, for a projector

function say(text) { $("class-alert").textContent = text || ""; }

function showClass(code) {
  $("class-on").hidden = !code;
  $("start-class").hidden = Boolean(code);  // one class per tab: "End class" first
  $("class-code").textContent = code || "";
  if (!code) drawTiles([]);
}

const handlers = {
  open() {
    line.clear();
    if (held) socket.send({ type: "reopen", code: held.code, token: held.token });
  },
  close(ev, wait) { line.closed(ev, wait); },
  class(msg) {
    held = { code: msg.code, token: msg.token };
    sessionStorage.setItem(KEY, JSON.stringify(held));
    say("");
    showClass(msg.code);
  },
  tiles(msg) {
    drawTiles(msg.learners);
    setTimeout(() => socket.send({ type: "seen" }), 0);  // drawn: the next may come
  },
  setup_sent(msg) {
    const what = [msg.lesson ? "the lesson" : "", msg.label ? `“${msg.label}”` : ""].filter(Boolean).join(" ");
    $("setup-status").textContent = `Sent ${what || "the setup"} to the class: each joined learner is asked to ${msg.lesson ? "open" : "load"} it.`;
  },
  ended(msg) {
    held = null;
    sessionStorage.removeItem(KEY);
    showClass(null);
    say(msg.message ? `The class ended: ${msg.message}.` : "");
    $("setup-status").textContent = "";
  },
  error(msg) {
    if (msg.field === "code" && held) {  // the class this tab held is over
      handlers.ended({ message: "it is no longer on" });
      return;
    }
    say(msg.field === "class" ? `Cannot start a class: ${msg.message}.` : `The setup's ${msg.field.replaceAll("_", " ")} ${msg.message}.`);
  },
};

function tile(t) {
  const el = document.createElement("article");
  el.className = "tile";
  const canvas = document.createElement("canvas");
  canvas.setAttribute("aria-hidden", "true");
  const name = document.createElement("h3");
  const figures = document.createElement("dl");
  const cell = (label) => {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    figures.append(dt, dd);
    return dd;
  };
  const verdict = document.createElement("p");
  verdict.className = "tile-verdict";
  el.append(canvas, name, figures, verdict);
  return { el, canvas, name, epoch: cell("Epoch"), loss: cell("Test loss"), verdict };
}

// Each learner's tile, made once and updated in place; a name is only ever textContent.
function drawTiles(learners) {
  const seen = new Set();
  for (const t of learners) {
    seen.add(t.id);
    let view = tiles.get(t.id);
    if (!view) {
      view = tile(t);
      tiles.set(t.id, view);
    }
    $("tiles").append(view.el);  // in the server's order (by name)
    view.el.setAttribute("aria-label", t.name);
    view.name.textContent = t.name;
    view.epoch.textContent = String(t.epoch);
    view.loss.textContent = fmt(t.test_loss);
    view.verdict.textContent = t.verdict || (t.state === "running" ? "" : "not training yet");
    view.el.dataset.verdict = t.verdict_code || "";
    if (t.side && t.thumb) {
      view.canvas.width = view.canvas.height = t.side;
      paintGrid(view.canvas, Uint8Array.from(atob(t.thumb), (c) => c.charCodeAt(0)), 0, t.side);
    }
  }
  for (const [id, view] of tiles) {
    if (!seen.has(id)) { view.el.remove(); tiles.delete(id); }
  }
  $("tiles-empty").hidden = learners.length > 0;
  $("tile-count").textContent = learners.length ? `(${learners.length})` : "";
}

// The setup to send: a preset, or the settings of a pasted playground link.
function chosenSetup() {
  const pick = $("class-setup").value;
  if (pick.startsWith(LESSON)) {  // the server sends the lesson's own setup with it
    const id = pick.slice(LESSON.length);
    return { lesson: id, label: options.lessons.find((l) => l.id === id).title };
  }
  if (pick !== LINK) {
    const preset = options.presets[pick];
    return { config: preset.config, label: preset.title };
  }
  const text = $("class-link").value.trim();
  const hash = text.includes("#") ? text.slice(text.indexOf("#")) : "";
  if (!hash) return { problem: "Paste a playground link: press Copy link on the playground, then paste it here." };
  const unknown = [];
  const config = readHash(hash, options.schema, unknown);
  if (unknown.length) return { problem: `The link has settings the playground does not know: ${unknown.join(", ")}.` };
  return { config, label: "the setup from a playground link" };
}

function wire() {
  const menu = $("class-setup");
  const presets = document.createElement("optgroup");
  presets.label = "Presets";
  for (const [key, p] of Object.entries(options.presets)) presets.append(new Option(p.title, key));
  const lessons = document.createElement("optgroup");
  lessons.label = "Lessons (each learner's page opens it)";
  for (const l of options.lessons) {
    if (l.page === "playground") lessons.append(new Option(`Lesson: ${l.title}`, LESSON + l.id));
  }
  menu.append(presets, lessons);
  menu.add(new Option("A playground link…", LINK));
  menu.addEventListener("change", () => {
    const link = menu.value === LINK;
    $("class-link").hidden = $("class-link-label").hidden = !link;
    if (link) $("class-link").focus();
  });
  $("start-class").addEventListener("click", () => { say(""); socket.send({ type: "open" }); });
  $("end-class").addEventListener("click", () => socket.send({ type: "end" }));
  $("send-setup").addEventListener("click", () => {
    const { config, label, lesson, problem } = chosenSetup();
    say(problem || "");
    if (!problem) socket.send({ type: "send_setup", config, label, lesson });
  });
  $("class-url").textContent = `${location.origin}/`;
}

let socket;
async function main() {
  options = await (await fetch("/api/options")).json();
  wire();
  socket = new TrainSocket("/ws/class", handlers);
}

main();
