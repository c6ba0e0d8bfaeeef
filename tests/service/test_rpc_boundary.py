"""What the services' RPC boundary lets through, as nameko decides it: only @rpc entrypoints are callable,
a call must match the entrypoint's signature, and an expected error keeps its field and Bahasa text."""

from __future__ import annotations

import pytest
from nameko.exceptions import IncorrectSignature, MethodNotFound

from contracts.errors import NotFound
from tests.support.in_process import Cluster
from tests.support.office import signed


def test_a_services_helper_is_not_an_rpc_method(cluster: Cluster, verifier) -> None:
    with pytest.raises(MethodNotFound):
        cluster["submissions"]._colleague(verifier["id"])  # the registry look-up behind an assignment

    assert [call.method for call in cluster.calls if call.service == "submissions"] == []


def test_a_call_that_does_not_match_the_entrypoint_is_refused_before_it_runs(cluster: Cluster, verifier) -> None:
    with pytest.raises(IncorrectSignature):
        cluster["submissions"].get_case(signed(cluster, verifier))  # no case id


def test_an_expected_error_arrives_as_itself_with_its_field_and_bahasa_text(cluster: Cluster, verifier) -> None:
    missing = "0b9e5c1e-8d1a-4f3e-9a7b-2c4d6e8f0a1b"

    with pytest.raises(NotFound) as refused:
        cluster["submissions"].get_case(signed(cluster, verifier), missing)

    assert refused.value.to_dict() == {
        "code": "not_found",
        "message": f"case {missing} not found",
        "message_id": f"Data permohonan {missing} tidak ditemukan.",
        "field": None,
    }
