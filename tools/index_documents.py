"""Gives a deployed stack's documents their entries in the FHIR search indexes (docs/fhir.md: a page
at a constant cost): the documents written before those indexes carry no ``gsi2``/``gsi3`` keys and
are in no FHIR search until they do. A one-off, run once the new table definition is deployed and
before the FHIR function goes live; a document deposited or imported since has its keys already.

Usage::

    python -m tools.index_documents --stage prod --dry-run     # how many documents lack their keys
    python -m tools.index_documents --stage prod               # sets them
        [--table mes-prod-documents] [--region eu-west-3]

It scans the documents table for the metadata items (``PAT#…/DOC#…``) without ``gsi2pk`` and sets
the four keys each one's own attributes give (``chalicelib/documents/store.py`` ``search_index_keys``),
on condition that the item is still there and still has none: running it again, or after a crash,
sets only what is left, and a document deleted meanwhile is not brought back.

Privacy: prints counts only. Exit codes: 0 done, 1 stopped on an AWS error (run it again).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from boto3.dynamodb.conditions import Attr

from chalicelib.core.data import layout
from chalicelib.core.settings import Settings
from chalicelib.documents.store import search_index_keys


def missing(table: Any) -> Any:
    """Every document metadata item without its search keys, a scan page at a time."""
    query: dict[str, Any] = {
        "FilterExpression": Attr("sk").begins_with(layout.DOCUMENT_PREFIX) & Attr("gsi2pk").not_exists()
    }
    while True:
        page = table.scan(**query)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def index(table: Any, item: dict, dry_run: bool) -> bool:
    """Sets one document's search keys; False when it changed meanwhile (deleted, or keyed by a write)."""
    from botocore.exceptions import ClientError

    keys = search_index_keys(item["patient_id"], item["type_code"], item["created_at"], item["document_id"])
    if dry_run:
        return True
    try:
        table.update_item(
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in keys),
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(gsi2pk)",
            ExpressionAttributeValues={f":{name}": value for name, value in keys.items()},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def run(table: Any, dry_run: bool) -> tuple[int, int]:
    """(documents keyed, or to key on a dry run; documents that changed meanwhile)."""
    done = skipped = 0
    for item in missing(table):
        if index(table, item, dry_run):
            done += 1
        else:
            skipped += 1
    return done, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.index_documents", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--table", help="the documents table (default mes-<stage>-documents)")
    parser.add_argument("--region")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    settings = Settings.from_environ()
    name = args.table or Settings(stage=args.stage).module_table(layout.DOCUMENTS_TABLE)
    table = boto3.resource("dynamodb", region_name=args.region or settings.region).Table(name)
    try:
        done, skipped = run(table, args.dry_run)
    except (BotoCoreError, ClientError) as error:
        print(f"stopped: {type(error).__name__}; run the same command again.", file=sys.stderr)
        return 1
    verb = "to key" if args.dry_run else "keyed"
    print(f"{done} documents {verb}, {skipped} changed meanwhile (left as they are). Table: {name}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
