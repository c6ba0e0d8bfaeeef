"""Mails to a person about their own account: the link that confirms their address, and the notice that
someone signed up with it. Nothing anyone typed goes into them (whoever signs up names the address, and
so could put words into a mail to a stranger: not even the name given is used), and the only links are
to this system's own public address."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from contracts.organisations import CONFIRMATION_LINK_HOURS
from infra.catalogue import Catalogue
from services.notifications.messages import Draft, footer

CONFIRMATION_EVENTS = ("account.registered.v1", "account.confirmation_requested.v1")
SIGN_UP_ATTEMPT = "account.sign_up_attempted.v1"


def compose_account_mail(
    event_type: str, facts: dict[str, Any], event_id: str, public_base_url: str, catalogue: Catalogue
) -> Draft | None:
    """The mail for an account event, given what the registry says of the account (address, name, and
    the token of a confirmation link); None when the event mails nothing."""
    base = public_base_url.rstrip("/")
    greeting = "Yth. Pengguna Satu Ormas,"
    if event_type in CONFIRMATION_EVENTS and facts.get("token"):
        link = f"{base}/verify-email?token={quote(str(facts['token']), safe='.-_')}"
        subject = "Konfirmasi alamat e-mail Anda"
        paragraph = (
            "Terima kasih telah mendaftar di Satu Ormas. Untuk menyelesaikan pendaftaran dan mencatat "
            "organisasi Anda, konfirmasikan alamat e-mail ini melalui tautan berikut "
            f"(berlaku {CONFIRMATION_LINK_HOURS} jam dan hanya sekali pakai):"
        )
        closing = "Jika Anda tidak mendaftar, abaikan e-mail ini; akun yang tidak dikonfirmasi akan dihapus."
    elif event_type == SIGN_UP_ATTEMPT:
        link = f"{base}/login"
        subject = "Ada pendaftaran dengan alamat e-mail Anda"
        paragraph = (
            "Seseorang baru saja mencoba mendaftar di Satu Ormas dengan alamat e-mail ini. Akun Anda tidak "
            "berubah. Jika itu Anda, silakan masuk dengan kata sandi Anda melalui tautan berikut:"
        )
        closing = "Jika bukan Anda, tidak perlu melakukan apa pun."
    else:
        return None
    body = "\n".join([greeting, "", paragraph, "", link, "", closing, "", footer(catalogue.region)]) + "\n"
    return Draft(message_id=f"<{event_id}@satu-ormas>", subject=f"[Satu Ormas] {subject}", body=body)
