"""A loopback TCP relay to a real server that can cut its connections when told: a dropped
connection, as a flaky network or a restarting server gives one, for the client under test."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

from tests.smtp_sink import LOOPBACK


class TCPCutter:
    """Relays 127.0.0.1:`port` to `target`; `cut_when(test)` closes a connection as soon as the bytes
    the server has sent on it make `test` true."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self.cut_test: Callable[[bytes], bool] | None = None
        self.cuts = 0
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_when(self, test: Callable[[bytes], bool] | None) -> None:
        self.cut_test = test

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        seen = b""
        try:
            while data := source.recv(65536):
                if from_server and self.cut_test is not None:
                    seen = (seen + data)[-1_000_000:]
                    if self.cut_test(seen):
                        self.cuts += 1
                        break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()
