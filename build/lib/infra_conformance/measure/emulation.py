"""Raspberry Pi 4 emulation: CPU quotas that give each service a Pi 4's per-core speed.

Calibration: ``sysbench cpu --cpu-max-prime=10000`` (sysbench 1.0.20) is published for
the Raspberry Pi 4 at 1478 events/s on one thread and 5901 on four (leoncode.co.uk,
"Raspberry Pi CPU Benchmarks"). The suite runs the same benchmark here; the ratio of
the single-thread figures says how many Pi 4 cores one host core is worth, and each
service's CPU limit is divided by it. One short run can read 15 % off on a shared
machine, so the calibration is the median of ``CALIBRATION_RUNS`` one-second runs, repeated
up to ``CALIBRATION_ROUNDS`` times until their spread is within ``CALIBRATION_SPREAD``;
``--pi-host-score`` fixes it for runs that must emulate the same Pi.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PI4_EVENTS_PER_S_1_THREAD = 1478.0
PI4_CORES = 4
PI4_SOURCE = "sysbench 1.0.20 cpu, max prime 10000: Raspberry Pi 4 1478 events/s (leoncode.co.uk)"
METHOD = "CFS quota, 100 ms period"  # docs/budgets.md compares it with the others


class EmulationError(RuntimeError):
    pass


def is_raspberry_pi(model_file: Path = Path("/proc/device-tree/model")) -> bool:
    try:
        return "Raspberry Pi" in model_file.read_text(errors="ignore")
    except OSError:
        return False


CALIBRATION_RUNS = 5
CALIBRATION_ROUNDS = 3
CALIBRATION_SPREAD = 0.05  # (max - min) / median of one round's runs


@dataclass(frozen=True)
class Calibration:
    """This host's single-thread score, the runs it is the median of, and how far they spread."""

    events_per_s: float
    runs: tuple[float, ...] = ()
    source: Literal["measured", "given", "a Raspberry Pi"] = "measured"

    @property
    def spread(self) -> float:
        """(max - min) / median of the runs.

        >>> Calibration(4000, (3900, 4000, 4100)).spread
        0.05
        """
        return (max(self.runs) - min(self.runs)) / self.events_per_s if self.runs else 0.0

    def conditions(self) -> dict:
        return {"host_sysbench_events_per_s": round(self.events_per_s, 1),
                "calibration_runs": [round(r) for r in self.runs], "calibration_spread": round(self.spread, 3),
                "calibration": CALIBRATIONS[self.source]}


CALIBRATIONS = {"measured": PI4_SOURCE, "given": "given with --pi-host-score",
                "a Raspberry Pi": "none: a Raspberry Pi, so one Pi core per core"}


def calibrate(score: float | None = None, on_a_pi: bool = False) -> Calibration:
    """The median of ``CALIBRATION_RUNS`` short runs, in up to ``CALIBRATION_ROUNDS`` rounds until their spread is
    within ``CALIBRATION_SPREAD`` (the steadiest round otherwise); ``score`` instead, when given; on a Raspberry Pi,
    none is needed.

    >>> calibrate(on_a_pi=True).events_per_s == PI4_EVENTS_PER_S_1_THREAD
    True
    """
    if score is not None:
        return Calibration(score, source="given")
    if on_a_pi:
        return Calibration(PI4_EVENTS_PER_S_1_THREAD, source="a Raspberry Pi")
    rounds = []
    for _ in range(CALIBRATION_ROUNDS):
        runs = tuple(host_events_per_s(1) for _ in range(CALIBRATION_RUNS))
        rounds.append(Calibration(statistics.median(runs), runs))
        if rounds[-1].spread <= CALIBRATION_SPREAD:
            break
    return min(rounds, key=lambda found: found.spread)


def host_events_per_s(seconds: int = 1) -> float:
    """This host's single-thread sysbench cpu score over ``seconds``, the figure the Pi 4's is compared with."""
    if not shutil.which("sysbench"):
        raise EmulationError("sysbench is not installed; run scripts/setup.sh, or pass --pi-emulation=off")
    out = subprocess.run(["sysbench", "cpu", "--cpu-max-prime=10000", "--threads=1", f"--time={seconds}", "run"],
                         capture_output=True, text=True, check=True).stdout
    match = re.search(r"events per second:\s+([\d.]+)", out)
    if not match:
        raise EmulationError("could not read sysbench's events per second")
    return float(match.group(1))


@dataclass(frozen=True)
class Plan:
    """How the stack and the load generator share this host, and how fast a core is."""

    enabled: bool
    pi_cores_per_host_core: float
    calibration: Calibration
    stack_cpus: str = ""
    load_cpus: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def conditions(self) -> dict:
        native = "natively on a Raspberry Pi" if self.calibration.source == "a Raspberry Pi" else "at the host's speed"
        return {"pi_emulation": self.enabled, "measured": "emulated" if self.enabled else native,
                **({"emulation_method": METHOD} if self.enabled else {}),
                "pi_cores_per_host_core": round(self.pi_cores_per_host_core, 2), **self.calibration.conditions(),
                "stack_cpus": self.stack_cpus or "all", "load_cpus": self.load_cpus or "all"}


def split_cpus(count: int) -> tuple[str, str]:
    """(stack, load generator) CPU lists: the generator gets CPU 0, the stack up to four others.

    >>> split_cpus(2)
    ('1', '0')
    >>> split_cpus(8)
    ('1-4', '0')
    """
    if count < 2:
        return "", ""
    last = min(count - 1, PI4_CORES)
    return (f"1-{last}" if last > 1 else "1"), "0"


def plan(enabled: bool, service_cpus: dict[str, float], calibration: Calibration, cpu_count: int | None = None
         ) -> Plan:
    """Scale each service's CPU limit to Pi 4 speed and pin the stack away from the generator.

    ``service_cpus`` is each service's CPU limit in Pi 4 cores (its compose ``cpus``,
    1.0 where it has none). The overlay reads PI_CPUS_<SERVICE> and PI_CPUSET.
    """
    ratio = calibration.events_per_s / PI4_EVENTS_PER_S_1_THREAD
    if not enabled:
        return Plan(False, ratio, calibration)
    stack, load = split_cpus(cpu_count or os.cpu_count() or 1)
    scale = max(ratio, 1.0)  # a host slower than a Pi is left at its own speed
    env = {f"PI_CPUS_{name.upper().replace('-', '_')}": f"{cpus / scale:.3f}" for name, cpus in service_cpus.items()}
    env["PI_CPUSET"] = stack or "0"
    return Plan(True, ratio, calibration, stack, load, env)
