"""What the simulators of outside services share: a socket server on 127.0.0.1 served from a daemon thread,
stopped cleanly, usable as a context manager. Each simulator builds its own server and handler; tests and
the demo commands start it, talk to it over real sockets, and stop it."""

from __future__ import annotations

import socketserver
import threading
from typing import Self


class ServedInThread:
    """Mixin: ``self._serve(server)`` at the end of ``start()``; ``stop()`` and ``with`` come with it."""

    _server: socketserver.BaseServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def _serve(self, server: socketserver.BaseServer, name: str = "simulator") -> Self:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
