"""AWS calls per request for each enrolment endpoint, and per person for the cohort timer.

A real run against moto through the Chalice test client. Figures are for a warm container: the
first request of a process also reads the peppers secret (1 secretsmanager.GetSecretValue). The
timer rows include the queue work Lambda's event source does (receive, delete): per step, one
fan-out into the cohort's shards, whatever its size.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from bench.harness import LATENCY, Calls, calls_table, cloud, code_of, count_calls, deadline_in, invitee, network


def _invitations_with_latency(bench, invitations: str, agent: str) -> list[tuple[int, float]]:
    """The 500-person call, one person at a time and then side by side (core.data.concurrency)."""
    from chalicelib.core.data import concurrency

    waits = []
    for start, workers in ((2000, 1), (3000, concurrency.WORKERS)):
        people = [invitee(start + n) for n in range(500)]
        with network(workers):
            began = time.perf_counter()
            bench.call("POST", invitations, {"invitees": people}, agent)
            waits.append((workers, time.perf_counter() - began))
    return waits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench calls_enrolment")
    parser.add_argument(
        "--cohort", type=int, default=100, help="people in the cohort the timer handlers run on (≤ 500)"
    )
    args = parser.parse_args(argv)
    from chalicelib.core.security import pseudonyms
    from chalicelib.enrolment import events
    from chalicelib.enrolment.store import COHORT_SHARDS
    from devstack.workers import drain_timers

    rows: list[tuple[str, Calls] | tuple[str, Calls, float]] = []
    with cloud() as bench:
        agent = bench.token("enrolment_agent")

        def measure(label: str, method: str, path: str, body=None, token=None) -> dict:
            with count_calls() as calls:
                answer = bench.call(method, path, body, token)
            rows.append((label, calls))
            return answer

        pseudonyms.ins_digest("warm-up")  # reads the peppers secret, as a container's first request does
        campaign = measure("POST /v1/enrolment/campaigns", "POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)
        invitations = f"/v1/enrolment/campaigns/{campaign['campaign_id']}/invitations"
        people = [invitee(n) for n in range(503)]
        measure("POST …/invitations (1 person)", "POST", invitations, {"invitees": people[:1]}, agent)
        measure(
            "POST …/invitations (500 people)",
            "POST",
            invitations,
            {"invitees": people[1:501], "deadline": deadline_in(timedelta(days=60))},
            agent,
        )
        measure(
            "GET /v1/enrolment/campaigns/{id}", "GET", f"/v1/enrolment/campaigns/{campaign['campaign_id']}", token=agent
        )
        answer = {"ins": people[0]["ins"], "birth_date": people[0]["birth_date"], "code": code_of(people[0])}
        patient_id = measure("POST /v1/enrolment/activate", "POST", "/v1/enrolment/activate", answer, None)[
            "patient_id"
        ]
        opposed = {"ins": people[1]["ins"], "birth_date": people[1]["birth_date"], "code": code_of(people[1])}
        measure("POST /v1/enrolment/oppose", "POST", "/v1/enrolment/oppose", opposed, None)
        by_phone = {"ins": people[2]["ins"], "birth_date": people[2]["birth_date"], "channel": "phone"}
        measure("POST /v1/enrolment/oppositions (agent)", "POST", "/v1/enrolment/oppositions", by_phone, agent)
        patient = bench.token("patient", ins=people[0]["ins"])
        measure("GET /v1/me", "GET", "/v1/me", token=patient)
        measure("GET /v1/patients/{id}/activity", "GET", f"/v1/patients/{patient_id}/activity", token=patient)
        measure(
            "GET /v1/patients/{id}/activity/verify", "GET", f"/v1/patients/{patient_id}/activity/verify", token=patient
        )
        measure("POST /v1/me/close", "POST", "/v1/me/close", {"delete_now": False}, patient)

        cohort = bench.call(
            "POST",
            invitations,
            {"invitees": [invitee(1000 + n) for n in range(args.cohort)], "deadline": deadline_in(timedelta(days=90))},
            agent,
        )
        for kind, extra in (("enrolment.remind", {"remind_at": cohort["deadline"]}), ("enrolment.deadline", {})):
            with count_calls() as calls:  # the step's message, its shards' messages, as Lambda runs them
                events.dispatch({"kind": kind, "cohort_id": cohort["cohort_id"], **extra})
                drain_timers()
            rows.append(
                (f"timer: {kind}, per person ({args.cohort} people, {COHORT_SHARDS} shards)", calls, args.cohort)
            )
        waits = _invitations_with_latency(bench, invitations, agent)
    calls_table(rows)
    print(f"\n500 invitations in one call, each AWS call made to wait {LATENCY * 1000:.0f} ms (a real round trip):")
    for workers, seconds in waits:
        print(f"  {workers} at a time: {seconds:5.1f} s" + ("  (API Gateway cuts at 29 s)" if workers == 1 else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
