"""A faster, equivalent TransactWriteItems for moto's DynamoDB, and atomic writes.

moto 5.2 backs up every table a transaction touches with ``copy.deepcopy`` before writing, so
each transaction costs time proportional to the whole table: quadratic over a test that invites
1,000 people into one single-table design. This version keeps DynamoDB's semantics (every
condition is evaluated against the state before the transaction; if one fails nothing is written
and the cancellation reasons list each item) but backs up only the items it writes.

moto also checks a write's condition and applies it without a lock, so two threads can both
pass the same condition; DynamoDB cannot. Every write here holds one lock, as DynamoDB's
per-item atomicity requires, so race tests exercise our conditions rather than moto's gaps.

moto 5.2's Query starts from ``Table.all_items()``: every item of the table, sorted, then keeps
those of the queried key; each Query costs O(N log N) in the whole table (60% of the devstack's
moto CPU on a fresh stack, seconds per request once it holds 20,000 items). Here a Query runs on
a view of the table whose ``all_items()`` holds only the candidates: the queried partition, or
for an index, the items whose index hash key has the queried value (kept in a map updated by
every write), and of those, the items of the queried sort key range plus one item past it in
the query's direction: moto's loop passes over the others without keeping them (an item past
the range is what, after a full page, gives that page its LastEvaluatedKey). moto's own
code then checks, sorts, pages and projects them as before: same results, order,
LastEvaluatedKey and errors, in time proportional to the items the Query reads.

moto keeps every DynamoDB item it ever built (each write, each copy) in a list for its dashboard
(``/moto-api/data.json``), so memory and that dump grow without bound: here items are not tracked.

Per request, moto's server (a third of its time once queries are cheap) serializes each
attribute value of a DynamoDB answer by trying the ten members of the AttributeValue shape under
several aliases, although its value is already in the wire form; here a value whose members
are strings, numbers, booleans, sets of them, lists or maps is taken as it is (binaries still go
through moto's serializer). It finds the service of each request by listing moto's package
directory and trying every URL pattern, under one lock: here the answer for a host is kept. And
it lists a handler class's methods on every call: here once per class.

Not a speed-up but a gap: botocore reaches DynamoDB Streams at its account endpoint
(``<account>.streams-ddb.<region>.amazonaws.com``), which moto 5.2 does not route; here it does.

Per write, moto parses each UpdateExpression twice and each ConditionExpression two or three times
(once to validate the request, once to apply it), although a service writes with a handful of
expressions whose values differ: here an UpdateExpression's tree is kept by its text (moto's
validator works on a deep copy of it), and a condition's by its text and attribute names, the
values looked up by their placeholder each time it is used. moto checks an item's 400 KB limit as
it builds it by summing the sizes of all its attributes at each one added (quadratic in the
attributes): here once, over all of them. Each of the ten passes of its UpdateExpression validator
builds, at every node of the tree, the map of the node types it processes, the same for every
pass of its class: here once per class. Its request ids are drawn one character at a time.

Applied by the tests, the benchmarks and the devstack's moto server; never deployed.
"""

from __future__ import annotations

