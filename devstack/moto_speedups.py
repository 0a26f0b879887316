"""A faster, equivalent TransactWriteItems for moto's DynamoDB, and atomic writes.

moto 5.2 backs up every table a transaction touches with ``copy.deepcopy`` before writing, so
each transaction costs time proportional to the whole table: quadratic over a test that invites
1,000 people into one single-table design. This version keeps DynamoDB's semantics (every
condition is evaluated against the state before the transaction; if one fails nothing is written
and the cancellation reasons list each item) but backs up only the items it writes.

moto also checks a write's condition and applies it without a lock, so two threads can both
pass the same condition; DynamoDB cannot. Every write here holds one lock, as DynamoDB's
per-item atomicity requires, so race tests exercise our conditions rather than moto's gaps. A
read (GetItem, BatchGetItem, Query, Scan, TransactGetItems) holds it too while it copies the items
into its answer: moto reads the stored item itself, and a read racing an update that adds an
attribute failed with "dictionary changed size during iteration" (a 500 no DynamoDB gives).

moto 5.2's Query starts from ``Table.all_items()``: every item of the table, sorted, then keeps
those of the queried key, sorts them again and walks them; each Query costs O(N log N) in the whole
table (60% of the devstack's moto CPU on a fresh stack, seconds per request once it holds 20,000
items), whereas DynamoDB's costs the items it reads. Here each table keeps, per partition and per
index hash value, its items' keys sorted in moto's own order (built at the first Query of that
order, then kept by every write), and a Query runs on a view of the table whose ``all_items()``
holds only what moto's loop can evaluate: found by bisection to the sort key range and to the start
key, the first ``Limit`` items of the range in the query's direction and the one after them (the
item that gives a full page its LastEvaluatedKey). moto's own code then checks, sorts, pages,
filters and projects them as before: same results, order, LastEvaluatedKey and errors, in time
O(log N + Limit).

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

import bisect
import copy
import functools
import inspect
import string
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, cast

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
from moto.dynamodb.models.table import GlobalSecondaryIndex, Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]  # moto: untyped
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # moto: untyped
from moto.dynamodb.responses import DynamoHandler
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
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _WRITE_LOCK:
            return method(self, *args, **kwargs)

    locked.atomic = True  # type: ignore[attr-defined]  # a mark on the function: apply() runs once
    return locked


# Query: the candidates only --------------------------------------------------------------------

_SORTED = "_devstack_sorted"  # on a Table: a query's order (Spec) → hash value → its items' sorted entries
Key = tuple[DynamoType, "DynamoType | None"]
# What moto sorts a Query's candidates by: the index hash attribute (None: the table's partition)
# and the attributes after it in moto's sort tuple.
Spec = tuple["str | None", tuple[str, ...]]
Entry = tuple[tuple, Key]  # (moto's sort tuple without the hash value, the item's table key)
_moto_query = Table.query
_QUERY = inspect.signature(Table.query)
# A key condition on the sort key, by its names in moto (KeyConditionExpression or KeyConditions).
_OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


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


def _entry(spec: Spec, item: Item) -> tuple[DynamoType, tuple] | None:
    """The item's hash value and sort tuple in ``spec``'s order, or None if moto's Query of that
    index never looks at it (an index key attribute missing)."""
    hash_attribute, sort = spec
    if hash_attribute is None:
        return item.hash_key, (item.range_key,) if item.range_key is not None else ()
    if hash_attribute not in item.attrs or any(name not in item.attrs for name in sort):
        return None
    return item.attrs[hash_attribute], tuple(item.attrs[name] for name in sort)


def _first(entry: Entry) -> tuple:
    return entry[0]


def _sorted(table: Table, spec: Spec) -> dict[DynamoType, list[Entry]]:
    """Per hash value, the entries of its items in moto's order; built on first use, then kept
    by every write (``_reindexing``) so that a Query finds its start by bisection."""
    maps = table.__dict__.setdefault(_SORTED, {})
    if spec not in maps:
        lists: dict[DynamoType, list[Entry]] = defaultdict(list)
        for item in _stored(table):
            found = _entry(spec, item)
            if found is not None:
                lists[found[0]].append((found[1], (item.hash_key, item.range_key)))
        for entries in lists.values():
            entries.sort(key=_first)
        maps[spec] = lists
    return maps[spec]


def _order(table: Table, index_name: str | None, call: dict) -> tuple[Spec, DynamoType, list, list] | None:
    """The query's spec, hash value, and moto's hash and range attributes (as its ``query`` builds
    them, for its start key check); None for what moto answers alone (no hash key, unknown index,
    keys of several attributes)."""
    if index_name is None:
        hash_key = call["hash_key"]
        spec: Spec = (None, ())
        return None if hash_key is None else (spec, hash_key, [table.hash_key_attr], [table.range_key_attr])
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return None
    hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    wanted = dict(call.get("hash_key_conditions") or [])
    if len(hashes) != 1 or len(ranges) > 1 or hashes[0] not in wanted:
        return None
    if ranges:
        range_attrs = [ranges[0], table.range_key_attr]
    elif isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
        range_attrs = [table.range_key_attr, table.range_key_attr]
    else:
        range_attrs = [table.hash_key_attr, table.range_key_attr]
    hash_attrs = [hashes[0], table.hash_key_attr]
    sort = tuple(table._generate_attr_to_sort_by(hash_attrs, range_attrs)[1:])
    return (hashes[0], sort), wanted[hashes[0]], hash_attrs, range_attrs


def _split(size: int, before: Callable[[int], bool]) -> int:
    """The first position in 0..size where ``before`` is false, ``before`` being true up to it."""
    low, high = 0, size
    while low < high:
        middle = (low + high) // 2
        if before(middle):
            low = middle + 1
        else:
            high = middle
    return low


def _ahead(operator: str, bounds: list[DynamoType], forward: bool) -> Callable[[DynamoType], bool] | None:
    """Whether a sort key value comes before the condition's range in the query's direction (the
    range is one run of the sorted values); None for an operator not handled here."""
    low, high = bounds[0], bounds[-1]
    if forward:
        return {
            "EQ": lambda v: v < low,
            "GE": lambda v: v < low,
            "BETWEEN": lambda v: v < low,
            "BEGINS_WITH": lambda v: v < low,
            "GT": lambda v: v <= low,
            "LT": lambda v: False,
            "LE": lambda v: False,
        }.get(operator)
    return {
        "EQ": lambda v: v > high,
        "LE": lambda v: v > high,
        "BETWEEN": lambda v: v > high,
        "LT": lambda v: v >= high,
        "GE": lambda v: False,
        "GT": lambda v: False,
        "BEGINS_WITH": lambda v: v > low and not v.compare("BEGINS_WITH", bounds),
    }.get(operator)


def _page(table: Table, index_name: str | None, call: dict) -> list[Item] | None:
    """The items moto's loop can evaluate, or None to let moto look at every item.

    moto walks its sorted candidates: it skips those up to the start key, passes over those
    outside the sort key range, keeps those inside until it has ``Limit`` of them, and stops at
    the item after them, the one that gives the page its LastEvaluatedKey (Limit counts the items
    read, before the filter, as in DynamoDB). So: bisect to the start of the range and to the
    start key, then take the items in range up to Limit and the one after them, if any."""
    order = _order(table, index_name, call)
    limit, comparison = call.get("limit"), call.get("range_comparison")
    conditions = call.get("range_key_conditions") or []
    if order is None or (limit is not None and limit < 1) or call.get("filter_kwargs") or len(conditions) > 1:
        return None
    spec, hash_value, hash_attrs, range_attrs = order
    if comparison and index_name is None and table.range_key_attr is None:
        return None  # moto's error (on an index without a sort key, moto raises before reading items)
    if conditions and conditions[0][0] != (spec[1][0] if index_name else table.range_key_attr):
        return None
    forward = call.get("scan_index_forward") is not False
    ahead = _ahead(_OPERATORS.get(comparison, comparison.upper()), call["range_objs"], forward) if comparison else None
    if comparison and ahead is None:
        return None
    entries = _sorted(table, spec).get(hash_value, [])
    size = len(entries)

    def entry(position: int) -> Entry:
        return entries[position if forward else size - 1 - position]

    def item(position: int) -> Item:
        return cast(Item, _at(table, entry(position)[1]))  # the entries follow the table's writes

    start = _split(size, lambda p: ahead(entry(p)[0][0])) if ahead else 0
    after = call.get("exclusive_start_key")
    if after is not None and size:  # moto's check itself, so its errors too
        start = max(
            start,
            _split(size, lambda p: table._item_comes_before_dct(item(p), after, hash_attrs, range_attrs, forward)),
        )
    taken: list[Item] = []
    for position in range(start, size):
        taken.append(item(position))
        if (limit is not None and len(taken) > limit) or (
            comparison and not entry(position)[0][0].compare(comparison, call["range_objs"])
        ):
            break  # the item after a full page, or the first past the range
    return taken


def query(self: Table, *args: Any, **kwargs: Any) -> Any:
    call = _QUERY.bind(self, *args, **kwargs).arguments
    with _WRITE_LOCK:
        found = _page(self, call.get("index_name"), call)
    if found is None:
        return _moto_query(self, *args, **kwargs)
    return _moto_query(_Candidates(self, found), *args, **kwargs)  # type: ignore[arg-type]  # a Table's stand-in


def _frozen(value: DynamoType) -> DynamoType:
    """A copy a later write cannot change: a key's value is a string, number or binary, rebuilt
    around the same immutable value (copy.deepcopy of each, at every write, is far dearer)."""
    if value.type in ("S", "N", "B"):
        return DynamoType({value.type: value.value})
    return copy.deepcopy(value)


def _entries(table: Table, key: Key | None) -> dict[Spec, tuple[DynamoType, tuple] | None]:
    item = _at(table, key) if key is not None else None
    specs = table.__dict__.get(_SORTED, {})
    entries: dict[Spec, tuple[DynamoType, tuple] | None] = {}
    for spec in specs:
        found = _entry(spec, item) if item is not None else None
        entries[spec] = None if found is None else (_frozen(found[0]), tuple(map(_frozen, found[1])))
    return entries


def _holds(entries: list[Entry], order: tuple, key: Key) -> bool:
    at = bisect.bisect_left(entries, order, key=_first)
    return at < len(entries) and entries[at] == (order, key)


def _reindexing(method: Callable, key_of: Callable[..., tuple[Table, Key | None]]) -> Callable:
    """``method``, a write, then the item's entry moved in each sorted list of its table; idempotent,
    as a write may run inside another (an update puts the item it builds)."""

    @functools.wraps(method)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        table, key = key_of(self, *args, **kwargs)
        if key is None or not table.__dict__.get(_SORTED):
            return method(self, *args, **kwargs)
        before = _entries(table, key)
        try:
            return method(self, *args, **kwargs)
        finally:
            after = _entries(table, key)
            for spec, lists in table.__dict__[_SORTED].items():
                old, new = before.get(spec), after.get(spec)
                if old != new and old is not None and _holds(lists[old[0]], old[1], key):
                    entries = lists[old[0]]
                    del entries[bisect.bisect_left(entries, old[1], key=_first)]
                    if not entries:
                        del lists[old[0]]
                if new is not None and not _holds(lists[new[0]], new[1], key):
                    bisect.insort(lists[new[0]], (new[1], key), key=_first)

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
    for name in ("get_item", "batch_get_item", "query", "scan", "transact_get_items"):  # an answer of whole writes
        setattr(DynamoHandler, name, _atomic(getattr(DynamoHandler, name)))
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
