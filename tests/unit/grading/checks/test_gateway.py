"""The gateway checks' rules on fake namespaces: defaults the API fills in, swapped weights,
attachments by listener, and the status a controller writes. The live both-ways tests are
tests/integration/test_checks_gateway.py."""

from __future__ import annotations

import copy

import pytest

from checker.grading.checks import gateway
from checker.grading.model import Failure

from ..fakes import FakeState

ROUTE = {"metadata": {"name": "api"}, "spec": {
    "parentRefs": [{"name": "web", "sectionName": "https"}], "hostnames": ["api.example.com"],
    "rules": [{"backendRefs": [{"name": "api-server", "port": 80, "weight": 90},
                               {"name": "api-server-canary", "port": 80, "weight": 10}]}]}}


def route(**changes) -> dict:
    item = copy.deepcopy(ROUTE)
    item["spec"].update(changes)
    return item


def test_a_rule_without_matches_matches_every_path():
    gateway.route(FakeState(httproute=[route()]))


def test_swapped_weights_are_named_as_such():
    swapped = route(rules=[{"backendRefs": [
        {"name": "api-server", "port": 80, "weight": 10},
        {"name": "api-server-canary", "port": 80, "weight": 90}]}])
    with pytest.raises(Failure, match="swapped, the canary would get most of the requests"):
        gateway.route(FakeState(httproute=[swapped]))


def test_an_unset_weight_is_one():
    assert gateway.backend_weights(route(rules=[{"backendRefs": [{"name": "a", "port": 80}]}])) \
        == [("a", 80, 1)]


def test_a_parent_ref_to_a_gateway_in_another_namespace_is_not_ours():
    elsewhere = route(parentRefs=[{"name": "web", "namespace": "infra", "sectionName": "https"}])
    with pytest.raises(Failure, match="its parentRef to web points to namespace 'infra'"):
        gateway.route(FakeState(httproute=[elsewhere]))


def test_the_status_names_the_reason_a_controller_gave():
    refused = route()
    refused["status"] = {"parents": [{"parentRef": {"name": "web"}, "conditions": [
        {"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners",
         "message": "no listener allows it"}]}]}
    redirect = copy.deepcopy(refused)
    redirect["metadata"]["name"] = "api-redirect"
    redirect["status"]["parents"][0]["conditions"] = [
        {"type": "Accepted", "status": "True"}, {"type": "ResolvedRefs", "status": "True"}]
    with pytest.raises(Failure) as failed:
        gateway.status(FakeState(httproute=[refused, redirect]))
    assert failed.value.message == (
        "HTTPRoute api, parent web: Accepted is False (NotAllowedByListeners: no listener "
        "allows it); ResolvedRefs not reported")
