"""Registry domain events -> integration events (the one place that maps them)."""

from __future__ import annotations

from collections.abc import Callable

from contracts.events import IntegrationEvent, stable_event_id
from services.registry.domain import Account, Organisation


def to_integration(
    domain_event: object,
    wanted: Callable[[str], bool] | None = None,
    make: Callable[..., IntegrationEvent] = IntegrationEvent,
) -> IntegrationEvent | None:
    """The integration event of ``domain_event``; None for one that stays inside the registry, or whose type is
    not ``wanted``. ``make`` is IntegrationEvent (checked, for the relay) or IntegrationEvent.replayed (a
    rebuild)."""
    account_id = str(domain_event.originator_id)  # type: ignore[attr-defined]
    if isinstance(domain_event, Account.Registered):  # type: ignore[attr-defined]  # event classes are made by @event at runtime
        nonce = getattr(domain_event, "verification_nonce", None)  # none on accounts from before confirmation
        data: dict[str, object] = {"account_id": account_id, "role": domain_event.role, "confirmation_nonce": nonce}
        event_type = "account.registered.v1"
    elif isinstance(domain_event, Account.VerificationIssued | Account.Reclaimed):  # type: ignore[attr-defined]
        nonce = getattr(domain_event, "nonce", None) or domain_event.verification_nonce
        data = {"account_id": account_id, "confirmation_nonce": nonce}
        event_type = "account.confirmation_requested.v1"
    elif isinstance(domain_event, Account.SignUpAttempted):  # type: ignore[attr-defined]
        data = {"account_id": account_id}
        event_type = "account.sign_up_attempted.v1"
    elif isinstance(domain_event, Organisation.Recorded):  # type: ignore[attr-defined]  # event classes are made by @event at runtime
        profile = domain_event.profile
        data = {
            "organisation_id": str(domain_event.originator_id),
            "name": profile["name"],
            "abbreviation": profile.get("abbreviation"),
            "legal_form": profile["legal_form"],
            "kecamatan": profile["address"]["kecamatan"],
            "kelurahan": profile["address"]["kelurahan"],
            # What a letter prints besides (submissions keeps its own copy for filings): no NIK, no phone.
            "street": profile["address"]["street"],
            "chair_name": next((m["name"] for m in profile["board"] if m["position"] == "ketua"), None),
        }
        event_type = "organisation.recorded.v1"
    elif isinstance(domain_event, Organisation.ReportingChanged):  # type: ignore[attr-defined]  # made by @event
        data = {
            "organisation_id": str(domain_event.originator_id),
            "status": domain_event.status,
            "missed_periods": sorted(domain_event.missed_reports),
        }
        event_type = "organisation.compliance_changed.v1"
    else:
        return None
    if wanted is not None and not wanted(event_type):
        return None
    return make(
        event_id=stable_event_id(domain_event.originator_id, domain_event.originator_version),
        event_type=event_type,
        source="registry",
        aggregate_id=str(domain_event.originator_id),
        aggregate_version=domain_event.originator_version,
        occurred_at=domain_event.timestamp,
        data=data,
    )
