"""The local DynamoDB: moto's server on 127.0.0.1, with each request applied atomically.

DynamoDB applies every request (a conditional write included) atomically. moto does not
under concurrent requests: two conditional updates of one item can both pass their
condition. Running moto's requests one at a time restores the guarantee the service's
ordering rule relies on; a local stack does not need more throughput than that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def one_request_at_a_time(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return [b"".join(app(environ, start_response))]

    return serialized


def copy_tables_once_per_transaction() -> None:
    """moto backs a transaction up by deep-copying the whole table once per item in it (the
    same table a hundred times for a 100-item transaction), which made one large registration
    take minutes and gigabytes locally. One copy per table per transaction keeps the same
    rollback: every copy is taken before the first item is applied."""
    import copy
    from types import SimpleNamespace

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "copies_once", False):
        return
    current = threading.local()

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        copies: dict[int, Any] | None = getattr(current, "copies", None)
        if copies is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in copies:
            copies[id(value)] = copy.deepcopy(value, memo)
        return copies[id(value)]

    setattr(models, "copy", SimpleNamespace(deepcopy=deepcopy))  # noqa: B010 - replaces a module attribute
    transact = models.DynamoDBBackend.transact_write_items

    def transact_copying_once(self: Any, transact_items: list[dict[str, Any]]) -> None:
        current.copies = {}
        try:
            transact(self, transact_items)
        finally:
            current.copies = None

    transact_copying_once.copies_once = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_copying_once  # type: ignore[method-assign]


def make_moto_atomic() -> None:
    """The same guarantee for moto in-process (`mock_aws`), for tests and benchmarks that use threads."""
    from moto.core.botocore_stubber import BotocoreStubber

    copy_tables_once_per_transaction()
    if getattr(BotocoreStubber.__call__, "atomic", False):
        return
    lock = threading.RLock()
    unlocked = BotocoreStubber.__call__

    def atomic(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return unlocked(self, *args, **kwargs)

    atomic.atomic = True  # type: ignore[attr-defined]
    BotocoreStubber.__call__ = atomic  # type: ignore[method-assign]


class LocalDynamoDB:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        copy_tables_once_per_transaction()
        app = one_request_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-dynamodb", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalDynamoDB:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
