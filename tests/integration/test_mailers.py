"""The mail backends against real files and a real SMTP server, and the notifications service's event
handlers from a signed event to a mail received over SMTP (its outbox on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import email.utils
import pathlib
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from unittest.mock import Mock

import pytest
from nameko.testing.services import worker_factory

from contracts.errors import NotFound
from contracts.events import IntegrationEvent, stable_event_id
from infra.catalogue import load_catalogue
from infra.keys import load_signer
from infra.nameko_support import IdentityTools, ServiceKeys
from infra.readmodel import ReadModel
from infra.settings import Settings
from infra.storage import read_model_engine
from services.notifications.dependencies import Post
from services.notifications.mailer import (
    FileMailer,
    MailDeliveryError,
    OutgoingMail,
    SmtpMailer,
)
from services.notifications.outbox import CLAIM_SECONDS, MailOutbox, OutboxProjection
from services.notifications.service import NotificationsService
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


def test_a_subject_in_indonesian_with_typography_arrives_as_written(tmp_path: pathlib.Path) -> None:
    long_subject = "[Satu Ormas] SKM-2026-000123: Perbaikan diminta – “Yayasan Café Ceria” " + "lampiran " * 12
    for subject in ("SKM-2026-000123: Disetujui – “Café”", long_subject, "[Satu Ormas] " + "ASCII " * 20):
        FileMailer(tmp_path, SENDER).send(OutgoingMail("<evt-44@satu-ormas>", MAIL.to, subject, BODY))
        [written] = tmp_path.glob("*.eml")
        raw = written.read_bytes()
        assert all(len(line) <= 78 for line in raw.split(b"\n")), "headers are folded, the body wrapped"
        assert raw.isascii(), "7-bit clean for relays without 8BITMIME"
        msg = _parse(raw)
        assert msg["Subject"] == subject and msg.get_content() == BODY
        written.unlink()


def test_a_header_with_a_line_break_is_refused(tmp_path: pathlib.Path) -> None:
    for smuggled in (
        OutgoingMail(MAIL.message_id, "a@contoh.or.id\r\nBcc: x@evil.example", MAIL.subject, BODY),
        OutgoingMail(MAIL.message_id, MAIL.to, "Disetujui\nBcc: x@evil.example", BODY),
        OutgoingMail(MAIL.message_id, "a@contoh.or.id\x0bBcc: x@evil.example", MAIL.subject, BODY),
        OutgoingMail(MAIL.message_id, MAIL.to, "Disetujui\u2028Bcc: x@evil.example", BODY),
    ):
        with pytest.raises(ValueError, match="line break"):
            FileMailer(tmp_path, SENDER).send(smuggled)
    assert not list(tmp_path.iterdir())


def test_addresses_with_non_ascii_characters_arrive_intact(tmp_path: pathlib.Path) -> None:
    """A display name in Indonesian typography, and an internationalised address: neither may lose its domain."""
    sender = "Satu Ormas – Kesbangpol Balikpapan <no-reply@ormas.balikpapan.go.id>"
    FileMailer(tmp_path, sender).send(OutgoingMail("<evt-45@satu-ormas>", "sekretariat@café.or.id", "Diterima", BODY))
    [written] = tmp_path.glob("*.eml")
    msg = _parse(written.read_bytes())

    assert msg["From"].addresses[0].display_name == "Satu Ormas – Kesbangpol Balikpapan"
    assert msg["From"].addresses[0].addr_spec == "no-reply@ormas.balikpapan.go.id"
    assert msg["To"].addresses[0].addr_spec == "sekretariat@café.or.id"
    assert msg.get_content() == BODY


def test_an_international_address_goes_over_smtp_to_a_server_that_speaks_smtputf8() -> None:
    with SmtpSink(smtputf8=True) as sink:
        SmtpMailer(sink.host, sink.port, SENDER, timeout=5).send(
            OutgoingMail("<evt-46@satu-ormas>", "sekretariat@café.or.id", "Diterima – “Café”", BODY)
        )
        [received] = sink.wait_for(timeout=5)

    assert received.rcpt_tos == ("sekretariat@café.or.id",)
    assert received.message["Subject"] == "Diterima – “Café”"


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


# --- the service: a signed event in, a mail out over SMTP ---

SECRETARY = "sekretariat@contoh.or.id"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture
def notifications(settings: Settings, sink: SmtpSink) -> Iterator[Any]:
    """The real service class and outbox; only the registry (another service) answers from a mock."""
    engine = read_model_engine(settings, "notifications")
    postbox = Post(
        outbox=MailOutbox(ReadModel(OutboxProjection(), engine)),
        mailer=SmtpMailer(sink.host, sink.port, SENDER, timeout=5),
        catalogue=load_catalogue(settings.region_dir),
    )
    registry = Mock()
    registry.get_notification_contact.return_value = {"account_email": SECRETARY}
    yield worker_factory(
        NotificationsService,
        postbox=postbox,
        settings=settings,
        identity=IdentityTools(ServiceKeys.load(settings, "notifications"), None),
        registry=registry,
    )
    engine.dispose()


def _signed(settings: Settings, event_type: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    aggregate = "5f0c2b0e-0d5e-4c43-8f57-0a6f2a9c1d11"
    event = IntegrationEvent(
        event_id=stable_event_id(aggregate, version),
        event_type=event_type,
        source="submissions",
        aggregate_id=aggregate,
        aggregate_version=version,
        occurred_at=dt.datetime(2026, 8, 1, 1, 0, tzinfo=dt.UTC),
        data=data,
    )
    return event.signed(load_signer(settings, "relay-submissions")).model_dump(mode="json")


def _case_step(settings: Settings, event_type: str, version: int, **step: Any) -> dict[str, Any]:
    data = {
        "case_id": "5f0c2b0e-0d5e-4c43-8f57-0a6f2a9c1d11", "reference": "SKM-2026-000123", "service": "skm",
        "organisation_id": "org-1", "organisation_name": "Yayasan Café Ceria", "status": "forwarded",
        "actor_id": "staff-1", "actor_role": "approver", **step,
    }  # fmt: skip
    return _signed(settings, event_type, version, data)


def test_a_reminder_is_mailed_once_however_often_it_is_delivered(
    notifications: Any, sink: SmtpSink, settings: Settings
) -> None:
    reminder = _signed(settings, "report.overdue.v1", 3, {
        "obligation_id": "5f0c2b0e-0d5e-4c43-8f57-0a6f2a9c1d11", "organisation_id": "org-1",
        "organisation_name": "Yayasan Café Ceria", "workflow": "report", "period": "2026-S1",
        "period_label": "Semester I (Januari–Juni) 2026", "due_on": "2026-07-31", "offset_days": 1,
    })  # fmt: skip
    notifications.on_reminder(reminder)
    notifications.on_reminder(reminder)  # redelivered by the broker, or republished by the relay

    [received] = sink.wait_for(timeout=5)
    assert received.rcpt_tos == (SECRETARY,)
    # The en dash travels as an encoded word and arrives as it was written.
    assert received.message["Subject"] == "[Satu Ormas] Laporan semester terlambat: Semester I (Januari–Juni) 2026"
    assert received.message["Message-ID"] == f"<{reminder['event_id']}@satu-ormas>"
    body = received.message.get_content()
    assert "Yth. Pengurus Yayasan Café Ceria," in body and "Jatuh tempo: 31 Juli 2026" in body
    assert f"{settings.public_base_url.rstrip('/')}/reports" in body
    assert len(sink.messages) == 1


def test_a_case_step_is_mailed_in_its_definitions_words_and_a_field_visit_not_at_all(
    notifications: Any, sink: SmtpSink, settings: Settings
) -> None:
    notifications.on_case_event(_case_step(settings, "case.field_visit_recorded.v1", 4, action="record_field_visit"))
    notifications.on_case_event(_case_step(settings, "case.held.v1", 6, action="hold", reason="Perlu evaluasi tim"))

    [received] = sink.wait_for(timeout=5)
    assert received.message["Subject"] == "[Satu Ormas] SKM-2026-000123: Ditangguhkan untuk evaluasi"
    assert "Alasan: Perlu evaluasi tim" in received.message.get_content()
    assert len(sink.messages) == 1
    # No address is looked up for a step that mails nothing.
    assert notifications.registry.get_notification_contact.call_count == 1


def test_an_organisations_address_is_asked_of_the_registry_once(
    notifications: Any, sink: SmtpSink, settings: Settings
) -> None:
    notifications.on_case_event(_case_step(settings, "case.held.v1", 6, action="hold", reason="Perlu evaluasi tim"))
    notifications.on_case_event(_case_step(settings, "case.rejected.v1", 7, action="reject", reason="Ganda"))
    notifications.on_case_event(_case_step(settings, "case.rejected.v1", 8, action="reject", organisation_id="org-2"))

    assert len(sink.wait_for(count=3, timeout=5)) == 3
    asked = [call.args[1] for call in notifications.registry.get_notification_contact.call_args_list]
    assert asked == ["org-1", "org-2"]


def test_an_organisation_without_contact_is_recorded_and_not_retried(
    notifications: Any, sink: SmtpSink, settings: Settings
) -> None:
    notifications.registry.get_notification_contact.side_effect = NotFound("organisation not found")
    rejected = _case_step(settings, "case.rejected.v1", 7, action="reject", reason="Ganda")
    notifications.on_case_event(rejected)  # returns: acked, not requeued forever
    notifications.on_case_event(rejected)  # a redelivery: looked up again (no look before recording), no mail

    assert notifications.postbox.outbox.seen(rejected["event_id"])  # recorded as done
    assert notifications.registry.get_notification_contact.call_count == 2
    assert sink.messages == []


def test_a_mail_whose_first_attempt_left_no_word_is_sent_again_and_counted(
    notifications: Any, sink: SmtpSink, settings: Settings
) -> None:
    """The one way a mail can arrive twice: the SMTP server took it, then the sender died (or the database
    failed) before recording that. The retry keeps the Message-ID and the outbox counts the risk."""
    outbox = notifications.postbox.outbox
    sent_first = outbox.send
    outbox.send = lambda mailer, event_id, mail: False  # the first worker dies before it sends or records
    step = _case_step(settings, "case.held.v1", 6, action="hold", reason="Perlu evaluasi tim")
    notifications.on_case_event(step)
    with outbox.engine.begin() as connection:  # its claim, left behind two minutes and more ago
        gone = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=CLAIM_SECONDS + 1)
        connection.execute(outbox.mails.update().values(claimed_at=gone, attempts=1))
    outbox.send = sent_first
    assert outbox.stats() == {"sent": 0, "waiting": 1, "possibly_sent_twice": 0}

    notifications.retry_pending_mail()

    [received] = sink.wait_for(timeout=5)
    assert received.message["Message-ID"] == f"<{step['event_id']}@satu-ormas>"  # the same mail, if it is twice
    assert outbox.stats() == {"sent": 1, "waiting": 0, "possibly_sent_twice": 1}


def test_a_failed_attempt_never_clears_a_success_recorded_meanwhile(
    notifications: Any, sink: SmtpSink, settings: Settings
) -> None:
    """A claim taken over after CLAIM_SECONDS: the first sender got through and recorded it, the second one then
    failed. The mail stays sent (or it would go a third time, uncounted)."""
    outbox = notifications.postbox.outbox
    step = _case_step(settings, "case.held.v1", 6, action="hold", reason="Perlu evaluasi tim")
    notifications.on_case_event(step)
    sink.wait_for(timeout=5)
    assert outbox.stats()["sent"] == 1

    outbox._finish(step["event_id"], sent=False, error="SMTP delivery failed: 451 try later")

    assert outbox.stats() == {"sent": 1, "waiting": 0, "possibly_sent_twice": 0}
