"""Imported at start-up by every Python process the tests start (tests/clock.py puts this folder
on PYTHONPATH): the same pinned clock as the test process, and coverage measurement.
"""

import os

if os.environ.get("OKRHUB_TEST_CLOCK_OFFSET"):
    import time

    import time_machine

    time_machine.travel(time.time() + float(os.environ["OKRHUB_TEST_CLOCK_OFFSET"]), tick=True).start()

if os.environ.get("COVERAGE_PROCESS_START"):
    import coverage

    coverage.process_startup()
