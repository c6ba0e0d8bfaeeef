"""Property-based fuzzing of the live gateway's OpenAPI: bad input never gets a server error.

Policy:
- One whole system (every service, both relays, the gateway; SQLite) is started for this module and
  seeded with the demo data; the schema under test is the gateway's own ``/openapi.json``.
- Schemathesis's engine (the one behind its CLI: examples, coverage and fuzzing phases, valid and
  invalid data; no stateful phase, no automatic sign-up) runs every operation three times: as the demo
  applicant (who has an organisation), as a verifier, and without a token (where it may still send
  made-up tokens and cookies).
- Checks: no response is a server error (every status is below 500; a 502 or 503 counts too), and a
  response whose status the schema documents has the documented content type. Each distinct failure
  is reported with the request that reproduces it and the response body.
- Bounded and repeatable: at most ``MAX_EXAMPLES`` fuzzed cases per operation and identity, a fixed
  seed with derandomized generation, no example database and no cache, and a time limit per identity
  that fails the test when hit (an unfinished run proves nothing).
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
from tests.support.system import running_system

MAX_EXAMPLES = 25
WORKERS = 1
SEED = 20260301
VERIFIER = "verifikator@kesbangpol.balikpapan.go.id"
IDENTITIES = ["anonymous", "applicant", "verifier"]


@dataclass
class Gateway:
    base: str
    tokens: dict[str, str]  # identity -> bearer token


@pytest.fixture(scope="module")
def gateway(amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    var_dir = tmp_path_factory.mktemp("fuzz") / "var"
    var_dir.mkdir()
    settings = Settings(env="test", var_dir=var_dir, database_url="", amqp_uri=amqp_uri)
    with running_system(settings, amqp_uri) as system:
        passwords = seed(settings)
        base = f"http://127.0.0.1:{system.port}"
        tokens = {}
        for identity, email in [("applicant", APPLICANT[0]), ("verifier", VERIFIER)]:
            response = httpx.post(f"{base}/api/session", json={"email": email, "password": passwords[email]})
            assert response.status_code == 200, response.text
            tokens[identity] = response.json()["token"]
        me = httpx.get(f"{base}/api/me", headers=bearer(tokens["applicant"])).json()
        assert me["organisation_id"], me
        yield Gateway(base, tokens)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def load_schema(gateway: Gateway, headers: dict[str, str]) -> Any:
    only = {"enabled": False, "not_a_server_error": {"enabled": True}, "content_type_conformance": {"enabled": True}}
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            "cache": {"enabled": False},
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": only,
            "auth": {"auto-signup": False},
            "headers": headers,
            "request-timeout": 30,
            "workers": WORKERS,
        }
    )
    schema = schemathesis.openapi.from_url(f"{gateway.base}/openapi.json", config=config, timeout=30)
    assert urlsplit(schema.get_base_url()).hostname == "127.0.0.1"  # nothing else is ever a target
    return schema


def describe(label: str, failure: Any, code_sample: str, response: Any) -> str:
    body = response.content[:600].decode(errors="replace") if response is not None else "(no response)"
    status = response.status_code if response is not None else "-"
    return f"{label}: {failure.title} [{status}]\n  {failure.message}\n  {code_sample}\n  -> {body}"


def fuzz(schema: Any) -> tuple[list[str], StopReason | None, int]:
    """Run the engine; return the distinct failures and errors, why it stopped, and how many cases ran."""
    problems: dict[tuple[str, str, str], str] = {}
    stop_reason, cases = None, 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            cases += len(recorder.cases)
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
    return list(problems.values()), stop_reason, cases


@pytest.mark.parametrize("identity", IDENTITIES)
def test_bad_input_never_gets_a_server_error(gateway: Gateway, identity: str) -> None:
    headers = bearer(gateway.tokens[identity]) if identity in gateway.tokens else {}
    problems, stop_reason, cases = fuzz(load_schema(gateway, headers))
    print(f"{identity}: {cases} cases, stopped: {stop_reason}")
    assert not problems, f"{len(problems)} distinct failure(s) as {identity}:\n\n" + "\n\n".join(problems)
    assert stop_reason == StopReason.COMPLETED, f"the fuzzing run did not finish: {stop_reason}"
    assert cases > 0
