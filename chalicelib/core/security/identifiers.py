"""French health identifiers: INS (NIR + key) and RPPS.

Pure functions, no I/O, standard library only (imported at cold start by token verification);
the pydantic field types built on them are in ``chalicelib.core.http.fields``.

* INS: the 13-character NIR (sex, year, month, département, commune, order
  number) followed by a 2-digit key equal to ``97 - (NIR mod 97)``, where for
  the computation the Corsican départements ``2A`` and ``2B`` count as ``19``
  and ``18``. Input may contain spaces and lower-case letters.
* RPPS: 11 digits, the last being a Luhn check digit over the first 10.

Error messages say what to fix and never echo the submitted value.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "INS_CODE",
    "RPPS_CODE",
    "InvalidIdentifier",
    "ins_key",
    "is_valid_ins",
    "is_valid_rpps",
    "normalize_ins",
    "normalize_rpps",
    "rpps_check_digit",
]

PROFESSIONS: frozenset[str] = frozenset(
    {
        "medecin",
        "sage_femme",
        "pharmacien",
        "infirmier",
        "chirurgien_dentiste",
        "masseur_kinesitherapeute",
        "pedicure_podologue",
        "medecin_du_travail",
    }
)
"""The professions a token's ``profession`` claim may name (docs/api.md § Tokens); the access
matrix (core.policy.matrix) has one row for each."""

# The identifiers' systems in HL7 messages (OIDs of the ANS): FHIR systems are "urn:oid:" + OID.
INS_OID = "1.2.250.1.213.1.4.8"  # INS-NIR
IDNATPS_OID = "1.2.250.1.71.4.2.1"  # IdNatPS, national identifier of professionals: "8" + RPPS
INS_SYSTEM = f"urn:oid:{INS_OID}"
IDNATPS_SYSTEM = f"urn:oid:{IDNATPS_OID}"

INS_CODE = "invalid_ins"
RPPS_CODE = "invalid_rpps"

NIR_LENGTH = 13
INS_LENGTH = 15
RPPS_LENGTH = 11

# Corsica: 2A/2B are replaced by 19/18 to compute the key.
_CORSICA = {"2A": "19", "2B": "18"}

# (start, end, regex, what to fix) for each part of the NIR, positions 0-based
# over the normalised value; messages give 1-based character positions.
_NIR_PARTS: tuple[tuple[int, int, re.Pattern[str], str], ...] = (
    (0, 1, re.compile(r"[1-478]"), "the sex digit (character 1) must be 1, 2, 3, 4, 7 or 8"),
    (1, 3, re.compile(r"[0-9]{2}"), "the year (characters 2-3) must be 2 digits"),
    (
        3,
        5,
        re.compile(r"0[1-9]|1[0-2]|[23][0-9]|4[0-2]|[5-9][0-9]"),
        "the month (characters 4-5) must be 01-12, 20-42 or 50-99",
    ),
    (
        5,
        7,
        re.compile(r"[0-9]{2}|2[AB]"),
        "the département (characters 6-7) must be 2 digits, or 2A/2B for Corsica",
    ),
    (7, 10, re.compile(r"[0-9]{3}"), "the commune (characters 8-10) must be 3 digits"),
    (10, 13, re.compile(r"[0-9]{3}"), "the order number (characters 11-13) must be 3 digits"),
)
_INS_KEY_RE = re.compile(r"[0-9]{2}")
_DIGITS_RE = re.compile(r"[0-9]+")

# Documentation-only pattern (not enforced before normalisation): the INS with
# optional whitespace between characters, lower-case 2a/2b allowed.
INS_INPUT_PATTERN = r"^\s*[1-478](?:\s*[0-9]){4}\s*(?:[0-9]\s*[0-9]|2\s*[ABab])(?:\s*[0-9]){8}\s*$"
RPPS_INPUT_PATTERN = r"^\s*(?:[0-9]\s*){11}$"


class InvalidIdentifier(ValueError):
    """An identifier failed validation.

    ``code`` is machine-readable (``"invalid_ins"`` or ``"invalid_rpps"``);
    ``message`` (also ``str(exc)``) tells a person what to fix and never
    contains the submitted value.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.message))


def _compact(value: object, code: str, label: str) -> str:
    """Remove all whitespace and upper-case; reject non-strings."""
    if not isinstance(value, str):
        raise InvalidIdentifier(code, f"{label} must be given as a string.")
    return "".join(value.split()).upper()


