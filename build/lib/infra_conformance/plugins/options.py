"""The suite's command-line options and the profile, validated once at start-up into typed values, and the
``options`` and ``profile`` fixtures that hand them to the controls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infra_conformance.engine.platforms import PLATFORMS
from infra_conformance.errors import Problem, UsageProblem, printable
from infra_conformance.measure.contention import THRESHOLD_CORES
from infra_conformance.profile.file import load_profile
from infra_conformance.profile.schema import Profile
from infra_conformance.profile.schema_errors import problem
from infra_conformance.report import baseline, waivers

ROOT = Path(__file__).parents[1]
# In a checkout of this repository the defaults are the reference stack and reports/; installed, the current folder.
IN_CHECKOUT = (ROOT / "compose" / "conformance.toml").is_file()
DEFAULT_STACK_DIR = ROOT / "compose" if IN_CHECKOUT else Path.cwd()
DEFAULT_REPORTS_DIR = ROOT / "reports" if IN_CHECKOUT else Path.cwd() / "conformance-reports"


def _option(default, text: str, metavar: str | None = None, **constraints):
    """A field that is also a command-line option: its help and metavar are declared here once."""
    return Field(default, description=text, json_schema_extra={"metavar": metavar} if metavar else None,
                 **constraints)


NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class Options(BaseModel):
    """What the user asked for; every value checked before anything is created. Each field is one option."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stack_dir: Path = _option(DEFAULT_STACK_DIR, "folder with the stack's conformance.toml (default: in a checkout "
                              "of this repository the reference stack, otherwise the current folder)", "DIR")
    compose_file: tuple[Path, ...] = _option((), "extra compose overlay, applied after the profile's files; "
                                             "repeatable", "FILE")
    profile_set: tuple[str, ...] = _option((), "override a profile key with a TOML value, e.g. "
                                           "postgres.min_version=16; repeatable", "KEY=VALUE")
    control: tuple[Annotated[str, Field(pattern=r"^[A-Z*?\[\]0-9-]{1,16}$")], ...] = _option(
        (), "run only these controls: IDs or shell-style patterns, comma-separated, e.g. CTR-01,RLS-*; the others "
        "are not checked, so the verdict says partial", "IDS")
    compose_profile: Annotated[str, Field(pattern=NAME)] | None = _option(
        None, "boot the stack with this compose profile (one of the profile's compose_profiles, e.g. dev, prod or "
        "test) and check what it promises (default: none, as `docker compose up`)", "NAME")
    allow_outside_paths: bool = _option(False, "let the profile name files outside the stack folder")
    keep_stack: bool = _option(False, "leave the stack running after the run, for debugging")
    reuse_stack: Annotated[str, Field(pattern=NAME)] | None = _option(
        None, "check a compose project that is already up (one kept with --keep-stack) and leave it up", "PROJECT")
    allow_destructive: bool = _option(False, "with --reuse-stack on a project the suite did not start: run the "
                                      "controls that kill, restart or restore its services, and add the controls' "
                                      "logins to it (default: they are not checked)")
    keep_images: bool = _option(False, "keep the images this run built (default: remove them, keeping their build "
                                "cache)")
    startup_timeout: Annotated[int, Field(ge=1, le=3600)] = _option(
        180, "give up when the stack is not healthy after S seconds, 1 to 3600 (default 180)", "S")
    pi_emulation: Literal["auto", "on", "off"] = _option(
        "auto", "Raspberry Pi 4 CPU emulation through the profile's [pi] overlay; auto: on unless this host is a Pi "
        "(default auto)", "auto|on|off")
    pi_host_score: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] | None = _option(
        None, "this host's single-thread sysbench cpu score (events/s, max prime 10000) instead of calibrating: runs "
        "that must emulate the same Pi give the same score (default: the median of short runs)", "EVENTS_PER_S")
    platform: Literal[tuple(PLATFORMS)] | None = _option(
        None, "build and run the stack for this platform, e.g. linux/arm64, emulated when it is not the engine's own "
        "(default: the engine's platform)", "OS/ARCH")
    load_workers: Annotated[int, Field(ge=0, le=64)] = _option(
        0, "run locust as a master with N local worker processes (default 0: one process)", "N")
    max_contention: Annotated[float, Field(gt=0, le=1024, allow_inf_nan=False)] = _option(
        THRESHOLD_CORES, "end the run (exit 3) rather than judge a budget while other processes and steal used more "
        f"than CORES host cores (default {THRESHOLD_CORES})", "CORES")
    baseline: Path | None = _option(None, "an earlier summary.json: the report shows new failures, fixes and budget "
                                    "changes since it", "FILE")
    max_regression: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = _option(
        None, "with --baseline: fail a budget that got worse than the baseline by more than PCT percent", "PCT")
    waivers: Path | None = _option(None, "accepted deviations, each with a reason and an expiry date (default: "
                                   f"{waivers.FILE_NAME} beside the profile, when there is one)", "FILE")
    require_complete: bool = _option(False, "exit 1 when the verdict is not a plain PASSED: a partial run (something "
                                     "promised was not checked) fails")
    reports_dir: Path = _option(DEFAULT_REPORTS_DIR, "where summary.json, service logs and locust's files go "
                                "(default: reports/ in a checkout of this repository, otherwise "
                                "./conformance-reports)", "DIR")

    @model_validator(mode="after")
    def _regression_needs_baseline(self):
        if self.max_regression is not None and self.baseline is None:
            raise ValueError("--max-regression needs --baseline")
        return self

    @field_validator("stack_dir")
    @classmethod
    def _folder(cls, path: Path) -> Path:
        if not path.is_dir():
            raise ValueError(f"{printable(str(path), 200)} is not a folder")
        return path

    @field_validator("compose_file")
    @classmethod
    def _files(cls, paths: tuple[Path, ...]) -> tuple[Path, ...]:
        for path in paths:
            if not path.is_file():
                raise ValueError(f"{printable(str(path), 200)}: no such file")
        return tuple(path.resolve() for path in paths)

    @field_validator("reports_dir")
    @classmethod
    def _reports(cls, path: Path) -> Path:
        if path.exists() and not path.is_dir():
            raise ValueError(f"{printable(str(path), 200)} exists and is not a folder")
        return path


