"""``chalice local``, answering every HTTP method.

Python's http.server answers 501 to methods it has no handler for (TRACE, QUERY...), which
API Gateway never does; here every method reaches Chalice's router and unknown ones get a 405.
"""

from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main



def _any_method(handler: local.ChaliceRequestHandler, name: str):
    if name.startswith("do_"):
        return handler._generic_handle
    raise AttributeError(name)


local.ChaliceRequestHandler.__getattr__ = _any_method  # type: ignore[attr-defined]

if __name__ == "__main__":
    sys.argv = ["chalice", "local", *sys.argv[1:]]
    sys.exit(main())
