"""Outgoing e-mail: one message type, one protocol, a file and an SMTP backend.

Both backends go through `build_message`, so what lands in a local .eml file
is byte-for-byte what an SMTP relay would receive (apart from the Date).
"""

from __future__ import annotations

import contextlib
import email.charset
import email.utils
import os
import pathlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage, Message
from typing import Protocol

from infra.hub import off_the_hub


class MailDeliveryError(Exception):
    """A message could not be handed over; callers may retry the event later."""


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str  # deterministic ("<{event_id}@satu-ormas>") so re-sent duplicates are recognisable
    to: str
    subject: str
    body: str  # plain text, Bahasa Indonesia


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> None:
        """Deliver `mail` or raise MailDeliveryError."""


# Most mail is built with the ``email`` package's classic API: the same message a client parses (a subject with
# non-ASCII characters as an RFC 2047 encoded word, the body quoted-printable), at a quarter of the modern API's
# cost (its header registry parses every value back: ~1.4 ms of a mail's ~8 ms of CPU, docs/benchmarks.md). The
# classic API cannot write an address with non-ASCII characters (a display name, or an internationalised
# address that needs SMTPUTF8): such a mail is built with the modern one.
_UTF8_QUOTED_PRINTABLE = email.charset.Charset("utf-8")
_UTF8_QUOTED_PRINTABLE.header_encoding = email.charset.QP
_UTF8_QUOTED_PRINTABLE.body_encoding = email.charset.QP


def build_message(mail: OutgoingMail, sender: str) -> Message[str, str | Header]:
    headers = {"From": sender, "To": mail.to, "Subject": mail.subject, "Message-ID": mail.message_id}
    for name, value in headers.items():
        if len(value.splitlines()) > 1:  # any line break (CR, LF, VT, FF, U+2028, ...), as the modern API refuses
            raise ValueError(f"the {name} header of a mail may not contain a line break")
    classic = sender.isascii() and mail.to.isascii()
    msg: Message[str, str | Header] = Message() if classic else EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    # Classic: non-ASCII, or what a mail client would decode as an encoded word (a typed "=?utf-8?q?...?="),
    # encoded; the modern API decides that itself.
    plain = not classic or (mail.subject.isascii() and "=?" not in mail.subject)
    msg["Subject"] = mail.subject if plain else Header(mail.subject, _UTF8_QUOTED_PRINTABLE, header_name="Subject")
    msg["Date"] = email.utils.format_datetime(datetime.now(UTC))
    msg["Message-ID"] = mail.message_id
    # quoted-printable rather than raw 8bit: relays without 8BITMIME must still
    # carry Indonesian text with accents/typographic characters intact.
    if isinstance(msg, EmailMessage):
        msg.set_content(mail.body, charset="utf-8", cte="quoted-printable")
    else:
        msg["MIME-Version"] = "1.0"
        msg.set_payload(mail.body, _UTF8_QUOTED_PRINTABLE)
    return msg


def _one_line(text: str) -> str:
    # SMTP replies can span several lines; logs and alerts want exactly one.
    return " ".join(text.split())


_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._@-]+")


class FileMailer:
    """Local/dev backend: every message becomes an .eml file in `directory`."""

    def __init__(self, directory: pathlib.Path, sender: str) -> None:
        self.directory = pathlib.Path(directory)
        self.sender = sender

    def send(self, mail: OutgoingMail) -> None:
        data = build_message(mail, self.sender).as_bytes()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe_id = _UNSAFE_FILENAME_CHARS.sub("_", mail.message_id.strip("<>")) or "no-id"
        target = self.directory / f"{stamp}_{safe_id}.eml"
        # Off the hub: its fsync waits for the disk (4-5 ms under load here), and the service's other workers
        # (the whole process, under eventlet) would wait with it.
        off_the_hub(_write_durably, self.directory, target, data)


def _write_durably(directory: pathlib.Path, target: pathlib.Path, data: bytes) -> None:
    """``data`` as ``target``, on disk before it is visible. The temp file lives in the same directory (os.replace
    is only atomic within one filesystem) and is hidden/non-.eml so readers globbing "*.eml" never see a partial
    message. Its name is the message's own, made exclusively: no random names tried (tempfile), no file object."""
    temporary = directory / f".{target.name}.tmp"
    try:
        # Created on each send (cheap) so a directory removed at runtime heals itself.
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:  # the directory, or another sender's file of the same name: not ours to remove
        raise MailDeliveryError(f"writing mail to {directory} failed: {_one_line(str(exc))}") from exc
    try:
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)  # contents on disk before the rename makes them visible
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise MailDeliveryError(f"writing mail to {directory} failed: {_one_line(str(exc))}") from exc
        raise


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


class SmtpMailer:
    """Production backend: one SMTP connection per message (volume is low)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        # smtplib silently treats port 0 as "default port 25"; fail loudly on bad config instead.
        if not 0 < port < 65536:
            raise ValueError(f"invalid SMTP port: {port}")
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password must be given together")
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password  # kept out of repr/log messages
        self.starttls = starttls
        self.timeout = timeout

    def send(self, mail: OutgoingMail) -> None:
        msg = build_message(mail, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username is not None and self._password is not None:
                    smtp.login(self.username, self._password)
                # Explicit envelope: don't let header parsing decide who receives it.
                smtp.send_message(msg, from_addr=self.sender, to_addrs=[mail.to])
        # SMTPException, socket errors, timeouts and ssl.SSLError are all OSError.
        except OSError as exc:
            reason = _one_line(str(exc)) or type(exc).__name__
            raise MailDeliveryError(
                f"SMTP delivery via {self.host}:{self.port} failed: {type(exc).__name__}: {reason}"
            ) from exc