def pytest_addoption(parser):
    """Every field of Options as an option taking a plain string; read_options checks them all, so a bad one is
    one line and exit 4."""
    group = parser.getgroup("conformance", "infrastructure conformance suite")
    for name, field in Options.model_fields.items():
        flag = "--" + name.replace("_", "-")
        metavar = (field.json_schema_extra or {}).get("metavar")
        if field.annotation is bool:
            group.addoption(flag, action="store_true", help=field.description)
        elif isinstance(field.default, tuple):
            group.addoption(flag, action="append", default=[], metavar=metavar, help=field.description)
        else:
            default = None if field.default is None else str(field.default)
            group.addoption(flag, default=default, metavar=metavar, help=field.description)


OPTIONS_KEY = pytest.StashKey[Options]()
PROFILE_KEY = pytest.StashKey[Profile]()
BASELINE_KEY = pytest.StashKey[dict]()
WAIVERS_KEY = pytest.StashKey[tuple[waivers.Waiver, ...]]()


def read_options(config) -> Options:
    values = {name: config.getoption(name) for name in Options.model_fields}
    values["control"] = tuple(part.strip() for item in values["control"] for part in item.split(","))
    try:
        return Options.model_validate(values)
    except ValidationError as error:
        raise UsageProblem(problem(error, Options, name=lambda key: "--" + key.replace("_", "-"))) from None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Validate the options, then read the profile (not for ``--help``); one line and exit 4 when either is wrong."""
    try:
        options = read_options(config)
        config.stash[OPTIONS_KEY] = options
        if config.option.help:
            return
        profile = load_profile(options.stack_dir, options.profile_set, options.allow_outside_paths)
        config.stash[PROFILE_KEY] = profile.in_compose_profile(_compose_profile(options, profile))
        if options.baseline:
            config.stash[BASELINE_KEY] = baseline.read(options.baseline)
        beside = options.stack_dir / waivers.FILE_NAME
        if options.waivers or beside.is_file():
            config.stash[WAIVERS_KEY] = waivers.load(options.waivers or beside)
    except Problem as problem:
        raise pytest.UsageError(f"conformance: {problem}") from None
    if is_conformance_run(config) and not config.option.collectonly:
        _default_reports(config, options.reports_dir)


def _compose_profile(options: Options, profile: Profile) -> str | None:
    name = options.compose_profile
    if name is not None and name not in profile.compose_profiles:
        raise UsageProblem(f"--compose-profile {name}: the profile promises only "
                           f"{', '.join(profile.compose_profiles) or 'no compose profile'} (its compose_profiles)")
    return name


def is_conformance_run(config) -> bool:
    """True when every path pytest was given lies in the suites (``suites/``, installed as
    ``infra_conformance.suites``), as a bare ``pytest`` in the root and ``conformance run`` do."""
    suites = ROOT / "suites"
    return all(Path(arg.split("::")[0]).resolve().is_relative_to(suites) for arg in config.args)


def _default_reports(config, reports_dir: Path) -> None:
    """A conformance run writes junit.xml and a self-contained report.html unless told otherwise."""
    if not config.option.xmlpath:
        config.option.xmlpath = str(reports_dir / "junit.xml")
    if config.pluginmanager.hasplugin("html") and not config.option.htmlpath:
        config.option.htmlpath = str(reports_dir / "report.html")
        config.option.self_contained_html = True


@pytest.fixture(scope="session")
def profile(pytestconfig) -> Profile:
    """The stack profile chosen with --stack-dir (default: the reference stack)."""
    return pytestconfig.stash[PROFILE_KEY]


@pytest.fixture(scope="session")
def options(pytestconfig) -> Options:
    """The suite's validated command-line options."""
    return pytestconfig.stash[OPTIONS_KEY]