import copy
import functools
import inspect
import string
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import moto.core.responses
from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.comparisons import ConditionExpressionParser, get_filter_expression
from moto.dynamodb.exceptions import (
    ItemSizeTooLarge,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]  # moto: untyped
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # moto: untyped
from moto.moto_api._internal.moto_random import MotoRandom
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

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
    expression = get_filter_expression(
        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if expression.expr(current):
        return (None, None, None)
    old = (
        current.to_json()["Attributes"]
        if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        else None
    )
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
            expression_attribute_names=op.get("ExpressionAttributeNames"),  # type: ignore[arg-type]  # None as moto
            expression_attribute_values=op.get("ExpressionAttributeValues"),  # type: ignore[arg-type]  # passes it
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

    locked.atomic = True  # type: ignore[attr-defined]  # a mark on the function: apply() runs once
    return locked


# Query: the candidates only --------------------------------------------------------------------

_BY_INDEX = "_devstack_by_index"  # on a Table: index hash attribute → value → keys of its items
Key = tuple[DynamoType, "DynamoType | None"]
_moto_query = Table.query
_QUERY = inspect.signature(Table.query)


class _Candidates:
    """A table as its Query sees it: ``all_items()`` is only the items that can match."""

    def __init__(self, table: Table, items: list[Item]):
        self._table, self._items = table, items

    def all_items(self) -> list[Item]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


# A table's part is an Item, or a dict of them when the table has a range key: moto types it as
# either, so these read it as Any.
def _stored(table: Table) -> list[Item]:
    parts: Iterable[Any] = table.items.values()
    return [item for part in parts for item in (part.values() if table.range_key_attr else [part])]


def _at(table: Table, key: Key) -> Item | None:
    part: Any = table.items.get(key[0])
    return part.get(key[1]) if part is not None and table.range_key_attr else part


def _partition(table: Table, hash_value: DynamoType) -> list[Item]:
    part: Any = table.items.get(hash_value)
    return [] if part is None else list(part.values()) if table.range_key_attr else [part]


def _members(table: Table, attribute: str) -> dict[DynamoType, set[Key]]:
    """The keys of the items having each value of ``attribute``; built on first use, then kept."""
    maps = table.__dict__.setdefault(_BY_INDEX, {})
    if attribute not in maps:
        members: dict[DynamoType, set[Key]] = defaultdict(set)
        for item in _stored(table):
            if attribute in item.attrs:
                members[item.attrs[attribute]].add((item.hash_key, item.range_key))
        maps[attribute] = members
    return maps[attribute]


def _candidates(
    table: Table, hash_key: DynamoType | None, index_name: str | None, conditions: list | None
) -> list[Item] | None:
    """The items having the queried hash key, or None to let moto look at every item."""
    if index_name is None:
        return None if hash_key is None else _partition(table, hash_key)
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    wanted = dict(conditions or [])
    hashed = (
        [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH" and k["AttributeName"] in wanted]
        if index
        else []
    )
    if not hashed:
        return None
    if hashed[0] == table.hash_key_attr:  # a local index: the partition
        return _partition(table, wanted[hashed[0]])
    keys = list(_members(table, hashed[0]).get(wanted[hashed[0]], ()))
    return [item for item in map(functools.partial(_at, table), keys) if item is not None]


def _in_range(table: Table, items: list[Item], index_name: str | None, call: dict) -> list[Item]:
    """Of one hash key's items, those moto's loop can keep or stop at: the queried sort key range
    and one item past it in the query's direction, if any (moto orders by the sort key's value,
    then for an index by the table's key)."""
    comparison, conditions = call.get("range_comparison"), call.get("range_key_conditions") or []
    if index_name is None:
        attribute = table.range_key_attr
    else:
        index = table.get_index(index_name)
        attribute = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"), None)
    if not comparison or attribute is None or len(conditions) > 1:
        return items

    def order(item: Item) -> tuple:
        return (
            item.attrs[attribute].cast_value,
            item.hash_key.cast_value,
            item.range_key.cast_value if item.range_key else None,
        )

    ranged = [item for item in items if attribute in item.attrs]
    inside = [item for item in ranged if item.attrs[attribute].compare(comparison, call["range_objs"])]
    if not inside:
        return inside
    forward = call.get("scan_index_forward", True) is not False
    edge = max(map(order, inside)) if forward else min(map(order, inside))
    past = next((item for item in ranged if (order(item) > edge if forward else order(item) < edge)), None)
    return inside + ([past] if past else [])


def query(self: Table, *args: Any, **kwargs: Any) -> Any:
    call = _QUERY.bind(self, *args, **kwargs).arguments
    with _WRITE_LOCK:
        found = _candidates(self, call["hash_key"], call.get("index_name"), call.get("hash_key_conditions"))
    if found is None:
        return _moto_query(self, *args, **kwargs)
    candidates = _Candidates(self, _in_range(self, found, call.get("index_name"), call))
    return _moto_query(candidates, *args, **kwargs)  # type: ignore[arg-type]  # a Table's stand-in (__getattr__)


def _indexed(table: Table, key: Key | None) -> dict[str, DynamoType]:
    item = _at(table, key) if key is not None else None
    maps = table.__dict__.get(_BY_INDEX, {})
    return {name: copy.deepcopy(item.attrs[name]) for name in maps if item is not None and name in item.attrs}


def _reindexing(method: Callable, key_of: Callable[..., tuple[Table, Key | None]]) -> Callable:
    """``method``, a write, then the index maps of its table moved to the item's new values."""

    @functools.wraps(method)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        table, key = key_of(self, *args, **kwargs)
        if key is None or not table.__dict__.get(_BY_INDEX):
            return method(self, *args, **kwargs)
        before = _indexed(table, key)
        try:
            return method(self, *args, **kwargs)
        finally:
            after = _indexed(table, key)
            for name, members in table.__dict__[_BY_INDEX].items():
                old, new = before.get(name), after.get(name)
                if old is not None and (new is None or old != new):
                    members[old].discard(key)
                    if not members[old]:
                        del members[old]
                if new is not None:
                    members[new].add(key)

    return write


def _typed_key(table: Table, key: dict) -> Key | None:
    if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
        return None  # moto refuses it
    return DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr]) if table.range_key_attr else None


