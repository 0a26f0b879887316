"""Legacy DMP import: archives per second on moto, and what a million archives cost.

N archives of 1 to 3 documents, one per person (their spaces open), are put in the import bucket;
a migration over their prefix runs through the API: the state machine executes in moto (its
Distributed Map lists the bucket and queues batches with task tokens) and the import queue is
drained as the Lambda event source would, one batch after another. A second migration over the
same prefix then finds every archive imported (duplicates). Each drain is a counting block
(bench/harness.py): the app's AWS calls. The state machine's own work comes from the execution
(its history, its Map Run's child executions) and the definition (MaxItemsPerBatch).

moto runs each archive as a batch of one (its ASL parser lacks ItemBatcher, devstack/provision.py)
and reads one page of the listing (1,000 keys; the cloud reads them all): per-batch figures are
scaled to the cloud's batches of MaxItemsPerBatch. moto in-process on this machine (2 cores, ~30 ms
of CPU per AWS call): the rate compares designs here, it is not the cloud's speed. A last run
hands two cloud-sized batches to the import function with a round trip per AWS call, one
archive at a time vs core.data.concurrency's workers, for the Lambda's timeout.

Billed units only (no prices): Step Functions Standard bills state transitions; DynamoDB on
demand request units; S3 and KMS requests; SQS requests (each batch: one send by the state
machine, one receive and one delete by the event source).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter

from bench.cost_model import dynamodb
from bench.harness import LATENCY, Calls, breakdown, cloud, code_of, count_calls, invitee, network

MILLION = 1_000_000
INVITATIONS = 500


def _open_spaces(bench, count: int) -> list[str]:
    """The INS of ``count`` activated spaces."""
    agent = bench.token("enrolment_agent")
    campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague DMP"}, agent)["campaign_id"]
    people = [invitee(n) for n in range(count)]
    for start in range(0, count, INVITATIONS):
        bench.call(
            "POST",
            f"/v1/enrolment/campaigns/{campaign}/invitations",
            {"invitees": people[start : start + INVITATIONS]},
            agent,
        )
    for person in people:
        bench.call(
            "POST",
            "/v1/enrolment/activate",
            {"ins": person["ins"], "birth_date": person["birth_date"], "code": code_of(person)},
        )
    return [person["ins"] for person in people]


def _put(prefix: str, records: list[str], documents_of) -> int:
    """One archive per INS under ``prefix``; returns the documents they hold."""
    import boto3

    from chalicelib.core.settings import settings
    from tests.xdm_factory import Doc, archive

    s3, total = boto3.client("s3"), 0
    for n, ins in enumerate(records):
        count = documents_of(n)
        codes = [(), ("MASQUE_PS",), ("INVISIBLE_PATIENT",)]
        body = archive(
            ins, [Doc(content=b"%PDF-1.7\n" + b"x" * 20_000, confidentiality=codes[(n + d) % 3]) for d in range(count)]
        )
        s3.put_object(Bucket=settings().import_bucket, Key=f"{prefix}{n:07d}.zip", Body=body)
        total += count
    return total


def _merge(total: Calls, calls: Calls) -> None:
    total.ops.update(calls.ops)
    total.rcu, total.wcu = total.rcu + calls.rcu, total.wcu + calls.wcu


def _migrate(bench, operator: str, prefix: str) -> tuple[dict, float, Calls, int, dict]:
    """(progress, seconds, the import function's calls, batches handled, the execution's figures)"""
    import boto3

    from chalicelib.core.settings import settings
    from devstack import workers

    calls, batches = Calls(), 0
    started = time.perf_counter()
    migration_id = bench.call("POST", "/v1/migrations", {"prefix": prefix}, operator)["migration_id"]
    while True:
        with count_calls() as drained:
            batches += workers.drain_imports()
        _merge(calls, drained)
        progress = bench.call("GET", f"/v1/migrations/{migration_id}", token=operator)
        if progress["status"] != "running":
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    sfn = boto3.client("stepfunctions")
    execution = f"{settings().legacy_import_state_machine_arn.replace(':stateMachine:', ':execution:')}:{migration_id}"
    history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    (map_run,) = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    children = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])["executionCounts"]["total"]
    states = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    return progress, seconds, calls, batches, {"states": states, "children": children}


def _cloud_batch() -> int:
    from infra.render import INFRA_DIR

    definition = json.loads((INFRA_DIR / "statemachines" / "legacy_import.asl.json").read_text(encoding="utf-8"))
    return definition["States"]["ImportArchives"]["ItemBatcher"]["MaxItemsPerBatch"]


def _app_calls(calls: Calls) -> Calls:
    """The import function's own calls: the drain's SQS receive/delete are the event source's."""
    own = Calls(ops=Counter({op: n for op, n in calls.ops.items() if not op.startswith("sqs.")}))
    own.rcu, own.wcu = calls.rcu, calls.wcu
    return own


def _report(label: str, archives: int, documents: int, seconds: float, calls: Calls) -> None:
    own = _app_calls(calls)
    print(
        f"  {label:<26} {seconds:7.1f} s  {archives / seconds:6.1f} archives/s  {own.total / archives:5.2f} "
        f"calls/archive  ({breakdown(own, archives)})"
    )


