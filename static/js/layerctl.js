// The controls above one hidden layer of the diagram: add or remove a neuron (within the
// server's range of neurons per layer), the layer's size, and its own activation.

export class LayerControl {
  // diagram: the NetworkDiagram (its hidden sizes, activation(s), range and callbacks)
  constructor(diagram, x, layer, n, colGap) {
    const d = diagram;
    const box = document.createElement("div");
    box.className = "layer-ctl";
    box.style.left = `${x + d.size / 2}px`;
    box.style.top = "0px";
    box.style.width = `${Math.min(84, Math.max(44, colGap - 6))}px`;
    const buttons = document.createElement("div");
    const [fewest, most] = d.neurons;
    for (const [text, delta] of [["+", 1], ["−", -1]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "round tiny";
      b.textContent = text;
      b.dataset.key = `layer-${layer}-${delta}`;
      b.setAttribute("aria-label", `${delta > 0 ? "Add" : "Remove"} a neuron in layer ${layer + 1}`);
      // at the server's limit the button stays in the tab order and says why it does nothing
      if (delta > 0 ? n >= most : n <= fewest) limit(b, `Layer ${layer + 1} has the ${delta > 0 ? "most" : "fewest"} neurons allowed, ${delta > 0 ? most : fewest}.`);
      b.addEventListener("click", () => {
        const next = [...d.hidden];
        next[layer] = Math.min(most, Math.max(fewest, next[layer] + delta));
        if (next[layer] !== d.hidden[layer]) d.onLayers(next);
      });
      buttons.append(b);
    }
    const label = document.createElement("span");
    label.className = "layer-size";
    label.textContent = colGap < 70 ? `${n}` : `${n} neuron${n === 1 ? "" : "s"}`;
    label.title = `${n} neuron${n === 1 ? "" : "s"} in layer ${layer + 1}`;
    const select = document.createElement("select");
    select.className = "layer-activation";
    select.setAttribute("aria-label", `Activation of layer ${layer + 1}`);
    select.title = "This layer's activation (the Activation menu sets every layer)";
    select.dataset.key = `act-${layer}`;
    for (const name of d.activations) select.append(new Option(name.replace("_", " "), name));
    select.value = Array.isArray(d.activation) ? d.activation[layer] : d.activation;
    select.addEventListener("change", () => {
      const per = d.hidden.map((_, i) => (Array.isArray(d.activation) ? d.activation[i] : d.activation));
      per[layer] = select.value;
      d.onActivation(per.every((a) => a === per[0]) ? per[0] : per);
    });
    box.append(buttons, label, select);
    d.el.append(box);
    this.el = box;
  }
}

// A button at a limit: shown disabled (it stays focusable), its title the reason.
function limit(button, reason) {
  button.setAttribute("aria-disabled", "true");
  button.title = reason;
}

// The + and − hidden-layer buttons at the server's range of hidden layers [fewest, most].
export function showLayerLimits(count, [fewest, most]) {
  for (const [id, at, reason] of [["add-layer", count >= most, `The network has the most hidden layers allowed, ${most}.`],
    ["remove-layer", count <= fewest, `The network has the fewest hidden layers allowed, ${fewest}.`]]) {
    const b = document.getElementById(id);
    b.dataset.title ??= b.title;
    b.removeAttribute("aria-disabled");
    b.title = b.dataset.title;
    if (at) limit(b, reason);
  }
}
