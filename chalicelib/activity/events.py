"""The activity module's event handler: the signer of the history's heads (its own Lambda function
and role: it reads the history table's stream, signs with the heads key and puts into the heads bucket,
nothing else; infra/functions.py). The event source lets only head changes through."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.data import layout
from chalicelib.core.settings import settings

blueprint = Blueprint(__name__)

# Chalice needs an ARN when the module is imported; infra/package.py points the event source at
# the history table's stream (HistoryTable.StreamArn), whatever this says.
HISTORY_TABLE = settings().module_table(layout.HISTORY_TABLE)
TABLE_STREAM = f"arn:aws:dynamodb:{settings().region}:000000000000:table/{HISTORY_TABLE}/stream/latest"
BATCH_SIZE = 100  # the records of one invocation: a space's heads in it are signed once
BATCHING_WINDOW_SECONDS = 5  # how long Lambda gathers a batch: signed heads lag by about this


def sign_records(records: list[dict]) -> int:
    from chalicelib.core.history import heads

    return heads.sign_changes(records)


@blueprint.on_dynamodb_record(
    TABLE_STREAM,
    batch_size=BATCH_SIZE,
    starting_position="TRIM_HORIZON",
    name="SignHeads",
    maximum_batching_window_in_seconds=BATCHING_WINDOW_SECONDS,
)
def sign_heads(event) -> None:
    sign_records(event.to_dict()["Records"])
