"""A faster, equivalent TransactWriteItems for moto's DynamoDB, and atomic writes.

moto 5.2 backs up every table a transaction touches with ``copy.deepcopy`` before writing, so
each transaction costs time proportional to the whole table: quadratic over a test that invites
1,000 people into one single-table design. This version keeps DynamoDB's semantics (every
condition is evaluated against the state before the transaction; if one fails nothing is written
and the cancellation reasons list each item) but backs up only the items it writes.

moto also checks a write's condition and applies it without a lock, so two threads can both
pass the same condition; DynamoDB cannot. Every write here holds one lock, as DynamoDB's
per-item atomicity requires, so race tests exercise our conditions rather than moto's gaps.

Applied by the tests, the benchmarks and the devstack's moto server; never deployed.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any, Callable

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}
_WRITE_LOCK = threading.RLock()


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict) -> dict:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _check(backend: DynamoDBBackend, op: dict, current: Any) -> tuple:
    condition = op.get("ConditionExpression")
    if condition is None:
        return (None, None, None)
    expression = get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
    if expression.expr(current):
        return (None, None, None)
    old = current.to_json()["Attributes"] if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
    return ("ConditionalCheckFailed", "The conditional request failed", old)


def _apply(backend: DynamoDBBackend, op_type: str, op: dict, key: dict) -> None:
    name = op["TableName"]
    if op_type == "Put":
        backend.put_item(name, op["Item"])
    elif op_type == "Delete":
        backend.delete_item(name, key)
    elif op_type == "Update":
        backend.update_item(
            name,
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=op.get("ExpressionAttributeNames"),
            expression_attribute_values=op.get("ExpressionAttributeValues"),
        )


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    planned, reasons, seen = [], [], set()
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in _OPERATIONS:
            raise ValueError("Unsupported transaction operation")
        key = _key_of(self, op_type, op)
        identity = (op["TableName"], str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        current = self.get_item(op["TableName"], key)
        reasons.append(_check(self, op, current))
        planned.append((op_type, op, key, copy.deepcopy(current)))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    done = []
    try:
        for op_type, op, key, before in planned:
            _apply(self, op_type, op, key)
            done.append((op["TableName"], key, before))
    except Exception:
        for name, key, before in reversed(done):
            if before is None:
                self.delete_item(name, key)
            else:
                self.put_item(name, before.to_json()["Attributes"])
        raise


def _atomic(method: Callable) -> Callable:
    @functools.wraps(method)
    def locked(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _WRITE_LOCK:
            return method(self, *args, **kwargs)

    locked.atomic = True  # type: ignore[attr-defined]
    return locked


def apply() -> None:
    if getattr(DynamoDBBackend.put_item, "atomic", False):
        return
    DynamoDBBackend.transact_write_items = _atomic(transact_write_items)  # type: ignore[method-assign]
    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name)))
