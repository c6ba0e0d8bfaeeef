"""Property-based fuzzing of the live gateway's OpenAPI: bad input never gets a server error.

Policy:
- One whole system (every service, both relays, the gateway; SQLite) is started for this module and
  seeded with the demo data; the demo applicant (who has an organisation) files one case, so that ids
  the fuzzer picks up from responses (Schemathesis reuses them) lead past "no such case" into the
  real handlers. The schema under test is the gateway's own ``/openapi.json``.
- Schemathesis's engine (the one behind its CLI: examples, coverage and fuzzing phases, valid and
  invalid data; no stateful phase, no automatic sign-up) runs every operation once per identity: as
  the demo applicant, as a verifier, and without a token (fuzzing only, with fewer draws: it still
  sends made-up tokens and cookies, but nearly every operation answers 401 before reading its input).
- Checks: no response is a server error (every status is below 500; a 502 or 503 counts too), and a
  response whose status the schema documents has the documented content type. Each distinct failure
  is reported with the request that reproduces it and the start of the response body.
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
from schemathesis.engine import StopReason, events

from infra.settings import Settings
from ops.seed import APPLICANT, seed
from tests.support.factories import pdf_bytes
from tests.support.system import eventually, running_system

SEED = 20260301
MAX_EXAMPLES = {"anonymous": 10, "applicant": 20, "verifier": 20}  # per operation
VERIFIER = "verifikator@kesbangpol.balikpapan.go.id"


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
        for identity, email in [("applicant", APPLICANT[0]), ("verifier", VERIFIER)]:
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
        eventually(lambda: any(c["case_id"] == case_id for c in verifier.get("/api/queue").json()))


def load_schema(gateway: Gateway, identity: str) -> Any:
    only = {"enabled": False, "not_a_server_error": {"enabled": True}, "content_type_conformance": {"enabled": True}}
    generation = {"mode": "all", "max-examples": MAX_EXAMPLES[identity], "deterministic": True, "database": "none"}
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["all"],
            "cache": {"enabled": False},
            "generation": generation,
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": identity in gateway.tokens}},
            "checks": only,
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
def test_bad_input_never_gets_a_server_error(gateway: Gateway, identity: str) -> None:
    schema = load_schema(gateway, identity)
    problems, stop_reason, tested = fuzz(schema)
    assert not problems, f"{len(problems)} distinct failure(s) as {identity}:\n\n" + "\n\n".join(problems)
    assert stop_reason == StopReason.COMPLETED, f"the fuzzing run did not finish: {stop_reason}"
    operations = {result.ok().label for result in schema.get_all_operations()}
    assert len(operations) > 20 and tested == operations, f"never tested: {sorted(operations - tested)}"
