"""Auto-creation throughput in moto: invite N people into one cohort, then time the timer handler.

A cohort is a campaign + a deadline, so N/500 invitations calls sharing one explicit deadline far
in the future make one cohort; ``auto_create_cohort`` (what the deadline's timer message runs) is
then timed directly. moto in-process on this machine, so the figure compares designs and
revisions here; it is not DynamoDB's speed.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from bench.harness import breakdown, cloud, count_calls, deadline_in, invitee

BATCH = 500


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench enrolment_throughput")
    parser.add_argument("-n", "--people", type=int, default=10_000, help="cohort size (a multiple of 500 is tidiest)")
    args = parser.parse_args(argv)
    from chalicelib.enrolment import service

    with cloud() as bench:
        agent = bench.token("enrolment_agent")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)["campaign_id"]
        deadline, cohorts = deadline_in(timedelta(days=60)), set()
        started = time.perf_counter()
        for first in range(0, args.people, BATCH):
            people = [invitee(n) for n in range(first, min(first + BATCH, args.people))]
            result = bench.call("POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": people, "deadline": deadline}, agent)
            cohorts.add(result["cohort_id"])
        invited_in = time.perf_counter() - started
        (cohort,) = cohorts
        started = time.perf_counter()
        with count_calls() as calls:
            created = service.auto_create_cohort(cohort).done
        created_in = time.perf_counter() - started
    print(f"cohort of {args.people:,} people ({-(-args.people // BATCH)} invitations calls, {len(cohorts)} cohort), moto in-process")
    print(f"  invitations      {invited_in:7.1f} s  {args.people / invited_in:7.0f} people/s")
    print(f"  auto-creation    {created_in:7.1f} s  {created / created_in:7.0f} people/s  ({created:,} spaces created)")
    print(f"  calls/person     {calls.total / created:.2f}  ({breakdown(calls, created)})")


if __name__ == "__main__":
    main(sys.argv[1:])
