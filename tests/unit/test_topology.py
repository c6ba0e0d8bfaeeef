"""The one list of the system's parts (infra/topology.py) agrees with the code it names."""

from __future__ import annotations

import importlib
import inspect

import pytest
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy

from infra.nameko_support import ReadModelProvider, SignedRpcProxy
from infra.topology import EVENT_STORE_NAMES, READ_MODELS, SERVICES, ReadModelPart, Service, consumers_of, read_model


def service_class(service: Service) -> type:
    module = importlib.import_module(service.module)
    return next(
        cls
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__module__ == module.__name__ and getattr(cls, "name", None) == service.name
    )


def handled_stores(cls: type) -> set[str]:
    return {
        entrypoint.source_service
        for _name, function in inspect.getmembers(cls, inspect.isfunction)
        for entrypoint in getattr(function, "nameko_entrypoints", ())
        if isinstance(entrypoint, EventHandler)
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_a_service_consumes_exactly_the_stores_its_handlers_listen_to(service: Service) -> None:
    # A relay waits for the consumers the topology names: a handler it does not know of would miss events.
    assert handled_stores(service_class(service)) == set(service.consumes)


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_a_service_calls_exactly_the_services_its_proxies_name(service: Service) -> None:
    # The broker lets a part publish requests only to the services the topology says it calls.
    proxies = [value for _name, value in inspect.getmembers(service_class(service)) if isinstance(value, RpcProxy)]
    assert {proxy.target_service for proxy in proxies} == set(service.calls)
    assert all(isinstance(proxy, SignedRpcProxy) for proxy in proxies)  # every call's caller signed


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_every_service_has_the_same_shape(service: Service) -> None:
    dependencies = importlib.import_module(f"services.{service.name}.dependencies")
    providers = [
        value for _name, value in inspect.getmembers(service_class(service)) if isinstance(value, DependencyProvider)
    ]
    assert providers
    for provider in providers:
        if isinstance(provider, ReadModelProvider):
            # A service's read models are its own (in its database), wired from its dependencies module.
            assert provider.part.service == service.name
            assert type(provider).__module__ == dependencies.__name__


@pytest.mark.parametrize("part", READ_MODELS, ids=lambda part: part.name)
def test_every_read_model_names_a_projection_of_that_name(part: ReadModelPart) -> None:
    projection = part.new_projection()
    assert projection.name == part.name
    assert part.source in EVENT_STORE_NAMES
    assert part.service in {service.name for service in SERVICES}


def test_every_read_model_is_wired_into_its_service() -> None:
    wired = {
        value.part.name
        for service in SERVICES
        for _name, value in inspect.getmembers(service_class(service))
        if isinstance(value, ReadModelProvider)
    }
    assert wired == {part.name for part in READ_MODELS}


def test_a_relay_waits_for_every_consumer_of_its_store() -> None:
    # the directory; account mails; the organisations filings need
    assert set(consumers_of("registry")) == {"registry", "notifications", "submissions"}
    assert set(consumers_of("submissions")) == {"registry", "submissions", "documents", "notifications"}
    with pytest.raises(ValueError, match="known: registry, submissions"):
        consumers_of("letters")
    with pytest.raises(ValueError, match="unknown read model 'cases'"):
        read_model("cases")
