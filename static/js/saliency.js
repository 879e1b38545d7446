// The saliency map of the digits page: d p(class) / d pixel over the 28 x 28 input, drawn
// large and smoothed (bilinear), blue where more ink would raise the class's probability,
// orange where it would lower it, white where it does not matter; the digit stays faint.
// Smoothed: bilinear scaling and a blur of half an input pixel.

import { BLUE, ORANGE } from "./charts.js";

const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const [UP, DOWN] = [hex(BLUE), hex(ORANGE)];
const SIDE = 28;
// The colour is full at this quantile of |gradient| (one hot pixel does not wash out the rest).
const FULL_AT = 0.98;

const small = document.createElement("canvas");
small.width = small.height = SIDE;

function scale(sal) {
  const sorted = sal.map(Math.abs).sort((a, b) => a - b);
  return Math.max(1e-12, sorted[Math.floor(FULL_AT * (sorted.length - 1))]);
}

// Paint the map on `canvas` (any size: the 28 x 28 picture is scaled up smoothly).
export function drawSaliency(canvas, input, sal) {
  const img = small.getContext("2d").createImageData(SIDE, SIDE);
  const max = scale(sal);
  sal.forEach((s, i) => {
    const t = Math.min(1, Math.abs(s) / max);
    const base = 255 - Math.round(90 * input[i]);  // the digit stays faintly visible
    const c = s >= 0 ? UP : DOWN;
    img.data.set([base + (c[0] - base) * t, base + (c[1] - base) * t, base + (c[2] - base) * t, 255], i * 4);
  });
  small.getContext("2d").putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  const px = canvas.width / SIDE;  // screen pixels per input pixel
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.filter = `blur(${(px / 2).toFixed(1)}px)`;  // a blur of half an input pixel
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  ctx.filter = "none";
}

export function clearSaliency(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}
