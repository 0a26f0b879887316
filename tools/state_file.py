"""A tool's state file: JSON with a version, read back only at that version, replaced atomically
(a temporary file beside it, flushed to disk, then ``os.replace``) so that a crash leaves the old
state or the new one, never half of one. Used by tools/import_invitees.py and tools/split_tables.py."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any


def read(path: Path, version: int) -> dict[str, Any] | None:
    """The state saved at ``path``, None if there is none; a ValueError if it is not JSON of this
    ``version``."""
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != version:
        raise ValueError("unknown version")
    return data


def write(path: Path, version: int, data: dict[str, Any]) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"version": version, **data}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise
