"""The stacked engine trains every member bit for bit as the member would train alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nn_core.backprop import passes
from nn_core.boundary import grid_points, layer_outputs
from nn_core.datasets import make_dataset, train_test_split
from nn_core.features import transform
from nn_core.health import health
from nn_core.model import Network
from nn_core.optimizers import get_optimizer
from nn_core.problems import targets
from nn_core.stack import Stack
from nn_core.stack_views import grid_layers, member_healths, member_passes, stacked_passes
from nn_core.training import Trainer

ALL_FEATURES = ("x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2")


def member(seed: int, **kw: Any) -> Trainer:
    """A playground-like run: TF Playground's default network unless told otherwise."""
    o: dict[str, Any] = {
        "lr": 0.03, "act": "tanh", "opt": "sgd", "reg": "none", "rate": 0.0, "loss": None,
        "out": "sigmoid", "ds": "circle", "n": 200, "bs": 10, "classes": 2,
        "feats": ("x1", "x2"), "hidden": (4, 2), "noise": 0.1,
    } | kw  # fmt: skip
    rng = np.random.default_rng(seed)
    x, y = make_dataset(o["ds"], o["n"], o["noise"], rng, o["classes"])
    xtr, ytr, xte, yte = train_test_split(x, y, 0.5, rng)
    regression = o["out"] == "linear"
    units = o["classes"] if o["out"] == "softmax" else 1
    net = Network(
        [len(o["feats"]), *o["hidden"], units],
        activation=o["act"],
        output_activation=o["out"],
        loss=o["loss"],
        seed=seed,
        regularization=o["reg"],
        regularization_rate=o["rate"],
    )

    def tgt(v: np.ndarray) -> np.ndarray:
        if regression:
            return v.reshape(-1, 1).astype(np.float32)
        return targets(v, net.loss_name, o["classes"])

    return Trainer(
        net,
        get_optimizer(o["opt"], o["lr"]),
        transform(xtr, o["feats"]),
        tgt(ytr),
        transform(xte, o["feats"]),
        tgt(yte),
        batch_size=o["bs"],
        exact_train_loss=True,
        seed=seed,
        track_updates=True,
        classification=not regression,
        max_epochs=o.get("max_epochs"),
    )


def same(alone: Trainer, stacked: Trainer) -> None:
    assert stacked.history == alone.history  # every epoch's losses, accuracies and rate
    assert stacked.network.flat_parameters.tobytes() == alone.network.flat_parameters.tobytes()
    assert stacked.last_update is not None and alone.last_update is not None
    assert stacked.last_update.tobytes() == alone.last_update.tobytes()
    assert stacked.state == alone.state and stacked.optimizer.t == alone.optimizer.t


CASES: dict[str, Callable[[int], Trainer]] = {
    "TF default, seeds and data": lambda s: member(s, noise=0.05 * s),
    "learning rates": lambda s: member(s, lr=0.01 * (s + 1)),
    "L1 and L2 and none": lambda s: member(s, reg=["none", "l1", "l2"][s % 3], rate=0.002 * s),
    "momentum": lambda s: member(s, opt="momentum", lr=0.01 * (s + 1)),
    "adam": lambda s: member(s, opt="adam", lr=0.003 * (s + 1)),
    "relu": lambda s: member(s, act="relu"),
    "leaky relu, xor": lambda s: member(s, act="leaky_relu", ds="xor"),
    "sigmoid with quadratic loss": lambda s: member(s, act="sigmoid", loss="quadratic"),
    "multiclass, cross-entropy labels": lambda s: member(s, out="softmax", ds="blobs", classes=3),
    "multiclass, mse on one-hot": lambda s: member(
        s, out="softmax", ds="blobs", classes=4, loss="mse"
    ),
    "regression": lambda s: member(s, out="linear", ds="plane", loss="mse"),
    "TF Playground's loss, tanh output": lambda s: member(s, out="tanh", loss="tf_square"),
    "odd sample count, batch 7": lambda s: member(s, n=143, bs=7),
    "full batch": lambda s: member(s, bs=None),
    "all seven features, three layers": lambda s: member(s, feats=ALL_FEATURES, hidden=(6, 5, 3)),
}


