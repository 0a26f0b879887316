"""What the HTTP layer refuses before any model sees it (core.api) and the claims' types (core.auth)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core import api
from chalicelib.core.auth import OPTIONAL_CLAIMS, ROLE_CLAIMS, _principal
from chalicelib.core.errors import InvalidRequest, PayloadTooLarge, Unauthenticated

# Strings full of what confuses a scanner: brackets, quotes, backslashes, escapes.
TRICKY_TEXT = st.text(alphabet='[]{}"\\ab/\u00e9\u2028', max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=30,
)


def depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_nesting_is_read_without_parsing_whatever_the_strings_hold(value, ascii_only):
    assert api._nesting(json.dumps(value, ensure_ascii=ascii_only)) == depth(value)


def test_too_deep_too_large_and_not_json_are_refused_before_any_model():
    with pytest.raises(InvalidRequest):
        api._json_body(b"[" * (api.MAX_DEPTH + 1) + b"]" * (api.MAX_DEPTH + 1))
    deepest: list = []
    for _ in range(api.MAX_DEPTH - 1):
        deepest = [deepest]
    assert api._json_body(json.dumps(deepest).encode()) == deepest
    with pytest.raises(PayloadTooLarge):
        api._json_body(b" " * (api.MAX_BODY_BYTES + 1))
    for constant in (b"NaN", b"-Infinity", b'{"a": Infinity}'):
        with pytest.raises(InvalidRequest):
            api._json_body(constant)


def test_flaws_name_each_path():
    body = json.loads('{"a": [{"b": "x\\u0000"}, "ok\\t\\r\\n"], "c\\u001f": 1}', object_pairs_hook=api._object)
    assert [d["field"] for d in api._flaws(body)] == ["a.0.b", "c\u001f"]
    repeated = json.loads('{"x": {"k": 1, "k": 2, "j": 0, "j": 1}}', object_pairs_hook=api._object)
    assert [d["field"] for d in api._flaws(repeated)] == ["x.k", "x.j"]
    assert list(api._flaws({"text": "\u007f é \t"})) == []  # DEL and the rest of Unicode are text


def _claims(role: str, overrides: dict | None = None) -> dict:
    valid = {
        "patient": {"ins": "255082A12345646"},
        "professional": {"rpps": "10000000009", "profession": "medecin"},
        "app": {"client_id": "app_demo", "patient_id": "pat_demo", "scope": "documents:read"},
    }
    return {"sub": "someone", "role": role, **valid.get(role, {}), **(overrides or {})}


@pytest.mark.parametrize(
    "role, name",
    [(role, name) for role, names in ROLE_CLAIMS.items() for name in ("sub", "role", *names, *OPTIONAL_CLAIMS)]
    + [("enrolment_agent", name) for name in ("sub", "role", *OPTIONAL_CLAIMS)],
)
@pytest.mark.parametrize("wrong", [["medecin"], {"a": 1}, 12, None])
def test_every_claim_read_is_a_string(role, name, wrong):
    assert _principal(_claims(role)).role == role
    with pytest.raises(Unauthenticated, match=f"'{name}'"):
        _principal(_claims(role, {name: wrong}))
