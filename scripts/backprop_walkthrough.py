"""Write docs/backprop.md's worked example from a real playground run.

    python scripts/backprop_walkthrough.py            # print the example
    python scripts/backprop_walkthrough.py --write    # replace it in docs/backprop.md

The run: exclusive or, features x1 and x2, one hidden layer of 2 tanh units, a sigmoid
output with binary cross-entropy, SGD at learning rate 0.1, seed 0, trained for 20 epochs;
then training point 0 is traced exactly as the page's "Trace a point" does.  A test checks
that the document holds what this script prints, so the numbers cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.playground.run import PlaygroundRun  # noqa: E402
from app.playground.schema import TrainConfig  # noqa: E402

CONFIG = {
    "dataset": "xor",
    "hidden_layers": [2],
    "activation": "tanh",
    "learning_rate": 0.1,
    "optimizer": "sgd",
    "seed": 0,
    "batch_size": 10,
}
EPOCHS = 20
BEGIN, END = "<!-- walkthrough:begin -->", "<!-- walkthrough:end -->"


def f(v: float) -> str:
    """A number as the page writes it (4 decimals, a true minus sign)."""
    text = f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
    return text.replace("-", "−")


def g(v: float) -> str:
    """A number inside a formula: negative ones in brackets."""
    return f"({f(v)})" if v < 0 else f(v)


def example() -> str:
    run = PlaygroundRun(TrainConfig(**CONFIG))
    run.trainer.fit(EPOCHS)
    t = run.trace_event("train", 0)
    (x1, x2), (y,), (p,) = t["input"], t["target"], t["output"]
    hid, out = t["layers"]
    w1, b1, w2, b2 = hid["weights"], hid["biases"], out["weights"], out["biases"]
    lines = [
        f"Exclusive or, features x1 and x2, one hidden layer of 2 tanh units, a sigmoid output "
        f"with binary cross-entropy, SGD at learning rate {CONFIG['learning_rate']}, batch size "
        f"{CONFIG['batch_size']}, seed {CONFIG['seed']}. After {EPOCHS} epochs, training point 0 "
        f"sits at "
        f"x = ({f(x1)}, {f(x2)}) with target y = {f(y)}.",
        "",
        "**Forward, layer 1** (two tanh units):",
        "",
    ]
    for j in range(2):
        lines.append(
            f"- z<sub>h1.{j + 1}</sub> = {g(w1[0][j])}·{g(x1)} + {g(w1[1][j])}·{g(x2)} + "
            f"{g(b1[j])} = **{f(hid['z'][j])}**, a = tanh(z) = **{f(hid['a'][j])}**"
        )
    a1, a2 = hid["a"]
    lines += [
        "",
        "**Forward, layer 2** (the sigmoid output):",
        "",
        f"- z = {g(w2[0][0])}·{g(a1)} + {g(w2[1][0])}·{g(a2)} + {g(b2[0])} = "
        f"**{f(out['z'][0])}**, ŷ = σ(z) = **{f(p)}**",
        "",
        "**Loss** (binary cross-entropy): "
        f"L = −[y log ŷ + (1 − y) log(1 − ŷ)] = **{f(t['loss'])}**",
        "",
        "**Backward, layer 2**: with a sigmoid and cross-entropy the output's "
        f"δ = ∂L/∂z = ŷ − y = {f(p)} − {g(y)} = **{f(out['delta'][0])}**; each weight's "
        f"gradient is its input times δ: ∂L/∂w<sub>h1.1→out</sub> = {g(a1)}·{g(out['delta'][0])}"
        f" = **{f(out['grad_w'][0][0])}**, ∂L/∂b = δ = **{f(out['grad_b'][0])}**.",
        "",
        "**Backward, layer 1**: each hidden unit collects δ through its outgoing weight and "
        "multiplies by its own slope tanh′(z) = 1 − a²:",
        "",
    ]
    for j in range(2):
        slope = 1 - hid["a"][j] ** 2
        lines.append(
            f"- δ<sub>h1.{j + 1}</sub> = (1 − {g(hid['a'][j])}²)·{g(w2[j][0])}·"
            f"{g(out['delta'][0])} = {f(slope)}·{g(w2[j][0] * out['delta'][0])} = "
            f"**{f(hid['delta'][j])}**; ∂L/∂w<sub>x1→h1.{j + 1}</sub> = {g(x1)}·"
            f"{g(hid['delta'][j])} = **{f(hid['grad_w'][0][j])}**"
        )
    lines += [
        "",
        f"**Update** (SGD, η = {t['learning_rate']}): w ← w − η·g, e.g. "
        f"w<sub>h1.1→out</sub>: {f(w2[0][0])} − {t['learning_rate']}·{g(out['grad_w'][0][0])} "
        f"= **{f(out['new_weights'][0][0])}**. This sample's loss goes from "
        f"**{f(t['loss'])}** to **{f(t['loss_after'])}** after that one step.",
        "",
    ]
    v = run.verify_event(1, "weight", 0, 0)
    lines += [
        "**Verify** w<sub>h1.1→out</sub> over the whole training set (the mean loss of "
        f"{len(run.trainer.x_train)} points): backprop gives **{v['analytic']:.10f}**, "
        f"the finite difference **{v['numeric']:.10f}**, a relative error of "
        f"**{v['relative_error']:.1e}**: {'matches' if v['matches'] else 'differs'}.",
        "",
    ]
    health = run.frame()[1]
    assert isinstance(health, dict)
    rows = [
        f"| {k + 1} | {h['grad_norm']:.3e} | {h['weight_norm']:.3f} | "
        f"{h['update_ratio']:.2e} | {h['saturated']} of {h['units']} |"
        for k, h in enumerate(health["layers"])
    ]
    lines += [
        "**Health** at the same moment:",
        "",
        "| layer | ‖∂L/∂W‖ | ‖W‖ | ‖ΔW‖/‖W‖ | saturated |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Verdict: “{health['verdict']}”.",
    ]
    return "\n".join(lines)


def main() -> None:
    text = example()
    if "--write" not in sys.argv:
        print(text)
        return
    doc = ROOT / "docs" / "backprop.md"
    body = doc.read_text()
    head, _, rest = body.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


if __name__ == "__main__":
    main()