def _nir_error(nir: str) -> str | None:
    """Return what is wrong with a 13-character NIR, or None if well-formed."""
    for start, end, pattern, fix in _NIR_PARTS:
        if not pattern.fullmatch(nir[start:end]):
            return fix
    return None


def _key_of(nir: str) -> str:
    """Key for a well-formed, normalised 13-character NIR."""
    dept = nir[5:7]
    numeric = nir[:5] + _CORSICA.get(dept, dept) + nir[7:]
    return f"{97 - int(numeric) % 97:02d}"


def ins_key(nir13: str) -> str:
    """Return the 2-digit INS key for a 13-character NIR (handles 2A/2B).

    Spaces and lower case are tolerated. Raises ``InvalidIdentifier`` with
    code ``"invalid_ins"`` if the NIR is malformed.
    """
    nir = _compact(nir13, INS_CODE, "The NIR")
    if len(nir) != NIR_LENGTH:
        raise InvalidIdentifier(INS_CODE, "The NIR must be 13 characters long (spaces are ignored).")
    problem = _nir_error(nir)
    if problem:
        raise InvalidIdentifier(INS_CODE, f"The NIR is malformed: {problem}.")
    return _key_of(nir)


def normalize_ins(value: str) -> str:
    """Return the canonical 15-character INS (no spaces, upper case).

    Raises ``InvalidIdentifier`` with code ``"invalid_ins"`` when the value
    is malformed or its key does not match the NIR.
    """
    ins = _compact(value, INS_CODE, "The INS")
    if len(ins) != INS_LENGTH:
        raise InvalidIdentifier(
            INS_CODE,
            "The INS must be 15 characters long (spaces are ignored): "
            "the 13-character NIR followed by its 2-digit key.",
        )
    problem = _nir_error(ins[:NIR_LENGTH])
    if problem:
        raise InvalidIdentifier(INS_CODE, f"The INS is malformed: {problem}.")
    if not _INS_KEY_RE.fullmatch(ins[NIR_LENGTH:]):
        raise InvalidIdentifier(INS_CODE, "The INS is malformed: the key (characters 14-15) must be 2 digits.")
    if ins[NIR_LENGTH:] != _key_of(ins[:NIR_LENGTH]):
        raise InvalidIdentifier(
            INS_CODE,
            "The INS key (last 2 digits) does not match the rest of the number; please check it for typing errors.",
        )
    return ins


def is_valid_ins(value: str) -> bool:
    """True if ``value`` normalises to a valid INS."""
    try:
        normalize_ins(value)
    except InvalidIdentifier:
        return False
    return True


def _luhn_digit(payload: str) -> str:
    """Luhn check digit for a string of ASCII digits."""
    total = 0
    # Double every second digit starting from the rightmost payload digit.
    for index, char in enumerate(reversed(payload)):
        digit = ord(char) - 48
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def rpps_check_digit(first10: str) -> str:
    """Return the Luhn check digit for the first 10 digits of an RPPS number.

    Raises ``InvalidIdentifier`` with code ``"invalid_rpps"`` unless given
    exactly 10 digits (spaces are ignored).
    """
    payload = _compact(first10, RPPS_CODE, "The RPPS number")
    if len(payload) != RPPS_LENGTH - 1 or not _DIGITS_RE.fullmatch(payload):
        raise InvalidIdentifier(RPPS_CODE, "The RPPS check digit is computed from exactly 10 digits (0-9).")
    return _luhn_digit(payload)


def normalize_rpps(value: str) -> str:
    """Return the canonical 11-digit RPPS number (spaces removed).

    Raises ``InvalidIdentifier`` with code ``"invalid_rpps"`` when the value
    is not 11 digits or its Luhn check digit is wrong.
    """
    rpps = _compact(value, RPPS_CODE, "The RPPS number")
    if not _DIGITS_RE.fullmatch(rpps):
        raise InvalidIdentifier(RPPS_CODE, "The RPPS number must contain only digits (0-9).")
    if len(rpps) != RPPS_LENGTH:
        raise InvalidIdentifier(RPPS_CODE, "The RPPS number must be exactly 11 digits long.")
    if rpps[-1] != _luhn_digit(rpps[:-1]):
        raise InvalidIdentifier(
            RPPS_CODE,
            "The RPPS check digit (last digit) does not match the rest of the "
            "number; please check it for typing errors.",
        )
    return rpps


def is_valid_rpps(value: str) -> bool:
    """True if ``value`` normalises to a valid RPPS number."""
    try:
        normalize_rpps(value)
    except InvalidIdentifier:
        return False
    return True
