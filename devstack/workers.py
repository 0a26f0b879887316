"""What API Gateway and Lambda event sources do in the cloud, done locally by polling.

``chalice local`` serves HTTP only; the timer queue (fed by the enrolment state machine) is
driven from here by calling the very handler the cloud would invoke.
"""

from __future__ import annotations

import time

from chalicelib.core import logs

POLL_SECONDS = 1.0


def run_workers() -> None:
    from chalicelib import events

    while True:
        try:
            events.drain_timers_queue()
        except Exception:  # noqa: BLE001 - a local worker keeps polling; the error is logged
            logs.error("local worker failed", exc_info=True)
        time.sleep(POLL_SECONDS)