@pytest.mark.parametrize("case", CASES)
def test_a_stack_trains_each_member_as_it_trains_alone(case: str) -> None:
    make = CASES[case]
    alone = [make(s) for s in range(5)]
    for t in alone:
        t.fit(25)
    stacked = [make(s) for s in range(5)]
    Stack(stacked).fit(25)
    for a, b in zip(alone, stacked, strict=True):
        same(a, b)


def test_members_pause_leave_and_join_between_steps_without_disturbing_the_others() -> None:
    alone = [member(s, lr=0.02 + 0.01 * s) for s in range(6)]
    for t in alone:
        t.fit(30)
    ts = [member(s, lr=0.02 + 0.01 * s) for s in range(6)]
    stack = Stack(ts[:4])
    for epoch in range(30):
        if epoch == 5:
            stack.add(ts[4])  # joins late: its first 5 epochs were its own
        if epoch == 12:
            stack.remove(ts[1])  # leaves: trains alone for a while, then comes back
        if epoch == 20:
            stack.add(ts[1])
        if epoch < 5:
            ts[4].step()
        if 12 <= epoch < 20:
            ts[1].step()
        paused = ts[2] if epoch % 3 == 0 else None  # a paused member skips this step...
        stack.step([t for t in stack.members if t is not paused])
        if paused is not None:
            paused.step()  # ...and catches up alone
        ts[5].step()  # never in the stack
    for a, b in zip(alone, ts, strict=True):
        same(a, b)


def test_a_stack_grows_and_shrinks_and_its_members_keep_their_own_views() -> None:
    ts = [member(s) for s in range(9)]
    stack = Stack(ts)  # grows 4 -> 8 -> 16 rows, rebinding every member
    stack.fit(3)
    for t in ts:
        assert np.shares_memory(t.network.layers[0].w, stack.arrays["params"])
    gone = ts[3]
    stack.remove(gone)
    assert not np.shares_memory(gone.network.flat_parameters, stack.arrays["params"])
    before = gone.network.flat_parameters.copy()
    stack.fit(2)  # the one that left is not trained any more
    assert gone.network.flat_parameters.tobytes() == before.tobytes()
    gone.network.layers[0].w[0, 0] = 7.0  # an edit of a member's weight is the stack's
    ts[0].network.layers[0].w[0, 0] = 5.0
    assert stack.arrays["params"][stack.members.index(ts[0]), 0] == 5.0


def test_max_epochs_and_divergence_are_per_member() -> None:
    reg = {"out": "linear", "ds": "plane", "loss": "mse", "act": "relu"}
    ts = [member(0, max_epochs=4, **reg), member(1, lr=50.0, **reg), member(2, **reg)]
    reports = Stack(ts).fit(6)
    assert [len(r) for r in reports][0] == 4 and ts[0].state == "done"
    assert ts[1].state == "diverged" and len(reports[1]) < 6
    assert ts[2].state == "running" and len(reports[2]) == 6


def test_shapes_that_differ_need_their_own_stack() -> None:
    stack = Stack([member(0)])
    for other in (member(1, hidden=(4, 3)), member(1, bs=20), member(1, opt="adam")):
        with pytest.raises(ValueError, match="another shape"):
            stack.add(other)


@pytest.mark.parametrize(
    "case",
    [
        "TF default, seeds and data",
        "multiclass, cross-entropy labels",
        "TF Playground's loss, tanh output",
    ],
)
def test_a_stacks_frames_equal_each_members_own(case: str) -> None:
    ts = [CASES[case](s) for s in range(4)]
    stack = Stack(ts)
    stack.fit(3)
    chosen = [ts[3], ts[1]]  # any members, in any order
    x = transform(grid_points(20), ("x1", "x2"))
    for t, layers in zip(chosen, grid_layers(stack, chosen, x), strict=True):
        alone = layer_outputs(t.network, ("x1", "x2"), grid_points(20))
        assert [a.tobytes() for a in layers] == [a.tobytes() for a in alone]
    for t, p in zip(chosen, member_passes(stack, chosen), strict=True):
        ref = passes(t.network, t.x_train, t.y_train)
        for name in ("inputs", "z", "a", "delta", "grad_w", "grad_b"):
            got, want = getattr(p, name), getattr(ref, name)
            assert [g.tobytes() for g in got] == [w.tobytes() for w in want], name
        assert p.loss == ref.loss


