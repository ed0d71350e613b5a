"""The tests' clock: pinned, so no test depends on the day it runs (issue #17).

Every test process (and every process the tests start: Celery workers, gunicorn, manage.py, the
demo) runs on a clock that starts at ``PINNED_START`` when the session starts and ticks from
there. The sandboxes seed their data relative to "now", so their dates are pinned too, and
assertions derive dates from the seeded data. CI runs the date-sensitive suites a second time
with ``OKRHUB_TEST_CLOCK_SHIFT_DAYS=60``: both runs must pass.

The pin lies in the future on purpose: Chromium runs on the real clock and would drop a session
cookie whose expiry (pinned now + two weeks) is already past.

Subprocesses get the same clock through ``tests/_subprocess/sitecustomize.py`` (on PYTHONPATH),
which travels by the offset exported here, so all processes of one session agree on "now".
Only wall-clock time moves; monotonic clocks (timeouts, gunicorn's heartbeat) stay real.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PINNED_START = datetime(2031, 3, 17, 9, 0, tzinfo=UTC)  # a Monday morning
SHIFT_ENV = "OKRHUB_TEST_CLOCK_SHIFT_DAYS"
OFFSET_ENV = "OKRHUB_TEST_CLOCK_OFFSET"  # seconds between the real clock and the tests' clock
SUBPROCESS_DIR = Path(__file__).parent / "_subprocess"


def shift_days() -> int:
    raw = os.environ.get(SHIFT_ENV, "0") or "0"
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{SHIFT_ENV} must be a whole number of days, not {raw!r}") from None


def session_start() -> datetime:
    """Where this session's clock started: the pin, moved by the shift."""
    return PINNED_START + timedelta(days=shift_days())


def start() -> float:
    """Travel this process to the tests' clock and export the offset for subprocesses."""
    import time_machine

    offset = os.environ.get(OFFSET_ENV)
    if offset is None:
        offset = str(session_start().timestamp() - time.time())
        os.environ[OFFSET_ENV] = offset
    paths = os.environ.get("PYTHONPATH", "")
    if str(SUBPROCESS_DIR) not in paths.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SUBPROCESS_DIR), paths) if p)
    time_machine.travel(time.time() + float(offset), tick=True).start()
    return float(offset)
