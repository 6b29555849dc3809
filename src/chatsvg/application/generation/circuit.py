"""A circuit breaker around the model provider, one per worker process.

    closed ──threshold provider faults in a row──▶ open ──cooldown──▶ half-open
      ▲                                             ▲                    │
      └───────────── the probe's call answers ──────┼────────────────────┤
                                                    └── the probe fails ─┘

Closed, every attempt may call the model. After `threshold` transient provider faults in a row
(rate limited, unavailable, timed out) it opens for `cooldown` seconds: attempts arriving
meanwhile are held back in the queue without being claimed, so a dead provider does not burn
every job's attempts at once. Then one attempt is let through as a probe (half-open): if the model
answers, the circuit closes; if the probe fails, it opens again.

Every admitted attempt carries a `Permit`, and every permit ends: with a verdict on the model's
answer (`succeeded`, `failed`) or, when the attempt never asked the model or crashed before it
could tell (the job was not claimable, the database was away), with `release`. A probe whose
attempt ends without a verdict gives its place back, so the next attempt probes instead; nothing
can leave the breaker waiting for a probe that will never report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatsvg.application.ports import Clock

log = logging.getLogger(__name__)


@dataclass
class Permit:
    """One attempt's leave to call the model; `probe` when it is the half-open circuit's test."""

    probe: bool
    settled: bool = False


class ProviderCircuit:
    def __init__(self, clock: Clock, *, threshold: int = 5, cooldown: float = 10.0) -> None:
        self._clock = clock
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self._failures = 0  # provider faults in a row while closed
        self._open_until: datetime | None = None  # None: closed
        self._probe_out = False

    @property
    def state(self) -> str:
        if self._open_until is None:
            return "closed"
        return "open" if self._open_until > self._clock.now() else "half-open"

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def admit(self) -> Permit | float:
        """A permit when the attempt may go ahead; otherwise how many seconds to hold it back."""
        if self._open_until is None:
            return Permit(probe=False)
        remaining = (self._open_until - self._clock.now()).total_seconds()
        if remaining > 0:
            return remaining
        if self._probe_out:
            return self.cooldown / 4  # one probe at a time; the others wait for its verdict
        self._probe_out = True
        log.info("provider circuit half-open: probing")
        return Permit(probe=True)

    def succeeded(self, permit: Permit) -> None:
        """The model answered (whatever it answered): the provider is up."""
        if permit.settled:
            return
        permit.settled = True
        if permit.probe:
            self._probe_out = False
        self._failures = 0
        if self._open_until is not None:
            self._open_until = None
            log.info("provider circuit closed")

    def failed(self, permit: Permit) -> None:
        """The call failed in a way that speaks of the provider (rate limit, outage, timeout)."""
        if permit.settled:
            return
        permit.settled = True
        if permit.probe:
            self._probe_out = False
            self._open(reason="the probe failed")
            return
        if self._open_until is not None:
            return  # already open: a call admitted before it opened, reporting late
        self._failures += 1
        if self._failures >= self.threshold:
            self._open(reason=f"{self._failures} provider faults in a row")

    def release(self, permit: Permit) -> None:
        """The attempt ended without a verdict on the provider. Always safe to call last."""
        if permit.settled:
            return
        permit.settled = True
        if permit.probe:
            self._probe_out = False

    def _open(self, *, reason: str) -> None:
        self._failures = 0
        self._open_until = self._clock.now() + timedelta(seconds=self.cooldown)
        log.warning("provider circuit opened", extra={"reason": reason, "cooldown": self.cooldown})
