"""The platform's own answers: the OpenAPI document of the whole API."""

from __future__ import annotations

import json
from pathlib import Path

# Written by `make package` (infra/package.py) into the platform function's package: that function
# serves only its own routes, so it cannot build the other modules' part of the document.
PACKAGED_DOCUMENT = Path(__file__).with_name("openapi.json")


def openapi_document() -> dict:
    if PACKAGED_DOCUMENT.exists():
        return json.loads(PACKAGED_DOCUMENT.read_text(encoding="utf-8"))
    from chalicelib.core.http import openapi  # the whole API is served here (make run, tests

    return openapi.document()