def _per_million(archives: int, documents: int, calls: Calls, execution: dict, batch: int) -> None:
    own = _app_calls(calls)
    scale = MILLION / archives
    batches = math.ceil(MILLION / batch)
    child_states = 1  # ImportBatch, the ItemProcessor's one state (its retries bill more)
    reads, writes = dynamodb(own)
    answers = own.ops["stepfunctions.SendTaskSuccess"] + own.ops["stepfunctions.SendTaskFailure"]
    kms = Counter({op: n for op, n in own.ops.items() if op.startswith("kms.")})
    rows = [
        ("archives / documents", f"{MILLION:,} / {round(documents * scale):,}"),
        (
            "Step Functions transitions",
            f"{len(execution['states'])} ({' → '.join(execution['states'])}) + {batches:,} batches × {child_states} = "
            f"{len(execution['states']) + batches * child_states:,}",
        ),
        (
            "Step Functions child executions",
            f"{batches:,} (one per batch of {batch}; moto ran {execution['children']:,} for {archives:,} archives)",
        ),
        ("Lambda invocations (import)", f"{batches:,} (one batch each)"),
        ("Step Functions task answers", f"{batches:,} (measured {answers:,} for {execution['children']:,} batches)"),
        ("SQS requests", f"{3 * batches:,} (send, receive, delete per batch)"),
        ("S3 ListObjectsV2 (state machine)", f"{math.ceil(MILLION / 1000):,} (1,000 keys a page)"),
        (
            "S3 GetObject / PutObject",
            f"{round(own.ops['s3.GetObject'] * scale):,} / {round(own.ops['s3.PutObject'] * scale):,}",
        ),
        (
            "KMS requests",
            f"{round(sum(kms.values()) * scale):,} ({breakdown(Calls(ops=kms), archives / MILLION)})",
        ),
        ("DynamoDB requests read / write", f"{round(reads * scale):,} / {round(writes * scale):,}"),
        ("DynamoDB RCU / WCU", f"{round(own.rcu * scale):,} / {round(own.wcu * scale):,}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def _side_by_side(records: list[str], batch: int) -> None:
    """Two cloud-sized batches handed to the import function, a round trip per AWS call (their
    task token is not one of a running execution: the function logs that it was answered)."""
    import logging

    from chalicelib.core.data import concurrency
    from chalicelib.core.ids import new_sortable_id
    from chalicelib.documents import legacy

    print(f"\none batch of {batch} archives in the import function, {LATENCY * 1000:.0f} ms per AWS call")
    for run, workers in enumerate((1, concurrency.WORKERS)):
        prefix = f"side-{run}/"
        _put(prefix, records[run * batch : (run + 1) * batch], lambda n: n % 3 + 1)
        message = {
            "migration_id": new_sortable_id("mig"),
            "archives": [f"{prefix}{n:07d}.zip" for n in range(batch)],
            "task_token": "bench",
        }
        logging.getLogger("mes").setLevel(logging.ERROR)
        with network(workers):
            started = time.perf_counter()
            legacy.import_batch(message)
            seconds = time.perf_counter() - started
        logging.getLogger("mes").setLevel(logging.WARNING)
        print(f"  {workers} at a time  {seconds:6.1f} s  {batch / seconds:5.1f} archives/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench legacy_import")
    parser.add_argument(
        "-n", "--archives", type=int, default=1000, help="archives (moto's listing reads 1,000 keys at most)"
    )
    args = parser.parse_args(argv)
    archives = min(args.archives, 1000)
    batch = _cloud_batch()
    with cloud() as bench:
        records = _open_spaces(bench, max(archives, 2 * batch))
        documents = _put("dmp/", records[:archives], lambda n: n % 3 + 1)
        operator = bench.token("migration_operator")
        first, first_seconds, first_calls, _, execution = _migrate(bench, operator, "dmp/")
        second, second_seconds, second_calls, _, _ = _migrate(bench, operator, "dmp/")
        assert first["counts"]["imported"] == archives and first["counts"]["documents"] == documents, first
        assert second["counts"]["duplicates"] == archives and second["counts"]["documents"] == 0, second
        print(
            f"measured on moto: {archives:,} archives, {documents:,} documents (1-3 of 20 KB each), one migration then "
            "the same again"
        )
        _report("import", archives, documents, first_seconds, first_calls)
        _report("again: all duplicates", archives, documents, second_seconds, second_calls)
        print(
            f"  re-importing costs {_app_calls(second_calls).total / _app_calls(first_calls).total:.2f}× the calls of "
            f"importing, and runs {first_seconds / second_seconds:.1f}× faster"
        )
        print(f"\nper {MILLION:,} archives (measured × {MILLION / archives:g}; batches of {batch} as in the cloud)")
        _per_million(archives, documents, first_calls, execution, batch)
        _side_by_side(records, batch)


if __name__ == "__main__":
    main(sys.argv[1:])
