"""--load-workers: locust's master with local workers; the master's count is the sum of what each worker sent."""

import json
import os

import pytest

from tests.conftest import ROOT

COUNTED = os.path.relpath(ROOT / "tests" / "load" / "counted_user.py", ROOT / "compose")


@pytest.mark.slow
@pytest.mark.timing  # its load judges BUD-04: beside five boots, the API's pool timed out one request in CI (p95 7.2 s)
def test_two_local_workers_add_up(run_suite):
    run = run_suite("--control", "BUD-04", "--load-workers", "2", "--pi-emulation", "off",
                    "--allow-outside-paths", "--profile-set", f'load.locustfile="{COUNTED}"',
                    "--profile-set", "load.users=8", "--profile-set", "load.spawn_rate=4",
                    "--profile-set", "load.duration_s=8",
                    # Only the request count is judged here, not the latency.
                    "--profile-set", "budgets.api_p95_ms=60000", "--max-contention", "1024")
    assert run.returncode == 0, run.tail()
    lines = [line for line in (run.reports / "locust.log").read_text().splitlines()
             if line.startswith("conformance-load-count ")]
    assert len(lines) == 1, (run.reports / "locust.log").read_text()[-2000:]
    counts = json.loads(lines[0].split(" ", 1)[1])
    assert len(counts["per_worker"]) == 2 and all(n > 0 for n in counts["per_worker"].values()), counts
    budget = next(b for b in run.summary["budgets"] if b["name"] == "API p95")
    assert sum(counts["per_worker"].values()) == counts["total"] == budget["details"]["requests"], counts
