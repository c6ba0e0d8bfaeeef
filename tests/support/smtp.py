"""A real SMTP server for tests, independent of pytest.

Use it as a context manager, point a mailer at ``sink.host``/``sink.port``, then
``sink.wait_for(lambda m: m.message["Subject"] == ...)`` returns what arrived.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]  # envelope recipients, which may differ from the To header
    message: EmailMessage


def _free_port() -> int:
    # Controller(port=0) would bind an ephemeral port but (in some aiosmtpd
    # versions) never report it, so reserve one ourselves and release it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((_HOST, 0))
        return int(s.getsockname()[1])


class SmtpSink:
    """Collects every message delivered to it; optionally requires AUTH LOGIN/PLAIN."""

    def __init__(self, credentials: tuple[str, str] | None = None, smtputf8: bool = False) -> None:
        self.host = _HOST
        self.port = 0
        self._credentials = credentials
        self._smtputf8 = smtputf8  # accepts internationalised addresses (RFC 6531)
        self._received: list[ReceivedMail] = []
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    # --- aiosmtpd hooks (run on the controller's event-loop thread) ---

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)  # guaranteed by policy.default
        mail = ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed)
        with self._cond:
            self._received.append(mail)
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            self._credentials is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        )
        # handled=False: let aiosmtpd send the 535 itself; with the default (True)
        # a failed login gets no reply at all and the client hangs until its timeout.
        return AuthResult(success=ok, handled=False)

    # --- lifecycle ---

    def start(self) -> SmtpSink:
        extra: dict[str, Any] = {"enable_SMTPUTF8": True} if self._smtputf8 else {}
        if self._credentials is not None:
            # Plain-text AUTH is fine on loopback; production uses STARTTLS.
            extra |= {"authenticator": self._authenticate, "auth_require_tls": False}
        for attempt in range(5):
            port = _free_port()
            controller = Controller(self, hostname=self.host, port=port, **extra)
            try:
                controller.start()
            except OSError as exc:
                controller.loop.close()  # the failed server thread has already exited
                # Another process grabbed the port between probe and bind: try a new one.
                if exc.errno != errno.EADDRINUSE or attempt == 4:
                    raise
                continue
            self._controller, self.port = controller, port
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- inspection ---

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._cond:
            return list(self._received)

    def wait_for(
        self,
        predicate: Callable[[ReceivedMail], bool] = lambda _m: True,
        timeout: float = 5.0,
        count: int = 1,
    ) -> list[ReceivedMail]:
        """Block until at least `count` received messages match; return all matches."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matches = [m for m in self._received if predicate(m)]
                remaining = deadline - time.monotonic()
                if len(matches) >= count or remaining <= 0:
                    break
                self._cond.wait(remaining)
        if len(matches) < count:
            seen = [str(m.message["Subject"]) for m in self.messages]
            raise TimeoutError(
                f"expected {count} matching message(s) within {timeout}s, got {len(matches)}; received subjects: {seen}"
            )
        return matches
