"""Local developer stack.

python -m devstack run                                  start everything (make run)
python -m devstack token --role ROLE [--claim K=V ...]  print a token the local stack accepts
python -m devstack outbox [--to ADDRESS]                print the notifications sent
"""

from __future__ import annotations

import argparse
import json


def _claim(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("claims are written KEY=VALUE")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start moto, provision from infra/, serve the API")
    token = commands.add_parser("token", help="print a signed JWT for the local stack")
    token.add_argument("--role", required=True)
    token.add_argument("--claim", type=_claim, action="append", default=[], metavar="KEY=VALUE")
    outbox = commands.add_parser("outbox", help="print sent notifications, one JSON object per line")
    outbox.add_argument("--to", help="only those sent to this address")
    args = parser.parse_args()

    if args.command == "run":
        from devstack.run import main as run

        run()
    elif args.command == "token":
        from devstack.keys import mint

        print(mint(args.role, dict(args.claim)))
    else:
        from devstack.outbox import sent, server_records

        for notification in sent(server_records(), to=args.to):
            print(json.dumps(notification, ensure_ascii=False))


if __name__ == "__main__":
    main()
