"""The health verdict of a run: decided over a window of health samples, with hysteresis.

:func:`nn_core.health.diagnose` judges one frame's figures.  Those swing from frame to
frame: the update ratio is that of the epoch's last mini-batch alone (exactly 0 when that
batch gave the weights no gradient), and a gradient share near a threshold crosses it
back and forth.  A learner needs one diagnosis that stays put while the cause stays:

    watch = HealthWatch(chance_loss(net, trainer.y_train))
    d = watch.observe(trainer.epoch, h)  # h: the Health of each frame, in order
    d.code, d.figures, d.also, watch.ratios  # ratios: each layer's largest recent step

The rules, over the last :data:`WINDOW` samples (a step back in epochs, e.g. an edit,
replaces the samples it overtakes):

* figures: each layer's *recent step* is the largest of its update ratios in the window
  (the figure the page's table shows: a single frame's may be exactly 0, when the last
  batch gave the weights no gradient); the gradient share is the median of layer 1's
  gradient norm over the output layer's; dead and saturated counts are the latest;
* in order, the first that holds is the candidate: ``diverged`` (a gradient that is not
  a number), ``exploding`` (a norm above :data:`~nn_core.health.EXPLODING_NORM`); large
  steps (a recent step above :data:`~nn_core.health.LARGE_STEP`, ten times the healthy
  band's top) are the *root cause*
  of what comes with them: with dead units the code is ``dead`` and ``also`` names
  ``steps_too_large``; otherwise the code is ``steps_too_large`` and ``also`` names the
  saturation or vanishing gradient they cause; then ``dead``, ``vanishing``,
  ``saturated``, ``stuck`` (a hidden rectifier layer all off on points of more than one
  class, :func:`~nn_core.health.stuck_layer`), ``steps_too_small`` (every recent step under
  :data:`~nn_core.health.SMALL_STEP`), ``not_learning`` (the loss not yet
  :data:`CHANCE_MARGIN` below :func:`chance_loss`), and only then ``healthy``;
* hysteresis: the verdict shown changes only when one candidate was found in
  :data:`HOLD` samples in a row (``diverged`` and ``exploding`` at once, and any verdict
  shown before the run's first step is replaced by the first after it, "healthy" as
  soon as any of it is untrue, and a verdict by its cause as soon as it is found), and
  a shown
  verdict's threshold is :data:`EXIT` times looser while it is shown (a share must
  double, a step halve, ...), so a figure that hovers at a threshold does not flip it.
  The shown verdict's figures are always the latest window's.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from nn_core.health import (
    EXPLODING_NORM,
    LARGE_STEP,
    SMALL_STEP,
    VANISHING_SHARE,
    Code,
    Health,
    stuck_layer,
)
from nn_core.losses import one_hot
from nn_core.model import Network
from nn_core.types import Array

#: Health samples (frames) a verdict is decided over.
WINDOW = 24
#: Samples in a row a new candidate must be found before it replaces the shown verdict.
HOLD = 8
#: How much looser the shown verdict's own threshold is (hysteresis).
EXIT = 2.0
#: The loss has left chance when it is this fraction below :func:`chance_loss`.
CHANCE_MARGIN = 0.05
#: Verdicts that are shown at once, without :data:`HOLD`.
SEVERE: tuple[Code, ...] = ("diverged", "exploding")


def chance_loss(net: Network, y: Array) -> float:
    """The loss of the best constant guess, scored by ``net``'s own loss on targets ``y``.

    Every output is set to the targets' mean over the points: the class shares for a
    classifier, the mean value for a regression (the constant that minimises each of
    the cross-entropies and squared errors).  Two classes with shares ``p, 1 - p`` give
    ``-(p ln p + (1 - p) ln(1 - p))``, ``ln 2 = 0.693`` when even; the squared error
    gives the targets' variance.
    """
    t = np.asarray(net._target(y))
    if t.ndim == 1 and net.loss_name == "cross_entropy":  # integer labels
        t = one_hot(t, net.sizes[-1], np.float64)
    t = t.astype(np.float64).reshape(t.shape[0], -1)
    a = np.broadcast_to(t.mean(axis=0), t.shape).copy()
    p = np.clip(a, 1e-12, 1 - 1e-12)
    out = net.output_activation
    z = np.log(p / (1 - p)) if out == "sigmoid" else np.log(p) if out == "softmax" else a
    return float(net.loss_fn.value(z, a, t))


@dataclass(frozen=True)
class Diagnosis:
    """A verdict and its figures, the latest window's.

    ``figures`` by code: ``exploding``: ``layer`` (0-based) and its ``grad_norm``;
    ``dead``: ``layer`` (the one with most), its ``dead`` of ``units`` and ``total`` dead
    units; ``vanishing``: ``first`` and ``output``, the gradient norms of layer 1 and
    the output layer; ``saturated``: ``layer``, its ``saturated`` of ``units``; ``stuck``:
    ``layer``, its ``silent`` and ``silent_other`` of ``points`` (the latest);
    ``steps_too_large``/``steps_too_small``: ``layer`` and its recent ``update_ratio``
    (the largest; for ``dead`` with large steps these too); ``not_learning``: ``loss``
    and ``chance``.  ``also``: what the code explains or comes with (see the module).
    """

    code: Code
    figures: dict[str, float] = field(default_factory=dict)
    activations: tuple[str, ...] = ()
    also: tuple[Code, ...] = ()


@dataclass(frozen=True)
class _Sample:
    epoch: int
    health: Health
    share: float  # layer 1's gradient norm over the output layer's (NaN if not one)


def _share_of(h: Health) -> float:
    g = [x.grad_norm for x in h.layers]
    if len(g) > 1 and g[-1] > 0 and math.isfinite(g[0]):
        return g[0] / g[-1]
    return math.nan


@dataclass
class HealthWatch:
    """One run's health verdict over time (see the module for its rules); reset with a
    new run.  ``chance`` is :func:`chance_loss` of the run's training set."""

    chance: float
    samples: deque[_Sample] = field(default_factory=lambda: deque(maxlen=WINDOW))
    shown: Diagnosis | None = None
    #: The largest update ratio of each layer over the window (NaN before a step).
    ratios: list[float] = field(default_factory=list)
    _pending: Code | None = None
    _count: int = 0
    #: The shown verdict saw a step (before one, it is provisional: the next replaces it).
    _stepped: bool = False
    _median_share: float = math.nan

    def observe(self, epoch: int, h: Health) -> Diagnosis:
        """Add one sample (the health at ``epoch``) and return the verdict to show."""
        while self.samples and self.samples[-1].epoch >= epoch:
            self.samples.pop()
        self.samples.append(_Sample(epoch, h, _share_of(h)))
        self.ratios = self._ratios()
        self._median_share = self._share()
        shown = self.shown.code if self._stepped and self.shown is not None else None
        candidate = self._judge(shown)
        # "healthy" is kept no longer than all of it is true
        lapsed = shown == "healthy"
        # finding the cause of what is shown is no change of mind
        cause = shown in candidate.also
        if shown is None or lapsed or cause or candidate.code in (shown, *SEVERE):
            self._pending, self._count = None, 0
            self.shown = candidate
            self._stepped = bool(self._step())
            return candidate
        if candidate.code == self._pending:
            self._count += 1
        else:
            self._pending, self._count = candidate.code, 1
        if self._count >= HOLD:
            self._pending, self._count = None, 0
            self.shown = candidate
        else:
            self.shown = self._describe(shown, shown)
        return self.shown

    # ------------------------------------------------------------ figures
    def _ratios(self) -> list[float]:
        """Each layer's largest finite update ratio in the window (plain Python: a few
        dozen numbers, cheaper than NumPy's overhead, once per frame)."""
        out = []
        for li in range(len(self.samples[-1].health.layers)):
            ok = [
                r
                for s in self.samples
                if li < len(s.health.layers)
                and math.isfinite(r := s.health.layers[li].update_ratio)
            ]
            out.append(max(ok) if ok else math.nan)
        return out

    def _share(self) -> float:
        """The window's median of layer 1's gradient norm over the output layer's."""
        shares = [s.share for s in self.samples if math.isfinite(s.share)]
        return statistics.median(shares) if shares else math.nan

    def _step(self) -> dict[str, float]:
        """The layer with the largest recent step, and that step."""
        ok = [(r, li) for li, r in enumerate(self.ratios) if math.isfinite(r)]
        if not ok:
            return {}
        r, li = max(ok)
        return {"layer": li, "update_ratio": r}

    # ------------------------------------------------------------ the rules
    def _holds(self, code: Code, shown: Code | None) -> bool:
        h = self.samples[-1].health
        loose = EXIT if code == shown else 1.0
        hidden = h.layers[:-1]
        if code == "dead":
            return sum(x.dead for x in h.layers) > 0
        if code == "saturated":
            return sum(x.saturated for x in hidden) > 0
        if code == "vanishing":
            return self._median_share < VANISHING_SHARE * loose
        if code == "stuck":
            return stuck_layer(h.layers, h.n_points, loose) is not None
        step = self._step()
        if code == "steps_too_large":
            return bool(step) and step["update_ratio"] > LARGE_STEP / loose
        if code == "steps_too_small":
            return bool(step) and step["update_ratio"] < SMALL_STEP * loose
        if code == "not_learning":
            return not h.loss < self.chance * (1 - CHANCE_MARGIN * loose)
        return False

    def _judge(self, shown: Code | None) -> Diagnosis:
        h = self.samples[-1].health
        norms = [x.grad_norm for x in h.layers]
        if not all(math.isfinite(v) for v in norms):
            return Diagnosis("diverged")
        if max(norms) > EXPLODING_NORM:
            return self._describe("exploding", shown)
        if self._holds("steps_too_large", shown) and not self._holds("dead", shown):
            return self._describe("steps_too_large", shown)
        order: tuple[Code, ...] = (
            "dead",
            "vanishing",
            "saturated",
            "stuck",
            "steps_too_small",
            "not_learning",
        )
        for code in order:
            if self._holds(code, shown):
                return self._describe(code, shown)
        return Diagnosis("healthy")

    def _describe(self, code: Code, shown: Code | None) -> Diagnosis:
        """``code`` with the latest window's figures (whether or not it still holds)."""
        h = self.samples[-1].health
        layers = h.layers
        if code == "exploding":
            norms = [x.grad_norm for x in layers]
            top = max(range(len(norms)), key=lambda i: norms[i])
            return Diagnosis(code, {"layer": top, "grad_norm": norms[top]})
        if code == "dead":
            top = max(range(len(layers)), key=lambda i: layers[i].dead)
            figures: dict[str, float] = {
                "layer": top,
                "dead": layers[top].dead,
                "units": layers[top].units,
                "total": sum(x.dead for x in layers),
            }
            large = self._holds("steps_too_large", shown)
            if large:
                step = self._step()
                figures |= {"step_layer": step["layer"], "update_ratio": step["update_ratio"]}
            names = tuple(dict.fromkeys(x.activation for x in layers if x.dead))
            also: tuple[Code, ...] = ("steps_too_large",) if large else ()
            return Diagnosis(code, figures, names, also)
        if code == "vanishing":
            return Diagnosis(code, {"first": layers[0].grad_norm, "output": layers[-1].grad_norm})
        if code == "saturated":
            hidden = layers[:-1]
            top = max(range(len(hidden)), key=lambda i: hidden[i].saturated, default=0)
            lay = hidden[top] if hidden else layers[0]
            figs: dict[str, float] = {"layer": top, "saturated": lay.saturated, "units": lay.units}
            return Diagnosis(code, figs, (lay.activation,))
        if code == "stuck":
            hidden = layers[:-1] or layers
            top = max(range(len(hidden)), key=lambda i: hidden[i].silent_other)
            lay = layers[top]
            figures = {"layer": top, "silent": lay.silent, "silent_other": lay.silent_other}
            return Diagnosis(code, {**figures, "points": h.n_points}, (lay.activation,))
        if code in ("steps_too_large", "steps_too_small"):
            effects: tuple[Code, ...] = ("saturated", "vanishing")
            caused: tuple[Code, ...] = ()
            if code == "steps_too_large":
                caused = tuple(c for c in effects if self._holds(c, shown))
            flat = [x.activation for x in layers[:-1] if x.saturated]
            return Diagnosis(code, self._step(), tuple(dict.fromkeys(flat)), caused)
        if code == "not_learning":
            return Diagnosis(code, {"loss": h.loss, "chance": self.chance, **self._step()})
        return Diagnosis(code)
