"""Registry domain events -> integration events (the one place that maps them)."""

from __future__ import annotations

from contracts.events import IntegrationEvent, stable_event_id
from services.registry.domain import Account, Organisation


def to_integration(domain_event: object) -> IntegrationEvent | None:
    if isinstance(domain_event, Account.Registered):  # type: ignore[attr-defined]  # event classes are made by @event at runtime
        data: dict[str, object] = {"account_id": str(domain_event.originator_id), "role": domain_event.role}
        event_type = "account.registered.v1"
    elif isinstance(domain_event, Organisation.Recorded):  # type: ignore[attr-defined]  # event classes are made by @event at runtime
        profile = domain_event.profile
        data = {
            "organisation_id": str(domain_event.originator_id),
            "name": profile["name"],
            "abbreviation": profile.get("abbreviation"),
            "legal_form": profile["legal_form"],
            "kecamatan": profile["address"]["kecamatan"],
            "kelurahan": profile["address"]["kelurahan"],
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
    return IntegrationEvent(
        event_id=stable_event_id(domain_event.originator_id, domain_event.originator_version),
        event_type=event_type,
        source="registry",
        aggregate_id=str(domain_event.originator_id),
        aggregate_version=domain_event.originator_version,
        occurred_at=domain_event.timestamp,
        data=data,
    )
