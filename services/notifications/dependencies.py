"""What the notifications workers are given: the mail outbox, the mailer, and the region's wording."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.catalogue import Catalogue, load_catalogue
from infra.nameko_support import ReadModelProvider
from infra.settings import Settings
from services.notifications.contacts import ContactBook
from services.notifications.mailer import FileMailer, Mailer, SmtpMailer
from services.notifications.outbox import MailOutbox


def mailer_from(settings: Settings) -> Mailer:
    if not settings.smtp_host:
        return FileMailer(settings.var_dir / "mail", sender=settings.mail_sender)
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.mail_sender,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        starttls=settings.smtp_starttls,
    )


@dataclass
class Post:
    outbox: MailOutbox
    mailer: Mailer
    catalogue: Catalogue  # the mails' words are the region's
    contacts: ContactBook = field(default_factory=ContactBook)  # one per process: its workers share it

    def close(self) -> None:
        self.outbox.read_model.close()


class Postbox(ReadModelProvider):
    def __init__(self) -> None:
        super().__init__("notifications.outbox")

    def build(self, settings: Settings) -> Post:  # type: ignore[override]
        outbox = MailOutbox(super().build(settings))
        return Post(outbox, mailer_from(settings), load_catalogue(settings.region_dir))
