"""Independent network calls of one request, run side by side instead of one after the other.

Only for work whose clients are thread-safe: botocore clients (``aws.client()``), the Encryption
SDK (its KMS clients, its materials cache) and the table's actions (``aws.table().get_item()``,
``.update_item()``, ``.meta.client.transact_write_items()``...), which only read the resource's
name and call its botocore client (boto3's building of Key()/Attr() conditions, which is not
thread-safe, holds a lock: core.data.aws); a resource's load()/reload(), which are not, are never used.
Clients are built once whichever thread asks first (core.memo). Each task runs in its own copy
of the caller's context, so its log lines keep the request id.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

WORKERS = 8  # a Lambda's network calls wait on I/O: more threads than cores pays

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_concurrently(work: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """``[work(item) for item in items]``, in order, up to WORKERS at a time."""
    tasks = [(contextvars.copy_context(), item) for item in items]
    if len(tasks) < 2:
        return [context.run(work, item) for context, item in tasks]
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(tasks))) as pool:
        return list(pool.map(lambda task: task[0].run(work, task[1]), tasks))
