"""Notifications the local stack sent, read back from moto: SES emails and print-queue letters.

Both moto modes expose the same model dump (``/moto-api/data.json`` in server mode,
``moto.core.model_instances`` in process), so one parser serves the CLI and the tests.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterator

MOTO = f"http://127.0.0.1:{os.environ.get('MES_MOTO_PORT', '5000')}"


def notifications(dump: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for message in dump.get("ses", {}).get("Message", []):
        for address in message.get("destinations", {}).get("ToAddresses", []):
            yield {"channel": "email", "to": address, "subject": message["subject"], "body": message["body"]}
    for message in dump.get("sqs", {}).get("Message", []):
        try:
            letter = json.loads(message.get("body", ""))
        except ValueError:
            continue
        if isinstance(letter, dict) and letter.get("channel") == "letter":
            yield letter


def in_process_dump() -> dict[str, Any]:
    from moto.core.model_instances import model_data

    return {
        service: {
            name: [vars(instance) for instance in model.instances_tracked]  # type: ignore[attr-defined]
            for name, model in models.items()
        }
        for service, models in model_data.items()
        if service in {"ses", "sqs"}
    }


def server_dump(endpoint: str = MOTO) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def sent(dump: dict[str, Any] | None = None, to: str | None = None) -> list[dict[str, Any]]:
    found = notifications(dump if dump is not None else in_process_dump())
    return [n for n in found if to is None or n["to"] == to or to in json.dumps(n["to"], ensure_ascii=False)]
