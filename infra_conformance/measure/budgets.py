"""The kinds of budget, and a budget result: the measured value beside its limit and the conditions it was
measured under."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

from infra_conformance.measure import throttling


@dataclass(frozen=True)
class Kind:
    """One kind of budget: its name in reports and baselines, its unit, the ``[budgets]`` key of its limit, how
    contention can blur it (``busy flatters`` CPU use, latency ``follows steal``), and the profile keys it needs to
    apply (a section, or a list in one), in the order its control skips on them. Adding a budget is one entry here,
    its limit key, and its control."""

    name: str
    unit: str
    limit_key: str
    contention: Literal["", "busy flatters", "follows steal"] = ""
    needs: tuple[str, ...] = ()

    def missing(self, profile) -> str | None:
        """The first key it needs that the profile lacks or leaves empty; None where the budget applies.

        >>> from pathlib import Path
        >>> from infra_conformance.profile.file import load_profile
        >>> profile = load_profile(Path("compose"))
        >>> API_P95.missing(profile), API_P95.missing(profile.model_copy(update={"api": None}))
        (None, 'api')
        """
        for key in self.needs:
            value = profile
            for part in key.split("."):
                value = getattr(value, part, None)
            if not value:
                return key
        return None

    @property
    def parts(self) -> str:
        """What it needs, as a profile reads it.

        >>> DB_QUERY_P95.parts
        '[postgres] and load.db_queries'
        """
        return " and ".join(written(key) for key in self.needs)


def written(key: str) -> str:
    """A profile key as a profile reads it: a section as ``[api]``, a key inside one as ``load.db_queries``."""
    return key if "." in key else f"[{key}]"


STARTUP = Kind("start-up", "s", "startup_s")
IDLE_MEMORY = Kind("idle memory", "MiB", "memory_mb")
# The load run goes through the gateway: what it measures needs [api] as well as [load].
LOAD_MEMORY = Kind("peak memory under load", "MiB", "memory_mb", needs=("api", "load"))  # the same ceiling as at idle
API_P95 = Kind("API p95", "ms", "api_p95_ms", "follows steal", needs=("api", "load"))
DB_QUERY_P95 = Kind("DB query p95", "ms", "db_query_p95_ms", "follows steal", needs=("postgres", "load.db_queries"))
CPU_UNDER_LOAD = Kind("CPU under load", "% of a Pi 4", "cpu_percent", "busy flatters", needs=("api", "load"))
KINDS = {kind.name: kind for kind in (STARTUP, IDLE_MEMORY, LOAD_MEMORY, API_P95, DB_QUERY_P95, CPU_UNDER_LOAD)}


@dataclass
class Window:
    """What the host and the CPU quotas did while a budget was measured, filled when the measurement ends: the
    contention (``measure.contention``) and each service's throttling (``measure.throttling``)."""

    contention: dict = field(default_factory=dict)
    throttling: dict = field(default_factory=dict)


def describe(conditions: dict) -> str:
    """``100 users, 60 s, Pi emulation`` from a budget's conditions, with the throttling and the contention
    measured meanwhile.

    >>> describe({"users": 100, "duration_s": 60, "pi_emulation": True})
    '100 users, 60 s, Pi emulation'
    >>> describe({"pi_emulation": True, "time_dilation": 2.225}), describe({"pi_emulation": True,
    ...                                                                     "emulation_method": "CFS quota"})
    ('Pi emulation by time dilation ×2.225', 'Pi emulation by CPU quota')
    >>> describe({"pi_emulation": True, "throttling": {"api": {"throttled_periods": 9, "throttled_share": 0.3,
    ...                                                         "throttled_s": 2.5}}})
    'Pi emulation, CPU quota froze api in 30 % of its periods (2.5 s)'
    >>> describe({"contention": {"summary": "...", "other_cores": 0.03, "stack_steal_share": 0.05, "blurred": True}})
    "no Pi emulation, other work 0.03 cores, 5 % of the stack's CPUs stolen (too much to compare run to run)"
    """
    contention = conditions.get("contention") or {}
    parts = [f"{conditions['users']} users" if "users" in conditions else "",
             f"{conditions['duration_s']} s" if "duration_s" in conditions else "",
             ("Pi emulation" + _method(conditions)) if conditions.get("pi_emulation") else "no Pi emulation"]
    if "throttling" in conditions:
        parts.append(throttling.describe(conditions["throttling"]))
    if "summary" in contention:  # measured here, not on a remote engine's host
        parts += [f"other work {contention['other_cores']:.2f} cores",
                  f"{contention['stack_steal_share'] * 100:.0f} % of the stack's CPUs stolen"
                  + (" (too much to compare run to run)" if contention.get("blurred") else "")]
    return ", ".join(p for p in parts if p)


def _method(conditions: dict) -> str:
    if "time_dilation" in conditions:
        return f" by time dilation ×{conditions['time_dilation']:g}"
    return " by CPU quota" if "emulation_method" in conditions else ""


@dataclass(frozen=True)
class Budget:
    """One budget's verdict: it passes only on a finite measurement below the limit.

    >>> Budget.judge("API p95", 42.0, 200, "ms", {"users": 100, "duration_s": 60, "pi_emulation": True}).message
    'API p95 42 ms < 200 ms budget (100 users, 60 s, Pi emulation)'
    """

    name: str
    measured: float
    limit: float
    unit: str
    passed: bool
    conditions: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    baseline: float | None = None
    max_regression_percent: float | None = None

    @classmethod
    def judge(cls, name: str, measured: float, limit: float, unit: str, conditions: dict,
              details: dict | None = None, baseline: float | None = None,
              max_regression_percent: float | None = None) -> Budget:
        """Passes on a finite value below the limit that, with a baseline and a maximum regression,
        is no more than that much worse than the baseline.

        >>> Budget.judge("API p95", 130, 200, "ms", {}, baseline=100, max_regression_percent=20).message
        'API p95 130 ms < 200 ms budget but 30 % worse than the baseline 100 ms (at most 20 %) (no Pi emulation)'
        """
        within = math.isfinite(measured) and measured < limit
        regressed = (baseline is not None and max_regression_percent is not None and baseline > 0
                     and (measured - baseline) / baseline * 100 > max_regression_percent)
        return cls(name, round(measured, 3), limit, unit, within and not regressed, conditions, details or {},
                   baseline, max_regression_percent)

    @property
    def within_limit(self) -> bool:
        return math.isfinite(self.measured) and self.measured < self.limit

    @property
    def regression_percent(self) -> float | None:
        return (self.measured - self.baseline) / self.baseline * 100 if self.baseline else None

    @property
    def uncertain(self) -> str:
        """Why the figure says as much about the emulation as about the stack (its conditions say); empty when not."""
        return self.conditions.get("uncertain", "")

    @property
    def result(self) -> str:
        """``pass``, ``FAIL``, or either with ``(uncertain)``, as the reports show it."""
        return ("pass" if self.passed else "FAIL") + (" (uncertain)" if self.uncertain else "")

    @property
    def message(self) -> str:
        relation = "<" if self.within_limit else ">="
        text = f"{self.name} {self.measured:.3g} {self.unit} {relation} {self.limit:g} {self.unit} budget"
        if self.within_limit and not self.passed:
            text += (f" but {self.regression_percent:.0f} % worse than the baseline {self.baseline:g} {self.unit} "
                     f"(at most {self.max_regression_percent:g} %)")
        text = f"{text} ({describe(self.conditions)})"
        return f"{text}; uncertain: {self.uncertain}" if self.uncertain else text

    def as_dict(self) -> dict:
        return {**asdict(self), "result": self.result}
