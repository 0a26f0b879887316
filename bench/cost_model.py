"""What a million people cost, extrapolated from AWS calls counted on a real run in moto.

One invitations call of N people (half by email, half by letter) into a cohort whose reminder and
deadline are seconds away; the state machine runs in moto (its Wait states really wait) and queues
the reminder and deadline messages, which are handled as the Lambda event source would, each in
its own counting block. The Step Functions figures come from the execution's own history.

Billed units only (no prices): Step Functions Standard bills state transitions; DynamoDB on
demand bills request units (see harness.Calls for the rules); SES bills emails, the print
provider letters (sqs.SendMessage). The step messages are sent by Step Functions itself, on
moto's threads, and are not counted as the app's calls; their fan-out into the cohort's shards
(sqs.SendMessageBatch) and the shards' deliveries are, a fixed few per step whatever its size.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta

from bench.harness import DYNAMODB_READS, DYNAMODB_WRITES, Calls, calls_table, cloud, count_calls, deadline_in, invitee

MILLION = 1_000_000
BATCH = 500  # the most people one invitations call takes


def run(people: int) -> tuple[dict[str, Calls], list[str]]:
    """Calls per phase (invitation, reminder, auto-creation) and the states the execution entered."""
    import boto3

    from chalicelib.core.settings import settings
    from chalicelib.enrolment import events
    from devstack.workers import drain_timers

    with cloud() as bench:
        agent = bench.token("enrolment_agent")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague", "reminder_days_before": 0}, agent)[
            "campaign_id"
        ]
        # Reminder and deadline both after the call ends (the reminder skips people invited later).
        deadline = deadline_in(timedelta(seconds=5 + people * 0.02))
        invitees = [invitee(n, letter=n % 2 == 1) for n in range(people)]
        with count_calls() as invitation:
            cohort = bench.call(
                "POST",
                f"/v1/enrolment/campaigns/{campaign}/invitations",
                {"invitees": invitees, "deadline": deadline},
                agent,
            )["cohort_id"]
        sfn = boto3.client("stepfunctions")
        arn = f"{settings().enrolment_state_machine_arn.replace(':stateMachine:', ':execution:')}:{cohort}"
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            time.sleep(0.5)
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        states = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
        sqs, phases = boto3.client("sqs"), {"invitation": invitation}
        messages = sqs.receive_message(QueueUrl=settings().timers_queue_url, MaxNumberOfMessages=10)["Messages"]
        timers = {json.loads(m["Body"])["kind"]: json.loads(m["Body"]) for m in messages}
        for phase, kind in (("reminder", "enrolment.remind"), ("auto-creation", "enrolment.deadline")):
            with count_calls() as phases[phase]:  # the step's fan-out into shards, then the shards
                events.dispatch(timers[kind])
                drain_timers()
    return phases, states


def dynamodb(calls: Calls) -> tuple[int, int]:
    """(read requests, write requests)"""

    def requests(operations: set[str]) -> int:
        return sum(n for op, n in calls.ops.items() if op.removeprefix("dynamodb.") in operations)

    return requests(DYNAMODB_READS), requests(DYNAMODB_WRITES | {"TransactWriteItems"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench cost_model")
    parser.add_argument("-n", "--people", type=int, default=BATCH, help=f"people invited (one call: at most {BATCH})")
    args = parser.parse_args(argv)
    phases, states = run(args.people)
    scale = MILLION / args.people
    print(f"measured: one invitations call of {args.people} people (half email, half letter), one cohort")
    calls_table([(f"{name}, per person", calls, args.people) for name, calls in phases.items()])

    print(f"\nper {MILLION:,} people (measured × {scale:g})")
    header = ("", "DDB reads", "RCU", "DDB writes", "WCU", "emails", "letters", "SFN starts")
    print("".join(f"{h:>14}" for h in header))
    total = Calls()
    for calls in phases.values():
        total.ops.update(calls.ops)
        total.rcu, total.wcu = total.rcu + calls.rcu, total.wcu + calls.wcu
    for name, calls in [*phases.items(), ("total", total)]:
        reads, writes = dynamodb(calls)
        figures = (
            reads,
            calls.rcu,
            writes,
            calls.wcu,
            calls.ops["ses.SendEmail"],
            calls.ops["sqs.SendMessage"],
            calls.ops["stepfunctions.StartExecution"],
        )
        print(f"{name:>14}" + "".join(f"{round(f * scale):>14,}" for f in figures))

    transitions = len(states)
    print(
        f"\nStep Functions: one execution entered {transitions} states ({' → '.join(states)}) = {transitions} billed "
        "transitions"
    )
    designs = [
        ("per cohort: a 1M wave on one day, one deadline", 1),
        ("per cohort: worst case, one cohort per 500-person call", MILLION // BATCH),
        ("per person: one execution each", MILLION),
    ]
    print(f"{'design, per 1,000,000 people':<58}{'open executions':>16}{'transitions':>14}{'vs per person':>15}")
    for name, executions in designs:
        print(f"{name:<58}{executions:>16,}{executions * transitions:>14,}{MILLION // executions:>14,}×")
    print(
        "open executions = cohorts (a campaign × a deadline); StartExecution is called once per invitations call,"
        " and returns the running execution when the cohort already has one"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
