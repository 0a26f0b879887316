"""moto's server with the devstack's speedups applied (see moto_speedups): ``python -m devstack.moto_server``."""

from __future__ import annotations

import sys

from devstack import moto_speedups


def main() -> None:
    from moto.server import main as moto_main

    moto_speedups.apply()
    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