def _put_key(table: Table, item_attrs: dict, *_: Any, **__: Any) -> tuple[Table, Key | None]:
    return table, _typed_key(table, item_attrs)


def _delete_key(
    table: Table, hash_key: DynamoType, range_key: DynamoType | None = None, *_: Any, **__: Any
) -> tuple[Table, Key]:
    return table, (hash_key, range_key)


def _update_key(backend: DynamoDBBackend, table_name: str, key: dict, *_: Any, **__: Any) -> tuple[Table, Key | None]:
    table = backend.get_table(table_name)
    return table, _typed_key(table, key)


# Costs growing with time -----------------------------------------------------------------------


def _untracked(cls: type, *_: Any, **__: Any) -> Any:
    return object.__new__(cls)


_PLAIN = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_PLAIN_SETS = {"SS", "NS"}


def _plain(value: Any) -> dict | None:
    """An AttributeValue in its wire form, as moto's serializer would write it; None for binaries
    (base64-encoded by the serializer) or anything unexpected, left to moto."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    kind, inner = next(iter(value.items()))
    if kind in _PLAIN:
        return {kind: inner} if isinstance(inner, _PLAIN[kind]) else None
    if kind in _PLAIN_SETS:
        return {kind: list(inner)} if isinstance(inner, list) and all(isinstance(v, str) for v in inner) else None
    if kind == "M" and isinstance(inner, dict):
        members = {name: _plain(member) for name, member in inner.items()}
        return None if None in members.values() else {"M": members}
    if kind == "L" and isinstance(inner, list):
        elements = [_plain(element) for element in inner]
        return None if None in elements else {"L": elements}
    return None


def _plain_attribute_values(method: Callable) -> Callable:
    @functools.wraps(method)
    def serialize(self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and self.operation_model.service_model.service_name == "dynamodb":
            plain = _plain(value)
            if plain is not None:
                serialized[self.get_serialized_name(shape, key)] = plain
                return
        method(self, serialized, value, shape, key)

    return serialize


def _host_cached(method: Callable) -> Callable:
    known: dict[str | None, Any] = {}

    @functools.wraps(method)
    def backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in known:
            known[host] = method(self, host)
        return known[host]

    return backend_for_host


ACCOUNT_STREAMS_ENDPOINT = r"https?://(.+)\.streams-ddb\.(.+)\.amazonaws\.com"


def _route_account_stream_endpoints() -> None:
    import re

    from moto import backend_index
    from moto.dynamodbstreams import urls

    backend_index.backend_url_patterns.insert(0, ("dynamodbstreams", re.compile(ACCOUNT_STREAMS_ENDPOINT)))
    urls.url_bases.append(ACCOUNT_STREAMS_ENDPOINT)


# Expressions parsed once -------------------------------------------------------------------------

_moto_make_update = UpdateExpressionParser.make.__func__  # a classmethod's function
_moto_parse_condition = ConditionExpressionParser.parse
_moto_make_operand = ConditionExpressionParser._make_operand
_CONDITIONS: dict[tuple, tuple[Any, list[str], list[str]]] = {}


@functools.lru_cache(maxsize=4096)
def _update_tree(expression: str) -> Any:
    return _moto_make_update(UpdateExpressionParser, expression)


def _make_update(cls: type, expression: str) -> Any:
    return _update_tree(expression)


def _make_operand(self: ConditionExpressionParser, node: Any) -> Any:
    """moto's, a value read by its placeholder (the node's text) from this parser's values, not
    from those the tree was first parsed with."""
    if node.kind == self.Kind.EXPRESSION_ATTRIBUTE_VALUE:
        return _moto_make_operand(self, node._replace(value=self._lookup_expression_attribute_value(node.text)))
    return _moto_make_operand(self, node)


def _parse_condition(self: ConditionExpressionParser) -> Any:
    """moto's tree of the condition kept by its text and names (the values are read only by
    ``_make_operand``); a use naming a value it is not given goes through moto's parse and its error."""
    if not self.condition_expression:
        return _moto_parse_condition(self)
    key = (self.condition_expression, tuple(sorted((self.expression_attribute_names or {}).items())))
    if key not in _CONDITIONS:
        _moto_parse_condition(self)  # moto's errors as they are; nothing kept on an error
        self.expr_attr_names_found.clear()
        self.expr_attr_values_found.clear()
        nodes = self._lex_condition_expression()
        for step in (self._parse_paths, self._apply_functions, self._apply_comparator, self._apply_in):
            nodes = step(nodes)
        tree = self._apply_parens_and_booleans(self._apply_between(nodes))[0]
        _CONDITIONS[key] = (tree, self._find_literals(tree), self._find_expr_attr_values(tree))
    tree, names, values = _CONDITIONS[key]
    if not all(name in (self.expression_attribute_values or {}) for name in values):
        return _moto_parse_condition(self)
    self.expr_attr_names_found.extend(names)
    self.expr_attr_values_found.extend(values)
    return self._make_op_condition(tree)


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    """moto's Item, its size checked once it has all its attributes: the same answer as moto's check
    at each attribute added, as the size only grows."""
    self.hash_key, self.range_key = hash_key, range_key
    typed = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in typed.items()) > 405000:  # moto's limit
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict(typed)  # dict.update: no check per attribute


