"""A TLS front, or a plain forwarder, for the test broker (test support; no tests here).

The machine's RabbitMQ listens in plain AMQP only; `TlsFront` terminates real TLS with a certificate a
private CA (ops/certificates.py) signed for ``localhost`` and forwards the bytes to it, so the parts' TLS
settings are exercised end to end (handshake, certificate and host name verification) on the real broker.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading

from ops.certificates import Authority, make_authority

__all__ = ["Authority", "Forwarder", "TlsFront", "make_authority"]


class Forwarder:
    """``127.0.0.1:<port>`` forwarding to the broker at ``target``, speaking TLS when given an authority's
    certificate; ``cut()`` drops every connection at once, as a broker restart does."""

    def __init__(
        self, authority: Authority | None = None, target: tuple[str, int] = ("127.0.0.1", 5672), port: int = 0
    ) -> None:
        self.context: ssl.SSLContext | None = None
        if authority is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(authority.cert_file, authority.key_file)
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.handshakes_failed = 0
        self.live: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        near: socket.socket = client
        if self.context is not None:
            try:
                near = self.context.wrap_socket(client, server_side=True)
            except (ssl.SSLError, OSError):
                self.handshakes_failed += 1
                client.close()
                return
        upstream = socket.create_connection(self.target)
        self.live += [near, upstream]
        threading.Thread(target=_pipe, args=(near, upstream), daemon=True).start()
        _pipe(upstream, near)

    def cut(self) -> int:
        """Drop every connection open now; returns how many there were."""
        live, self.live = self.live, []
        for end in live:
            _hang_up(end)
        return len(live) // 2

    def close(self) -> None:
        self._closed = True
        _hang_up(self.listener)  # shut down too: a listener closed while _accept waits in accept() goes on listening
        self.cut()


def TlsFront(authority: Authority, target: tuple[str, int] = ("127.0.0.1", 5672)) -> Forwarder:  # noqa: N802
    """A forwarder speaking TLS with ``authority``'s certificate for ``localhost``."""
    return Forwarder(authority, target)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            _hang_up(end)


def _hang_up(end: socket.socket) -> None:
    # Shut down before closing: the peer hears the end (FIN), and the thread piping the other way wakes from
    # its recv. A close alone while that thread is in recv leaves the connection open with no owner (the
    # database kept the session, and its locks, of a connection "cut" that way).
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        end.close()
