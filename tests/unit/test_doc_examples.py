"""The docs' examples work: each fenced ```toml, ```yaml and ```sh block is checked as what it shows.

- TOML with a profile's section (``[stack]``, ``[services]``, ``[budgets]``...) is a profile, through the suite's
  own validation; one without ``[stack]`` is a fragment, laid over ``compose/conformance.toml`` first. TOML of
  ``[[waiver]]`` tables goes through the waivers loader and names controls that exist. Any other TOML must parse.
- YAML must parse; a GitHub workflow (``on:`` and ``jobs:``) must match GitHub's schema (check-jsonschema's vendored
  copy, offline), and its ``run:`` steps are checked as shell.
- Shell passes ``bash -n``, and every ``pytest``, ``make`` and ``tox`` command names only options, targets,
  variables and environments that exist.
- JSON must parse; a ``summary.json`` (one with ``schema_version``) must match ``docs/summary.schema.json``.
"""

from __future__ import annotations

import configparser
import functools
import json
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml

from infra_conformance.controls.catalogue import controls
from infra_conformance.profile.file import PROFILE_NAME, validate
from infra_conformance.profile.schema import SET_BY_SUITE, Profile
from infra_conformance.report import waivers

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "compose"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "tests").glob("*/README.md"))]
FENCE = re.compile(r"^( *)(```+)(\w*)[^\n]*\n(.*?)^ *\2[ \t]*$", re.MULTILINE | re.DOTALL)
LANGUAGES = {"toml": "toml", "yaml": "yaml", "yml": "yaml", "sh": "sh", "bash": "sh", "shell": "sh", "json": "json"}
SUMMARY_SCHEMA = ROOT / "docs" / "summary.schema.json"
PROFILE_KEYS = set(Profile.model_fields) - set(SET_BY_SUITE)
SEPARATORS = {"|", "||", "&&", ";", "&", "(", ")"}
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Example:
    where: str  # file:line of the opening fence
    language: str
    text: str


def examples() -> list[Example]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            if language := LANGUAGES.get(match[3]):
                line = text.count("\n", 0, match.start()) + 1
                found.append(Example(f"{path.relative_to(ROOT)}:{line}", language, textwrap.dedent(match[4])))
    return found


def check_toml(text: str, where: str, scratch: Path) -> None:
    data = tomllib.loads(text)
    if "waiver" in data:
        path = scratch / waivers.FILE_NAME
        path.write_text(text)
        known = {control.id for _, control in controls()}
        unknown = sorted({waiver.control for waiver in waivers.load(path)} - known)
        assert not unknown, f"{where}: a waiver for a control the suite does not have: {unknown}"
    elif PROFILE_KEYS & set(data):
        reference = tomllib.loads((REFERENCE / PROFILE_NAME).read_text())
        validate(data if "stack" in data else _laid_over(reference, data), REFERENCE, where)


def _laid_over(base: dict, fragment: dict) -> dict:
    """``base`` with ``fragment``'s tables merged into its own, and its other values in place of base's."""
    merged = dict(base)
    for key, value in fragment.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _laid_over(base[key], value) if both else value
    return merged


def check_yaml(text: str, where: str, scratch: Path) -> None:
    data = yaml.safe_load(text)
    if not (isinstance(data, dict) and "jobs" in data and ("on" in data or True in data)):  # YAML 1.1 reads on: as True
        return
    path = scratch / "workflow.yml"
    path.write_text(text)
    done = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"{where}: {done.stdout}{done.stderr}"
    for job in data["jobs"].values():
        for step in job.get("steps", []):
            check_sh(re.sub(r"\$\{\{.*?\}\}", "$EXPRESSION", step.get("run", "")), where, scratch)


def check_sh(text: str, where: str, scratch: Path) -> None:
    done = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, f"{where}: {done.stderr.strip()}"
    for command in commands(text):
        wrong = unknown_in(command)
        assert not wrong, f"{where}: {shlex.join(command)}: {'; '.join(wrong)}"


