// "First-layer weights" on the digits page: each hidden unit of the first layer as the
// 28 x 28 picture of its incoming weights, from the server (app/digits/weights.py: bytes,
// 127.5 is zero, each picture scaled to its own largest weight), painted on the diverging
// scale: blue where ink raises the unit, orange where it lowers it. Live while a run
// trains (the `first_layer` message), and for the model chosen above (its HTTP route).

import { COLORS } from "./paint.js";

const $ = (id) => document.getElementById(id);
let updates = 0;
let asked = 0;  // the newest request for a model's pictures: older answers are dropped

function paint(msg, caption) {
  const px = Uint8Array.from(atob(msg.pixels), (ch) => ch.charCodeAt(0));
  const area = msg.side * msg.side;
  const box = $("first-layer");
  const figures = [...box.children];
  msg.units.forEach((unit, k) => {
    let fig = figures[k];
    if (!fig) {
      fig = document.createElement("figure");
      const c = document.createElement("canvas");
      c.width = c.height = msg.side;
      c.setAttribute("role", "img");
      fig.append(c, document.createElement("figcaption"));
      box.append(fig);
    }
    const c = fig.firstChild;
    const ctx = c.getContext("2d");
    const img = ctx.createImageData(msg.side, msg.side);
    for (let i = 0; i < area; i++) {
      const v = px[k * area + i];
      img.data.set(COLORS.subarray(v * 4, v * 4 + 4), i * 4);
    }
    ctx.putImageData(img, 0, 0);
    c.setAttribute("aria-label", `Unit ${unit}: weights from −${msg.scales[k]} (orange) to +${msg.scales[k]} (blue)`);
    fig.lastChild.textContent = `#${unit}`;
    fig.title = `unit ${unit}: |w| up to ${msg.scales[k]}, norm ${msg.norms[k]}`;
  });
  for (const extra of figures.slice(msg.units.length)) extra.remove();
  const which = msg.units.length < msg.n_hidden
    ? `the ${msg.units.length} of ${msg.n_hidden} units with the largest weights`
    : `all ${msg.n_hidden} units`;
  $("first-layer-caption").textContent = `${caption}: ${which}.`;
  const region = $("first-layer-region");
  region.dataset.updates = ++updates;
  region.dataset.source = caption;
}

// A training run's pictures, as its socket sends them (a few a second at most). The
// latest wins: a model chosen while a run trains shows until the run's next pictures.
export function showTrainingWeights(msg, layers) {
  paint(msg, `Training ${layers.join("-")}, epoch ${msg.epoch}`);
}

// The chosen saved model's pictures.
export async function showModelWeights(name) {
  const mine = ++asked;
  let body;
  try {
    const r = await fetch(`/api/models/${encodeURIComponent(name)}/first-layer`);
    if (!r.ok) return;
    body = await r.json();
  } catch {  // the server is down: the pictures stay as they were
    return;
  }
  if (mine === asked) paint(body, `Model ${name}`);
}
