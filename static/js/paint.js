// Painting small pictures: the diverging colour scale, a quantised grid on a canvas, and
// previews of the input features; and the number format the cards use.

import { BLUE, ORANGE } from "./charts.js";

export const fmt = (v, d = 4) => (v == null || !Number.isFinite(v) ? "–" : Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4) ? v.toExponential(2) : v.toFixed(d));

// 256-entry lookup from a quantised value to the diverging colour scale.
function lut() {
  const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  const [o, w, b] = [hex(ORANGE), [244, 244, 244], hex(BLUE)];
  const table = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const [from, to, u] = t < 0.5 ? [o, w, t * 2] : [w, b, (t - 0.5) * 2];
    for (let c = 0; c < 3; c++) table[i * 4 + c] = from[c] + (to[c] - from[c]) * u;
    table[i * 4 + 3] = 255;
  }
  return table;
}
export const COLORS = lut();

export function paintGrid(canvas, data, offset, side) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const v = data[offset + r * side + c];
      const o = ((side - 1 - r) * side + c) * 4; // row 0 is the bottom of the plane
      img.data.set(COLORS.subarray(v * 4, v * 4 + 4), o);
    }
  }
  ctx.putImageData(img, 0, 0);
}

// A feature's preview: its values over the plane as the server computed them
// (/api/options feature_maps: side x side, quantised), painted on a canvas.
export function paintFeature(canvas, values) {
  paintGrid(canvas, values, 0, Math.round(Math.sqrt(values.length)));
}


// Every link of a large network on one canvas: one path per colour and width step, a dozen
// strokes instead of one per link. links[i].geom is [x0, y0, mid x, x1, y1].
export function drawLinks(canvas, links, w, scale, [pos, neg]) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.globalAlpha = 0.55;
  const STEPS = 6;
  const paths = Array.from({ length: 2 * STEPS }, () => new Path2D());
  for (let i = 0; i < links.length && i < w.length; i++) {
    const [x0, y0, mx, x1, y1] = links[i].geom;
    const v = w[i];
    const step = Math.min(STEPS - 1, Math.floor((STEPS * Math.abs(v)) / scale));
    const path = paths[(v >= 0 ? 0 : STEPS) + (Number.isFinite(step) ? step : 0)];
    path.moveTo(x0, y0);
    path.bezierCurveTo(mx, y0, mx, y1, x1, y1);
  }
  paths.forEach((path, k) => {
    ctx.strokeStyle = k < STEPS ? pos : neg;
    ctx.lineWidth = 0.3 + (3 * ((k % STEPS) + 0.5)) / STEPS;
    ctx.stroke(path);
  });
}
