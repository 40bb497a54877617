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


def make_moto_atomic() -> None:
    """The same guarantee for moto in-process (`mock_aws`), for tests and benchmarks that use threads."""
    from moto.core.botocore_stubber import BotocoreStubber

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
