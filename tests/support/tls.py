"""A TLS front for the test broker (test support; no tests here).

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

__all__ = ["Authority", "TlsFront", "make_authority"]


class TlsFront:
    """``127.0.0.1:<port>`` speaking TLS, forwarding to the plain broker at ``target``."""

    def __init__(self, authority: Authority, target: tuple[str, int] = ("127.0.0.1", 5672)) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(authority.cert_file, authority.key_file)
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes_failed = 0
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
        try:
            secure = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            client.close()
            return
        upstream = socket.create_connection(self.target)
        threading.Thread(target=_pipe, args=(secure, upstream), daemon=True).start()
        _pipe(upstream, secure)

    def close(self) -> None:
        self._closed = True
        self.listener.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.close()
