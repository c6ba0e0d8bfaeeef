"""The HTTP server the gateway runs under (``satu run`` and compose: ops/launcher.py GATEWAY_SERVER), with an
application that answers every request: what the server itself refuses before the gateway sees anything."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.launcher import GATEWAY_SERVER
from tests.support.system import eventually, free_port

ANSWERS_EVERYTHING = textwrap.dedent(
    """
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
    """
)


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder: Path = tmp_path_factory.mktemp("server")
    (folder / "answers.py").write_text(ANSWERS_EVERYTHING)
    chosen = free_port()
    command = [sys.executable, "-m", "uvicorn", "answers:app", "--port", str(chosen), *GATEWAY_SERVER]
    server = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        eventually(lambda: _status(chosen, b"") == 200, timeout=30)
        yield chosen
    finally:
        server.terminate()
        server.wait(10)


def _status(port: int, extra_headers: bytes) -> int | None:
    """The status the server answers a GET with, or None when it closes the connection without one."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + b"\r\n")
            answer = connection.recv(1024)
    except OSError:
        return None
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else None


def test_a_request_with_ordinary_headers_reaches_the_application(port: int) -> None:
    assert _status(port, b"Cookie: " + b"a" * 4000 + b"\r\n") == 200


def test_a_request_with_a_megabyte_of_headers_is_refused_before_the_application(port: int) -> None:
    """httptools would hand it all over (no limit of its own); the server must not hold what anyone sends."""
    headers = b"".join(b"X-Padding-%d: %s\r\n" % (n, b"a" * 1000) for n in range(1000))
    assert _status(port, headers) in (None, 400, 431)
