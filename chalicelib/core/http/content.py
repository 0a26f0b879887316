"""What a document's bytes must be: base64 that decodes, 4 MiB at most, and really of the
declared type (magic numbers), so a client cannot label an executable as a PDF. ``text/xml``
(CDA R2 documents of the legacy DMP) must be UTF-8 XML that parses without a DTD or entities."""

from __future__ import annotations

import base64
import binascii

from chalicelib.core.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BYTES = 4 * 1024 * 1024
_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


def decode(content_base64: str, field: str = "content_base64") -> bytes:
    if len(content_base64) > (MAX_BYTES * 4) // 3 + 8:
        raise PayloadTooLarge("The content is over 4 MiB: send a smaller file.")
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidRequest(
            "The content is not valid base64.", [{"field": field, "message": "Not valid base64."}]
        ) from error
    if len(content) > MAX_BYTES:
        raise PayloadTooLarge("The content is over 4 MiB: send a smaller file.")
    if not content:
        raise InvalidRequest("The content is empty.", [{"field": field, "message": "Empty content."}])
    return content


def matches(content: bytes, media_type: str) -> bool:
    if media_type == "text/xml":
        return _is_safe_xml(content)
    if media_type == "text/plain":
        try:
            return b"\x00" not in content and bool(content.decode("utf-8"))
        except UnicodeDecodeError:
            return False
    return content.startswith(_SIGNATURES[media_type])


def _is_safe_xml(content: bytes) -> bool:
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as safe_xml
    from defusedxml import DefusedXmlException

    try:
        content.decode("utf-8")
        safe_xml.fromstring(content, forbid_dtd=True)
    except (UnicodeDecodeError, ParseError, DefusedXmlException):
        return False
    return True


def check(content_base64: str, media_type: str, field: str = "content_base64") -> bytes:
    content = decode(content_base64, field)
    if not matches(content, media_type):
        raise UnsupportedMediaType(f"The bytes are not a {media_type} file: check the file or its declared media_type.")
    return content
