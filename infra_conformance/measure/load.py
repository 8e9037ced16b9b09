"""Locust run headless in a subprocess, and the engine's stats sampled while it runs.

Locust is never imported here: it patches the whole process with gevent.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from infra_conformance.engine.daemon import service_of
from infra_conformance.measure import dilated_load
from infra_conformance.measure.budgets import Window
from infra_conformance.measure.stats import memory_bytes

GRACE_S = 60  # beyond its own run time, before a locust run counts as hung


class LoadError(RuntimeError):
    """The load run gave no trustworthy statistics; the message says why."""


@dataclass
class LoadResult:
    users: int
    duration_s: int
    requests: int
    failures: int
    p95_ms: float
    p50_ms: float
    rps: float
    generator_cpu_percent: float
    returncode: int
    files: list[str] = field(default_factory=list)
    history: list[list[float]] = field(default_factory=list)  # seconds, users, req/s, p50, p95, p99, failures
    window: Window = field(default_factory=Window)  # contention and throttling meanwhile (fixtures/measuring.py)
    rate_limited: int = 0  # requests that failed with 429

    def dilated(self, factor: float) -> LoadResult:
        """As the emulated Pi would see it under time dilation: the latencies ``factor`` times as long, the request
        rate ``factor`` times lower.

        >>> LoadResult(1, 1, 10, 0, 20.0, 10.0, 6.0, 1.0, 0, history=[[0, 1, 6.0, 10, 20, 30, 0]]).dilated(2.0).history
        [[0, 1, 3.0, 20.0, 40.0, 60.0, 0]]
        """
        history = [[*row[:2], row[2] / factor, *(value * factor for value in row[3:6]), *row[6:]]
                   for row in self.history]
        return dataclasses.replace(self, p95_ms=self.p95_ms * factor, p50_ms=self.p50_ms * factor,
                                   rps=self.rps / factor, history=history)


def locust_argv(locustfile: Path, host: str, users: int, spawn_rate: float, run_time_s: int,
                prefix: Path, cpus: str = "", workers: int = 0, dilation: float = 1.0) -> list[str]:
    """The locust command line, pinned to ``cpus`` with taskset when given.

    ``workers`` > 0 runs locust's master with that many local worker processes
    (``--processes``); the CSV and HTML are the master's aggregate. ``dilation`` other than 1 loads
    ``dilated_load`` beside the locustfile, so that every user waits that many times less.
    """
    files = str(locustfile)
    if dilation != 1.0:
        if "," in files:
            raise LoadError(f"the locustfile's path has a comma, which locust reads as a second file: {files}")
        files += f",{dilated_load.__file__}"
    argv = [sys.executable, "-m", "locust", "-f", files, "--headless", "--host", host,
            "-u", str(users), "-r", str(spawn_rate), "-t", f"{run_time_s}s", "--reset-stats",
            "--csv", str(prefix), "--html", f"{prefix}.html", "--only-summary", "--loglevel", "WARNING",
            "--csv-full-history", "--exit-code-on-error", "0"]  # failed requests are the budget's to judge
    argv += ["--processes", str(workers)] if workers else []
    argv += [dilated_load.OPTION, f"{dilation:g}"] if dilation != 1.0 else []
    return (["taskset", "-c", cpus] if cpus and shutil.which("taskset") else []) + argv


def aggregated(stats_csv: Path) -> dict:
    """The ``Aggregated`` row of locust's ``*_stats.csv``."""
    with stats_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                return row
    raise LoadError(f"{stats_csv} has no Aggregated row")


