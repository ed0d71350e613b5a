"""The tests' pinned clock (tests/clock.py): this process, its subprocesses and the sandboxes
agree on "now", and it is the pin (moved by OKRHUB_TEST_CLOCK_SHIFT_DAYS), not the real date."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from connectors.ogsm.sandbox import build as build_ogsm
from tests import clock


def test_this_process_runs_on_the_pinned_clock():
    start = clock.session_start()
    now = timezone.now()
    assert start <= now < start + timedelta(hours=3)  # it ticks from the pin, a session's length at most
    assert date.today() == now.date() == datetime.now(UTC).date()


def test_a_subprocess_runs_on_the_same_clock():
    code = "import datetime; print(datetime.datetime.now(datetime.UTC).isoformat())"
    before = timezone.now()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    seen = datetime.fromisoformat(out.strip())
    assert before - timedelta(seconds=1) <= seen <= timezone.now() + timedelta(seconds=1)


def test_sandboxes_seed_their_dates_from_the_pinned_clock():
    state = build_ogsm(size=1).state
    # the "past due" awkward action is due five days before the sandbox's today
    late = next(a for a in state.actions.values() if a["title"] == "Renew the ISO certification")
    assert date.fromisoformat(late["due"]) == timezone.now().date() - timedelta(days=5)
