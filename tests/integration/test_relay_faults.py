"""Nothing lost, nothing applied twice: the relay or consumers killed mid-flight, events arrive twice.

Real processes (the four services and the relays), real RabbitMQ, a real SMTP server; the event
stores are written directly by the test, as the services would.
"""

from __future__ import annotations

import signal
import subprocess
import time

import kombu
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.errors import NotAuthenticated, PermissionDenied
from contracts.identity import Caller, Role, sign_call
from contracts.keys import Signer
from infra.keys import load_signer
from infra.nameko_support import SigningProxy
from infra.part_status import STATUS_FILE, read_status
from infra.relay import KILL_AFTER_PUBLISH_ENV, event_exchange
from infra.settings import Settings
from ops.launcher import relay_command, service_command
from ops.sources import open_source
from tests.support.recorded import CASE_EVENTS, MAILS, all_applied, count, record_cases, relay_position
from tests.support.smtp import SmtpSink
from tests.support.system import eventually, running_system, supervised


def test_killed_relay_and_duplicate_deliveries_lose_nothing_and_apply_nothing_twice(
    settings: Settings, amqp_uri: str
) -> None:
    with SmtpSink() as smtp, running_system(settings, amqp_uri, smtp, relays=False, gateway=False) as system:
        record_cases(settings)

        # 1. The relay publishes 4 events (confirmed by the broker), then dies before saving its position.
        killed = subprocess.run(
            relay_command("submissions"),
            env=system.env | {KILL_AFTER_PUBLISH_ENV: "4"},
            timeout=60,
            capture_output=True,
        )
        assert killed.returncode == -signal.SIGKILL
        assert relay_position(settings, "submissions") == 0
        eventually(lambda: count(settings, "submissions", "case_timeline") == 4)

        # 2. Restarted, it republishes from its saved position: the first 4 events arrive twice.
        system.start_relays()
        eventually(lambda: all_applied(settings), timeout=30)
        smtp.wait_for(count=MAILS, timeout=30)
        eventually(lambda: relay_position(settings, "submissions") > 0)

        # 3. The same event delivered twice more, straight onto the exchange; and a forged approval
        #    (unsigned) that must not produce a "genuine" letter.
        source = open_source("submissions", settings)
        events = [event for _position, event in source.integration_events()]
        source.close()
        approval = next(event for event in events if event.event_type == "case.approved.v1")
        forged_letter = {**approval.data["letter"], "number": "SKM/9999/PALSU/2026", "verification_code": "f" * 32}
        forged = approval.model_copy(
            update={
                "event_id": "forged-1",
                "aggregate_id": "forged",
                "data": {**approval.data, "letter": forged_letter},
            }
        )
        relay = load_signer(settings, "relay-submissions")
        with kombu.Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
            producer = connection.Producer()
            for message in (events[0].signed(relay), events[0].signed(relay), forged):
                producer.publish(
                    message.model_dump(mode="json"),
                    exchange=event_exchange("submissions"),
                    routing_key=message.event_type,
                    serializer="json",
                    delivery_mode=2,
                )
        documents_log = system.log_dir / "documents.log"
        eventually(lambda: "its signature is missing or wrong" in documents_log.read_text())
        log = system.log_dir / "submissions.log"
        eventually(lambda: log.read_text().count("skipped duplicate") == 6)  # 4 after the crash + 2

        time.sleep(1.0)  # a duplicate mail, if any were sent, would have arrived by now
        assert all_applied(settings)
        assert count(settings, "submissions", "cases") == 3
        assert count(settings, "submissions", "processed_events") == CASE_EVENTS
        message_ids = [str(mail.message["Message-ID"]) for mail in smtp.messages]
        assert len(message_ids) == MAILS == len(set(message_ids))
        subjects = sorted(str(mail.message["Subject"]) for mail in smtp.messages)
        assert sum("Perlu perbaikan" in subject for subject in subjects) == 1

        # 4. One relay per store: a second one refuses to start while the first runs.
        second = subprocess.run(
            relay_command("submissions"), env=system.env, timeout=60, capture_output=True, text=True
        )
        assert second.returncode == 1 and "another process holds the lock" in second.stderr


def test_consumers_killed_mid_flight_catch_up_from_their_durable_queues(settings: Settings, amqp_uri: str) -> None:
    with SmtpSink() as smtp, running_system(settings, amqp_uri, smtp, gateway=False) as system:
        relay_log = system.log_dir / "relay-submissions.log"
        eventually(lambda: relay_log.exists() and "started at position" in relay_log.read_text())
        for name in ("documents", "notifications"):
            system.processes[name].kill()  # SIGKILL: no clean shutdown
            system.processes[name].wait()
        record_cases(settings)  # published while two consumers are dead: their queues keep the events
        eventually(lambda: count(settings, "submissions", "case_timeline") == CASE_EVENTS)
        assert count(settings, "documents", "letters") == 0
        for name in ("documents", "notifications"):
            system.spawn(name, service_command(name))
        eventually(lambda: all_applied(settings), timeout=30)
        assert len(smtp.wait_for(count=MAILS, timeout=30)) == MAILS


def test_services_check_the_signed_caller_themselves(settings: Settings, amqp_uri: str) -> None:
    """Anyone able to reach the broker could call a service directly: the service still says no."""
    with running_system(settings, amqp_uri, relays=False, gateway=False):
        record_cases(settings)
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as rpc:
            unsigned = {"user_id": "x", "role": "approver", "organisation_id": None}
            with pytest.raises(NotAuthenticated):
                rpc.submissions.work_queue(unsigned)
            forged = sign_call(
                Caller(user_id="x", role=Role.ADMIN), Signer.generate("gateway"), "registry", "register_staff", [{}]
            )
            with pytest.raises(NotAuthenticated):
                rpc.registry.register_staff(forged, {})
            gateway = load_signer(settings, "gateway")
            applicant = Caller(user_id="x", role=Role.APPLICANT, organisation_id="o")
            with pytest.raises(PermissionDenied):
                SigningProxy(rpc.submissions, "submissions", gateway).work_queue(applicant)
            with pytest.raises(PermissionDenied):
                SigningProxy(rpc.registry, "registry", gateway).get_notification_contact(applicant, "o")


def test_parts_killed_under_the_supervisor_come_back_and_nothing_is_lost(settings: Settings, amqp_uri: str) -> None:
    """`satu run` supervises its parts: kill -9 a relay and a consumer; both are started again without a
    human, /health's status says so, and every event is applied once."""
    with (
        running_system(settings, amqp_uri, gateway=False) as system,
        supervised(system, settings.var_dir / STATUS_FILE) as said,
    ):
        eventually(lambda: read_status(settings.var_dir / STATUS_FILE))
        for part in ("relay-submissions", "documents"):
            system.processes[part].kill()
        record_cases(settings)
        eventually(lambda: all_restarted(settings, ("relay-submissions", "documents")), timeout=60)
        eventually(lambda: all_applied(settings), timeout=60)
    assert "relay-submissions exited with code -9; starting it again in 1s" in said
    assert "documents started again (restart 1)" in said


def all_restarted(settings: Settings, parts: tuple[str, ...]) -> bool:
    status = read_status(settings.var_dir / STATUS_FILE) or {}
    return all(status.get(part, {}).get("restarts") == 1 and status[part]["state"] == "running" for part in parts)
