"""Every failure reaches the user as the same error JSON, with the right status and no traceback:
a stable code, the English message, its Bahasa Indonesia text, and the field at fault or null.
The OpenAPI document lists every error an operation can give, with that schema."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout, deserialize, serialize

from contracts.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from contracts.messages import GENERIC, indonesian, subject
from gateway import errors as gateway_errors
from gateway.app import JSON_BODY_LIMIT, create_app
from gateway.rpc import RpcClients
from tests.support.factories import pdf_bytes
from tests.support.gateway_client import InProcessRpc, make_app, make_settings, sign_in, upload
from tests.support.in_process import Cluster, over_the_wire

ROOT = Path(__file__).resolve().parents[2]
CASE_ID = "0b9e5c1e-8d1a-4f3e-9a7b-2c4d6e8f0a1b"
CANNOT_FAIL = {"GET /health", "DELETE /api/session"}  # no input, no session, no service


@pytest.fixture
def client(tmp_path, rpc: InProcessRpc) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, rpc), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def headers(client: TestClient, cluster: Cluster) -> dict[str, str]:
    return sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Uji")


def _over_rpc(error: ServiceError) -> Exception:
    """The error as the gateway receives it: serialised by nameko in the service, sent as JSON, rebuilt."""
    return deserialize(over_the_wire(serialize(error)))


@pytest.mark.parametrize(
    ("error", "status", "bahasa"),
    [
        (InvalidInput(f"'{CASE_ID}' is not a valid case id", field="case_id"), 422, "bukan id permohonan yang sah"),
        (NotFound(f"case {CASE_ID} not found"), 404, f"Data permohonan {CASE_ID} tidak ditemukan."),
        (NotAuthenticated("caller identity signature is invalid"), 401, "Tanda tangan identitas pemanggil tidak sah."),
        (PermissionDenied("role 'applicant' may not do this (allowed: admin)"), 403, "Peran 'applicant' tidak berhak"),
        (Conflict("cannot approve a case that is submitted", field="status"), 409, "berstatus submitted"),
    ],
)
def test_service_errors_keep_their_status_code_message_and_field_and_say_it_in_bahasa(
    client, cluster, headers, error, status, bahasa
) -> None:
    cluster.fail_in_service("submissions", "get_case", error)

    response = client.get(f"/api/cases/{CASE_ID}", headers=headers)

    assert response.status_code == status
    body = response.json()["error"]
    assert body == {
        "code": error.code,
        "message": error.message,
        "message_id": body["message_id"],
        "field": error.field,
    }
    assert bahasa in body["message_id"]


def test_no_field_at_fault_is_null_not_the_string_none_after_the_trip_over_rpc(client, headers) -> None:
    rebuilt = _over_rpc(NotFound(f"case {CASE_ID} not found"))
    assert isinstance(rebuilt, NotFound) and rebuilt.field is None

    response = client.get(f"/api/cases/{CASE_ID}", headers=headers)  # no such case: the service's NotFound

    assert response.status_code == 404
    assert '"field":null' in response.text and response.json()["error"]["field"] is None


def test_a_service_error_survives_the_trip_over_rpc_as_the_same_class_with_both_texts() -> None:
    for sent in (Conflict("already approved", field="status", message_id="Sudah disetujui."), NotFound("x")):
        rebuilt = _over_rpc(sent)

        assert type(rebuilt) is type(sent) and isinstance(rebuilt, ServiceError)
        assert rebuilt.to_dict() == sent.to_dict()
        assert "None" not in serialize(sent)["exc_args"]


def test_a_message_without_an_entry_falls_back_to_the_generic_bahasa_text_of_its_code() -> None:
    assert Conflict("a brand-new rule said no").message_id == GENERIC["conflict"]
    assert InvalidInput("a brand-new check failed", field="npwp").message_id == "Kolom 'npwp' tidak valid."
    codes = {cls.code for cls in (InvalidInput, NotFound, NotAuthenticated, PermissionDenied, Conflict)}
    gateway_codes = {"bad_request", "malformed_json", "method_not_allowed", "too_large", "unsupported_media_type"}
    assert codes | gateway_codes | {"service_error", "service_unavailable", "internal_error"} <= set(GENERIC)


def test_an_unexpected_service_failure_is_502_without_its_details(client, cluster, headers, caplog) -> None:
    secret_detail = "Traceback (most recent call last): nik=6471000000000001"
    cluster.fail_in_service("submissions", "get_case", KeyError(secret_detail))  # arrives as a RemoteError

    response = client.get(f"/api/cases/{CASE_ID}", headers=headers)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "service_error"
    assert response.json()["error"]["message_id"].startswith("Sebuah layanan gagal memproses permintaan")
    assert "Traceback" not in response.text and "6471000000000001" not in response.text
    assert "KeyError" in caplog.text and "6471000000000001" not in caplog.text


@pytest.mark.parametrize("error", [RpcTimeout(30), OperationalError("broker down"), ConnectionRefusedError()])
def test_timeouts_and_broker_outages_are_503(client, cluster, headers, error) -> None:
    cluster.fail_in_transport("submissions", "get_case", error)

    response = client.get(f"/api/cases/{CASE_ID}", headers=headers)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["message_id"] == "Layanan sedang tidak tersedia; silakan coba lagi."


def test_a_services_own_question_left_unanswered_is_503_too(client, cluster, headers, caplog) -> None:
    """submissions asked the registry and got no answer: the request changed nothing and may be retried."""
    unanswered = RpcTimeout("registry.get_account gave no answer in 15 s")
    cluster.fail_in_service("submissions", "get_case", unanswered)  # arrives as a RemoteError naming its type

    response = client.get(f"/api/cases/{CASE_ID}", headers=headers)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "service unavailable (RpcTimeout)" in caplog.text


def test_anything_else_is_a_500_json_without_traceback(client, cluster, headers) -> None:
    cluster.fail_in_transport("submissions", "get_case", ZeroDivisionError("division by zero in secret_module.py"))

    response = client.get(f"/api/cases/{CASE_ID}", headers=headers)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret_module" not in response.text and "Traceback" not in response.text


def test_malformed_json_is_422_malformed_json(client) -> None:
    response = client.post(
        "/api/session", content=b'{"email": "a@b.id", ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_json"
    assert response.json()["error"]["message_id"] == "Isi permintaan bukan JSON yang valid."


def test_a_missing_field_is_422_naming_it_in_both_languages(client) -> None:
    response = client.post("/api/accounts", json={"email": "siti@ormas.or.id", "full_name": "Siti"})

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "Field required",
        "message_id": "Kolom 'password' wajib diisi.",
        "field": "password",
    }


@pytest.mark.parametrize(
    ("payload", "field", "bahasa"),
    [
        ({"email": "siti@ormas.or.id", "password": "pendek", "full_name": "Siti"}, "password", "minimal 10 karakter"),
        ({"email": "bukan-email", "password": "x" * 12, "full_name": "Siti"}, "email", "bukan alamat e-mail"),
        ({"email": "siti@ormas.or.id", "password": "x" * 12, "full_name": 7}, "full_name", "harus berupa teks"),
    ],
)
def test_validation_errors_are_translated_by_their_kind(client, payload, field, bahasa) -> None:
    response = client.post("/api/accounts", json=payload)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message_id"].startswith(f"Kolom '{field}' ") and bahasa in error["message_id"]


def test_a_bad_query_parameter_is_named_as_a_parameter(client, headers) -> None:
    response = client.get(f"/api/cases/{CASE_ID}/state", params={"version": 0}, headers=headers)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "version"
    assert response.json()["error"]["message_id"] == "Parameter 'version' harus lebih besar dari atau sama dengan 1."


def test_an_id_that_is_not_a_uuid_is_refused_before_any_service_is_asked(client, cluster, headers) -> None:
    response = client.get("/api/cases/not-a-case", headers=headers)

    assert response.status_code == 422 and response.json()["error"]["field"] == "case_id"
    assert [call for call in cluster.calls if call.service == "submissions"] == []


def test_a_body_of_the_wrong_shape_names_the_body(client) -> None:
    response = client.post("/api/session", json=["not", "an", "object"])

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body"
    assert response.json()["error"]["message_id"] == "Isi permintaan harus berupa objek JSON."


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_operation_sent_another_media_type_is_415(client, content_type) -> None:
    sent = {"Content-Type": content_type} if content_type else {}

    response = client.post("/api/session", content=b'{"email": "a@b.id", "password": "x"}', headers=sent)

    assert response.status_code == 415
    assert response.json()["error"] == {
        "code": "unsupported_media_type",
        "message": "the body must be sent as application/json",
        "message_id": "Isi permintaan harus dikirim sebagai application/json.",
        "field": "body",
    }


def test_an_upload_sent_as_json_is_415(client, headers) -> None:
    response = client.post("/api/files", json={"file": "akta.pdf"}, headers=headers)

    assert response.status_code == 415 and response.json()["error"]["field"] == "body"


def test_an_unknown_route_is_404_json(client) -> None:
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message_id"] == "Alamat /api/nothing-here tidak ditemukan."


def test_a_wrong_method_is_405_json_allowing_every_method_of_the_path(client) -> None:
    response = client.put("/api/session")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "DELETE, POST"
    assert response.json()["error"]["message_id"] == "Metode PUT tidak diizinkan di alamat ini; gunakan DELETE, POST."


def test_a_json_body_over_the_limit_is_413_naming_the_limit_in_both_languages(client) -> None:
    response = client.post(
        "/api/accounts", content=b"x" * (JSON_BODY_LIMIT + 1), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_large",
        "message": "the request body is larger than the limit of 1 MB",
        "message_id": "Isi permintaan melebihi batas 1 MB.",
        "field": "body",
    }


def test_a_file_over_the_limit_is_413_naming_the_files_limit(tmp_path, cluster, rpc) -> None:
    with TestClient(make_app(tmp_path, rpc, upload_max_bytes=1024 * 1024)) as client:
        headers = sign_in(client, cluster, "siti@ormas.or.id", organisation="Perkumpulan Uji")
        response = upload(client, headers, pdf_bytes() + b"\0" * (2 * 1024 * 1024))

    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("too_large", "file")
    assert error["message"] == "the file is larger than the limit of 1 MB"
    assert error["message_id"] == "Berkas melebihi batas 1 MB."


def test_sizes_are_named_as_people_read_them() -> None:
    assert [gateway_errors.size_text(n) for n in (10 * 1024 * 1024, 64 * 1024, 1000)] == ["10 MB", "64 KB", "1000 B"]


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


def test_the_error_schema_is_in_the_document(client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    detail = schemas["ErrorDetail"]
    assert schemas["ErrorBody"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert set(detail["required"]) == {"code", "message", "message_id", "field"}
    assert {"type": "null"} in detail["properties"]["field"]["anyOf"]
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 body, which this API never sends


def _operations(spec: dict) -> Iterator[tuple[str, dict]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_lists_the_errors_it_can_give_with_the_error_schema(client) -> None:
    spec = client.get("/openapi.json").json()
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}

    for name, operation in _operations(spec):
        responses = operation["responses"]
        errors = {status for status in responses if status[0] in "45"}
        assert all(responses[status]["content"] == error_content for status in errors), name
        assert all(responses[status]["description"] for status in errors), name
        if operation.get("security"):
            assert "401" in errors, name
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            assert {"404", "422"} <= errors, name
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= errors, name
        if name not in CANNOT_FAIL:
            assert errors, name


def test_what_only_the_services_know_is_declared_where_it_applies(client) -> None:
    operations = dict(_operations(client.get("/openapi.json").json()))

    assert "401" in operations["POST /api/session"]["responses"]  # wrong password, though no session is needed
    assert {"403", "409"} <= set(operations["POST /api/staff"]["responses"])
    assert {"403", "409"} <= set(operations["POST /api/cases/{case_id}/approval"]["responses"])
    assert "429" in operations["POST /api/accounts"]["responses"]  # the answer is otherwise always 202
    assert "409" in operations["POST /api/accounts/confirmation"]["responses"]
    assert "403" in operations["GET /api/queue"]["responses"]
    assert "/verify/{code}" not in client.get("/openapi.json").json()["paths"]  # the QR page is for people


# What a person may read: messages of the errors raised anywhere, and of the request contracts' validators.
_ERROR_CLASSES = {
    cls.__name__: cls.code
    for cls in (InvalidInput, NotFound, NotAuthenticated, PermissionDenied, Conflict)
    + (gateway_errors.TooLarge, gateway_errors.UnsupportedMediaType)
}
_VALIDATED_CONTRACTS = ("contracts/organisations.py", "contracts/cases.py", "contracts/forms.py")


def _sample(node: ast.expr) -> str | None:
    """The text a literal or f-string message makes, with every interpolated value as "x"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "x" for part in node.values)
    return None


def _raised_messages() -> Iterator[tuple[str, str, str]]:
    sources = [*ROOT.glob("contracts/*.py"), *ROOT.glob("services/**/*.py"), *ROOT.glob("gateway/**/*.py")]
    for source in sources:
        relative = str(source.relative_to(ROOT))
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in _ERROR_CLASSES:
                code, argument = _ERROR_CLASSES[name], node.args[0]
            elif relative in _VALIDATED_CONTRACTS and name in ("ValueError", "field_error") and node.args:
                code, argument = "invalid_input", node.args[-1 if name == "ValueError" else 1]
            else:
                continue
            message = _sample(argument)
            if message is not None:
                yield f"{relative}:{node.lineno}", code, message


def test_every_message_a_person_may_see_has_a_bahasa_text_of_its_own() -> None:
    messages = list(_raised_messages())
    assert len(messages) > 40  # the scan found the raise sites

    untranslated = [
        f"{where}: {message!r}"
        for where, code, message in messages
        if indonesian(code, message, "x") == GENERIC[code].format(field=subject("x"))
    ]

    assert not untranslated, "add these to contracts/messages.py:\n" + "\n".join(untranslated)
