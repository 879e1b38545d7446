// One input feature of the diagram as a switch: on, it feeds the network; off, it shows a
// dimmed preview of what it would add. Click, space or Enter toggles it.

import { paintFeature } from "./paint.js";

export class FeatureSwitch {
  // node: the diagram's neuron for it; features: the features in use; names: all of them,
  // in the server's order; label: its name on the page; preview: its values over the plane
  constructor(node, name, { features, names, label, spoken, preview, onFeatures }) {
    const on = features.includes(name);
    const div = node.div;
    div.title = `${label}: ${on ? "used" : "not used"} as an input (click to toggle)`;
    div.setAttribute("role", "switch");
    div.setAttribute("aria-checked", String(on));
    div.setAttribute("aria-label", `Feature ${label}`);
    div.tabIndex = 0;
    div.dataset.key = `feature-${name}`;
    node.name = spoken;
    if (!on && preview) paintFeature(node.canvas, preview);
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = label;
    div.append(tag);
    const toggle = () => {
      const next = on ? features.filter((f) => f !== name) : names.filter((f) => f === name || features.includes(f));
      if (next.length) onFeatures(next);
    };
    div.addEventListener("click", toggle);
    div.addEventListener("keydown", (e) => { if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(); } });
    this.on = on;
  }
}
