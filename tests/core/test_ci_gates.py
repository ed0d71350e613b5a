"""The CI gate on skips and xfails (tests/ci_gates.py), run on a small suite in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
SUITE = """
import pytest

def test_passes():
    assert True

def test_skips():
    pytest.skip("no frobnicator here")

@pytest.mark.skipif(True, reason="never on this machine")
def test_skipif():
    assert True

@pytest.mark.xfail(reason="known bug #1")
def test_casual_xfail():
    assert False

@pytest.mark.xfail(reason="known bug #2", strict=True)
def test_declared_xfail():
    assert False
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str) -> pytest.RunResult:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makeconftest("from tests.ci_gates import pytest_runtest_makereport  # noqa: F401\n")
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest_subprocess("-p", "no:django", "-p", "no:cacheprovider", "-rA")


def test_in_ci_every_skip_and_undeclared_xfail_fails(pytester, monkeypatch):
    result = run(pytester, monkeypatch, "true")
    # a skipif skips in the setup phase, so it turns into an error there; both fail the run
    result.assert_outcomes(passed=1, failed=2, errors=1, xfailed=1)
    assert result.ret != 0
    out = result.stdout.str()
    assert "nothing may be skipped in CI (CI=true): Skipped: no frobnicator here" in out
    assert "never on this machine" in out
    assert "an xfail needs a reason and strict=True in CI" in out and "known bug #1" in out


def test_outside_ci_skips_and_xfails_are_reported_as_such(pytester, monkeypatch):
    result = run(pytester, monkeypatch, "")
    result.assert_outcomes(passed=1, skipped=2, xfailed=2)
