"""Independent network calls of one request, run side by side instead of one after the other.

Only for work whose clients are thread-safe: botocore clients (``aws.client()``, and
``aws.table().meta.client``, which transactions use) and the Encryption SDK (its KMS clients, its
materials cache). boto3 resources are not: their actions (``aws.table().query()``...) stay on the
request's thread. Each task runs in its own copy of the caller's context, so its log lines keep
the request id.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

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