def commands(text: str) -> list[list[str]]:
    """Each simple command of a script, as its words, without the variable assignments before it."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command = []
        for word in [*lexer, ";"]:
            if word in SEPARATORS:
                found += [command] if command else []
                command = []
            elif command or not re.match(r"^[A-Za-z_]\w*=", word):
                command.append(word)
    return found


def unknown_in(command: list[str]) -> list[str]:
    """What a pytest, make or tox command names that does not exist; any other command is not checked."""
    program, args = Path(command[0]).name, command[1:]
    if program.startswith("python") and args[:2] == ["-m", "pytest"]:
        program, args = "pytest", args[2:]
    checks = {"pytest": _pytest_args, "make": _make_args, "tox": _tox_args}
    return checks[program](args) if program in checks else []


def _pytest_args(args: list[str]) -> list[str]:
    return [f"no option {arg}" for arg in args if arg.startswith("-") and arg.split("=")[0] not in pytest_options()]


def _make_args(args: list[str]) -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.MULTILINE))
    variables = set(re.findall(r"^([A-Z_][A-Z0-9_]*)\s*[?:+]?=", makefile, re.MULTILINE))
    wrong = []
    for arg in args:
        name, equals, value = arg.partition("=")
        if equals and name not in variables:
            wrong.append(f"no variable {name} in the Makefile")
        elif equals and name == "PYTEST_ARGS":
            wrong += _pytest_args(shlex.split(value))
        elif not equals and not arg.startswith(("-", "$")) and arg not in targets:  # make's own options aside
            wrong.append(f"no target {arg} in the Makefile")
    return wrong


def _tox_args(args: list[str]) -> list[str]:
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    environments = {section.partition(":")[2] for section in tox.sections() if section.startswith("testenv:")}
    named = [env for flag, value in zip(args, args[1:], strict=False) if flag == "-e" for env in value.split(",")]
    return [f"no environment {env} in tox.ini" for env in named if env not in environments]


@functools.cache
def pytest_options() -> set[str]:
    """Every option that ``pytest --help`` lists in the root: pytest's, its plugins' and the suite's own."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    columns = [re.split(r"\s{2,}", line.strip())[0] for line in done.stdout.splitlines()
               if line.lstrip().startswith("-")]
    return {option for column in columns for option in re.findall(r"(?<![\w-])--?\w[\w-]*", column)}


def check_json(text: str, where: str, scratch: Path) -> None:
    data = json.loads(text)
    if isinstance(data, dict) and "schema_version" in data:
        try:
            jsonschema.validate(data, json.loads(SUMMARY_SCHEMA.read_text()))
        except jsonschema.ValidationError as error:
            raise AssertionError(f"{where}: not a summary.json of docs/summary.schema.json: {error.message}") from None


CHECKS = {"toml": check_toml, "yaml": check_yaml, "sh": check_sh, "json": check_json}
EXAMPLES = examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.where for example in EXAMPLES])
def test_example_works(example, tmp_path):
    CHECKS[example.language](example.text, example.where, tmp_path)


def test_the_docs_have_examples_of_each_language():
    """A fence this module no longer recognises would leave its examples unchecked."""
    assert {example.language for example in EXAMPLES} == set(CHECKS)


@pytest.mark.parametrize("language, text, said", [
    ("toml", "[services.db]\nuser = 0\n", "key 'services.db.user': input should be greater than or equal to 1"),
    ("toml", "[budgets]\nstartup_z = 30\n", "unknown key 'budgets.startup_z'"),
    ("toml", "[[waiver]]\ncontrol = \"CTR-01\"\nexpires = 2030-01-01\n", "missing key 'waiver[0].reason'"),
    ("toml", "[[waiver]]\ncontrol = \"ABC-99\"\nreason = \"r\"\nexpires = 2030-01-01\n", "['ABC-99']"),
    ("toml", "x = [\n", "Invalid value"),
    ("yaml", "a: [\n", "while parsing a flow"),
    ("yaml", "on: push\njobs:\n  j:\n    steps: []\n", "runs-on"),
    ("yaml", "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: make ${{ matrix.x }} nosuch\n",
     "no target nosuch"),
    ("sh", "if true; then\n", "syntax error"),
    ("sh", "pytest suites --controls CTR-01\n", "no option --controls"),
    ("sh", "make conformance PYTEST_ARGS=\"--keep-stack --kep-images\"\n", "no option --kep-images"),
    ("sh", "make conformance STACKDIR=x && make nosuch\n", "no variable STACKDIR in the Makefile"),
    ("sh", "tox -e lint,nosuch\n", "no environment nosuch in tox.ini"),
    ("json", "{\"a\": }", "Expecting value"),
    ("json", "{\"schema_version\": 2}", "'verdict' is a required property"),
])
def test_a_broken_example_fails(language, text, said, tmp_path):
    with pytest.raises(Exception) as error:
        CHECKS[language](text, "docs/x.md:1", tmp_path)
    assert said in str(error.value), error.value
