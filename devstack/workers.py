"""What API Gateway and Lambda event sources do in the cloud, done locally by polling.

``chalice local`` serves HTTP only; the timer queue (fed by the enrolment state machine) and the
schedules are driven from here by calling the very handlers the cloud would invoke.
"""

from __future__ import annotations

import time

from chalicelib.core import logs

POLL_SECONDS = 1.0
SCHEDULE_SECONDS = 60.0  # the deployed schedule is hourly; locally, every minute


def run_workers() -> None:
    from chalicelib import events

    next_schedule = 0.0
    while True:
        try:
            events.drain_timers_queue()
            if time.monotonic() >= next_schedule:
                events.run_schedules()
                next_schedule = time.monotonic() + SCHEDULE_SECONDS
        except Exception:  # noqa: BLE001 - a local worker keeps polling; the error is logged
            logs.error("local worker failed", exc_info=True)
        time.sleep(POLL_SECONDS)
