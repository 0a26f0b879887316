"""The provisional-code lock under concurrency: one invited person, 64 wrong codes fired at
POST /v1/enrolment/activate at once from 64 threads, through the Chalice test client on moto.

Counts the answers: how many wrong codes were answered as wrong (403), which the lock bounds to 5
whatever the parallelism, the others 429, and whether the right code still works afterwards (it
must not: 429). Run twice: moto answering at once, then every AWS call waiting a round trip,
which widens the window between reading the count and writing it that a read-then-count design
loses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from bench.harness import LATENCY, cloud, code_of, invitee, network


def _fire(bench, person: dict, wrong: int) -> tuple[Counter, int]:
    """(statuses, status of the right code afterwards)."""

    def answer(code: str) -> int:
        body = {"ins": person["ins"], "birth_date": person["birth_date"], "code": code}
        headers = {"Content-Type": "application/json"}
        return bench.client.http.post("/v1/enrolment/activate", headers=headers, body=json.dumps(body)).status_code

    with ThreadPoolExecutor(wrong) as pool:
        statuses = Counter(pool.map(answer, [f"WRNG-{n:04d}-XX" for n in range(wrong)]))
    return statuses, answer(code_of(person))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench code_lock")
    parser.add_argument("-n", "--wrong", type=int, default=64, help="wrong codes fired at once, one thread each")
    args = parser.parse_args(argv)
    from chalicelib.enrolment.service import MAX_FAILED_ATTEMPTS

    rows = []
    with cloud() as bench:
        agent = bench.token("enrolment_agent")
        campaign = bench.call("POST", "/v1/enrolment/campaigns", {"name": "Vague"}, agent)["campaign_id"]
        people = [invitee(n) for n in range(2)]
        bench.call("POST", f"/v1/enrolment/campaigns/{campaign}/invitations", {"invitees": people}, agent)
        rows.append(("moto, answering at once", *_fire(bench, people[0], args.wrong)))
        with network(workers=8):
            rows.append((f"{LATENCY * 1000:.0f} ms per AWS call", *_fire(bench, people[1], args.wrong)))
    print(
        f"{args.wrong} wrong codes at once ({args.wrong} threads) for one person; the lock allows "
        f"{MAX_FAILED_ATTEMPTS}:"
    )
    print(f"{'':<26} {'403':>5} {'429':>5} {'other':>5}   right code afterwards")
    for label, statuses, right in rows:
        other = sum(n for status, n in statuses.items() if status not in (403, 429))
        print(f"{label:<26} {statuses[403]:>5} {statuses[429]:>5} {other:>5}   {right}")
        if statuses[403] > MAX_FAILED_ATTEMPTS or right != 429:
            print(f"  ✗ {statuses[403]} wrong codes were answered as wrong, the right one {right}: the lock leaks")


if __name__ == "__main__":
    main(sys.argv[1:])
