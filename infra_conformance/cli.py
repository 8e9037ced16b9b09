"""The ``conformance`` command: ``init`` a profile, ``check`` it, ``run`` the suite, ``report`` a summary again.

Problems end with one line on stderr and the suite's exit codes (4: bad input, 3: the environment); ``run`` exits
with pytest's code.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from infra_conformance.engine.compose import Compose, ComposeError
from infra_conformance.errors import EnvironmentProblem, Problem, UsageProblem, printable
from infra_conformance.profile.file import PROFILE_NAME, load_profile
from infra_conformance.profile.scaffold import SECRETS_MARK, render
from infra_conformance.report import review
from infra_conformance.report.markdown import markdown

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_NAMES = ("compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
                  "docker-compose.override.yml")
REPORTS_DIR = "conformance-reports"


def suites() -> Path:
    """The installed controls: ``suites/`` of this repository, packaged as ``infra_conformance.suites``."""
    return Path(importlib.util.find_spec("infra_conformance.suites").submodule_search_locations[0])


def run(stack_dir: Path, reports_dir: Path, pytest_args: list[str]) -> int:
    """The suite on ``stack_dir`` through pytest, isolated from any pytest configuration around it. The plugins are
    loaded by the entry point (``--stack-dir``), after pytest-docker's, whose fixtures they replace."""
    controls = suites()
    argv = [sys.executable, "-m", "pytest", str(controls), "-c", str(controls / "conformance.ini"),
            "--stack-dir", str(stack_dir), "--reports-dir", str(reports_dir), *pytest_args]
    return subprocess.run(argv, check=False).returncode


def check(stack_dir: Path) -> str:
    """The profile validated without booting anything; the line that says so."""
    profile = load_profile(stack_dir)
    return (f"{stack_dir / PROFILE_NAME}: valid ({len(profile.services)} services, "
            f"{len(profile.compose_profiles)} compose profiles, data stores: "
            f"{', '.join(sorted(profile.stores)) or 'none'})")


def compose_files(stack_dir: Path) -> list[str]:
    """The files ``docker compose`` would read in ``stack_dir``: the first standard name, then its override."""
    first = next((name for name in COMPOSE_NAMES if (stack_dir / name).is_file()), None)
    if first is None:
        raise UsageProblem(f"{stack_dir}: no compose file ({', '.join(COMPOSE_NAMES)})")
    return [first, *(name for name in OVERRIDE_NAMES if (stack_dir / name).is_file())][:2]


def init(stack_dir: Path, force: bool) -> str:
    """Write ``stack_dir/conformance.toml`` from the merged compose configuration; it must validate."""
    target = stack_dir / PROFILE_NAME
    if target.exists() and not force:
        raise UsageProblem(f"{target} exists; pass --force to replace it")
    files = compose_files(stack_dir)
    with tempfile.TemporaryDirectory(prefix=SECRETS_MARK) as secrets_dir:
        base = Compose(tuple(str(stack_dir / f) for f in files), "conformance-init", {"SECRETS_DIR": secrets_dir})
        try:
            config = base.in_every_profile().config()
        except ComposeError as error:
            raise UsageProblem(f"`docker compose config` failed in {stack_dir}: {printable(str(error), 200)}") from None
        except OSError as error:
            raise EnvironmentProblem(f"cannot run docker compose ({printable(str(error), 120)}); install Docker "
                                     "with the compose plugin") from None
    named = yaml.safe_load((stack_dir / files[0]).read_text()) or {}
    text = render(str(named.get("name") or stack_dir.name), config, files, _images(config))
    with tempfile.TemporaryDirectory() as scratch:  # validated beside the stack's files before it is written
        trial = Path(scratch)
        for name in files:
            (trial / name).write_bytes((stack_dir / name).read_bytes())
        (trial / PROFILE_NAME).write_text(text)
        load_profile(trial)
    target.write_text(text)
    todos = text.count("TODO")
    return f"wrote {target}: {len(config.get('services') or {})} services, {todos} TODO to check"


def _images(config: dict) -> dict[str, dict]:
    """Each service's image configuration (``User``, ``ExposedPorts``), where the engine has the image."""
    found = {}
    for name, service in (config.get("services") or {}).items():
        if not service.get("image"):
            continue
        try:
            done = subprocess.run(["docker", "image", "inspect", "--format", "{{json .Config}}", service["image"]],
                                  capture_output=True, text=True, check=False)
        except OSError:  # no docker CLI: the profile is written from the compose files alone
            return found
        if done.returncode == 0:
            found[name] = json.loads(done.stdout) or {}
    return found


def report(summary_file: Path, reports_dir: Path) -> str:
    """``report.html`` and ``summary.md`` rendered again from a ``summary.json``."""
    try:
        summary = json.loads(summary_file.read_text())
    except (OSError, ValueError) as error:
        raise UsageProblem(f"{summary_file}: not a readable summary.json ({printable(str(error), 120)})") from None
    if not isinstance(summary, dict) or summary.get("schema_version") != 2:
        raise UsageProblem(f"{summary_file}: not a summary.json of schema version 2")
    reports_dir.mkdir(parents=True, exist_ok=True)
    page = review.page(summary, summary.get("versions", {}), review.plots_for(summary), {},
                       summary.get("since_baseline"), None)
    (reports_dir / "report.html").write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Conformance "
                                             f"report</title></head><body>{page}</body></html>\n")
    (reports_dir / "summary.md").write_text(markdown(summary))
    return f"wrote {reports_dir / 'report.html'} and {reports_dir / 'summary.md'}"


class _Parser(argparse.ArgumentParser):
    """Bad input is one line and exit 4, as for the suite's own options."""

    def error(self, message):
        self.exit(4, f"conformance: {message} (conformance --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="conformance", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    scaffold = commands.add_parser("init", help="write DIR/conformance.toml from the stack's compose files")
    scaffold.add_argument("dir", nargs="?", type=Path, default=Path.cwd())
    scaffold.add_argument("--force", action="store_true", help="replace an existing conformance.toml")
    validate = commands.add_parser("check", help="validate DIR/conformance.toml without booting anything")
    validate.add_argument("dir", nargs="?", type=Path, default=Path.cwd())
    suite = commands.add_parser("run", help="boot the stack, run every control, write the reports",
                                epilog="Any other argument goes to pytest, e.g. -m pi, --control 'CTR-*'.")
    suite.add_argument("--stack-dir", type=Path, default=Path.cwd(), help="the stack's folder (default: .)")
    suite.add_argument("--reports-dir", type=Path, default=Path(REPORTS_DIR),
                       help=f"where the reports go (default: ./{REPORTS_DIR})")
    again = commands.add_parser("report", help="render report.html and summary.md again from a summary.json")
    again.add_argument("summary", type=Path)
    again.add_argument("--reports-dir", type=Path, help="where to write them (default: beside the summary)")
    return top


def main(argv: list[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    if rest and args.command != "run":
        parser().error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.command == "run":
            return run(args.stack_dir.resolve(), args.reports_dir.resolve(), rest)
        line = {"init": lambda: init(args.dir.resolve(), args.force), "check": lambda: check(args.dir.resolve()),
                "report": lambda: report(args.summary, args.reports_dir or args.summary.parent)}[args.command]()
    except Problem as problem:
        print(f"conformance: {problem}", file=sys.stderr)
        return problem.exit_code
    print(f"conformance: {line}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
