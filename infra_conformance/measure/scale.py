"""The suite's own cost per service: generated stacks of N small services, each booted and checked once.

    python -m infra_conformance.measure.scale --services 5,20,50 --reports-dir reports/scale

Each stack is N copies of one hardened idle service (an image built from the base image, a shell that sleeps, as
UID 65534), with a profile that lists them all. Each run is ``pytest suites -m "not load and not pi"
--pi-emulation off`` on it. From the run's JUnit file: boot is the first case's time (it includes the build and
``up``), controls are every other case. Writes ``scale.json`` and ``scale.md``; ``docs/scale.md`` keeps the
figures of a run on our machines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCKERFILE = """ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
USER 65534:65534
CMD ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"]
"""
BUILD = '    build: {context: ., args: {BASE_IMAGE: "${CONFORMANCE_BASE_IMAGE:-debian:bookworm-slim}"}}\n'
SERVICE = """  s{n}:
{source}    image: conformance-scale/idle:${{CONFORMANCE_IMAGE_TAG:-local}}
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    restart: unless-stopped
    logging: {{driver: json-file, options: {{max-size: "1m", max-file: "2"}}}}
    networks: [private]
    mem_limit: 16m
    cpus: 0.1
    pids_limit: 8
    healthcheck: {{test: ["CMD", "true"], interval: 10s, timeout: 2s, retries: 3}}
"""


def write_stack(folder: Path, services: int) -> None:
    """A compose file, its Dockerfile and a profile for ``services`` idle services."""
    (folder / "Dockerfile").write_text(DOCKERFILE)
    body = "".join(SERVICE.format(n=n, source=BUILD if n == 0 else "    pull_policy: never\n")  # one build
                   for n in range(services))
    (folder / "compose.yaml").write_text(f"services:\n{body}\nnetworks:\n  private:\n    internal: true\n")
    profile = [f'[stack]\nname = "scale-{services}"\ncompose_files = ["compose.yaml"]\n']
    profile += [f"[services.s{n}]\nuser = 65534\n" for n in range(services)]
    profile.append(f"[budgets]\nstartup_s = 600\nmemory_mb = {16 * services + 64}\n")
    (folder / "conformance.toml").write_text("\n".join(profile))


def one_run(services: int, reports: Path) -> dict:
    """Boot and check a generated stack of ``services`` services; the times the module describes."""
    with tempfile.TemporaryDirectory(prefix=f"conformance-scale-{services}-") as scratch:
        stack = Path(scratch)
        write_stack(stack, services)
        folder = reports / f"{services}-services"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                               "-m", "not load and not pi", "--pi-emulation", "off", "--stack-dir", str(stack),
                               "--reports-dir", str(folder), f"--junitxml={folder / 'junit.xml'}"],
                              cwd=ROOT, capture_output=True, text=True, env={**os.environ})
        wall = time.monotonic() - started
    cases = [float(case.get("time", 0)) for case in ET.parse(folder / "junit.xml").iter("testcase")]
    boot, controls = (cases[0], sum(cases[1:])) if cases else (0.0, 0.0)
    summary = json.loads((folder / "summary.json").read_text())
    return {"services": services, "exit": done.returncode, "verdict": summary["verdict"],
            "cases": len(cases), "wall_s": round(wall, 1), "boot_s": round(boot, 1),
            "controls_s": round(controls, 1), "controls_s_per_service": round(controls / services, 2)}


def render(runs: list[dict]) -> str:
    """``scale.md``: one row per stack, and the cost of each added service between consecutive sizes.

    >>> print(render([{"services": 5, "exit": 0, "verdict": "partial", "cases": 100, "wall_s": 30.0, "boot_s": 8.0,
    ...                "controls_s": 10.0, "controls_s_per_service": 2.0},
    ...               {"services": 20, "exit": 0, "verdict": "partial", "cases": 400, "wall_s": 60.0, "boot_s": 20.0,
    ...                "controls_s": 25.0, "controls_s_per_service": 1.25}]).splitlines()[-1])
    | 5 → 20 | 0.8 s | 1 s |
    """
    lines = ["| services | cases | exit | verdict | wall | boot | controls | controls per service |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['services']} | {r['cases']} | {r['exit']} | {r['verdict']} | {r['wall_s']:g} s | "
              f"{r['boot_s']:g} s | {r['controls_s']:g} s | {r['controls_s_per_service']:g} s |" for r in runs]
    lines += ["", "| added services | boot per added service | controls per added service |", "|---|---|---|"]
    for small, large in zip(runs, runs[1:], strict=False):
        added = large["services"] - small["services"]
        lines.append(f"| {small['services']} → {large['services']} | "
                     f"{(large['boot_s'] - small['boot_s']) / added:.2g} s | "
                     f"{(large['controls_s'] - small['controls_s']) / added:.2g} s |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", default="5,20,50", help="stack sizes, comma-separated (default 5,20,50)")
    parser.add_argument("--reports-dir", type=Path, default=ROOT / "reports" / "scale")
    args = parser.parse_args(argv)
    args.reports_dir.mkdir(parents=True, exist_ok=True)
    runs = [one_run(int(n), args.reports_dir) for n in args.services.split(",")]
    (args.reports_dir / "scale.json").write_text(json.dumps(runs, indent=2) + "\n")
    (args.reports_dir / "scale.md").write_text(render(runs))
    print(render(runs))
    return 0 if all(r["exit"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
