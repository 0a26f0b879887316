import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from chalicelib.core.http.fields import Ins, Rpps
from chalicelib.core.security.identifiers import (
    INS_INPUT_PATTERN,
    InvalidIdentifier,
    ins_key,
    is_valid_ins,
    is_valid_rpps,
    normalize_ins,
    normalize_rpps,
    rpps_check_digit,
)


def reference_key(nir: str) -> str:
    """Independent oracle: official rule, 2A -> 20 minus 1,000,000; 2B -> minus 2,000,000."""
    offset = {"2A": 1_000_000, "2B": 2_000_000}.get(nir[5:7], 0)
    number = int(nir.replace("2A", "20", 1).replace("2B", "20", 1)) - offset
    return f"{97 - number % 97:02d}"


def reference_luhn_ok(number: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(number)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


VALID_MONTHS = [f"{m:02d}" for m in [*range(1, 13), *range(20, 43), *range(50, 100)]]
DEPARTMENTS = [f"{d:02d}" for d in range(100)] + ["2A", "2B"]

nirs = st.builds(
    lambda *parts: "".join(parts),
    st.sampled_from("123478"),
    digits(2),
    st.sampled_from(VALID_MONTHS),
    st.sampled_from(DEPARTMENTS),
    digits(3),
    digits(3),
)
valid_ins = nirs.map(lambda nir: nir + reference_key(nir))
valid_rpps = digits(10).map(lambda first10: first10 + rpps_check_digit(first10))


def assert_rejected(func, value, code):
    with pytest.raises(InvalidIdentifier) as info:
        func(value)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)
    compact = "".join(value.split()).upper() if isinstance(value, str) else ""
    if len(compact) >= 4:
        assert compact not in str(info.value).upper()  # never echoes the value


@pytest.mark.parametrize(
    "nir, key",
    [
        ("284052A123456", "32"),  # Corsica 2A
        ("284052B123456", "59"),  # Corsica 2B
        ("1850519123456", "33"),
        ("1850775123456", "08"),  # key is zero-padded
        ("1850775123076", "97"),  # NIR divisible by 97 gives key 97
        ("7991299999999", reference_key("7991299999999")),
    ],
)
def test_known_good_ins(nir, key):
    assert ins_key(nir) == key == reference_key(nir)
    assert normalize_ins(nir + key) == nir + key
    assert is_valid_ins(nir + key)


def test_corsica_2a_counts_as_19_and_2b_as_18():
    assert ins_key("185052A123456") == ins_key("1850519123456")
    assert ins_key("185052B123456") == ins_key("1850518123456")
    assert ins_key("185052A123456") != ins_key("185052B123456")


@pytest.mark.parametrize(
    "raw",
    ["2 84 05 2A 123 456 32", "2 84 05 2a 123 456 32", " 284052a12345632\n", "2\u00a084\u202f05\t2A 123456 32"],
)
def test_spaces_and_lowercase_are_normalised(raw):
    assert normalize_ins(raw) == "284052A12345632"
    assert ins_key(raw[:-3]) == "32"


def test_wrong_key_rejected():
    assert_rejected(normalize_ins, "284052A12345631", "invalid_ins")
    assert_rejected(normalize_ins, "284052A12345600", "invalid_ins")
    assert not is_valid_ins("2 84 05 2A 123 456 59")  # 2B's key on a 2A NIR


@pytest.mark.parametrize(
    "raw",
    [  # lengths; sex 5; months 00, 13, 43; bad département/commune/key; full-width digit
        "",
        "   ",
        "284052A1234563",
        "284052A123456320",
        "284052A123456",
        "584052A12345632",
        "284002A12345632",
        "284132A12345632",
        "284432A12345632",
        "284052C12345632",
        "28405A212345632",
        "284052A12B45632",
        "284052A1234563X",
        "2840５2A12345632",
        "2-84-05-2A-123-456-32",
        None,
        284052112345632,
    ],
)
def test_malformed_ins_rejected(raw):
    assert_rejected(normalize_ins, raw, "invalid_ins")
    assert not is_valid_ins(raw)


@pytest.mark.parametrize("raw", ["", "284052A12345", "284052A1234567", "284002A123456", "X84052A123456"])
def test_ins_key_rejects_malformed_nir(raw):
    assert_rejected(ins_key, raw, "invalid_ins")


