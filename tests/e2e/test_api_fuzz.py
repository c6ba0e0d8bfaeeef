"""Property-based fuzzing of the live gateway's OpenAPI: bad input never gets a server error.

Policy:
- One whole system (every service, both relays, the gateway; SQLite) is started for this module and
  seeded with the demo data; the schema under test is the gateway's own ``/openapi.json``.
- Every operation is fuzzed by Schemathesis (its examples, coverage and fuzzing phases; valid and
  invalid data) three times: as the demo applicant (who has an organisation), as a verifier, and
  without a token (where Schemathesis may still send made-up tokens and cookies).
- Checks: no response is a server error (every status is below 500; a 502 or 503 counts too), and a
  response whose status the schema documents has the documented content type.
- Bounded and repeatable: at most ``MAX_EXAMPLES`` fuzzed cases per operation and identity, a fixed
  seed with derandomized generation and no example database, so CI sees the same requests every run.
- Every request goes to the gateway on 127.0.0.1 and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance

from infra.settings import Settings
from ops.seed import APPLICANT, seed
from tests.support.system import running_system

MAX_EXAMPLES = 25
SEED = 20260301
VERIFIER = "verifikator@kesbangpol.balikpapan.go.id"
CHECKS: list[CheckFunction] = [not_a_server_error, content_type_conformance]
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
        assert httpx.get(f"{base}/api/me", headers=bearer(tokens["applicant"])).json()["organisation_id"]
        yield Gateway(base, tokens)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api_schema(gateway: Gateway) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "request-timeout": 30,
        }
    )
    schema = schemathesis.openapi.from_url(f"{gateway.base}/openapi.json", config=config, timeout=30)
    assert urlsplit(schema.get_base_url()).hostname == "127.0.0.1"  # nothing else is ever a target
    return schema


@pytest.fixture(params=IDENTITIES)
def identity(request: pytest.FixtureRequest, gateway: Gateway) -> dict[str, str]:
    """Headers of one caller: none, the applicant's bearer token, or a verifier's."""
    name = str(request.param)
    return bearer(gateway.tokens[name]) if name in gateway.tokens else {}


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.usefixtures("identity")
@schema.parametrize()
def test_bad_input_never_gets_a_server_error(case: schemathesis.Case, identity: dict[str, str]) -> None:
    case.call_and_validate(headers=identity, checks=CHECKS)
