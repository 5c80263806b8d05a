"""Failure policy: per-sample failures are recorded and counted; too many of them stop the run.

A sample that cannot run because of its own input (missing or corrupt media, a prompt longer than the
model's context) is recorded with its reason and never scored. Many such failures usually mean a
systemic cause (a wrong data folder, a broken decoder), so the run stops (status ``failed``, exit 1,
records kept for ``--resume``) when more than ``max_failures`` of the planned samples failed (default 5%)
or ``max_consecutive`` samples in a row failed (default 20). A backend exception is systemic by
definition and stops the run at once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from oryx_eval.errors import RunFailedError, TaskConfigError

DEFAULT_MAX_FAILURES = "5%"
DEFAULT_MAX_CONSECUTIVE = 20


@dataclass(frozen=True)
class FailureBound:
    """How many failed samples a run tolerates (recorded with every session)."""

    max_failures: str = DEFAULT_MAX_FAILURES
    """A count (``"10"``) or a share of the planned samples (``"5%"``); more than this stops the run."""
    max_consecutive: int = DEFAULT_MAX_CONSECUTIVE
    """More failures than this in a row stop the run (0 disables the rule)."""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d+(\.\d+)?%|\d+", str(self.max_failures).strip()):
            raise TaskConfigError(
                f"--max-failures {self.max_failures!r}: expected a count (e.g. 10) or a percentage (e.g. 5%)"
            )
        if self.max_consecutive < 0:
            raise TaskConfigError(f"--max-consecutive-failures {self.max_consecutive}: expected >= 0")

    def limit(self, planned: int) -> int:
        """Failures allowed in a run of ``planned`` samples."""
        v = str(self.max_failures).strip()
        if v.endswith("%"):
            return math.floor(float(v[:-1]) / 100 * planned)
        return int(v)

    def describe(self, planned: int) -> str:
        v = str(self.max_failures).strip()
        return f"{v} of {planned} = {self.limit(planned)}" if v.endswith("%") else v


class FailureTracker:
    """Counts failures as records are written and raises ``RunFailedError`` past the bound."""

    def __init__(self, bound: FailureBound, planned: int, failed: int = 0) -> None:
        self.bound = bound
        self.planned = planned
        self.failed = failed
        self.consecutive = 0

    def add(self, failed: bool) -> None:
        """Account for one record; raises when the bound is exceeded."""
        if not failed:
            self.consecutive = 0
            return
        self.failed += 1
        self.consecutive += 1
        self.check()
        mc = self.bound.max_consecutive
        if mc and self.consecutive > mc:
            raise RunFailedError(
                f"{self.consecutive} samples failed in a row (more than --max-consecutive-failures {mc})"
            )

    def check(self) -> None:
        """Raise when more samples failed than the bound allows."""
        if self.failed > self.bound.limit(self.planned):
            raise RunFailedError(
                f"{self.failed} of {self.planned} samples failed (more than --max-failures "
                f"{self.bound.describe(self.planned)})"
            )
