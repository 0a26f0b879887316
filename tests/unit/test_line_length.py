"""No line of Python over 120 characters (pyproject.toml's line length), whatever it ends with.

ruff's E501 lets through a line whose code fits when a pragma comment (``# noqa``, ``# type:
ignore``) makes it longer; here those carry their reason, so they are counted too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 120


def python_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],  # noqa: S607 - the git on PATH
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    return [name for name in listed if name and (ROOT / name).exists()]


def test_no_python_line_is_over_120_characters():
    files = python_files()
    too_long = [
        f"{name}:{number} ({len(line)})"
        for name in files
        for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), start=1)
        if len(line) > LIMIT
    ]
    assert files and too_long == []