def test_invalid_identifier_pickles():
    exc = pickle.loads(pickle.dumps(InvalidIdentifier("invalid_rpps", "fix it")))  # noqa: S301 - its own bytes
    assert (exc.code, exc.message, str(exc)) == ("invalid_rpps", "fix it", "fix it")


@given(nirs)
def test_computed_key_is_the_only_valid_key(nir):
    key = ins_key(nir)
    assert key == reference_key(nir)
    assert normalize_ins(nir + key) == nir + key
    for other in (f"{k:02d}" for k in range(100)):
        if other != key:
            assert not is_valid_ins(nir + other)


@given(valid_ins, st.data())
def test_any_single_digit_change_is_detected(ins, data):
    position = data.draw(st.sampled_from([i for i, c in enumerate(ins) if c.isdigit()]))
    replacement = data.draw(st.sampled_from("0123456789").filter(lambda d: d != ins[position]))
    assert not is_valid_ins(ins[:position] + replacement + ins[position + 1 :])


@given(valid_ins, st.lists(st.sampled_from([" ", "  ", "\t"]), min_size=16, max_size=16))
def test_spaced_lowercase_input_normalises_and_matches_documented_pattern(ins, seps):
    raw = "".join(sep + char for sep, char in zip(seps, ins.lower(), strict=False)) + seps[-1]
    assert normalize_ins(raw) == ins
    assert re.fullmatch(INS_INPUT_PATTERN, raw)


@pytest.mark.parametrize("rpps", ["10000000009", "12345678903", "79927398713"])
def test_known_good_rpps(rpps):
    assert reference_luhn_ok(rpps)
    assert rpps_check_digit(rpps[:10]) == rpps[10]
    assert normalize_rpps(rpps) == rpps
    assert normalize_rpps(f" {rpps[:3]} {rpps[3:]}\n") == rpps


@pytest.mark.parametrize(
    "raw",
    ["", "1000000000", "100000000090", "10000000008", "1000000000A", "1000000000-9", "١٠٠٠٠٠٠٠٠٠٩", None, 10000000009],
)
def test_malformed_rpps_rejected(raw):
    assert_rejected(normalize_rpps, raw, "invalid_rpps")
    assert not is_valid_rpps(raw)


@pytest.mark.parametrize("raw", ["", "123456789", "12345678901", "12345678x0", None])
def test_rpps_check_digit_rejects_bad_payload(raw):
    assert_rejected(rpps_check_digit, raw, "invalid_rpps")


@given(digits(10))
def test_luhn_digit_is_the_only_valid_last_digit(first10):
    check = rpps_check_digit(first10)
    assert reference_luhn_ok(first10 + check)
    for other in "0123456789":
        assert is_valid_rpps(first10 + other) == (other == check)


@given(valid_rpps, st.data())
def test_rpps_single_digit_substitution_detected(rpps, data):
    position = data.draw(st.integers(0, 10))
    replacement = data.draw(st.sampled_from("0123456789").filter(lambda d: d != rpps[position]))
    assert not is_valid_rpps(rpps[:position] + replacement + rpps[position + 1 :])


class Patient(BaseModel):
    ins: Ins
    rpps: Rpps


def test_pydantic_types_normalise():
    model = Patient(ins="2 84 05 2a 123 456 32", rpps=" 100 000 000 09 ")
    assert (model.ins, model.rpps) == ("284052A12345632", "10000000009")


def test_pydantic_types_report_codes_without_echoing_value():
    with pytest.raises(ValidationError) as info:
        Patient(ins="284052A12345631", rpps="10000000008")
    errors = {e["loc"][0]: e for e in info.value.errors(include_input=False)}
    assert errors["ins"]["type"] == "invalid_ins"
    assert errors["rpps"]["type"] == "invalid_rpps"
    assert "284052A12345631" not in errors["ins"]["msg"]
    assert "10000000008" not in errors["rpps"]["msg"]


def test_json_schema_documents_format_with_valid_examples():
    props = Patient.model_json_schema()["properties"]
    for name, validate in (("ins", normalize_ins), ("rpps", normalize_rpps)):
        assert props[name]["type"] == "string"
        assert props[name]["description"] and props[name]["pattern"]
        for example in props[name]["examples"]:
            validate(example)
            assert re.fullmatch(props[name]["pattern"], example)
