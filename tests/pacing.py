"""Checking politeness from a loopback server's log without trusting the machine to be idle.

The pacer promises *start slots* one interval apart and that no request is released before
its slot; it cannot promise the gaps the server sees: on a busy machine a request released
on time may reach the server late while the next one is on time, and the two arrive closer
than the interval. A raw "smallest gap >= interval - tolerance" check on the server's log
therefore fails under load whatever the tolerance. What does hold, on any machine: the
server logs an arrival (``time.monotonic()``, the pacer's clock, same process) after the
client released the request, hence after its slot. Sorted, the i-th arrival is never
before the i-th slot, and the slots are an interval apart, so the j-th arrival is at least
``(j - i) * interval`` after the i-th slot: the site never gets ahead of the schedule.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from scrapers.politeness import RequestPacer


class RecordingPacer(RequestPacer):
    """A :class:`RequestPacer` that records every start slot it hands out."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.slots: list[float] = []

    def _take_slot(self, host: str, now: float) -> float:
        slot = super()._take_slot(host, now)
        self.slots.append(slot)
        return slot


def assert_arrivals_keep_the_schedule(
    arrivals: Sequence[float], pacer: RecordingPacer, interval: float
) -> None:
    """Each request took one slot, the slots are ``interval`` apart, and no arrival at the
    server came before its slot (see the module docstring). No tolerance is needed."""
    slots = sorted(pacer.slots)
    assert len(slots) == len(arrivals), (len(slots), len(arrivals))
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert all(g >= interval - 1e-9 for g in gaps), (interval, gaps)
    early = [(a, s) for a, s in zip(sorted(arrivals), slots, strict=True) if a < s]
    assert not early, f"requests arrived before their start slots: {early}"
