"""moto's whole state captured once (after provisioning the stack from infra/) and put back before
each test, instead of a new moto world provisioned per test (seconds each).

moto keeps a service's state in the ``__dict__`` of one backend object per service, account and
region (that is how moto's own ``reset`` works). ``capture`` deep-copies all of them in one go and
``restore`` puts a deep copy back into the same backend objects, so every service (tables,
buckets, queues, sent emails, executions, ...) is exactly as just provisioned and a test never
sees another's data; backends first used after the capture are reset, as moto would. One copy for
all keeps what the services share (a stack's resources are the tables' and queues' own objects);
the backend objects themselves are not copied, so a model pointing to its backend keeps pointing
to the live one. Locks are copied as new, released locks (``_REDUCERS``).
"""

from __future__ import annotations

import _thread
import copy
import copyreg
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.models import MockAWS, botocore_stubber, responses_mock

Key = tuple[str, str, str]  # service, account, region


def _live() -> dict[Key, BaseBackend]:
    return {
        (backends.service_name, account, region): backend
        for backends in list(BackendDict._instances)  # type: ignore[misc]  # moto's registry of them all
        for account, region, backend in backends.iter_backends()
    }


def _event(is_set: bool) -> threading.Event:
    event = threading.Event()
    if is_set:
        event.set()
    return event


# How each kind of synchronisation object is copied: new and released; a condition on a new lock
# of its lock's kind (copying its fields would leave it calling the old lock's methods); an event
# set or not as it was.
_REDUCERS: dict[type, Any] = {
    _thread.LockType: lambda _: (threading.Lock, ()),
    _thread.RLock: lambda _: (threading.RLock, ()),
    threading.Condition: lambda condition: (threading.Condition, (condition._lock,)),
    threading.Event: lambda event: (_event, (event.is_set(),)),
}


@contextmanager
def _fresh_locks() -> Iterator[None]:
    saved = {kind: copyreg.dispatch_table.get(kind) for kind in _REDUCERS}
    copyreg.dispatch_table.update(_REDUCERS)
    try:
        yield
    finally:
        for kind, reducer in saved.items():
            if reducer is None:
                del copyreg.dispatch_table[kind]
            else:
                copyreg.dispatch_table[kind] = reducer


def _copy(state: dict[Key, dict], backends: dict[Key, BaseBackend]) -> dict[Key, dict]:
    memo: dict[int, Any] = {id(backend): backend for backend in backends.values()}
    with _fresh_locks():
        return copy.deepcopy(state, memo)


class Snapshot:
    def __init__(self) -> None:
        self.backends = _live()
        self.state = _copy({key: backend.__dict__ for key, backend in self.backends.items()}, self.backends)

    def restorable(self) -> bool:
        """False once moto was reset under us (another ``mock_aws`` started): its backends are new objects."""
        live = _live()
        return all(live.get(key) is backend for key, backend in self.backends.items())

    def restore(self) -> None:
        assert self.restorable(), "moto was reset since the snapshot"
        state = _copy(self.state, self.backends)
        for key, backend in _live().items():
            if key in state:
                backend.__dict__ = state[key]
            else:
                backend.reset()


class RestartableMock(MockAWS):
    """``mock_aws`` for a world restored before each test: started without reset, moto registers its
    ~1,300 URL callbacks with ``responses`` again at every start and never drops the previous ones
    (only a reset does), so the registry grew by 1,300 objects a test (the garbage collector's
    full rounds walked them all, growing to ~0.8 s each) and each start spent ~10 ms adding them.
    They are the same callbacks every time: registered at the first start or after a reset, kept
    from then on (moto's ``stop`` leaves them, and only ``requests`` calls, never botocore's,
    reach them)."""

    def _enable_patching(self, reset: bool = True) -> None:
        if reset or not responses_mock.registered():
            super()._enable_patching(reset)
        else:
            botocore_stubber.enabled = True
            responses_mock.start()
