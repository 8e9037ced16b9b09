"""Hostile options and profiles through the real command line: one line, exit 4, nothing left behind."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FIFO_DIR = Path(tempfile.mkdtemp(prefix="hostile-"))
os.mkfifo(FIFO_DIR / "conformance.toml")
(FIFO_DIR / "file").write_text("x")

OPTIONS = {
    "--startup-timeout": ["abc", "-1", "0", "nan", "inf", "1e9", "\uff11\uff12", "99999", ""],
    "--pi-emulation": ["bogus", "", "ON", "on;touch /tmp/pwned"],
    "--compose-file": ["no/such.yaml", str(FIFO_DIR), "/dev/null", "$(touch /tmp/pwned).yaml"],
    "--stack-dir": ["no/such/dir", str(FIFO_DIR / "file"), str(FIFO_DIR), "/etc"],
    "--profile-set": ["=5", "a", "postgres.nosuch=1", "x..y=1", "stack.name.x=1", "budgets.api_p95_ms=nan",
                      "api.login_burst=2e9", "load.spawn_rate=0", "services.gateway=1", "secrets=['../x']",
                      "stack.name='a\\nb'", "postgress.port=1", "stack.name=\"$(touch /tmp/pwned)\""],
    "--reports-dir": [str(FIFO_DIR / "file"), "/dev/null"],
    "--baseline": [str(FIFO_DIR / "file"), "no/such.json", str(FIFO_DIR), "/dev/null"],
    "--max-regression": ["5", "nan", "-1", "abc"],
}
CASES = [(option, value) for option, values in OPTIONS.items() for value in values]


def _run(option: str, value: str, tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                           f"{option}={value}"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(tmp)})


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every case, two at a time, with a private TMPDIR; and whatever they left in it."""
    tmp = tmp_path_factory.mktemp("tmpdir")
    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(CASES, pool.map(lambda case: _run(*case, tmp), CASES), strict=True))
    return done, set(glob.glob(str(tmp / "*")))


@pytest.mark.parametrize("option, value", CASES, ids=[f"{o}={v!r}".replace(str(FIFO_DIR), "<tmp>") for o, v in CASES])
def test_bad_option_is_one_line_and_exit_4(results, option, value):
    done = results[0][(option, value)]
    output = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 4, output
    assert len(output) == 1 and output[0].startswith("ERROR: conformance: "), output
    assert all(ch.isprintable() for ch in output[0]), output
    assert "Traceback" not in done.stderr


def test_nothing_left_behind(results):
    assert not results[1], f"bad input left {results[1]}"
    assert not Path("/tmp/pwned").exists()
