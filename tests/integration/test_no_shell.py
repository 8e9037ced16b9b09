"""Shell metacharacters in every path that reaches a command run nothing: commands are argument lists."""

import shutil
from pathlib import Path

from tests.conftest import ROOT

COMPOSE = ROOT / "compose"
MARKER = "pwned-by-a-shell"
HOSTILE = f"$(touch {MARKER});touch {MARKER};#`touch {MARKER}`"


def test_metacharacters_in_stack_dir_and_overlay_run_nothing(run_suite, tmp_path):
    stack = tmp_path / f"stack{HOSTILE}"
    shutil.copytree(COMPOSE, stack)
    overlay = tmp_path / f"overlay{HOSTILE}.yaml"
    overlay.write_text("services:\n  api:\n    mem_limit: [not, a, size]\n")  # stops the run at `config`
    run = run_suite("--stack-dir", str(stack), "--compose-file", str(overlay), "--pi-emulation", "off")
    assert run.returncode == 3, run.tail()
    assert "`docker compose config` failed" in run.output, run.tail()
    assert not [p for p in (ROOT, tmp_path, Path.cwd(), stack) if (p / MARKER).exists()]
