"""A budget result: the measured value beside its limit, and the conditions it was measured under."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


def describe(conditions: dict) -> str:
    """``100 users, 60 s, Pi emulation`` from a budget's conditions.

    >>> describe({"users": 100, "duration_s": 60, "pi_emulation": True})
    '100 users, 60 s, Pi emulation'
    """
    parts = [f"{conditions['users']} users" if "users" in conditions else "",
             f"{conditions['duration_s']} s" if "duration_s" in conditions else "",
             "Pi emulation" if conditions.get("pi_emulation") else "no Pi emulation"]
    return ", ".join(p for p in parts if p)


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

    @classmethod
    def judge(cls, name: str, measured: float, limit: float, unit: str, conditions: dict,
              details: dict | None = None) -> Budget:
        passed = math.isfinite(measured) and measured < limit
        return cls(name, round(measured, 3), limit, unit, passed, conditions, details or {})

    @property
    def message(self) -> str:
        relation = "<" if self.passed else ">="
        return (f"{self.name} {self.measured:.3g} {self.unit} {relation} {self.limit:g} {self.unit} budget "
                f"({describe(self.conditions)})")

    def as_dict(self) -> dict:
        return asdict(self)
