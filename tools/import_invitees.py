"""Bulk import of invitees into an enrolment campaign (docs/api.md § Enrolment).

Usage::

    python -m tools.import_invitees invitees.csv --api https://api.example --campaign cmp_123 \\
        [--token TOKEN | env MES_TOKEN] [--deadline 2030-01-31T00:00:00Z] \\
        [--rejected invitees.csv.rejected.csv] [--state invitees.csv.state.json]

Input: a UTF-8 CSV (a BOM is accepted) whose header names the fields of the invitations call:
``ins, family_name, given_names, birth_date, email, postal_address``. Empty ``email`` /
``postal_address`` cells are left out of the request. Other columns are ignored (but kept in the
rejected file). The file is streamed: it is never held in memory, whatever its size.

A person under 18 needs 1 or 2 legal representatives (docs/api.md § Families), given in the optional
columns ``representative1_ins, representative1_family_name, representative1_given_names,
representative1_birth_date, representative1_email, representative1_postal_address`` and the
same with ``representative2_``. A representative whose cells are all empty is left out; the
notices of a minor go to their representatives, so the child's own email / postal_address may
stay empty. The API rejects a minor without a representative, or with one under 18.

The rows are sent in chunks of 500 to ``POST /v1/enrolment/campaigns/{id}/invitations``.
Rows the API rejects are appended to the rejected CSV (default ``<csv>.rejected.csv``) with their
original columns plus ``error_code`` and ``error_message``.

Resuming after a crash, without inviting anyone twice
-----------------------------------------------------
A state file (default ``<csv>.state.json``, replaced atomically: temporary file + ``os.replace``)
records how many rows have been fully processed, at chunk granularity, with the running totals
and the size of the rejected file. It is written:

* before a chunk is sent, marking it *in flight*;
* after the chunk's response has been handled (rejected rows written and flushed), advancing the
  row count and clearing the mark.

Run the same command again after a crash: processed rows are skipped, and the rejected file is
cut back to the size recorded with the last completed chunk, so no rejected line is written twice.
A chunk that was in flight when the previous run stopped (sent, but its response lost) is sent
again, as is a chunk retried after a timeout or a 5xx. The API refuses people who are already
invited with ``already_enrolled``, so nobody gets a second invitation; on such a *re-sent* chunk
``already_enrolled`` means "invited by the lost attempt", and those rows are counted as
**already done earlier**, not as failures, and not written to the rejected file. (The API cannot
tell this apart from a person invited by some other import: on a re-sent chunk both count as done
earlier.) A row repeating the INS of an earlier row of the same chunk is still a genuine duplicate
and is rejected. On chunks sent only once, ``already_enrolled`` is an ordinary rejection.

Failures: HTTP 429, 5xx and connection errors are retried with exponential backoff (a bounded
number of attempts); any other error status (401 bad token, 403 wrong role, 404 unknown campaign,
400 bad deadline...) stops the import with a clear message and a non-zero exit code. Running again
resumes where it stopped.

Privacy: the command never prints or logs an INS, a name or any other cell of the file; only
counts, chunk numbers, HTTP statuses and the API's error codes. The rejected CSV is the agent's
own file and does contain the rows.

Exit codes: 0 done, 1 import stopped (HTTP error, retries exhausted), 2 bad usage or input file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.client import HTTPException
from itertools import islice
from pathlib import Path

from tqdm import tqdm

from tools import state_file

CHUNK_SIZE = 500
FIELDS = ("ins", "family_name", "given_names", "birth_date", "email", "postal_address")
REQUIRED = ("ins", "family_name", "given_names", "birth_date")
OPTIONAL = ("email", "postal_address")
REPRESENTATIVES = ("representative1_", "representative2_")  # column prefixes, each followed by a field
REPRESENTATIVE_FIELDS = tuple(prefix + name for prefix in REPRESENTATIVES for name in FIELDS)
ERROR_COLUMNS = ("error_code", "error_message")
ALREADY_ENROLLED = "already_enrolled"
STATE_VERSION = 1

Post = Callable[[str, dict], "tuple[int, object]"]


class ImportStopped(Exception):
    """The import cannot go on (bad token, unknown campaign, retries exhausted...)."""


class BadInput(Exception):
    """The CSV, state file or options cannot be used."""


@dataclass
class Totals:
    invited: int = 0
    rejected: int = 0
    done_earlier: int = 0
    chunks: int = 0


@dataclass
class State:
    campaign_id: str
    csv_size: int
    rows_done: int = 0
    rejected_bytes: int = 0
    in_flight: int | None = None  # rows_done of the chunk sent but not yet handled
    totals: Totals = field(default_factory=Totals)

    @classmethod
    def load(cls, path: Path) -> State | None:
        try:
            data = state_file.read(path, STATE_VERSION)
            if data is None:
                return None
            return cls(
                campaign_id=data["campaign_id"],
                csv_size=int(data["csv_size"]),
                rows_done=int(data["rows_done"]),
                rejected_bytes=int(data["rejected_bytes"]),
                in_flight=data.get("in_flight"),
                totals=Totals(**data["totals"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BadInput(
                f"The state file {path} cannot be read ({error}); remove it only if no import ran with it."
            ) from None

    def save(self, path: Path) -> None:
        state_file.write(path, STATE_VERSION, asdict(self))


# HTTP -----------------------------------------------------------------------------------------


def http_post(api: str, token: str, timeout: float = 120.0) -> Post:
    """``post(path, body) -> (status, json)`` over urllib; connection errors are raised as OSError."""
    base = api.rstrip("/")

    def post(path: str, body: dict) -> tuple[int, object]:
        request = urllib.request.Request(  # noqa: S310 - the API's https URL, given by its operator
            base + path,
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - as above
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _json(error.read())

    return post


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


TRANSIENT_ERRORS = (OSError, HTTPException)  # URLError, TimeoutError, ConnectionError are OSErrors


def _is_transient(status: int) -> bool:
    return status == 429 or status >= 500


def _describe(status: int, body: object) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        text = f"HTTP {status} {error.get('code', '')}: {error.get('message', '')}".strip()
        # Field paths only (e.g. "deadline"): the API never echoes submitted values.
        fields = [d["field"] for d in error.get("details") or [] if isinstance(d, dict) and d.get("field")]
        return text + (f" (fields: {', '.join(fields[:5])})" if fields else "")
    return f"HTTP {status}"


HINTS = {
    401: "the token is missing, invalid or expired (--token or MES_TOKEN)",
    403: "the token is not an enrolment_agent token",
    404: "unknown campaign (check --campaign) or wrong --api URL",
}


# CSV ------------------------------------------------------------------------------------------


def _open_csv(path: Path):
    handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - returned open, with its reader
    reader = csv.DictReader(handle)
    header = reader.fieldnames
    if not header:
        handle.close()
        raise BadInput(f"{path} is empty: it needs a header line ({', '.join(FIELDS)}).")
    header = [name.strip() for name in header]
    reader.fieldnames = header
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        handle.close()
        raise BadInput(f"{path}: the header lacks the column(s) {', '.join(missing)} (expected {', '.join(FIELDS)}).")
    if len(set(header)) != len(header):
        handle.close()
        raise BadInput(f"{path}: the header repeats a column name.")
    return handle, reader, header


def _person(row: dict, prefix: str = "") -> dict:
    person = {}
    for name in FIELDS:
        value = row.get(prefix + name)
        if value is None:
            continue  # short row: let the API say what is missing
        if name in OPTIONAL and not value.strip():
            continue
        person[name] = value
    return person


def _invitee(row: dict) -> dict:
    invitee = _person(row)
    representatives = [
        _person(row, prefix)
        for prefix in REPRESENTATIVES
        if any((row.get(prefix + name) or "").strip() for name in FIELDS)
    ]
    if representatives:
        invitee["representatives"] = representatives
    return invitee


def _ins_key(row: dict) -> str:
    return "".join((row.get("ins") or "").split()).upper()


def _count_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        # Like DictReader: blank lines are not rows.
        return max(sum(1 for record in csv.reader(handle) if record) - 1, 0)


def _chunks(reader: Iterator[dict], size: int) -> Iterator[list[dict]]:
    while True:
        chunk = list(islice(reader, size))
        if not chunk:
            return
        yield chunk


# The import -----------------------------------------------------------------------------------


@dataclass
class Importer:
    csv_path: Path
    campaign_id: str
    post: Post
    deadline: str | None = None
    rejected_path: Path | None = None
    state_path: Path | None = None
    chunk_size: int = CHUNK_SIZE
    max_attempts: int = 6
    backoff: float = 1.0
    max_backoff: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    progress: bool = True
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr))

    def __post_init__(self) -> None:
        self.csv_path = Path(self.csv_path)
        self.rejected_csv = Path(self.rejected_path or f"{self.csv_path}.rejected.csv")
        self.state_file = Path(self.state_path or f"{self.csv_path}.state.json")
        self.path = f"/v1/enrolment/campaigns/{self.campaign_id}/invitations"

    def run(self) -> Totals:
        if not self.csv_path.is_file():
            raise BadInput(f"{self.csv_path}: no such file.")
        csv_size = self.csv_path.stat().st_size
        state = State.load(self.state_file)
        if state is None:
            state = State(campaign_id=self.campaign_id, csv_size=csv_size)
        elif state.campaign_id != self.campaign_id or state.csv_size != csv_size:
            raise BadInput(
                f"The state file {self.state_file} belongs to another campaign or to another version of the CSV; "
                "use a different --state, or remove it only if you are sure no row of this file was imported."
            )
        elif state.rows_done or state.in_flight is not None:
            self.log(f"Resuming: {state.rows_done} row(s) already processed in {state.totals.chunks} chunk(s).")

        handle, reader, header = _open_csv(self.csv_path)
        extra = [name for name in header if name not in FIELDS + REPRESENTATIVE_FIELDS]
        if extra:
            self.log(f"Ignoring column(s) not in the API: {', '.join(extra)}.")
        total = _count_rows(self.csv_path) if self.progress else None
        with (
            handle,
            self._rejected_file(state, header) as (rejected_file, writer),
            tqdm(
                total=total, initial=state.rows_done, unit="rows", disable=not self.progress, dynamic_ncols=True
            ) as bar,
        ):
            rows = enumerate(reader, start=0)
            skipped = sum(1 for _ in islice(rows, state.rows_done))
            if skipped < state.rows_done:
                raise BadInput(
                    f"The state file says {state.rows_done} rows were processed but {self.csv_path} has only {skipped}."
                )
            for chunk in _chunks((row for _, row in rows), self.chunk_size):
                resent = state.in_flight == state.rows_done
                state.in_flight = state.rows_done
                state.save(self.state_file)
                _status, body, resent_now = self._send(chunk, state.totals.chunks + 1)
                self._handle(chunk, body, resent or resent_now, state, writer)
                rejected_file.flush()
                os.fsync(rejected_file.fileno())
                state.rejected_bytes = rejected_file.tell()
                state.rows_done += len(chunk)
                state.in_flight = None
                state.totals.chunks += 1
                state.save(self.state_file)
                bar.update(len(chunk))
        return state.totals

    def _rejected_file(self, state: State, header: list[str]):
        """The rejected CSV opened for appending, cut back to what the last completed chunk left."""

        @contextmanager
        def opened():
            path = self.rejected_csv
            if path.exists() and path.stat().st_size > state.rejected_bytes:
                with open(path, "r+b") as raw:
                    raw.truncate(state.rejected_bytes)
            with open(path, "a", encoding="utf-8", newline="") as rejected_file:
                writer = csv.DictWriter(rejected_file, fieldnames=[*header, *ERROR_COLUMNS], extrasaction="ignore")
                if rejected_file.tell() == 0:
                    writer.writeheader()
                    rejected_file.flush()
                    state.rejected_bytes = rejected_file.tell()
                yield rejected_file, writer

        return opened()

    def _send(self, chunk: list[dict], number: int) -> tuple[int, dict, bool]:
        """Sends one chunk, retrying transient failures; returns the 200 answer and whether it was re-sent."""
        body: dict = {"invitees": [_invitee(row) for row in chunk]}
        if self.deadline:
            body["deadline"] = self.deadline
        maybe_delivered = False
        for attempt in range(1, self.max_attempts + 1):
            try:
                status, answer = self.post(self.path, body)
            except TRANSIENT_ERRORS as error:
                problem, maybe_delivered = f"connection error ({type(error).__name__})", True
            else:
                if status == 200 and isinstance(answer, dict) and isinstance(answer.get("rejected"), list):
                    return status, answer, maybe_delivered
                if status == 200:
                    problem, maybe_delivered = "HTTP 200 with an unexpected body", True
                elif _is_transient(status):
                    problem = _describe(status, answer)
                    maybe_delivered = maybe_delivered or status != 429
                else:
                    hint = HINTS.get(status)
                    raise ImportStopped(
                        f"Chunk {number} refused: {_describe(status, answer)}" + (f" — {hint}." if hint else ".")
                    )
            if attempt == self.max_attempts:
                raise ImportStopped(f"Chunk {number}: giving up after {attempt} attempts, last: {problem}.")
            jitter = random.uniform(0.5, 1.0)  # noqa: S311 - not a secret
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * jitter
            self.log(
                f"Chunk {number}: {problem}; retrying in {delay:.1f}s (attempt {attempt + 1}/{self.max_attempts})."
            )
            self.sleep(delay)
        raise AssertionError("unreachable")

    def _handle(self, chunk: list[dict], answer: dict, resent: bool, state: State, writer: csv.DictWriter) -> None:
        errors: dict[int, dict] = {}
        for item in answer["rejected"]:
            index = item.get("index")
            if isinstance(index, int) and 0 <= index < len(chunk):
                errors[index] = item.get("error") or {}
        seen: set[str] = set()
        done_earlier = 0
        for index, row in enumerate(chunk):
            key = _ins_key(row)
            duplicate_in_chunk = key in seen
            seen.add(key)
            error = errors.get(index)
            if error is None:
                continue
            code = str(error.get("code", "unknown"))
            if resent and code == ALREADY_ENROLLED and not duplicate_in_chunk:
                done_earlier += 1
                continue
            writer.writerow({**row, "error_code": code, "error_message": str(error.get("message", ""))})
            state.totals.rejected += 1
        state.totals.done_earlier += done_earlier
        accepted = answer.get("accepted")
        state.totals.invited += accepted if isinstance(accepted, int) else len(chunk) - len(errors)


# Command line ---------------------------------------------------------------------------------


def _check_deadline(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected an ISO 8601 timestamp, e.g. 2030-01-31T00:00:00Z") from None
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.import_invitees", description="Invite the people of a CSV into an enrolment campaign."
    )
    parser.add_argument("csv", type=Path, help="UTF-8 CSV with the columns " + ", ".join(FIELDS))
    parser.add_argument("--api", required=True, help="base URL of the API, e.g. https://api.example.fr")
    parser.add_argument("--campaign", required=True, help="campaign_id")
    parser.add_argument("--token", help="enrolment_agent bearer token (default: the MES_TOKEN environment variable)")
    parser.add_argument(
        "--deadline", type=_check_deadline, help="ISO 8601 response deadline (default: the campaign's response_days)"
    )
    parser.add_argument("--rejected", type=Path, help="rejected rows CSV (default: <csv>.rejected.csv)")
    parser.add_argument("--state", type=Path, help="resume state file (default: <csv>.state.json)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def summary(totals: Totals) -> str:
    return (
        f"invited: {totals.invited}, rejected: {totals.rejected}, "
        f"already done earlier: {totals.done_earlier}, chunks: {totals.chunks}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    token = args.token or os.environ.get("MES_TOKEN")
    if not token:
        print("error: give a token with --token or the MES_TOKEN environment variable.", file=sys.stderr)
        return 2
    importer = Importer(
        csv_path=args.csv,
        campaign_id=args.campaign,
        post=http_post(args.api, token),
        deadline=args.deadline,
        rejected_path=args.rejected,
        state_path=args.state,
        progress=not args.no_progress,
    )
    try:
        totals = importer.run()
    except BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ImportStopped, csv.Error, UnicodeDecodeError) as error:
        # csv.Error and UnicodeDecodeError messages give positions, never cell contents.
        print(f"import stopped: {error}", file=sys.stderr)
        state = State.load(importer.state_file)
        if state:
            print(f"so far: {summary(state.totals)}; run the same command again to resume.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    print(f"Done. {summary(totals)}. Rejected rows: {importer.rejected_csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
