from __future__ import annotations

import email.utils
import pathlib
import socket
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from services.notifications.mailer import (
    FileMailer,
    MailDeliveryError,
    OutgoingMail,
    SmtpMailer,
)
from tests.support.smtp import SmtpSink

SENDER = "Satu Ormas <no-reply@ormas.balikpapan.go.id>"
# Non-ASCII on purpose: en dash, e-acute, curly quotes must survive both backends.
BODY = "Yth. Pengurus Yayasan Café Ceria,\n\nPermohonan Anda – “SKM-2026-000123” – telah disetujui.\n"
MAIL = OutgoingMail(
    message_id="<evt-42@satu-ormas>",
    to="sekretariat@contoh.or.id",
    subject="[Satu Ormas] SKM-2026-000123: Disetujui",
    body=BODY,
)


def _parse(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def _closed_port() -> int:
    # Bound then released: nothing listens there for the duration of the test.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_file_mailer_writes_parseable_eml(tmp_path: pathlib.Path) -> None:
    outbox = tmp_path / "outbox" / "nested"  # does not exist yet
    FileMailer(outbox, SENDER).send(MAIL)

    files = list(outbox.iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"  # no temp file left behind
    assert "evt-42@satu-ormas" in files[0].name and "<" not in files[0].name

    msg = _parse(files[0].read_bytes())
    assert msg["From"] == SENDER
    assert msg["To"] == MAIL.to
    assert msg["Subject"] == MAIL.subject
    assert msg["Message-ID"] == MAIL.message_id
    assert email.utils.parsedate_to_datetime(str(msg["Date"])).tzinfo is not None
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content() == BODY


def test_file_mailer_keeps_every_message(tmp_path: pathlib.Path) -> None:
    mailer = FileMailer(tmp_path, SENDER)
    mailer.send(MAIL)
    mailer.send(OutgoingMail("<evt-43@satu-ormas>", MAIL.to, "other", "isi"))
    assert len(list(tmp_path.glob("*.eml"))) == 2


def test_file_mailer_reports_unwritable_directory(tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(MailDeliveryError, match="not-a-dir"):
        FileMailer(blocker, SENDER).send(MAIL)


def test_smtp_mailer_delivers_to_sink() -> None:
    with SmtpSink() as sink:
        SmtpMailer(sink.host, sink.port, SENDER, timeout=5).send(MAIL)
        [received] = sink.wait_for(lambda m: m.message["Message-ID"] == MAIL.message_id, timeout=5)

    assert received.rcpt_tos == (MAIL.to,)
    assert received.mail_from == "no-reply@ormas.balikpapan.go.id"
    assert received.message["Subject"] == MAIL.subject
    assert received.message["To"] == MAIL.to
    # SMTP transports lines as CRLF, so compare line by line.
    assert received.message.get_content().splitlines() == BODY.splitlines()


def test_smtp_mailer_logs_in_when_credentials_given() -> None:
    with SmtpSink(credentials=("ormas", "rahasia")) as sink:
        SmtpMailer(sink.host, sink.port, SENDER, "ormas", "rahasia", timeout=5).send(MAIL)
        assert len(sink.wait_for(timeout=5)) == 1

        bad = SmtpMailer(sink.host, sink.port, SENDER, "ormas", "salah", timeout=5)
        with pytest.raises(MailDeliveryError, match=f"127.0.0.1:{sink.port}") as info:
            bad.send(MAIL)
        assert "salah" not in str(info.value)  # the password never leaks into errors


def test_smtp_mailer_closed_port_raises_delivery_error() -> None:
    port = _closed_port()
    with pytest.raises(MailDeliveryError, match=f"127.0.0.1:{port}") as info:
        SmtpMailer("127.0.0.1", port, SENDER, timeout=2).send(MAIL)
    assert "\n" not in str(info.value)
    assert isinstance(info.value.__cause__, OSError)


def test_smtp_mailer_rejects_port_zero() -> None:
    with pytest.raises(ValueError):
        SmtpMailer("127.0.0.1", 0, SENDER)
