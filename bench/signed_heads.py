"""Signed heads of the activity history (docs/decisions/0006-signed-history-heads.md): `verify` on a
space of 10,000 events before (the whole chain, no signed head) and after (from the signed head),
side by side in one run; checking a signature locally (public key cached) or with kms:Verify;
and the signer's cost per million history events, from the calls counted on moto.

Times are moto in-process: they show the shape (what grows with the history), not production
latency; ``--latency`` adds a simulated round trip to every AWS call (bench.harness.network). Even
from the signed head, moto's Query passes over the whole partition to find the key range (devstack/
moto_speedups.py), where DynamoDB seeks it: the read units are the production figure. The signer's
figures are billed units (no prices), as bench/cost_model.py; reading the stream is the event
source's and is not billed to the function. The local drain batches the stream's records before
its filter (an event and its head change are two records): at most as many heads per invocation
as the event source would gather.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.harness import Calls, active_person, breakdown, calls_table, cloud, count_calls, network

MILLION = 1_000_000
PER_COMMIT = 99  # events per transaction (TransactWriteItems takes 100 items: the head and 99 events)


def _grow(patient_id: str, events: int) -> None:
    from chalicelib.core.history import journal
    from chalicelib.core.models import ActorRef

    doctor = ActorRef(role="professional", id="10000000009")
    while events > 0:
        batch = [journal.Event("document.read", f"doc_{n}") for n in range(min(PER_COMMIT, events))]
        journal.commit_events(patient_id, doctor, batch, writes=[])
        events -= len(batch)


def _verify(bench, patient_id: str, patient: str, runs: int) -> tuple[dict, float, Calls]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = bench.call("GET", f"/v1/patients/{patient_id}/activity/verify", token=patient)
        times.append(time.perf_counter() - started)
    with count_calls() as calls:
        bench.call("GET", f"/v1/patients/{patient_id}/activity/verify", token=patient)
    return answer, statistics.median(times), calls


def _signature_checks(patient_id: str, checks: int) -> tuple[float, float]:
    """Seconds per check: locally with the cached public key, and through kms:Verify."""
    import base64
    import json

    from chalicelib.core.data import aws
    from chalicelib.core.history import heads
    from chalicelib.core.settings import settings

    s3 = aws.client("s3")
    key = s3.list_objects_v2(Bucket=settings().heads_bucket, Prefix=f"heads/{patient_id}/", MaxKeys=1)["Contents"][0][
        "Key"
    ]
    body = json.loads(s3.get_object(Bucket=settings().heads_bucket, Key=key)["Body"].read())
    head, signature = heads.SignedHead(body["seq"], body["hash"]), base64.b64decode(body["signature"])
    heads.is_signed(patient_id, head, signature)  # the public key fetched once
    started = time.perf_counter()
    assert all(heads.is_signed(patient_id, head, signature) for _ in range(checks))
    local = (time.perf_counter() - started) / checks
    kms = aws.client("kms")
    started = time.perf_counter()
    for _ in range(checks):
        assert kms.verify(
            KeyId=settings().heads_key_id,
            Message=heads.canonical(patient_id, head),
            MessageType="RAW",
            Signature=signature,
            SigningAlgorithm=heads.ALGORITHM,
        )["SignatureValid"]
    return local, (time.perf_counter() - started) / checks


def _signer_cost(spaces: int, events: int) -> tuple[Calls, int, int]:
    """``events`` single-event appends spread over ``spaces`` spaces in turn, then the stream read
    as the event source would (its batch size and filter): the calls of the signer's handler, its
    invocations (batches), the heads signed."""
    from chalicelib.activity import events as signer
    from chalicelib.core.history import journal
    from chalicelib.core.models import ActorRef
    from devstack import workers

    doctor = ActorRef(role="professional", id="10000000009")
    ids = [f"pat_bench{n:05d}" for n in range(spaces)]
    for n in range(events):
        journal.record(ids[n % spaces], doctor, "document.read", f"doc_{n}")
    handled, invocations, total = signer.sign_records, [0], Calls()

    def counted(records: list[dict]) -> int:
        """One invocation: its calls counted (reading the stream is the event source's, free)."""
        invocations[0] += 1
        with count_calls() as calls:
            signed = handled(records)
        total.ops.update(calls.ops)
        total.rcu += calls.rcu
        return signed

    signer.sign_records = counted
    try:
        signed = workers.drain_stream(_positions)
    finally:
        signer.sign_records = handled
    return total, invocations[0], signed


_positions: dict[str, str] = {}  # the stream read so far: the signer's cost counts only its events


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench signed_heads")
    parser.add_argument("--events", type=int, default=10_000, help="events in the verified space")
    parser.add_argument("--runs", type=int, default=3, help="verify runs timed (median shown)")
    parser.add_argument("--latency", type=float, default=0.0, help="simulated seconds per AWS call")
    parser.add_argument(
        "--spaces",
        type=int,
        nargs="+",
        default=[200, 5],
        help="spaces the signer's events are spread over (one run each)",
    )
    parser.add_argument("--signed-events", type=int, default=2_000, help="events whose heads the signer signs")
    args = parser.parse_args(argv)
    from devstack import workers

    with cloud() as bench:
        _, patient_id, patient = active_person(bench)
        _grow(patient_id, args.events)
        with network(workers=8, latency=args.latency):
            before, before_s, before_calls = _verify(bench, patient_id, patient, args.runs)
            workers.drain_stream(_positions)  # the signer catches up: the newest head signed
            after, after_s, after_calls = _verify(bench, patient_id, patient, args.runs)
        assert before["valid"] and not before["signed"] and after["valid"] and after["signed"], (before, after)
        print(
            f"verify, a space of {args.events + 2:,} events "
            f"(median of {args.runs}, moto in-process, latency {args.latency} s/call)"
        )
        print(f"  {'':<34}{'before':>10}{'after':>10}")
        print(f"  {'checked from':<34}{'genesis':>10}{'signed':>10}")
        print(f"  {'events checked, caller sees':<34}{before['events']:>10,}{after['events']:>10,}")
        print(f"  {'time (ms)':<34}{before_s * 1000:>10.1f}{after_s * 1000:>10.1f}")
        print(f"  {'AWS calls':<34}{before_calls.total:>10}{after_calls.total:>10}")
        print(f"  {'DynamoDB read units':<34}{before_calls.rcu:>10.0f}{after_calls.rcu:>10.0f}")
        print(
            f"  ratio before/after: {before_s / after_s:.0f}x faster, "
            f"{before_calls.rcu / max(after_calls.rcu, 1):.0f}x fewer read units"
        )
        print(f"  before: {breakdown(before_calls)}")
        print(f"  after:  {breakdown(after_calls)}")

        local, remote = _signature_checks(patient_id, 200)
        print("\nchecking a head's signature (moto in-process: kms:Verify has no network here)")
        print(
            f"  local, public key cached: {local * 1e6:.0f} µs; "
            f"kms:Verify: {remote * 1e6:.0f} µs + a round trip in the cloud"
        )

        for spaces in args.spaces:
            calls, invocations, signed = _signer_cost(spaces, args.signed_events)
            per = args.signed_events / MILLION
            print(f"\nthe signer: {args.signed_events:,} events appended one by one over {spaces} spaces in turn")
            calls_table([("signer, per million history events", calls, per)])
            print(f"  invocations: {invocations / per:,.0f} per million events ({invocations} batches)")
            print(f"  heads signed (kms:Sign, s3:PutObject): {signed / per:,.0f} per million events")
            print(
                f"  DynamoDB read units (chain since the last signed head): {calls.rcu / per:,.0f} per million events"
            )


if __name__ == "__main__":
    main()
