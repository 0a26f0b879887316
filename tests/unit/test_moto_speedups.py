"""devstack/moto_speedups.py's Query answers exactly what moto's own answers, page by page, on the
table and on its index, whatever writes came before (puts, updates that move or drop the index
key, deletes, batches, transactions)."""

from __future__ import annotations

from contextlib import contextmanager

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.table import Table

from devstack import moto_speedups
from tests.examples import examples

PKS, SKS, GSI_PKS = ["P0", "P1", "P2"], [f"S{n}" for n in range(8)], ["G0", "G1", None]

key = st.tuples(st.sampled_from(PKS), st.sampled_from(SKS))
write = st.one_of(
    st.tuples(st.just("put"), key, st.sampled_from(GSI_PKS), st.sampled_from(SKS)),
    st.tuples(st.just("move"), key, st.sampled_from(GSI_PKS), st.sampled_from(SKS)),
    st.tuples(st.just("delete"), key),
    st.tuples(st.just("batch"), st.lists(st.tuples(key, st.sampled_from(GSI_PKS), st.sampled_from(SKS)), max_size=5)),
    st.tuples(st.just("transact"), key, key, st.sampled_from(GSI_PKS)),
)
read = st.tuples(
    st.sampled_from(["table", "index"]),
    st.integers(0, 2),
    st.sampled_from([None, "begins_with", "between", "<=", "<", "=", ">", ">="]),
    st.booleans(),
    st.one_of(st.none(), st.integers(1, 4)),
    st.sampled_from([None, "sk", "data"]),  # a filter, applied by moto after the Limit
)


@contextmanager
def fresh_table():
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="eu-west-3")
        made = resource.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        yield made


def _item(k, gsi_pk, gsi_sk) -> dict:
    return {"pk": k[0], "sk": k[1], "data": f"{k}{gsi_pk}", **({"gsi1pk": gsi_pk, "gsi1sk": gsi_sk} if gsi_pk else {})}


def _move(k, gsi_pk, gsi_sk) -> dict:
    if gsi_pk is None:
        return {"Key": {"pk": k[0], "sk": k[1]}, "UpdateExpression": "REMOVE gsi1pk, gsi1sk"}
    return {
        "Key": {"pk": k[0], "sk": k[1]},
        "UpdateExpression": "SET gsi1pk = :p, gsi1sk = :s",
        "ExpressionAttributeValues": {":p": gsi_pk, ":s": gsi_sk},
    }


def _write(table, op) -> None:
    kind = op[0]
    if kind == "put":
        table.put_item(Item=_item(*op[1:]))
    elif kind == "move":
        table.update_item(**_move(*op[1:]))
    elif kind == "delete":
        table.delete_item(Key={"pk": op[1][0], "sk": op[1][1]})
    elif kind == "batch":
        with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
            for k, gsi_pk, gsi_sk in op[1]:
                writer.put_item(Item=_item(k, gsi_pk, gsi_sk))
    elif op[1] != op[2]:  # a transaction: a put and a move (the resource's client takes plain values)
        name = table.name
        table.meta.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": _item(op[1], "G0", "S0")}},
                {"Update": {"TableName": name, **_move(op[2], op[3], "S5")}},
            ]
        )


def _pages(table, read_op) -> list:
    from boto3.dynamodb.conditions import Attr, Key

    where, n, comparison, forward, limit, filtered = read_op
    hash_name, sort_name = ("pk", "sk") if where == "table" else ("gsi1pk", "gsi1sk")
    condition = Key(hash_name).eq((PKS if where == "table" else GSI_PKS)[n] or "G0")
    if comparison == "begins_with":
        condition &= Key(sort_name).begins_with("S")
    elif comparison == "between":
        condition &= Key(sort_name).between("S2", "S5")
    elif comparison is not None:
        condition &= {"<=": Key(sort_name).lte, "<": Key(sort_name).lt, "=": Key(sort_name).eq}.get(
            comparison, Key(sort_name).gt if comparison == ">" else Key(sort_name).gte
        )("S4")
    query = {
        "KeyConditionExpression": condition,
        "ScanIndexForward": forward,
        **({"Limit": limit} if limit else {}),
        **({"IndexName": "gsi1"} if where == "index" else {}),
        **({"FilterExpression": Attr("sk").gte("S3")} if filtered == "sk" else {}),
        **({"FilterExpression": Attr("data").contains("G1")} if filtered == "data" else {}),
    }
    pages = []
    while True:
        page = table.query(**query)
        pages.append((page["Items"], page.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in page:
            return pages
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(write, st.tuples(st.just("read"), read)), min_size=1, max_size=25))
def test_query_answers_as_moto_does(steps, monkeypatch):
    with fresh_table() as table:
        _check(table, steps, monkeypatch)


