"""Many same-shaped networks trained as one array program, bit for bit as each alone.

A class of learners, or a hundred seeds of one network, is a hundred tiny networks.  Trained
one by one, an epoch of a 2-4-2-1 net costs about a thousand NumPy calls on 10 x 4 arrays,
and almost all of its time is the calls, not the arithmetic.  A :class:`Stack` keeps the
parameters of ``S`` networks as rows of one ``(S, n_parameters)`` array, so every layer's
weights are an ``(S, n_in, n_out)`` view, and trains all of them with the same thousand
calls, each now on ``(S, 10, 4)`` arrays (one batched matrix product per layer, as JAX's
``vmap`` would write it):

    trainers = [
        Trainer(Network([2, 4, 2, 1], activation="tanh", seed=s), SGD(0.03),
                x_train, y_train, x_test, y_test, batch_size=10, seed=s, exact_train_loss=True)
        for s in range(100)
    ]
    stack = Stack(trainers)
    stack.fit(300)
    print(sorted(t.history[-1].test_loss for t in trainers))

Each member stays an ordinary :class:`~nn_core.training.Trainer`: its network's weights are
views of its row, and the stack updates its epoch, history, state, optimizer and random
generator exactly as :meth:`Trainer.step` would.  Members may differ in data (not in its
size), seed, rate, schedule, regulariser, ``max_epochs`` and state; :func:`stack_key` lists
what they share.  Dropout and augmentation are not stacked.  Reports and parameters are
bit-identical to training each member alone (``tests/core/test_stack.py``): every operation
is elementwise, a matrix product per row, or a reduction over a row's samples in order.
An epoch may run in slices of batches (:meth:`Stack.advance`, as :meth:`Trainer.advance`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from nn_core.optimizers import Adam, Momentum
from nn_core.stack_rows import add_bias, row_optimizer, row_regularizer
from nn_core.training import EpochReport, Trainer
from nn_core.types import Array

Views = list[tuple[Array, Array]]  # per layer: (weights (k, n_in, n_out), biases (k, n_out))


def stack_key(trainer: Trainer) -> tuple[Any, ...]:
    """What members of one stack share; trainers with equal keys can train together."""
    net, opt = trainer.network, trainer.optimizer
    n_test = 0 if trainer.x_test is None else trainer.x_test.shape[0]
    batch, y_test = trainer.epoch_batch(), trainer.y_test  # the epoch under way's
    constants = tuple(getattr(opt, name, None) for name in ("momentum", "beta1", "beta2", "eps"))
    return (
        tuple(net.sizes), tuple(net.hidden_activations), net.output_activation, net.loss_name,
        net.dtype, type(opt), constants, batch,
        trainer.x_train.shape, (trainer.y_train.shape, trainer.y_train.dtype.kind), n_test,
        None if y_test is None else (y_test.shape, y_test.dtype.kind),
        trainer.classification, trainer.exact_train_loss, trainer.last_update is not None,
    )  # fmt: skip


class Stack:
    """Trainers of same-shaped networks, trained together; see the module's docstring."""

    def __init__(self, trainers: Sequence[Trainer] = ()) -> None:
        self.members: list[Trainer] = []
        self.key: tuple[Any, ...] | None = None
        self._cap = 0
        self._buffers: dict[tuple[int, int], list[tuple[Array, Array, Array]]] = {}
        for trainer in trainers:
            self.add(trainer)

    def __len__(self) -> int:
        return len(self.members)

    # ------------------------------------------------------------ membership
    def add(self, trainer: Trainer) -> None:
        """Take ``trainer`` in (its state moves into the stack's storage) between steps."""
        key = stack_key(trainer)
        if trainer.network.dropout or trainer.augment is not None:
            raise ValueError("dropout and augmentation are not stacked: train this one alone")
        if self.key is None:
            self.key = key
            self._setup(trainer)
        elif key != self.key:
            raise ValueError("this trainer's network or data has another shape than the stack's")
        if trainer in self.members:
            return
        if len(self.members) == self._cap:
            self._grow(max(4, 2 * self._cap))
        row = len(self.members)
        self.members.append(trainer)
        self._load(row, trainer)
        self._bind(row)

    def remove(self, trainer: Trainer) -> None:
        """Let ``trainer`` go with its state in arrays of its own; the last member takes
        its row."""
        row = self.members.index(trainer)
        self._unbind(trainer)
        last = len(self.members) - 1
        if row != last:
            for arr in self.arrays.values():
                arr[row] = arr[last]
            self.members[row] = self.members[last]
            self._bind(row)
        self.members.pop()
        if self._cap > 4 and len(self.members) <= self._cap // 4:
            self._buffers.clear()
            self._grow(self._cap // 2)  # a class that left gives its rows back

    def _setup(self, t: Trainer) -> None:
        net = t.network
        if not t.exact_train_loss:
            raise ValueError("a stack reports the exact training loss: use exact_train_loss=True")
        self.n_params = net.flat_parameters.shape[0]
        self.dtype = net.flat_parameters.dtype
        self.shapes = [(layer.n_in, layer.n_out) for layer in net.layers]
        self.activations = [layer.activation for layer in net.layers]
        self.loss = net.loss_fn
        self.kind = type(t.optimizer)
        self.tracks = t.last_update is not None
        self.batch = int(self.key[7]) if self.key is not None else t.x_train.shape[0]
        self._data = self._member_data(t)

    @staticmethod
    def _member_data(t: Trainer) -> dict[str, Array]:
        """A member's rows: its inputs, what the loss compares with, and class labels."""
        target = t.network._target
        data = {"x": t.x_train, "y": target(t.y_train)}
        if t.classification:
            data["labels"] = t._labels(t.y_train)
        if t.x_test is not None and t.y_test is not None and len(t.x_test):
            data |= {"x_test": t.x_test, "y_test": target(t.y_test)}
            if t.classification:
                data["labels_test"] = t._labels(t.y_test)
        return data

    def _grow(self, cap: int) -> None:
        rows = len(self.members)
        names = ["params", "grads"]
        names += ["update", "before"] if self.tracks else []
        names += {Momentum: ["velocity"], Adam: ["m", "v"]}.get(self.kind, [])
        arrays = {name: np.zeros((cap, self.n_params), self.dtype) for name in names}
        arrays |= {k: np.zeros((cap, *v.shape), v.dtype) for k, v in self._data.items()}
        for name, arr in getattr(self, "arrays", {}).items():
            arrays[name][:rows] = arr[:rows]
        self.arrays = arrays
        self._cap = cap
        for row in range(rows):
            self._bind(row)

    def _load(self, row: int, t: Trainer) -> None:
        a, net = self.arrays, t.network
        a["params"][row] = net.flat_parameters
        a["grads"][row] = net.flat_gradients
        for name, value in self._member_data(t).items():
            a[name][row] = value
        if self.tracks:
            assert t.last_update is not None and t._before is not None
            a["update"][row] = t.last_update
            a["before"][row] = t._before
        for name, state in self._opt_state(t.optimizer).items():
            a[name][row] = state[0] if state else 0.0

    @staticmethod
    def _opt_state(opt: Any) -> dict[str, list[Array]]:
        if isinstance(opt, Momentum):
            return {"velocity": opt._v}
        if isinstance(opt, Adam):
            return {"m": opt._m, "v": opt._v}
        return {}

    def _bind(self, row: int) -> None:
        """Point the member's network, update record and optimizer state at its row."""
        t, a = self.members[row], self.arrays
        t.network.bind(a["params"][row], a["grads"][row])
        if self.tracks:
            t.last_update, t._before = a["update"][row], a["before"][row]
        if isinstance(t.optimizer, Momentum):
            t.optimizer._v = [a["velocity"][row]]
        elif isinstance(t.optimizer, Adam):
            opt = t.optimizer
            opt._m, opt._v = [a["m"][row]], [a["v"][row]]
            opt._tmp = [np.empty(self.n_params, self.dtype)]

    def _unbind(self, t: Trainer) -> None:
        t.network.bind(t.network.flat_parameters.copy(), t.network.flat_gradients.copy())
        if t.last_update is not None and t._before is not None:
            t.last_update, t._before = t.last_update.copy(), t._before.copy()
        for state in self._opt_state(t.optimizer).values():
            state[:] = [s.copy() for s in state]

    # -------------------------------------------------------------- training
    def fit(self, epochs: int) -> list[list[EpochReport]]:
        """``epochs`` epochs of every running member (fewer for one that stops)."""
        out: list[list[EpochReport]] = [[] for _ in self.members]
        for _ in range(epochs):
            running = [t for t in self.members if t.state == "running"]
            if not running:
                break
            for t, report in zip(running, self.step(running), strict=True):
                out[self.members.index(t)].append(report)
        return out

    def step(self, trainers: Sequence[Trainer] | None = None) -> list[EpochReport]:
        """One epoch for ``trainers`` (default: every member) whatever their state, as
        :meth:`Trainer.step` does for one; returns their reports in that order."""
        return self.advance(trainers)  # type: ignore[return-value]  # (whole epochs)

    def advance(
        self,
        trainers: Sequence[Trainer] | None = None,
        until: float | None = None,
        batches: int | None = None,
    ) -> list[EpochReport | None]:
        """:meth:`Trainer.advance` for ``trainers`` (default: every member): each trains on
        in its epoch until it ends, ``batches`` batches were run or the clock passed
        ``until``; a report for each one whose epoch ended, else ``None``.  Members at
        the same point of their epochs train together."""
        chosen = list(self.members if trainers is None else trainers)
        for t in chosen:
            if not t.mid_epoch:
                t.begin_epoch()
        groups: dict[int, list[Trainer]] = {}
        for t in chosen:
            groups.setdefault(t._pos, []).append(t)
        got: dict[int, EpochReport | None] = {}
        for group in groups.values():
            for t, report in zip(group, self._advance(group, until, batches), strict=True):
                got[id(t)] = report
        return [got[id(t)] for t in chosen]

    def _advance(
        self, chosen: list[Trainer], until: float | None, batches: int | None
    ) -> list[EpochReport | None]:
        rows = np.array([self.members.index(t) for t in chosen], np.intp)
        whole = len(rows) == len(self.members) and bool(np.all(rows == np.arange(len(rows))))
        a = self.arrays
        work = {k: (v[: len(rows)] if whole else v[rows]) for k, v in a.items()}
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            reports = self._slice(chosen, work, until, batches)
        if not whole:
            for name, arr in work.items():
                if name not in self._data:
                    a[name][rows] = arr
        return reports

    def _views(self, flat: Array) -> Views:
        k = flat.shape[0]
        out, offset = [], 0
        for n_in, n_out in self.shapes:
            w = flat[:, offset : offset + n_in * n_out].reshape(k, n_in, n_out)
            offset += n_in * n_out
            out.append((w, flat[:, offset : offset + n_out]))
            offset += n_out
        return out

    def _work(self, k: int, m: int) -> list[tuple[Array, Array, Array]]:
        """``(z, a, dx)`` buffers per layer for ``k`` members and batches of ``m``."""
        buf = self._buffers.get((k, m))
        if buf is None:
            if len(self._buffers) >= 8:
                self._buffers.pop(next(iter(self._buffers)))
            buf = [
                (
                    np.empty((k, m, n_out), self.dtype),
                    np.empty((k, m, n_out), self.dtype),
                    np.empty((k, m, n_in), self.dtype),
                )
                for n_in, n_out in self.shapes
            ]
            self._buffers[(k, m)] = buf
        return buf

    def layer_outputs(self, params: Array, x: Array) -> list[tuple[Array, Array]]:
        """Every layer's ``(z, a)``, each ``(k, n, units)``, for inputs ``x`` ``(k, n, n_in)``
        (or one ``(n, n_in)`` set for all ``k`` rows of ``params``); fresh arrays."""
        h, out = x, []
        for (w, b), act in zip(self._views(params), self.activations, strict=True):
            z = np.matmul(h, w)
            add_bias(z, b)
            h = act.forward(z)
            out.append((z, h))
        return out

    def _backprop(self, views: Views, gviews: Views, xb: Array, yb: Array, reg: Any) -> None:
        k, m = xb.shape[0], xb.shape[1]
        buf = self._work(k, m)
        inputs, h = [xb], xb
        for (w, b), act, (z, a, _) in zip(views, self.activations, buf, strict=True):
            np.matmul(h, w, out=z)
            add_bias(z, b)
            act.forward(z, out=a)
            inputs.append(a)
            h = a
        last = len(views) - 1
        z_l, a_l, _ = buf[last]
        delta = self.loss.delta(z_l, a_l, yb, self.activations[last])
        for i in range(last, -1, -1):
            (w, _), (gw, gb) = views[i], gviews[i]
            np.matmul(inputs[i].transpose(0, 2, 1), delta, out=gw)
            np.add.reduce(delta, axis=1, out=gb)
            reg(w, gw)
            if i > 0:
                dx = np.matmul(delta, w.transpose(0, 2, 1), out=buf[i][2])
                z_p, a_p, _ = buf[i - 1]
                delta = self.activations[i - 1].backward(z_p, a_p, dx)

    def _slice(
        self, chosen: list[Trainer], a: dict[str, Array], until: float | None, b: int | None
    ) -> list[EpochReport | None]:
        """Batches of members at the same point of their epochs (gathered a block of
        batches at a time, in each one's shuffled order), and their reports if it ended."""
        k, bs, lrs = len(chosen), self.batch, [t.optimizer.learning_rate for t in chosen]
        params, grads, x, y = a["params"], a["grads"], a["x"], a["y"]
        n, pos = x.shape[1], chosen[0]._pos
        order = np.stack([t._order for t in chosen if t._order is not None])
        views, gviews = self._views(params), self._views(grads)
        reg = row_regularizer(chosen, self.dtype)
        opt = row_optimizer(chosen, a, lrs)
        params_list, grads_list = [params], [grads]
        last = (n + bs - 1) // bs - 1
        end = n if b is None else min(n, pos + b * bs)
        done, stop = 0, False
        while pos < end and not stop:
            idx = order[:, pos : min(end, pos + 64 * bs)]
            xe = np.take_along_axis(x, idx.reshape(*idx.shape, *([1] * (x.ndim - 2))), axis=1)
            ye = np.take_along_axis(y, idx.reshape(*idx.shape, *([1] * (y.ndim - 2))), axis=1)
            for start in range(0, idx.shape[1], bs):
                self._backprop(
                    views, gviews, xe[:, start : start + bs], ye[:, start : start + bs], reg
                )
                if self.tracks and pos // bs == last:
                    np.copyto(a["before"], params)
                opt.step(params_list, grads_list)
                pos, done = min(n, pos + bs), done + 1
                if until is not None and pos < end and time.perf_counter() >= until:
                    stop = True
                    break
        for t in chosen:
            t.optimizer.t += done
            t._pos = pos
        if pos < n:
            return [None] * k
        for t in chosen:
            t._order = None
            t._pos = 0
        if self.tracks:
            np.subtract(params, a["before"], out=a["update"])
        return self._reports(chosen, a, lrs)  # type: ignore[return-value]

    def _reports(
        self, chosen: list[Trainer], a: dict[str, Array], lrs: list[float]
    ) -> list[EpochReport]:
        net0 = chosen[0].network
        params = a["params"]
        z, out = self.layer_outputs(params, a["x"])[-1]
        train_loss = self.loss.values(z, out, a["y"])
        test_loss = test_out = None
        if "x_test" in a and a["x_test"].shape[1]:
            zt, test_out = self.layer_outputs(params, a["x_test"])[-1]
            test_loss = self.loss.values(zt, test_out, a["y_test"])
        finite_w = np.ones(len(chosen), bool)
        for w, _ in self._views(params):
            finite_w &= np.isfinite(w).all(axis=(1, 2))
        classify = "labels" in a
        if classify:
            train_acc_all = np.mean(net0.labels(out) == a["labels"], axis=1)
            acc_all = train_acc_all
            if test_out is not None and "labels_test" in a:
                acc_all = np.mean(net0.labels(test_out) == a["labels_test"], axis=1)
        reports = []
        for i, t in enumerate(chosen):
            t.epoch += 1
            loss = float(train_loss[i])
            finite = math.isfinite(loss)
            tl = acc = train_acc = None
            if test_loss is not None and finite:
                tl = float(test_loss[i])
            if classify and finite:
                train_acc, acc = float(train_acc_all[i]), float(acc_all[i])
            report = EpochReport(t.epoch, loss, tl, acc, train_acc, float(lrs[i]))
            t.history.append(report)
            if not finite or not finite_w[i]:
                t.state = "diverged"
            elif t.max_epochs is not None and t.epoch >= t.max_epochs:
                t.state = "done"
            reports.append(report)
        return reports
