"""Import of the national MSSanté directory's extract into the directory table (docs/api.md §
MSSanté; the columns read: README § MSSanté directory).

Usage::

    STAGE=prod python -m tools.import_directory <extract file> [--delimiter "|"]

Deployed, the same import runs nightly in the messaging module's directory import function, on
the extract put into the directory bucket (chalicelib/messaging/events.py); this command is for a
file at hand. It puts every personal mailbox of an RPPS professional (import_extract in
chalicelib/messaging/directory.py) and prints counts only, never a line of the file (it names
people). An entry the extract no longer holds stays until a ``directory_admin`` deletes it.

Exit codes: 0 done, 2 bad usage or unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.import_directory", description=__doc__.splitlines()[0])
    parser.add_argument("extract", type=Path)
    parser.add_argument("--delimiter", default="|", help='the extract\'s separator (annuaire.sante.fr: "|")')
    parser.add_argument("--encoding", default="utf-8-sig")
    args = parser.parse_args(argv)
    from chalicelib.messaging import directory

    try:
        with args.extract.open(encoding=args.encoding, newline="") as lines:
            counts = directory.import_extract(lines, delimiter=args.delimiter)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read the extract: {type(error).__name__}", file=sys.stderr)
        return 2
    print(f"{counts.entries} mailboxes put into the directory, {counts.skipped} lines skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
