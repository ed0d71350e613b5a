"""`python -m tests.coverage_report`: the per-package table, and floors that fail a CI run."""

from __future__ import annotations

from pathlib import Path

import coverage
import pytest
from coverage.parser import PythonParser

from tests import coverage_report

ROOT = Path(coverage_report.__file__).resolve().parents[1]
MAPPING = ROOT / "connectors" / "north" / "mapping.py"


def first_statement(path: Path) -> int:
    parser = PythonParser(filename=str(path))
    parser.parse_source()
    return min(parser.statements)


@pytest.fixture
def one_line_covered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A coverage data file in which one line of one real module ran: far below every floor."""
    data_file = tmp_path / ".coverage"
    data = coverage.CoverageData(basename=str(data_file))
    data.add_lines({str(MAPPING): [first_statement(MAPPING)]})
    data.write()
    monkeypatch.setattr(coverage_report, "DATA_FILE", str(data_file))
    return data_file


def test_the_table_names_each_package_and_the_total(
    one_line_covered: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "false")
    coverage_report.main(["--markdown"])
    out = capsys.readouterr().out
    assert "| package | statements | covered |" in out
    (row,) = [line for line in out.splitlines() if line.startswith("| connectors/north |")]
    statements = int(row.split("|")[2])
    assert statements > 10 and row.endswith(f"| {100.0 / statements:.1f} % |")
    assert any(line.startswith("| total |") for line in out.splitlines())


def test_below_a_floor_fails_under_ci_and_is_only_reported_outside(
    one_line_covered: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "false")
    assert coverage_report.main([]) == 0
    out = capsys.readouterr().out
    assert "below its floor" in out and "(not enforced outside CI=true)" in out

    one_line_covered.unlink(missing_ok=True)
    data = coverage.CoverageData(basename=str(one_line_covered))
    data.add_lines({str(MAPPING): [first_statement(MAPPING)]})
    data.write()
    monkeypatch.setenv("CI", "true")
    assert coverage_report.main([]) == 1
    out = capsys.readouterr().out
    assert "coverage: total:" in out and "below its floor" in out and "not enforced" not in out


def test_no_data_is_an_error_not_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(coverage_report, "DATA_FILE", str(tmp_path / ".coverage"))
    assert coverage_report.main([]) == 1
    assert "no data was collected" in capsys.readouterr().out
