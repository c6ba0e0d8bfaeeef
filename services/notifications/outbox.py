"""Mail outbox: a mail is recorded in the same transaction as the processed event id, then sent.

Recording and sending are separate so that a duplicate event never makes a second mail, and a
crash after the commit only delays the mail (the retry timer sends what is still pending). The worker that
records a mail has claimed it in the same transaction, and sends it at once: a transaction and a statement
a mail (the record, then its outcome, committed on its own). A claim nobody finished is taken over after
``CLAIM_SECONDS`` and counted as an attempt whose outcome is unknown, whether it died before or after the
SMTP server took the mail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

import sqlalchemy as sa

from contracts.events import IntegrationEvent
from infra.readmodel import ReadModel, processed_events_table
from infra.statements import Write, execute
from services.notifications.mailer import MailDeliveryError, Mailer, OutgoingMail

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120  # a claim older than this belongs to a worker that died mid-send


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:2]}***@{domain}"


class OutboxProjection:
    """The outbox's tables, kept by the common idempotent runner (infra/readmodel.py): each event is recorded
    once, with the mail it causes (if any) in the same transaction. Not rebuildable: applying an event
    again would send its mail again."""

    name = "notifications.outbox"

    def __init__(self) -> None:
        self.metadata = sa.MetaData()
        self.processed = processed_events_table(self.metadata)
        self.mails = sa.Table(
            "mail_outbox",
            self.metadata,
            sa.Column("event_id", sa.String(36), primary_key=True),
            sa.Column("message_id", sa.String(120), nullable=False),
            sa.Column("recipient", sa.String(254), nullable=False),
            sa.Column("subject", sa.String(300), nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("claimed_at", sa.DateTime(timezone=True)),
            sa.Column("sent_at", sa.DateTime(timezone=True), index=True),
            sa.Column("attempts", sa.Integer, nullable=False, default=0),
            sa.Column("last_error", sa.Text),
            # Attempts whose outcome nobody recorded (the sender died, or the database failed, after the
            # SMTP server may have accepted the mail): the next attempt may deliver it a second time.
            sa.Column("unknown_outcomes", sa.Integer, nullable=False, server_default=sa.text("0")),
            # The mail still to send, oldest first, without sorting a backlog (after an SMTP outage) each time.
            sa.Index(
                "ix_mail_outbox_pending",
                "created_at",
                postgresql_where=sa.text("sent_at IS NULL"),
                sqlite_where=sa.text("sent_at IS NULL"),
            ),
        )

        self._insert_mail = self.mails.insert()  # built once; each mail's values bound when it runs

    def handles(self, event_type: str) -> bool:
        return True  # every event the service receives is recorded, mail or not

    def writes(self, event: IntegrationEvent) -> list[Write]:
        """An event that causes no mail: recording it as processed is all."""
        return []

    def mail_written(self, event: IntegrationEvent, mail: OutgoingMail) -> list[Write]:
        """The mail's row, claimed by the worker that records it (its first attempt begins)."""
        now = dt.datetime.now(dt.UTC)
        mail_row = {"message_id": mail.message_id, "recipient": mail.to, "subject": mail.subject, "body": mail.body}
        claim = {"created_at": now, "claimed_at": now, "attempts": 1}
        return [(self._insert_mail, {"event_id": event.event_id, **mail_row, **claim})]


