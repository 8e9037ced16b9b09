"""Hostile options through pytest's own command line: each ends in one line and exit 4, leaving nothing behind.

Each case is a whole pytest run in this process (pytester), with the suite's conftest,
so the options reach the same parser and checks as `pytest` typed in the root.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
pytest_plugins = ["pytester"]

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
    "--waivers": [str(FIFO_DIR / "file"), "no/such.toml", str(FIFO_DIR), "/dev/null",
                  str(FIFO_DIR / "conformance.toml")],
    "--max-regression": ["5", "nan", "-1", "abc"],
    "--max-contention": ["0", "-1", "nan", "inf", "2000", "lots"],
    "--control": ["x;y", "", "ctr-01", "$(id)"],
    "--load-workers": ["-1", "65", "two"],
    "--platform": ["linux/sparc", "arm64", "", "LINUX/ARM64", "linux/arm64;id"],
    "--reuse-stack": ["Bad Name", "../x", "-rf"],
    "--compose-profile": ["staging", "", "Dev", "dev,test", "dev;id"],
}
CASES = [(option, value) for option, values in OPTIONS.items() for value in values]


@pytest.fixture
def suite(pytester, tmp_path, monkeypatch):
    """A pytester with the suite's plugins and options; temporary files go to a folder checked afterwards."""
    pytester.makeconftest(f"import runpy\npytest_plugins = runpy.run_path({str(ROOT / 'conftest.py')!r})"
                          "['pytest_plugins']\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield pytester
    assert not list(scratch.iterdir()), "bad input left files behind"


@pytest.mark.parametrize("option, value", CASES, ids=[f"{o}={v!r}".replace(str(FIFO_DIR), "<tmp>") for o, v in CASES])
def test_bad_option_is_one_line_and_exit_4(suite, option, value):
    reports = [] if option == "--reports-dir" else ["--reports-dir", str(suite.path / "reports")]
    result = suite.runpytest_inprocess(*reports, f"{option}={value}")
    lines = [line for line in result.outlines + result.errlines if line.strip()]
    assert result.ret == 4, lines
    assert len(lines) == 1 and lines[0].startswith("ERROR: conformance: "), lines
    assert all(ch.isprintable() for ch in lines[0]), lines
    assert not Path("/tmp/pwned").exists()
