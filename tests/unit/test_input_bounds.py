"""What the HTTP layer refuses before any model sees it (core.http.api) and the claims' types (core.security.auth)."""

from __future__ import annotations

import contextlib
import json
import json.scanner
import time
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.core.errors import InvalidRequest, Unauthenticated
from chalicelib.core.http import api
from chalicelib.core.security.auth import NUMERIC_IDENTIFIERS, OPTIONAL_CLAIMS, ROLE_CLAIMS, _principal
from tests.examples import examples

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


@settings(max_examples=examples(400), deadline=None)
@given(JSON_VALUES, st.booleans(), st.sampled_from([None, 0, 2]))
def test_nesting_is_read_without_parsing_whatever_the_strings_hold(value, ascii_only, indent):
    """Differential: the reader's depth is the depth of what json.loads builds from the text."""
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    assert api._nesting(text) == depth(json.loads(text))


def depth_the_parser_reaches(text: str) -> int:
    """How deep json's parser goes into a text before it returns or fails (its pure-Python scanner,
    which nests as the C one does, with its array and object readers counted)."""
    reached = [0, 0]  # now, deepest

    def counted(parse):
        def nested(*args, **kwargs):
            reached[0] += 1
            reached[1] = max(reached)
            try:
                return parse(*args, **kwargs)
            finally:
                reached[0] -= 1

        return nested

    decoder: Any = json.JSONDecoder()  # its parse_* and scan_once are set in __init__, untyped
    decoder.parse_array, decoder.parse_object = counted(decoder.parse_array), counted(decoder.parse_object)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]  # not in typeshed
    with contextlib.suppress(ValueError):
        decoder.decode(text)
    return reached[1]


JSON_SYMBOLS = '[]{}"\\a,:1 u0'
# Texts that are not JSON but that the parser reads far into: JSON cut anywhere, then anything.
BROKEN_JSON = st.builds(
    lambda value, cut, tail: json.dumps(value)[:cut] + tail,
    JSON_VALUES,
    st.integers(0, 300),
    st.text(alphabet=JSON_SYMBOLS, max_size=8),
)


@settings(max_examples=examples(1000), deadline=None)
@given(st.text(alphabet=JSON_SYMBOLS, max_size=40) | BROKEN_JSON)
def test_nesting_is_never_read_shallower_than_the_parser_goes(text):
    """On any text, JSON or not: the parser never nests deeper than the reader said (MAX_DEPTH keeps
    it from recursing without end)."""
    assert depth_the_parser_reaches(text) <= max(0, api._nesting(text))


# What makes a scanner of JSON strings retry: quotes, escaped quotes, lone backslashes, brackets.
HOSTILE_PIECES = st.text(alphabet='"\\[]{}a:,', min_size=1, max_size=8) | st.sampled_from(['\\"', '"\\"', "[", '"["'])
# The reader's worst case is about 0.1 µs a character; a quadratic one took 240 µs a character at
# 160 KB (and more on longer texts). CPU time, and a slack of 20 times: a busy machine does not fail it.
SECONDS_PER_CHARACTER = 2e-6
SECONDS_FOR_ANY_TEXT = 0.05


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(HOSTILE_PIECES, min_size=1, max_size=4), JSON_VALUES, st.integers(1, 1_000_000))
@example(['"', '\\"'], None, 160_000)  # the body that held a function for 39 s
@example(['"', '\\"'], None, 1_000_000)
def test_nesting_is_read_in_time_linear_in_the_length(pieces, value, length):
    """Any text up to 1 MB, JSON or hostile: a head, then a pattern repeated to the length."""
    head, pattern = pieces[0], "".join(pieces[1:]) or json.dumps(value)
    text = (head + pattern * (length // len(pattern) + 1))[:length]
    started = time.process_time()
    api._nesting(text)
    assert time.process_time() - started <= SECONDS_FOR_ANY_TEXT + SECONDS_PER_CHARACTER * len(text)


def test_too_deep_and_not_json_are_refused_before_any_model():
    with pytest.raises(InvalidRequest):
        api.parse_json(b"[" * (api.MAX_DEPTH + 1) + b"]" * (api.MAX_DEPTH + 1))
    deepest: list = []
    for _ in range(api.MAX_DEPTH - 1):
        deepest = [deepest]
    assert api.parse_json(json.dumps(deepest).encode()) == deepest
    for constant in (b"NaN", b"-Infinity", b'{"a": Infinity}'):
        with pytest.raises(InvalidRequest):
            api.parse_json(constant)


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=6) | st.integers(-3, 300).map(str))
def test_a_query_integer_is_ascii_digits_within_its_bounds_or_a_400(text):
    in_bounds = text.isascii() and text.isdigit() and 1 <= int(text) <= 200
    try:
        value = api.query_integer(text, "limit", minimum=1, maximum=200)
    except InvalidRequest as error:
        assert not in_bounds and [detail["field"] for detail in error.details or []] == ["limit"]
    else:
        assert in_bounds and value == int(text)


def test_a_query_integer_of_any_length_is_read_or_refused_cleanly():
    assert api.query_integer("0" * 5000 + "7", "limit", minimum=1, maximum=200) == 7  # int() refuses 5,001 digits
    with pytest.raises(InvalidRequest):
        api.query_integer("9" * 5000, "limit", minimum=1, maximum=200)


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
    expected = "identifier is invalid" if name in NUMERIC_IDENTIFIERS and type(wrong) is int else f"'{name}'"
    with pytest.raises(Unauthenticated, match=expected):
        _principal(_claims(role, {name: wrong}))


def test_digit_identifiers_may_come_as_json_numbers():
    """`devstack token --claim rpps=10000000009` writes a number (a value is read as JSON when it
    parses): its digits are the identifier, checked as any other."""
    assert _principal(_claims("professional", {"rpps": 10000000009})).rpps == "10000000009"
    assert _principal(_claims("patient", {"ins": 185037512345641})).ins == "185037512345641"
    with pytest.raises(Unauthenticated, match="identifier is invalid"):
        _principal(_claims("professional", {"rpps": 10000000008}))
    with pytest.raises(Unauthenticated, match="'rpps'"):
        _principal(_claims("professional", {"rpps": True}))