class MailOutbox:
    def __init__(self, read_model: ReadModel) -> None:
        self.read_model = read_model
        self.engine = read_model.engine
        projection = read_model.projection
        assert isinstance(projection, OutboxProjection)
        self.mails = projection.mails
        self._projection = projection
        mails = self.mails.c
        # How a send went, built once (each mail's values bound when it runs). A failed send never clears a
        # success recorded meanwhile (a claim taken over after CLAIM_SECONDS, whose first sender did get through).
        sent = sa.func.coalesce(sa.bindparam("sent", type_=mails.sent_at.type), mails.sent_at)
        self._outcome = (
            self.mails.update()
            .where(mails.event_id == sa.bindparam("mail"))
            .values(last_error=sa.bindparam("error"), claimed_at=sa.null(), sent_at=sent)
        )
        # One statement, so no transaction around it: a round trip where BEGIN and COMMIT made three.
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def seen(self, event_id: str) -> bool:
        return self.read_model.seen(event_id)

    def guarded(self) -> contextlib.AbstractContextManager[None]:
        """Mail work that must pause, not spin, while the database is down (ReadModel.guarded)."""
        return self.read_model.guarded()

    def record(self, event: IntegrationEvent, mail: OutgoingMail | None) -> bool:
        """Record ``event`` once, with its mail; False when it was recorded before (by another worker)."""
        return self.read_model.handle(event, None if mail is None else self._projection.mail_written(event, mail))

    def send(self, mailer: Mailer, event_id: str, mail: OutgoingMail) -> bool:
        """Send the mail this worker just recorded (and so claimed) for ``event_id``: that one alone (a look
        at every pending mail per event had each busy worker try to claim the others', a transaction each)."""
        return self._deliver(mailer, event_id, mail)

    def send_pending(self, mailer: Mailer, limit: int = 50) -> int:
        """Send what is still waiting (an SMTP outage, a worker that died before sending), oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(self.mails)
                .where(self.mails.c.sent_at.is_(None))
                .order_by(self.mails.c.created_at)
                .limit(limit)
            ).all()
        mails = {
            row.event_id: OutgoingMail(row.message_id, to=row.recipient, subject=row.subject, body=row.body)
            for row in rows
        }
        return sum(self._send_one(mailer, event_id, mail) for event_id, mail in mails.items())

    def _claim(self, event_id: str) -> bool:
        now = dt.datetime.now(dt.UTC)
        stale = now - dt.timedelta(seconds=CLAIM_SECONDS)
        mails = self.mails.c
        with self.engine.begin() as connection:
            claimed = connection.execute(
                self.mails.update()
                .where(
                    mails.event_id == event_id,
                    mails.sent_at.is_(None),
                    sa.or_(mails.claimed_at.is_(None), mails.claimed_at < stale),
                )
                .values(
                    claimed_at=now,
                    attempts=mails.attempts + 1,
                    # A claim left behind: the attempt that made it never said how it went.
                    unknown_outcomes=mails.unknown_outcomes + sa.case((mails.claimed_at.is_not(None), 1), else_=0),
                )
            ).rowcount
        return bool(claimed)

    def stats(self) -> dict[str, int]:
        """How the outbox stands: mails sent, waiting, and possibly delivered twice (a retry after an
        attempt whose outcome was never recorded; the mail keeps its Message-ID, so a mail client shows one)."""
        mails = self.mails.c
        with self.engine.connect() as connection:
            sent, waiting, unknown = connection.execute(
                sa.select(
                    sa.func.count(mails.sent_at),
                    sa.func.count() - sa.func.count(mails.sent_at),
                    sa.func.coalesce(sa.func.sum(mails.unknown_outcomes), 0),
                )
            ).one()
        return {"sent": int(sent), "waiting": int(waiting), "possibly_sent_twice": int(unknown)}

    def _send_one(self, mailer: Mailer, event_id: str, mail: OutgoingMail) -> bool:
        return self._claim(event_id) and self._deliver(mailer, event_id, mail)

    def _deliver(self, mailer: Mailer, event_id: str, mail: OutgoingMail) -> bool:
        try:
            mailer.send(mail)
        except MailDeliveryError as error:
            log.warning("mail to %s not sent yet: %s", mask_email(mail.to), error)
            self._finish(event_id, sent=False, error=str(error))
            return False
        self._finish(event_id, sent=True, error=None)
        log.info("mail %s sent to %s", mail.subject, mask_email(mail.to))
        return True

    def _finish(self, event_id: str, sent: bool, error: str | None) -> None:
        outcome = {"mail": event_id, "error": error, "sent": dt.datetime.now(dt.UTC) if sent else None}
        try:
            with self._autocommit.connect() as connection:
                execute(connection, self._outcome, outcome)
        except sa.exc.DBAPIError as failure:
            if not failure.connection_invalidated:
                raise
            # The connection died since the claim a moment ago (it is not pinged when used that recently): once
            # more on a new one, or a mail the SMTP server took would count as unsent and go again.
            with self._autocommit.connect() as connection:
                execute(connection, self._outcome, outcome)
