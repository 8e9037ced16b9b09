"""Waivers: known deviations a team accepts, each with a reason and an expiry date, read from ``waivers.toml``.

    [[waiver]]
    control = "CTR-01"        # required
    case = "api"              # optional: one case of the control
    reason = "vendor image runs as root until 2.0; tracked in OPS-12"   # required, non-empty
    expires = 2027-03-31      # required, a TOML date

A waived case still runs; a failure under a live waiver does not fail the run, an expired waiver does.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from infra_conformance.errors import UsageProblem, printable
from infra_conformance.profile.schema_errors import problem
from infra_conformance.profile.toml import read_toml

FILE_NAME = "waivers.toml"
WAIVED = "waived until "  # the skip reason of a waived failure, as JUnit shows it


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    control: Annotated[str, Field(pattern=r"^[A-Z]{2,5}-\d{2}$")]
    case: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
    expires: Annotated[datetime.date, Strict()]  # a TOML date, not a string that looks like one

    @property
    def label(self) -> str:
        return self.control + (f"[{self.case}]" if self.case else "")

    def covers(self, control: str, case: str | None) -> bool:
        return control == self.control and self.case in (None, case)

    def expired(self, today: datetime.date) -> bool:
        return self.expires < today

    def as_dict(self) -> dict:
        return {"control": self.control, "case": self.case, "reason": self.reason, "expires": self.expires.isoformat()}


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    waiver: tuple[Waiver, ...] = ()


def load(path: Path) -> tuple[Waiver, ...]:
    """The file's waivers; anything else in it, or a waiver without a reason or a date, is a UsageProblem."""
    data = read_toml(path)
    try:
        return WaiverFile.model_validate(data).waiver
    except ValidationError as error:
        raise UsageProblem(f"{printable(str(path), 200, quote=False)}: {problem(error, WaiverFile)}") from None


def unknown(waivers: tuple[Waiver, ...], cases: dict[str, set[str | None]]) -> list[str]:
    """The waivers that name a control or a case the suite does not have (``cases``: control ID -> its cases).

    >>> unknown((Waiver(control="CTR-01", case="web", reason="r", expires=datetime.date(2030, 1, 1)),),
    ...         {"CTR-01": {"api"}})
    ['CTR-01[web]: the control has no such case (it has: api)']
    """
    found = []
    for waiver in waivers:
        if waiver.control not in cases:
            found.append(f"{waiver.label}: no such control")
        elif waiver.case is not None and waiver.case not in cases[waiver.control]:
            known = ", ".join(sorted(c for c in cases[waiver.control] if c)) or "no cases"
            found.append(f"{waiver.label}: the control has no such case (it has: {known})")
    return found


def live_for(waivers: tuple[Waiver, ...], control: str, case: str | None, today: datetime.date) -> Waiver | None:
    """The waiver that covers a case today, if any: an expired one covers nothing."""
    return next((w for w in waivers if w.covers(control, case) and not w.expired(today)), None)


def reason_line(waiver: Waiver, found: str) -> str:
    """The skip reason of a waived failure: the waiver, then what the case found.

    >>> waiver = Waiver(control="CTR-01", reason="vendor image", expires=datetime.date(2027, 3, 31))
    >>> reason_line(waiver, "api: runs as 0")
    'waived until 2027-03-31: vendor image; found: api: runs as 0'
    """
    return f"{WAIVED}{waiver.expires.isoformat()}: {waiver.reason}; found: {found}"


def review(waivers: tuple[Waiver, ...], outcomes: dict[tuple[str, str | None], str],
           today: datetime.date) -> dict[str, list[dict]]:
    """Expired waivers (they fail the run), and stale ones: every case they cover ran and none failed.

    ``outcomes``: (control, case) -> outcome of each case this run decided.
    """
    expired = [w.as_dict() for w in waivers if w.expired(today)]
    stale = []
    for waiver in waivers:
        covered = [o for (control, case), o in outcomes.items() if waiver.covers(control, case)]
        if covered and not waiver.expired(today) and all(o == "passed" for o in covered):
            stale.append(waiver.as_dict())
    return {"expired": expired, "stale": stale}