def _check(table, steps, monkeypatch) -> None:
    for step in steps:
        if step[0] != "read":
            _write(table, step)
            continue
        fast = _pages(table, step[1])
        with monkeypatch.context() as original:
            original.setattr(Table, "query", moto_speedups._moto_query)
            assert fast == _pages(table, step[1])
    for where in ("table", "index"):  # the table as it ends
        for n in range(3):
            fast = _pages(table, (where, n, None, True, 3, None))
            with monkeypatch.context() as original:
                original.setattr(Table, "query", moto_speedups._moto_query)
                assert fast == _pages(table, (where, n, None, True, 3, None))


scalar = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=5)),
    st.builds(lambda v: {"N": str(v)}, st.integers()),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=3), min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"NS": [str(n) for n in v]}, st.lists(st.integers(), min_size=1, max_size=3, unique=True)),
    st.builds(lambda v: {"B": v}, st.binary(max_size=5)),
    st.builds(lambda v: {"BS": v}, st.lists(st.binary(min_size=1, max_size=3), min_size=1, max_size=2, unique=True)),
)
attribute_value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.builds(lambda v: {"M": v}, st.dictionaries(st.text(min_size=1, max_size=3), inner, max_size=3)),
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
    ),
    max_leaves=8,
)
items = st.lists(st.dictionaries(st.text(min_size=1, max_size=4), attribute_value, min_size=1, max_size=4), max_size=3)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(found=items)
def test_attribute_values_serialize_as_moto_does(found, monkeypatch):
    """What moto's server sends for a DynamoDB answer (here a Query's) is unchanged, byte for byte."""
    from moto.core.serialize import BaseJSONSerializer, XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("Query")

    def body() -> str | bytes:
        serializer = get_serializer_class("dynamodb", "json")(
            operation_model=operation, value_picker=XFormedAttributePicker()
        )
        return serializer.serialize({"Items": found, "Count": len(found), "ScannedCount": len(found)})["body"]

    fast = body()
    with monkeypatch.context() as original:
        original.setattr(
            BaseJSONSerializer,
            "_serialize_type_structure",
            BaseJSONSerializer._serialize_type_structure.__wrapped__,  # type: ignore[attr-defined]  # functools.wraps
        )
        assert fast == body()


def test_an_expression_parsed_once_reads_each_use_s_own_values_and_names():
    """The condition and update trees kept by their text evaluate each request's values: the same
    expressions with other values succeed or fail as moto alone has them do."""
    from botocore.exceptions import ClientError

    with fresh_table() as table:
        table.put_item(Item={"pk": "P0", "sk": "S0", "n": 1})
        step = {"Key": {"pk": "P0", "sk": "S0"}, "UpdateExpression": "SET n = n + :one"}
        for expected, succeeds in ((1, True), (1, False), (2, True)):
            try:
                table.update_item(
                    **step,
                    ConditionExpression="#n = :expected",
                    ExpressionAttributeNames={"#n": "n"},
                    ExpressionAttributeValues={":expected": expected, ":one": 1},
                )
                assert succeeds
            except ClientError as error:
                assert not succeeds and error.response["Error"]["Code"] == "ConditionalCheckFailedException"
        assert table.get_item(Key=step["Key"])["Item"]["n"] == 3
        for expected, succeeds in ((2, False), (3, True)):  # the resource's client: Python values
            update = {**step, "TableName": "t", "ConditionExpression": "n = :expected"}
            update["ExpressionAttributeValues"] = {":expected": expected, ":one": 10}
            try:
                table.meta.client.transact_write_items(TransactItems=[{"Update": update}])
                assert succeeds
            except ClientError as error:
                assert not succeeds and error.response["Error"]["Code"] == "TransactionCanceledException"
        assert table.get_item(Key=step["Key"])["Item"]["n"] == 13


def test_reads_never_see_an_item_half_updated():
    """GetItem, Query and Scan racing updates that add attributes answer whole items: moto read the
    stored item while an update grew it ("dictionary changed size during iteration": a 500)."""
    import threading
    import time

    with fresh_table() as table:
        table.put_item(Item={"pk": "p", "sk": "s"})
        stop, failures = threading.Event(), []

        def read() -> None:
            while not stop.is_set():
                try:
                    table.get_item(Key={"pk": "p", "sk": "s"})
                    table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "p"})
                except Exception as error:  # noqa: BLE001 - any failure of a read is the finding
                    failures.append(error)
                time.sleep(0.001)  # the writer's turn at the lock

        readers = [threading.Thread(target=read) for _ in range(2)]
        for reader in readers:
            reader.start()
        for n in range(120):
            table.update_item(
                Key={"pk": "p", "sk": "s"}, UpdateExpression=f"SET a{n} = :v", ExpressionAttributeValues={":v": n}
            )
        stop.set()
        for reader in readers:
            reader.join()
        assert failures == []
        assert len(table.get_item(Key={"pk": "p", "sk": "s"})["Item"]) == 122
