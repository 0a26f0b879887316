"""``built_once``: functools.cache for costly builders called from several threads;
``forget_all`` forgets what they built (a new moto world in tests), but for the builders it is
asked to keep (AWS clients: built from the process's environment, not from a world's data).

functools.cache may call the builder once per thread that asks before the first build ends.
Building a boto3 client or a Cipher costs tens of milliseconds of CPU: eight workers
(core.data.concurrency) asking at once on a cold container would build eight. Here the others wait.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Collection
from typing import Any, TypeVar

Built = TypeVar("Built")
_CLEARS: dict[Callable[..., Any], Callable[[], None]] = {}  # each builder's getter -> its cache's clear


def built_once(builder: Callable[..., Built]) -> Callable[..., Built]:
    cache: dict[tuple[Any, ...], Built] = {}
    lock = threading.Lock()

    @functools.wraps(builder)
    def get(*args: Any) -> Built:
        if args in cache:
            return cache[args]
        with lock:
            if args not in cache:
                cache[args] = builder(*args)
            return cache[args]

    get.cache_clear = cache.clear  # type: ignore[attr-defined]  # functools.cache's name for it, on a function
    _CLEARS[get] = cache.clear
    return get


def forget_all(keep: Collection[Callable[..., Any]] = ()) -> None:
    for getter, clear in _CLEARS.items():
        if getter not in keep:
            clear()