HEALTH_CASES: dict[str, Callable[[int], Trainer]] = {
    "relu, rates and L2": lambda s: member(
        s, act="relu", lr=0.1 * (s + 1), reg=["none", "l2"][s % 2], rate=0.01
    ),
    "relu, three classes": lambda s: member(
        s, act="relu", out="softmax", ds="multi_spiral", classes=3, hidden=(2,), lr=0.1
    ),
}


@pytest.mark.parametrize("case", HEALTH_CASES)
def test_a_stacks_health_equals_each_members_own(case: str) -> None:
    ts = [HEALTH_CASES[case](s) for s in range(4)]
    stack = Stack(ts)
    stack.fit(4)
    chosen = [ts[2], ts[0], ts[3]]
    got = member_healths(stack, chosen, stacked_passes(stack, chosen))
    # the relu layers are all off on some points (of more than one class)
    assert any(x.silent_other for fit in got for x in fit.layers)
    for t, fit in zip(chosen, got, strict=True):
        assert t.last_update is not None
        ref = health(t.network, t.x_train, t.y_train, t.network.split(t.last_update)[0])
        assert fit.layers == ref.layers and fit.finding == ref.finding
        assert fit.dead_units == ref.dead_units and fit.n_points == ref.n_points
        assert [g.tobytes() for g in fit.grad_w] == [g.tobytes() for g in ref.grad_w]
        assert [g.tobytes() for g in fit.grad_b] == [g.tobytes() for g in ref.grad_b]


SLICED = ["TF default, seeds and data", "adam", "odd sample count, batch 7"]


@pytest.mark.parametrize("case", SLICED)
def test_epochs_in_slices_train_each_member_as_whole_epochs_alone(case: str) -> None:
    make = CASES[case]
    alone = [make(s) for s in range(4)]
    for t in alone:
        t.fit(4)
    ts = [make(s) for s in range(4)]
    stack = Stack(ts[:3])
    ts[3].advance(batches=5)  # begun alone: it joins a stack mid-epoch, at its own point
    stack.add(ts[3])
    ts[1].advance(batches=2)  # and one gets ahead while in the stack
    sizes = iter([3, 1, 8, 2, 5] * 100)
    while any(t.epoch < 4 for t in ts):
        behind = [t for t in ts if t.epoch < 4]
        reports = stack.advance(behind, batches=next(sizes))
        for t, r in zip(behind, reports, strict=True):
            assert (r is None) == t.mid_epoch
    for a, b in zip(alone, ts, strict=True):
        same(a, b)


def test_a_stack_slice_stops_at_its_deadline() -> None:
    ts = [member(s) for s in range(3)]
    stack = Stack(ts)
    assert stack.advance(until=0.0) == [None] * 3  # one batch, the deadline has passed
    assert all(t._pos == 10 and t.optimizer.t == 1 for t in ts)
    reports = stack.step()  # the rest of the epoch
    assert [r.epoch for r in reports] == [1, 1, 1] and not any(t.mid_epoch for t in ts)


def test_a_stack_gives_its_rows_back_when_a_class_leaves() -> None:
    ts = [member(s) for s in range(40)]
    stack = Stack(ts)
    assert stack.arrays["params"].shape[0] == 64
    for t in ts[3:]:
        stack.remove(t)
    assert stack.arrays["params"].shape[0] <= 16  # not 64 rows for 3 learners
    alone = [member(s) for s in range(3)]
    for t in alone:
        t.fit(3)
    stack.fit(3)
    for a, b in zip(alone, ts[:3], strict=True):
        same(a, b)
