"""Property-based fuzzing of the live gateway's OpenAPI: the API does what its document says.

Policy:
- One whole system (every service, both relays, the gateway; SQLite) is started for this module and
  seeded with the demo data; the demo applicant (who has an organisation) files one case, so that ids
  the fuzzer picks up from responses (Schemathesis reuses them) lead past "no such case" into the
  real handlers. The schema under test is the gateway's own ``/openapi.json``.
- Schemathesis's engine (the one behind its CLI: examples, coverage and fuzzing phases, valid and
  invalid data; no stateful phase, no automatic sign-up) runs every operation once per identity: as
  the demo applicant, verifier and approver, and without a token (fuzzing only, with fewer draws: it
  still sends made-up tokens and cookies, but nearly every operation answers 401 before reading its
  input).
- Checks: every check Schemathesis runs by default: no server error (a 502 or 503 counts too); every
  status, content type, header and body as the document says; invalid data refused; valid data
  accepted; an undeclared method answered 405 with the right ``Allow``; and the rest of its default
  set. Two things a JSON Schema cannot say are told to it here instead of switched off:
  ``BEYOND_THE_SCHEMA`` lists, per operation, the rules that refuse schema-valid data with 415/422
  (a file must be a real PDF, a case must name the caller's own uploads, ...), and ``DELIVERABLE``
  narrows the generated e-mail addresses to ones mail can reach (the JSON Schema "email" format admits
  x@y.test, which the API rightly refuses). Each distinct failure is reported with the request that
  reproduces it and the start of the response body.
- Bounded and repeatable: at most ``MAX_EXAMPLES`` fuzzed cases per operation and identity, one pass
  (no time budget, which would repeat fuzzing until it runs out), a fixed seed with derandomized
  generation, no example database and no cache: CI sends the same requests on every run.
- Every request goes to the gateway on 127.0.0.1 and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import StopReason, events

from infra.settings import Settings
from ops.seed import APPLICANT, STAFF, seed
from tests.support.factories import pdf_bytes
from tests.support.system import eventually, in_queue, running_system

SEED = 20260301
MAX_EXAMPLES = {"anonymous": 10, "applicant": 20, "verifier": 20, "approver": 20}  # per operation
ACCOUNTS = {"applicant": APPLICANT[0]} | {role: email for email, _, role in STAFF if role in MAX_EXAMPLES}

# Schemathesis's default for valid data: accepted, or refused for who is asking or what exists.
ACCEPTED = schemathesis.config.PositiveDataAcceptanceConfig().expected_statuses
# Rules that refuse schema-valid data, which no JSON Schema can state (the services check them).
BEYOND_THE_SCHEMA = {
    "POST /api/files": ["415", "422"],  # a real, non-empty PDF (checked by its content)
    # a person's name is one line of plain text that the letters' fonts can print (no control or
    # format characters, no emoji): stated in the field's description, not expressible as a schema
    "POST /api/accounts": ["422"],
    "POST /api/accounts/confirmation": ["422"],  # a token the registry signed, and still the account's newest
    "POST /api/staff": ["422"],
    # kecamatan and kelurahan from the region's list; founding not in the future; each term ends after it
    # starts and not before the founding; exactly one ketua, one sekretaris and one bendahara
    "POST /api/organisations": ["422"],
    "POST /api/cases": ["422"],  # attachments must be the caller's own uploads
    "POST /api/cases/{case_id}/resubmissions": ["422"],  # the same
    # the same, and what the step needs by the workflow definition (a reason, files, its form, a colleague)
    "POST /api/cases/{case_id}/actions/{action}": ["422"],
    "GET /api/cases/{case_id}/state": ["422"],  # a version or moment within the case's own history
    # a cursor is the next_cursor of a page the service gave (an opaque token; any other is refused)
    "GET /api/cases": ["422"],
    "GET /api/queue": ["422"],
    "GET /api/organisations": ["422"],
}
# Addresses at special-use domains (.test, .invalid, localhost...) are valid for the JSON Schema "email"
# format but reach no one, and the API refuses them; generate addresses mail can reach.
DELIVERABLE = st.from_regex(r"\A[a-z0-9]{1,20}(?:[._-][a-z0-9]{1,10}){0,2}@[a-z0-9]{1,20}\.(?:id|com|org)\Z")
schemathesis.openapi.format("email", DELIVERABLE)


@dataclass
class Gateway:
    base: str
    tokens: dict[str, str]  # identity -> bearer token

    def client(self, identity: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=bearer(self.tokens[identity]), timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def gateway(amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    var_dir = tmp_path_factory.mktemp("fuzz") / "var"  # the system's logs: var/logs/*.log
    var_dir.mkdir()
    settings = Settings(env="test", var_dir=var_dir, database_url="", amqp_uri=amqp_uri)
    with running_system(settings, amqp_uri) as system:
        passwords = seed(settings)
        gateway = Gateway(f"http://127.0.0.1:{system.port}", {})
        for identity, email in ACCOUNTS.items():
            response = httpx.post(f"{gateway.base}/api/session", json={"email": email, "password": passwords[email]})
            assert response.status_code == 200, response.text
            gateway.tokens[identity] = response.json()["token"]
        file_a_case(gateway)
        yield gateway


def file_a_case(gateway: Gateway) -> None:
    with gateway.client("applicant") as applicant, gateway.client("verifier") as verifier:
        assert applicant.get("/api/me").json()["organisation_id"]
        upload = applicant.post("/api/files", files={"file": ("akta.pdf", pdf_bytes(), "application/pdf")})
        assert upload.status_code == 201, upload.text
        attachments = [{"file_id": upload.json()["file_id"], "kind": "deed"}]
        filed = applicant.post("/api/cases", json={"service": "skm", "attachments": attachments})
        assert filed.status_code == 201, filed.text
        case_id = filed.json()["id"]
        eventually(lambda: in_queue(verifier, case_id))


def load_schema(gateway: Gateway, identity: str) -> Any:
    generation = {"mode": "all", "max-examples": MAX_EXAMPLES[identity], "deterministic": True, "database": "none"}
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["all"],
            "cache": {"enabled": False},
            "generation": generation,
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": identity in gateway.tokens}},
            "operations": [
                {
                    "include-name": name,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + refused}},
                }
                for name, refused in BEYOND_THE_SCHEMA.items()
            ],
            "auth": {"auto-signup": False},
            "headers": bearer(gateway.tokens[identity]) if identity in gateway.tokens else {},
            "request-timeout": 30,
            "output": {"sanitization": {"enabled": False}},  # a throwaway system's tokens; show what was sent
            "workers": 1,  # more threads trip CPython 3.11's AST constructor ("recursion depth mismatch")
        }
    )
    schema = schemathesis.openapi.from_url(f"{gateway.base}/openapi.json", config=config, timeout=30)
    assert urlsplit(schema.get_base_url()).hostname == "127.0.0.1"  # nothing else is ever a target
    return schema


def describe(label: str, failure: Any, code_sample: str, response: Any) -> str:
    body = response.content[:600].decode(errors="replace") if response is not None else "(no response)"
    status = response.status_code if response is not None else "-"
    return f"{label}: {failure.title} [{status}]\n  {failure.message}\n  {code_sample}\n  -> {body}"


def fuzz(schema: Any) -> tuple[list[str], StopReason | None, set[str]]:
    """Run the engine; return the distinct failures and errors, why it stopped, and the operations tested."""
    problems: dict[tuple[str, str, str], str] = {}
    stop_reason, tested = None, set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            tested |= {node.value.operation.label for node in recorder.cases.values()}
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    info = check.failure_info
                    if info is None:
                        continue
                    interaction = recorder.interactions.get(case_id)
                    response = interaction.response if interaction is not None else None
                    key = (recorder.label, info.failure.title, str(getattr(response, "status_code", "")))
                    problems.setdefault(key, describe(recorder.label, info.failure, info.code_sample, response))
        elif isinstance(event, events.NonFatalError):
            problems.setdefault((event.label, "error", type(event.value).__name__), f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            problems.setdefault(("", "fatal", ""), f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            stop_reason = event.stop_reason
    return list(problems.values()), stop_reason, tested


@pytest.mark.parametrize("identity", list(MAX_EXAMPLES))
def test_the_api_does_what_its_document_says(gateway: Gateway, identity: str) -> None:
    schema = load_schema(gateway, identity)
    problems, stop_reason, tested = fuzz(schema)
    assert not problems, f"{len(problems)} distinct failure(s) as {identity}:\n\n" + "\n\n".join(problems)
    assert stop_reason == StopReason.COMPLETED, f"the fuzzing run did not finish: {stop_reason}"
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert len(operations) > 20 and tested == operations, f"never tested: {sorted(operations - tested)}"
