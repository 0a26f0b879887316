"""How many examples a property test draws: its full count in `make test` and CI, a quarter (at
least 10) in `make check` (MES_EXAMPLES=quick), the inner loop that tries each property on every
change while the full suite hunts for the rare case. Tests without a count of their own follow
the hypothesis profile tests/conftest.py loads (100 examples, 25 quick)."""

from __future__ import annotations

import os

QUICK = os.environ.get("MES_EXAMPLES") == "quick"
DEFAULT = 100  # hypothesis's own default count


def examples(full: int) -> int:
    return min(full, max(10, full // 4)) if QUICK else full
