"""Every failure reaches the user as the same error JSON, with the right status and no traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, RpcTimeout

from contracts.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from gateway.app import create_app
from gateway.rpc import RpcClients
from tests.support.gateway_fakes import FakeRpc, make_app, make_settings, sign_in


@pytest.fixture
def client(tmp_path, rpc: FakeRpc) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, rpc), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def headers(client: TestClient, rpc: FakeRpc) -> dict[str, str]:
    return sign_in(client, rpc, "siti@ormas.or.id", organisation_id="org-1")


def _failing_get_case(rpc: FakeRpc, error: Exception) -> None:
    def get_case(caller: object, case_id: str) -> dict[str, object]:
        raise error

    rpc.submissions.get_case = get_case  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("'x' is not a valid case id", field="case_id"), 422),
        (NotFound("case x not found"), 404),
        (NotAuthenticated("caller identity signature is invalid"), 401),
        (PermissionDenied("role 'applicant' may not do this"), 403),
        (Conflict("the case was already approved", field="status"), 409),
    ],
)
def test_service_errors_keep_their_status_code_message_and_field(client, rpc, headers, error, status) -> None:
    _failing_get_case(rpc, error)

    response = client.get("/api/cases/x", headers=headers)

    assert response.status_code == status
    assert response.json() == {"error": {"code": error.code, "message": error.message, "field": error.field}}


def test_a_service_error_survives_the_trip_over_rpc_as_the_same_class() -> None:
    # nameko serialises the error in the service and rebuilds it in the gateway.
    from nameko.exceptions import deserialize, serialize

    rebuilt = deserialize(serialize(Conflict("already approved", field="status")))

    assert isinstance(rebuilt, Conflict) and isinstance(rebuilt, ServiceError)
    assert (rebuilt.message, rebuilt.field, rebuilt.status) == ("already approved", "status", 409)


def test_an_unexpected_service_failure_is_502_without_its_details(client, rpc, headers, caplog) -> None:
    secret_detail = "Traceback (most recent call last): nik=6471000000000001"
    _failing_get_case(rpc, RemoteError("KeyError", secret_detail))

    response = client.get("/api/cases/x", headers=headers)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "service_error"
    assert "Traceback" not in response.text and "6471000000000001" not in response.text
    assert "KeyError" in caplog.text and "6471000000000001" not in caplog.text


@pytest.mark.parametrize("error", [RpcTimeout(30), OperationalError("broker down"), ConnectionRefusedError()])
def test_timeouts_and_broker_outages_are_503(client, rpc, headers, error) -> None:
    _failing_get_case(rpc, error)

    response = client.get("/api/cases/x", headers=headers)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def test_anything_else_is_a_500_json_without_traceback(client, rpc, headers) -> None:
    _failing_get_case(rpc, ZeroDivisionError("division by zero in secret_module.py"))

    response = client.get("/api/cases/x", headers=headers)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret_module" not in response.text and "Traceback" not in response.text


def test_malformed_json_is_422_malformed_json(client) -> None:
    response = client.post(
        "/api/session", content=b'{"email": "a@b.id", ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_json"


def test_a_missing_field_is_422_naming_it(client) -> None:
    response = client.post("/api/accounts", json={"email": "siti@ormas.or.id", "full_name": "Siti"})

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "Field required",
        "field": "password",
    }


def test_a_body_of_the_wrong_shape_names_the_body(client) -> None:
    response = client.post("/api/session", json=["not", "an", "object"])

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body"


def test_an_unknown_route_is_404_json(client) -> None:
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_wrong_method_is_405_json(client) -> None:
    response = client.put("/api/session")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["allow"]


def test_an_unreachable_broker_is_503_from_the_real_rpc_clients(tmp_path) -> None:
    # Nothing listens on port 1: the real proxy fails to connect, the user sees "try again".
    settings = make_settings(tmp_path, amqp_uri="amqp://guest:guest@127.0.0.1:1/")
    with TestClient(create_app(settings, rpc=RpcClients.from_settings(settings))) as client:
        response = client.get("/api/verify/ABC123")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def test_health_and_openapi_need_no_services(client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Satu Ormas API"
    assert "/api/cases/{case_id}/history" in spec["paths"]