def rate_limited(failures_csv: Path) -> int:
    """How many requests failed with status 429, from locust's ``*_failures.csv``."""
    if not failures_csv.is_file():
        return 0
    with failures_csv.open(newline="") as handle:
        return sum(int(row["Occurrences"]) for row in csv.DictReader(handle) if "429" in row["Error"])


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (and its reaped children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def history(path: Path) -> list[list[float]]:
    """The ``Aggregated`` rows of locust's ``*_stats_history.csv``: seconds from the first, users,
    requests/s, p50, p95, p99 (ms) and failures so far; rows without percentiles yet are left out."""
    rows = []
    if not path.is_file():
        return rows
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("Name") != "Aggregated" or "N/A" in (row["50%"], row["95%"], row["99%"]):
                continue
            rows.append([float(row["Timestamp"]), float(row["User Count"]), float(row["Requests/s"]),
                         float(row["50%"]), float(row["95%"]), float(row["99%"]), float(row["Total Failure Count"])])
    start = rows[0][0] if rows else 0.0
    return [[round(r[0] - start, 1), *r[1:]] for r in rows]


def run_locust(argv: list[str], env: dict, users: int, duration_s: int, prefix: Path,
               progress=None, every_s: float = 10.0) -> LoadResult:
    """Run locust with its output streamed to ``<prefix>.log``; LoadError when it breaks or hangs.

    ``progress(line)`` is called every ``every_s`` seconds with users, requests/s, p95 and failures.
    """
    run_time_s = float(argv[argv.index("-t") + 1].rstrip("s"))
    log = Path(f"{prefix}.log")
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(argv, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        cpu, deadline, told = 0.0, started + run_time_s + GRACE_S, started
        try:
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    cpu = process_cpu_seconds(process.pid)
                except (OSError, IndexError):
                    pass
                if progress and time.monotonic() - told >= every_s:
                    told = time.monotonic()
                    _tell(progress, Path(f"{prefix}_stats_history.csv"), told - started)
                time.sleep(0.5)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
                raise LoadError(f"locust did not finish within {run_time_s + GRACE_S:g} s (its output: {log})")
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise LoadError(f"locust exited {process.returncode}: {last_line(log)} (its output: {log})")
    stats = Path(f"{prefix}_stats.csv")
    if not stats.is_file():
        raise LoadError(f"locust wrote no statistics ({stats} is missing)")
    row = aggregated(stats)
    if int(row["Request Count"]) == 0:
        raise LoadError(f"locust made no request ({stats} counts 0)")
    return LoadResult(
        users=users, duration_s=duration_s, requests=int(row["Request Count"]), failures=int(row["Failure Count"]),
        p95_ms=float(row["95%"]), p50_ms=float(row["50%"]), rps=float(row["Requests/s"]),
        generator_cpu_percent=round(100 * cpu / elapsed, 1), returncode=process.returncode,
        files=sorted(str(p) for p in prefix.parent.glob(f"{prefix.name}*")),
        history=history(Path(f"{prefix}_stats_history.csv")), rate_limited=rate_limited(Path(f"{prefix}_failures.csv")))


def _tell(progress, history_csv: Path, elapsed_s: float) -> None:
    rows = history(history_csv)
    if rows:
        _, users, rps, _, p95, _, failures = rows[-1]
        progress(f"load {elapsed_s:.0f} s: {users:.0f} users, {rps:.1f} req/s, p95 {p95:.0f} ms, "
                 f"{failures:.0f} failures")


def last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


class StatsSampler:
    """Streams the engine's stats for every container of a project while a block runs.

    ``peak_mib`` is each service's highest memory (as ``docker stats`` counts it) over
    the whole block; ``cpu_cores`` is each service's average CPU use, in host cores,
    from ``cpu_after_s`` on (the load at full strength); ``gaps`` says which services'
    samples do not cover the whole block.
    """

    def __init__(self, containers: list, cpu_after_s: float = 0.0, tolerance_s: float = 5.0):
        self.containers = containers
        self.started = self.ended = time.monotonic()
        self.cpu_from = self.started + cpu_after_s
        self.tolerance_s = tolerance_s
        self.peak_mib: dict[str, float] = {}
        self.cpu_cores: dict[str, float] = {}
        self.seen: dict[str, tuple[float, float]] = {}
        self.memory_series: dict[str, list[list[float]]] = {}  # service -> [[seconds, MiB]]
        self.cpu_series: dict[str, list[list[float]]] = {}  # service -> [[seconds, host cores]]
        self._last_usage: dict[str, tuple[float, int]] = {}
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._follow, args=(c,), daemon=True) for c in containers]

    def __enter__(self) -> StatsSampler:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.ended = time.monotonic()
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def gaps(self, services) -> list[str]:
        """Why each of ``services`` lacks samples over the whole block; empty when none does."""
        found = []
        for service in sorted(services):
            if service not in self.seen:
                found.append(f"no samples from {service}")
                continue
            first, last = (moment - self.started for moment in self.seen[service])
            window = self.ended - self.started
            if first > self.tolerance_s or window - last > self.tolerance_s:
                found.append(f"samples from {service} cover only {first:.0f} to {last:.0f} s of the {window:.0f} s run")
        return found

    def _record(self, service: str, moment: float, mib: float, usage: int | None) -> None:
        at = round(moment - self.started, 1)
        self.memory_series.setdefault(service, []).append([at, round(mib, 1)])
        previous = self._last_usage.get(service)
        if usage is not None and previous and moment > previous[0]:
            self.cpu_series.setdefault(service, []).append(
                [at, round((usage - previous[1]) / 1e9 / (moment - previous[0]), 3)])
        if usage is not None:
            self._last_usage[service] = (moment, usage)

    def _follow(self, container) -> None:
        service = service_of(container)
        first = last = None
        for stats in container.stats(stream=True, decode=True):
            usage = stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage")
            moment = time.monotonic()
            self.seen[service] = (self.seen.get(service, (moment, moment))[0], moment)
            if usage is not None and moment >= self.cpu_from:
                first = first or (moment, usage)
                last = (moment, usage)
            mib = memory_bytes(stats) / 2**20
            self.peak_mib[service] = max(self.peak_mib.get(service, 0.0), mib)
            self._record(service, moment, mib, usage)
            if self._stop.is_set():
                break
        if first and last and last[0] > first[0]:
            self.cpu_cores[service] = (last[1] - first[1]) / 1e9 / (last[0] - first[0])
