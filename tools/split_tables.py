"""Moves a deployed stack's data from the one table of the old layout (the spaces table, mes-<stage>)
into the table of each module's data, mes-<stage>-<kind> (docs/decisions/0005-a-table-per-module.md).
A one-off, run during a maintenance window before the new functions take writes: the order is in
docs/decisions/0005-a-table-per-module.md § Moving a deployed stack.

Usage::

    python -m tools.split_tables --stage prod --dry-run            # counts per item family and table
    python -m tools.split_tables --stage prod                      # the copy
    python -m tools.split_tables --stage prod --delete-moved --dry-run
    python -m tools.split_tables --stage prod --delete-moved       # the old copies, once verified
        [--table mes-prod] [--region eu-west-3] [--segments 8] [--state FILE] [--no-progress]

Which table an item goes to is ``chalicelib.core.data.layout.table_of`` (its key family: the keys are
unchanged, only the table differs); items it gives no module table (accounts, grants, the INS index,
dependants, the catalogue...) stay where they are.

The copy scans the spaces table in ``--segments`` parallel segments (Scan Segment/TotalSegments) and
puts each moved item into its table with ``attribute_not_exists(pk)``: it never overwrites an item
already there, so running it again copies nothing twice. ``--delete-moved`` scans again and deletes
from the spaces table only the items whose copy is there and identical (read consistently); an item
without a copy or whose copy differs is kept and counted, for the operator to look at.

Never run the copy once the new functions take writes: an item they deleted since would come back.

Resuming: a state file (default ``split-tables.<stage>.<copy|delete>.state.json``, replaced
atomically) records, for each segment, the scan's LastEvaluatedKey after each page is fully handled,
and the running counts. Run the same command again after a crash: each segment resumes after its last
handled page; the page in hand when it stopped is handled again (its copies then count as already
there). A finished state file makes a run a no-op that prints its counts: remove it to run again.
``--dry-run`` neither writes nor reads a state file.

Privacy: only counts and key families are printed (``PAT#/DOC#``, never an id, a name or content);
the state file holds the scan's last keys (opaque patient and document ids, as in the keys).

Exit codes: 0 done, 1 stopped (an AWS error: run again to resume), 2 bad usage or state file.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from chalicelib.core.data import layout
from chalicelib.core.settings import Settings
from tools import state_file

STATE_VERSION = 1
SPACES = "spaces"  # the destination of the items that stay
KEY_NAMES = ("pk", "sk")
BATCH_GET = 100  # DynamoDB's BatchGetItem limit
# Outcomes counted, per (family, table).
COPIED, ALREADY_THERE, STAYS, TO_COPY = "copied", "already there", "stays", "to copy"
DELETED, TO_DELETE, DIFFERS, NO_COPY = "deleted", "to delete", "copy differs: kept", "no copy: kept"
_MARKER_WORD = re.compile(r"[A-Z][A-Z_]*")


class Stopped(Exception):
    """The run cannot go on (an AWS error)."""


class BadInput(Exception):
    """The options or the state file cannot be used."""


def family(item: dict[str, Any]) -> str:
    """An item's key family without any identifier: the upper-case marker words at the head of its
    partition and sort keys (``PAT#/DOC#``, ``CAMPAIGN#/COUNT#``), and a content marker's index."""

    def head(key: str) -> str:
        words: list[str] = []
        for word in key.split("#"):
            if not _MARKER_WORD.fullmatch(word):
                return "#".join(words) + "#"
            words.append(word)
        return "#".join(words)

    label = f"{head(str(item['pk']))}/{head(str(item['sk']))}"
    if str(item["pk"]).startswith(layout.ORPHAN_PREFIX):
        label += f" ({item.get('gsi1pk', 'no index')})"
    return label


Count = tuple[str, str, str]  # (family, table, outcome)


@dataclass
class Segment:
    last_key: dict[str, Any] | None = None
    done: bool = False


@dataclass
class State:
    table: str
    mode: str  # copy | delete
    segments: list[Segment]
    counts: Counter[Count] = field(default_factory=Counter)

    @classmethod
    def fresh(cls, table: str, mode: str, total: int) -> State:
        return cls(table=table, mode=mode, segments=[Segment() for _ in range(total)])

    @classmethod
    def load(cls, path: Path) -> State | None:
        try:
            data = state_file.read(path, STATE_VERSION)
            if data is None:
                return None
            return cls(
                table=data["table"],
                mode=data["mode"],
                segments=[Segment(last_key=s["last_key"], done=bool(s["done"])) for s in data["segments"]],
                counts=Counter({(f, t, o): int(n) for f, t, o, n in data["counts"]}),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BadInput(f"The state file {path} cannot be read ({error}).") from None

    def save(self, path: Path) -> None:
        data = {
            "table": self.table,
            "mode": self.mode,
            "segments": [{"last_key": s.last_key, "done": s.done} for s in self.segments],
            "counts": [[*count, n] for count, n in sorted(self.counts.items())],
        }
        state_file.write(path, STATE_VERSION, data)


def dynamodb(region: str) -> Any:
    """A DynamoDB resource of its own session: boto3 resources are not shared between threads."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 10, "mode": "adaptive"})  # throttled puts wait and retry
    return boto3.session.Session().resource("dynamodb", region_name=region, config=config)


@dataclass
class Splitter:
    stage: str
    region: str
    table: str | None = None  # the spaces table (default mes-<stage>, infra/template.yaml)
    segments: int = 8
    page_size: int = 500
    delete_moved: bool = False
    dry_run: bool = False
    state_path: Path | None = None
    progress: bool = True
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr))

    def __post_init__(self) -> None:
        self.spaces_table = self.table or f"mes-{self.stage}"
        self.mode = "delete" if self.delete_moved else "copy"
        self.state_file = Path(self.state_path or f"split-tables.{self.stage}.{self.mode}.state.json")
        names = Settings(stage=self.stage)
        self.tables = {kind: names.module_table(kind) for kind in layout.MODULE_TABLES}
        self._lock = threading.Lock()

    def run(self) -> Counter[Count]:
        if self.segments < 1:
            raise BadInput("--segments must be at least 1.")
        state = None if self.dry_run else State.load(self.state_file)
        if state is None:
            state = State.fresh(self.spaces_table, self.mode, self.segments)
        elif (state.table, state.mode, len(state.segments)) != (self.spaces_table, self.mode, self.segments):
            raise BadInput(
                f"The state file {self.state_file} belongs to another table, mode or number of segments "
                f"({state.table}, {state.mode}, {len(state.segments)}); use the same options or another --state."
            )
        elif any(s.last_key or s.done for s in state.segments):
            self.log(f"Resuming: {sum(s.done for s in state.segments)}/{len(state.segments)} segment(s) done.")
        self._check_tables()
        with (
            tqdm(unit="items", disable=not self.progress, dynamic_ncols=True) as bar,
            ThreadPoolExecutor(max_workers=self.segments) as pool,
        ):
            work = [pool.submit(self._segment, state, number, bar) for number in range(self.segments)]
            errors = [future.exception() for future in work]
        failed = next((error for error in errors if error is not None), None)
        if failed is not None:
            raise Stopped(f"{type(failed).__name__}: {_aws_message(failed)}") from failed
        return state.counts

    def _check_tables(self) -> None:
        """Every table there before anything is written: a wrong stage or region stops at once."""
        client = dynamodb(self.region).meta.client
        for name in (self.spaces_table, *self.tables.values()):
            try:
                client.describe_table(TableName=name)
            except client.exceptions.ResourceNotFoundException:
                raise BadInput(
                    f"No table {name} in {self.region}: deploy the new tables first (check --stage)."
                ) from None

    def _segment(self, state: State, number: int, bar: tqdm[Any]) -> None:
        resource = dynamodb(self.region)
        spaces = resource.Table(self.spaces_table)
        segment = state.segments[number]
        while not segment.done:
            request: dict[str, Any] = {
                "Segment": number,
                "TotalSegments": len(state.segments),
                "ConsistentRead": True,
                "Limit": self.page_size,
            }
            if segment.last_key:
                request["ExclusiveStartKey"] = segment.last_key
            page = spaces.scan(**request)
            items = page.get("Items", [])
            counts = self._delete(resource, items) if self.delete_moved else self._copy(resource, items)
            with self._lock:
                state.counts.update(counts)
                segment.last_key = page.get("LastEvaluatedKey")
                segment.done = segment.last_key is None
                if not self.dry_run:
                    state.save(self.state_file)
                bar.update(len(items))

    def _copy(self, resource: Any, items: list[dict[str, Any]]) -> Counter[Count]:
        counts: Counter[Count] = Counter()
        for item in items:
            kind = layout.table_of(item)
            if kind is None:
                counts[family(item), SPACES, STAYS] += 1
                continue
            if self.dry_run:
                counts[family(item), kind, TO_COPY] += 1
                continue
            table = resource.Table(self.tables[kind])
            try:
                table.put_item(Item=self._as_copied(resource, item), ConditionExpression="attribute_not_exists(pk)")
            except table.meta.client.exceptions.ConditionalCheckFailedException:
                counts[family(item), kind, ALREADY_THERE] += 1  # copied before, or written by the new code
            else:
                counts[family(item), kind, COPIED] += 1
        return counts

    def _delete(self, resource: Any, items: list[dict[str, Any]]) -> Counter[Count]:
        counts: Counter[Count] = Counter()
        moved: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            kind = layout.table_of(item)
            if kind is None:
                counts[family(item), SPACES, STAYS] += 1
            else:
                moved.setdefault(kind, []).append(item)
        identical = []
        for kind, olds in moved.items():
            copies = dict(self._copies(resource, self.tables[kind], olds))
            for old in olds:
                copy = copies.get(_key(old))
                outcome = NO_COPY if copy is None else DIFFERS if copy != self._as_copied(resource, old) else TO_DELETE
                if outcome == TO_DELETE:
                    identical.append(old)
                    outcome = TO_DELETE if self.dry_run else DELETED
                counts[family(old), kind, outcome] += 1
        if identical and not self.dry_run:
            with resource.Table(self.spaces_table).batch_writer() as batch:
                for old in identical:
                    batch.delete_item(Key={name: old[name] for name in KEY_NAMES})
        return counts

    def _as_copied(self, resource: Any, item: dict[str, Any]) -> dict[str, Any]:
        """The item as its new table holds it: the same, but for an app's connection guard
        (CONNAPP#), which now also carries its connection's app and scopes (the gate reads the
        guard alone): completed from the connection it names, in the spaces table."""
        if not str(item["sk"]).startswith(layout.APP_CONNECTION_PREFIX) or "scopes" in item:
            return item
        connection_key = layout.connection(layout.patient_id_of(str(item["pk"])), str(item["connection_id"]))
        connection = resource.Table(self.spaces_table).get_item(Key=connection_key, ConsistentRead=True).get("Item")
        if connection is None:
            return item  # a guard left by an unfinished revocation: copied as it is
        return {**item, "app_id": connection["app_id"], "scopes": connection["scopes"]}

    def _copies(
        self, resource: Any, name: str, olds: list[dict[str, Any]]
    ) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
        """The copies in table ``name`` of these items, read consistently, by key."""
        for start in range(0, len(olds), BATCH_GET):
            request: dict[str, Any] = {
                name: {"Keys": [{k: old[k] for k in KEY_NAMES} for old in olds[start : start + BATCH_GET]]}
            }
            request[name]["ConsistentRead"] = True
            while request:
                answer = resource.batch_get_item(RequestItems=request)
                for copy in answer.get("Responses", {}).get(name, []):
                    yield _key(copy), copy
                request = answer.get("UnprocessedKeys") or {}


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["pk"]), str(item["sk"])


def _aws_message(error: BaseException) -> str:
    """An AWS error's code and message: they name tables and actions, never an item's content."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error", {})
        return f"{details.get('Code', '')} {details.get('Message', '')}".strip()
    return "see the state file; run the same command again to resume"


def report(counts: Counter[Count]) -> str:
    """The counts per item family, table and outcome, then per table and outcome."""
    lines = [f"{'family':<40} {'table':<12} {'outcome':<20} {'items':>10}"]
    lines += [f"{f:<40} {t:<12} {o:<20} {n:>10}" for (f, t, o), n in sorted(counts.items())]
    totals: Counter[tuple[str, str]] = Counter()
    for (_, table, outcome), n in counts.items():
        totals[table, outcome] += n
    lines += ["", f"{'table':<12} {'outcome':<20} {'items':>10}"]
    lines += [f"{t:<12} {o:<20} {n:>10}" for (t, o), n in sorted(totals.items())]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.split_tables",
        description="Copy the old spaces table's items into the table of each module's data, or delete the moved ones.",
    )
    parser.add_argument("--stage", required=True, help="the stack's stage: tables mes-<stage> and mes-<stage>-<kind>")
    parser.add_argument("--table", help="the spaces table (default: mes-<stage>)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION, else eu-west-3)")
    parser.add_argument("--segments", type=int, default=8, help="parallel scan segments (default: 8)")
    parser.add_argument(
        "--delete-moved", action="store_true", help="delete from the spaces table the items whose copy is identical"
    )
    parser.add_argument("--dry-run", action="store_true", help="write nothing, print the counts")
    parser.add_argument(
        "--state", type=Path, help="resume state file (default: split-tables.<stage>.<mode>.state.json)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    splitter = Splitter(
        stage=args.stage,
        region=args.region or Settings.from_environ().region,
        table=args.table,
        segments=args.segments,
        delete_moved=args.delete_moved,
        dry_run=args.dry_run,
        state_path=args.state,
        progress=not args.no_progress,
    )
    try:
        counts = splitter.run()
    except BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Stopped as error:
        print(f"stopped: {error}; run the same command again to resume.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    print(report(counts))
    print(("Dry run: nothing written." if args.dry_run else "Done.") + f" Spaces table: {splitter.spaces_table}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
