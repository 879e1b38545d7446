// Data sets on the page: the picker's thumbnails, and the learner's own points from a CSV.

const COLORS = ["#f59322", "#0877bd", "#2ca02c", "#9467bd", "#d62728", "#8c564b"];

// One button per data set, painted once from the options' 120-point samples.
export function datasetThumbs(box, options, names, onPick) {
  for (const name of Object.keys(options.datasets)) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.name = name;
    b.title = `${names[name] || name}: ${options.datasets[name].description}`;
    b.setAttribute("aria-label", names[name] || name);
    const c = document.createElement("canvas");
    c.width = c.height = 48;
    b.append(c);
    b.addEventListener("click", () => onPick(name));
    box.append(b);
    const sample = options.samples?.[name];
    if (!sample) continue;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, 48, 48);
    const regression = options.datasets[name].problem === "regression";
    const scale = 23 / options.limits.coordinate[1];  // the plane fills the 48 px picture
    for (const [x, y, v] of sample) {
      ctx.fillStyle = regression ? (v > 0 ? COLORS[1] : COLORS[0]) : COLORS[v];
      ctx.fillRect(24 + x * scale - 1, 24 - y * scale - 1, 2.2, 2.2);
    }
  }
}

// CSV text of x1,x2,label (a header line allowed) -> { points } or { error } in plain words.
// limits: the server's (/api/options): how many points a custom set holds, and where.
export function parseCsv(text, limits) {
  const [fewest, most] = limits.points;
  const [lo, hi] = limits.coordinate;
  const points = [];
  for (const [n, line] of text.split(/\r?\n/).entries()) {
    if (!line.trim() || (n === 0 && /[a-z]/i.test(line))) continue;
    const cells = line.split(/[,;\t]/).map(Number);
    if (cells.length < 3 || cells.some((v) => !Number.isFinite(v))) return { error: `CSV line ${n + 1} must be three numbers: x1,x2,label` };
    if ([cells[0], cells[1]].some((v) => v < lo || v > hi)) return { error: `CSV line ${n + 1}: x1 and x2 must be between ${lo} and ${hi}` };
    points.push([cells[0], cells[1], cells[2]]);
  }
  if (points.length < fewest || points.length > most) return { error: `CSV points must number between ${fewest} and ${most}` };
  return { points, regression: points.some((p) => !Number.isInteger(p[2])) };
}
