"""Promises in the docs that a test can keep honest: every setting is documented, every CLI contract exists."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from common.settings import Settings
from estatewatch.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [f"EW_{name.upper()}" for name in Settings.model_fields if f"EW_{name.upper()}" not in text]
    assert missing == []


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_cli_contracts_exist() -> None:
    runner = CliRunner()
    for path in (["demo"], ["serve"], ["migrate"], ["detect"], ["replay"], ["eval", "littering"],
                 ["eval", "inactivity"], ["bench", "ingest"], ["bench", "vision"], ["bench", "alerts"],
                 ["simulate", "sensors"],
                 ["simulate", "cameras"], ["simulate", "residents"], ["bench", "faces"], ["simulate", "entrance"]):
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