_PROCESSED: dict[type, tuple[type, ...]] = {}


def _nodes_to_be_processed(self: Any) -> tuple[type, ...]:
    """moto's: the keys of the processing map, the same types for every traverser of a class."""
    if type(self) not in _PROCESSED:
        _PROCESSED[type(self)] = tuple(self._processing_map())
    return _PROCESSED[type(self)]


def _random_string(self: MotoRandom, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
    """moto's, drawn in one call from the same random source."""
    pool = string.ascii_letters + (string.digits if include_digits else "")
    drawn = "".join(self.choices(pool, k=length))
    return drawn.lower() if lower_case else drawn


def apply() -> None:
    if getattr(DynamoDBBackend.put_item, "atomic", False):
        return
    _route_account_stream_endpoints()
    Table.query = query  # type: ignore[method-assign]  # patched
    Table.put_item = _reindexing(Table.put_item, _put_key)  # type: ignore[method-assign]  # patched
    Table.delete_item = _reindexing(Table.delete_item, _delete_key)  # type: ignore[method-assign]  # patched
    update_item = _reindexing(DynamoDBBackend.update_item, _update_key)
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]  # patched
    DynamoDBBackend.transact_write_items = _atomic(transact_write_items)  # type: ignore[method-assign]  # patched
    for name in ("put_item", "update_item", "delete_item"):  # the lock around the reindexing too
        setattr(DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name)))
    Item.__new__ = staticmethod(_untracked)  # type: ignore[method-assign]  # patched
    Item.instances_tracked.clear()  # type: ignore[attr-defined]  # set by moto's metaclass, untyped
    serialize = _plain_attribute_values(BaseJSONSerializer._serialize_type_structure)
    BaseJSONSerializer._serialize_type_structure = serialize  # type: ignore[method-assign]  # patched
    backend_for_host = _host_cached(DomainDispatcherApplication.get_backend_for_host)
    DomainDispatcherApplication.get_backend_for_host = backend_for_host  # type: ignore[method-assign]  # patched
    UpdateExpressionParser.make = classmethod(_make_update)
    ConditionExpressionParser.parse = _parse_condition  # type: ignore[method-assign]  # patched
    ConditionExpressionParser._make_operand = _make_operand  # type: ignore[method-assign]  # patched
    Item.__init__ = _item_init  # type: ignore[method-assign]  # patched
    DepthFirstTraverser.nodes_to_be_processed = _nodes_to_be_processed
    MotoRandom.get_random_string = _random_string  # type: ignore[method-assign]  # patched
    moto.core.responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        moto.core.responses.method_names_from_class
    )
