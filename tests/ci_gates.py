"""CI gates for the test run itself (issue #17): under ``CI=true`` nothing may be skipped, and an
xfail counts only when it is declared on the test with a reason and ``strict=True`` (so it fails
loudly once the bug it names is fixed). Anything else turns into a failure with the reason.

``require()`` in tests/conftest.py already fails for a missing service in CI; this catches every
other skip (``pytest.skip``, ``skipif``, ``importorskip``) and casual xfails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def declared_xfail(item: pytest.Item) -> bool:
    return any(m.kwargs.get("reason") and m.kwargs.get("strict") for m in item.iter_markers("xfail"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not in_ci():
        return
    if hasattr(report, "wasxfail"):
        if declared_xfail(item):
            return
        why = f"an xfail needs a reason and strict=True in CI (CI=true); got: {report.wasxfail or 'no reason'}"
        del report.wasxfail
    else:
        where = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        why = f"nothing may be skipped in CI (CI=true): {where}"
    report.outcome = "failed"
    report.longrepr = why
