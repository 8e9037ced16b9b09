"""A team adopts the suite for its own stack: the wheel in a fresh virtual environment outside this checkout, then
``conformance init``, ``check`` and ``run`` on a stack written for it, and its broken twin, as docs/adopt.md says."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

STACK = ROOT / "tests" / "stacks" / "adopt"
REDIS_SECTION = """[redis]
service = "cache"
port = 6379
user = "app"
password_secret = "redis_password"
admin_user = "admin"
admin_password_secret = "redis_admin_password"
appendonly = true
"""


def _sh(argv, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``conformance`` from a wheel of this checkout, in a fresh virtual environment outside it. uv builds and installs
    (docs/adopt.md): the same wheel and the same dependencies as pip, for a tenth of pip's CPU (3 CPU-s, not 29), which
    every other run of ``make test`` is waiting for."""
    place = tmp_path_factory.mktemp("adopt")
    started = time.monotonic()
    source = place / "source"  # a copy: setuptools writes build/ into the tree it builds, never into this checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", ".tox", "reports", "build",
                                                                 "*.egg-info", "__pycache__"))
    uv = Path(sys.executable).parent / "uv"  # make setup installs it into the suite's own environment
    built = _sh([uv, "build", "--wheel", "-q", "-o", place / "dist", source])
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((place / "dist").glob("infra_conformance-*.whl"))
    made = _sh([uv, "venv", "-q", "--python", sys.executable, place / "venv"])
    assert made.returncode == 0, made.stderr
    install = _sh([uv, "pip", "install", "-q", "--python", place / "venv" / "bin" / "python", wheel])
    assert install.returncode == 0, install.stderr[-2000:]
    site = _sh([place / "venv" / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return {"bin": place / "venv" / "bin", "site": site.stdout.strip(), "wheel": wheel, "place": place,
            "install_s": time.monotonic() - started}


@pytest.mark.slow
def test_the_wheel_installs_one_package(installed):
    site = Path(installed["site"])
    ours = sorted(p.name for p in site.iterdir() if p.name.split("-")[0] in ("infra_conformance", "fixtures", "suites"))
    assert ours == ["infra_conformance", installed["wheel"].name.rsplit("-", 3)[0] + ".dist-info"], ours
    assert (site / "infra_conformance" / "plugins" / "options.py").is_file()
    assert (site / "infra_conformance" / "suites" / "conformance.ini").is_file()
    assert (site / "infra_conformance" / "engine" / "inspector" / "Dockerfile").is_file()


@pytest.mark.slow
def test_a_team_adopts_it_from_zero_to_a_report(installed, tmp_path):
    stack = tmp_path / "our-stack"
    shutil.copytree(STACK, stack)
    env = {**os.environ, "REDIS_BUILD": str(ROOT / "compose" / "redis"), "CONFORMANCE_IMAGE_TAG": tmp_path.name[-20:]}
    conformance = installed["bin"] / "conformance"

    init = _sh([conformance, "init", stack], env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    assert (stack / "conformance.toml").is_file() and "TODO" in (stack / "conformance.toml").read_text()
    again = _sh([conformance, "init", stack], env=env)
    assert again.returncode == 4 and "exists; pass --force" in again.stderr, again.stderr

    profile = (stack / "conformance.toml").read_text()  # the team fills in its Redis section's TODOs
    profile = re.sub(r"(?ms)^# TODO: cache looks like redis.*?(?=\n\n|\n\[|\Z)", REDIS_SECTION.strip(), profile)
    (stack / "conformance.toml").write_text(profile)
    check = _sh([conformance, "check", stack], env=env)
    assert check.returncode == 0 and "data stores: redis" in check.stdout, check.stdout + check.stderr

    started = time.monotonic()
    reports = tmp_path / "reports"
    run = _sh([conformance, "run", "--stack-dir", stack, "--reports-dir", reports, "-m", "not pi"],
              env=env, cwd=tmp_path)
    first_report_s = installed["install_s"] + time.monotonic() - started
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["verdict"] in ("passed", "partial"), summary["totals"]
    assert {"report.html", "summary.json", "summary.md", "junit.xml", "conformance.sarif"} <= {
        p.name for p in reports.iterdir()}
    assert summary["versions"]["stack_revision"].startswith("none"), summary["versions"]
    passed = {c["id"] for c in summary["controls"] if c["outcome"] == "passed"}
    assert {"CTR-01", "CTR-03", "CTR-05"} <= passed and any(i.startswith("RDS-") for i in passed), passed

    broken = _sh([conformance, "run", "--stack-dir", stack, "--reports-dir", tmp_path / "broken",
                  "--compose-file", stack / "broken.yaml", "-m", "not pi"], env=env, cwd=tmp_path)
    assert broken.returncode == 1, broken.stdout[-3000:]
    failed = {c["id"] for c in json.loads((tmp_path / "broken" / "summary.json").read_text())["controls"]
              if c["outcome"] == "failed"}
    assert {"CTR-02", "CTR-03", "CTR-05"} <= failed, failed
    print(f"adoption: wheel {installed['wheel'].stat().st_size / 1024:.0f} KiB; install to first report "
          f"{first_report_s:.0f} s")
