"""Auto-creation throughput in moto: invite N people into one cohort, then time the timer handler.

A cohort is a campaign + a deadline, so N/500 invitations calls sharing one explicit deadline far
in the future make one cohort; its deadline step (the timer message, fanned out into the cohort's
shards, each shard's message handled in turn) is then timed. moto in-process on this machine, so
the figure compares designs and revisions here; it is not DynamoDB's speed. A second run makes
every AWS call wait a round trip (moto answers at once) to show what handling people side by side
does, one at a time vs core.data.concurrency's workers, and how many people one 14-minute timer
run then gets through (each shard has its own runs, in parallel). It runs first, on a small table:
moto's CPU per call grows with the table, and bounds the side-by-side figure here (a real round
trip would).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from bench.harness import LATENCY, breakdown, cloud, count_calls, deadline_in, invitee, network

BATCH = 500
RUN_SECONDS = 14 * 60  # a timer run: Lambda's 15 minutes less the hand-over margin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench enrolment_throughput")
    parser.add_argument("-n", "--people", type=int, default=10_000, help="cohort size (a multiple of 500 is tidiest)")
    parser.add_argument(
        "--latency-people",
        type=int,
        default=1600,
        help="cohort size for the runs with a round trip per call (~1/16 in the shard timed)",
    )
    args = parser.parse_args(argv)
    from chalicelib.core.data import concurrency
    from chalicelib.enrolment import events
    from chalicelib.enrolment.store import COHORT_SHARDS
    from devstack.workers import drain_timers

    with cloud() as bench:
        agent = bench.token("enrolment_agent")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)["campaign_id"]

        def invite_cohort(first: int, size: int, days: int) -> tuple[str, float]:
            deadline, cohorts = deadline_in(timedelta(days=days)), set()
            started = time.perf_counter()
            for start in range(first, first + size, BATCH):
                people = [invitee(n) for n in range(start, min(start + BATCH, first + size))]
                result = bench.call(
                    "POST",
                    f"/v1/enrolment/campaigns/{campaign}/invitations",
                    {"invitees": people, "deadline": deadline},
                    agent,
                )
                cohorts.add(result["cohort_id"])
            (cohort,) = cohorts
            return cohort, time.perf_counter() - started

        def auto_create(message: dict) -> int:
            """A timer message as Lambda runs it, and the queue's follow-ups (for a cohort: one per
            shard, here one after another; Lambda runs them in parallel)."""
            before = created_so_far()
            events.dispatch(message)
            drain_timers()
            return created_so_far() - before

        def created_so_far() -> int:
            return bench.call("GET", f"/v1/enrolment/campaigns/{campaign}", token=agent)["counts"]["auto_created"]

        print(
            f"auto-creation of one shard with {LATENCY * 1000:.0f} ms per AWS call ({args.latency_people} people "
            "invited)"
        )
        for run, workers in enumerate((1, concurrency.WORKERS)):
            cohort, _ = invite_cohort(1_000_000 * (run + 1), args.latency_people, 61 + run)
            with network(workers):
                started = time.perf_counter()
                created = auto_create({"kind": "enrolment.deadline", "cohort_id": cohort, "shard": 0})
                rate = created / (time.perf_counter() - started)
            per_run = rate * RUN_SECONDS
            print(
                f"  {workers} at a time  {created} people, {rate:4.0f} people/s → {per_run:7,.0f} per shard run, "
                f"{per_run * COHORT_SHARDS:9,.0f} per step run"
            )

        cohort, invited_in = invite_cohort(0, args.people, 60)
        started = time.perf_counter()
        with count_calls() as calls:
            created = auto_create({"kind": "enrolment.deadline", "cohort_id": cohort})
        created_in = time.perf_counter() - started
        print(
            f"\ncohort of {args.people:,} people ({-(-args.people // BATCH)} invitations calls, 1 cohort), moto "
            "in-process"
        )
        print(f"  invitations      {invited_in:7.1f} s  {args.people / invited_in:7.0f} people/s")
        print(
            f"  auto-creation    {created_in:7.1f} s  {created / created_in:7.0f} people/s  ({created:,} spaces "
            "created)"
        )
        print(f"  calls/person     {calls.total / created:.2f}  ({breakdown(calls, created)})")


if __name__ == "__main__":
    main(sys.argv[1:])
