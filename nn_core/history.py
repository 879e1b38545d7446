"""A run's curve in bounded memory: the recent epochs as they were, the older ones thinned.

A learner who leaves a tab training for an hour runs a million epochs; keeping every
epoch's report would grow without end (about 5 GB an hour for a process of learners).
A :class:`History` keeps the last ``recent`` reports exactly and, before them, an evenly
thinned curve of at most ``sampled`` reports: one every ``stride`` epochs, the stride
doubling (and every other kept report dropped) whenever the thinned part is full.  So it
never holds more than ``recent + sampled`` reports, its first report is always the run's
first, and a plot of it shows the whole run's shape.

    history = History(recent=3, sampled=4)
    for report in reports: history.append(report)
    history[-1]          # the last epoch's report
    list(history)        # the thinned past, then the last three, in epoch order
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")

#: Reports kept as they were, and at most as many again from the thinned past.
RECENT = 500
SAMPLED = 250


class History(Sequence[T]):
    """Reports in the order they were appended; see the module's docstring."""

    def __init__(self, recent: int = RECENT, sampled: int = SAMPLED) -> None:
        if recent < 1 or sampled < 2:
            raise ValueError("a history keeps at least 1 recent and 2 sampled reports")
        self.recent: deque[T] = deque(maxlen=recent)
        self.sampled: list[T] = []
        self.capacity = sampled
        #: Every ``stride``-th report that leaves the recent ones is kept.
        self.stride = 1
        #: Reports appended in all (how many epochs the history has seen).
        self.total = 0

    def append(self, report: T) -> None:
        recent = self.recent
        if len(recent) == recent.maxlen:
            gone = self.total - len(recent)  # the position of the report that leaves
            if gone % self.stride == 0:
                if len(self.sampled) == self.capacity:
                    del self.sampled[1::2]
                    self.stride *= 2
                if gone % self.stride == 0:
                    self.sampled.append(recent[0])
        recent.append(report)
        self.total += 1

    def clear(self) -> None:
        self.recent.clear()
        self.sampled.clear()
        self.stride, self.total = 1, 0

    def __len__(self) -> int:
        return len(self.sampled) + len(self.recent)

    def __iter__(self) -> Iterator[T]:
        yield from self.sampled
        yield from self.recent

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return list(self)[i]
        n, k = len(self), len(self.sampled)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("history index out of range")
        return self.sampled[i] if i < k else self.recent[i - k]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"History({self.total} reports, {len(self)} kept, stride {self.stride})"
