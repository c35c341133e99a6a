"""Scenario 7: a new IAM role that Lambda cannot assume yet, or ever.

The fault proxy emulates IAM propagation: a CreateFunction is refused ("The role
defined for the function cannot be assumed by Lambda.") for N seconds after its role's
CreateRole went through. The deploy must wait, but no longer than needed; a role that
never becomes assumable must fail the run in bounded time, naming the function.
"""

from __future__ import annotations

import time

import pytest

from provisioning import engine
from provisioning.events import ListSink
from provisioning.provisioners import lambda_function
from provisioning.state import MemoryStateStore
from tests.reliability.conftest import blueprint, engine_aws
from tests.reliability.inventory import duplicates, inventory
from tests.support.faultproxy import FaultProxy

PROPAGATION_S = 10.0
SLACK_S = 4.0
"""The retry polls at most every 2 s, plus the call itself and Lambda's Active wait."""
BROKEN_TIMEOUT_S = 6.0
"""The scenario's stand-in for the 60 s the product waits for a role."""


def test_a_role_not_assumable_for_10_s_delays_its_functions_no_longer_than_needed(
    sandbox: str, proxy: FaultProxy
) -> None:
    proxy.set_profile({"iam_propagation": {"seconds": PROPAGATION_S}})
    store = MemoryStateStore()
    sink = ListSink()

    started = time.monotonic()
    result = engine.deploy(blueprint(), store, sink, engine_aws(proxy))
    took = time.monotonic() - started

    assert result.status == "SUCCEEDED", result.error
    calls = proxy.calls()
    roles = {c.subject: c.ended for c in calls if c.action == "iam:CreateRole" and c.status < 300}
    made = {
        c.subject: c.ended for c in calls if c.action == "lambda:CreateFunction" and c.status < 300
    }
    refused = [c for c in calls if c.injected == "iam_propagation"]
    assert len(roles) == 2 and set(made) == set(roles)  # one role per agent, each used once
    waits = {role: made[role] - roles[role] for role in roles}
    assert all(PROPAGATION_S <= w < PROPAGATION_S + SLACK_S for w in waits.values()), waits
    assert refused and all(c.status == 400 for c in refused)
    notes = [e.message for e in sink.events if "not assumable by Lambda yet" in e.message]
    assert notes  # the user saw why it waits
    assert duplicates(inventory(sandbox, "rely")) == {}
    print(f"IAM propagation {PROPAGATION_S:.0f} s: role->function "
          f"{ {r[-12:]: round(w, 1) for r, w in waits.items()} } s, "
          f"{len(refused)} refusals, deploy {took:.1f} s")  # fmt: skip


def test_a_role_never_assumable_fails_in_bounded_time_naming_the_function(
    sandbox: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambda_function, "IAM_PROPAGATION_TIMEOUT_S", BROKEN_TIMEOUT_S)
    proxy.set_profile({"iam_propagation": {"seconds": None}})
    store = MemoryStateStore()

    started = time.monotonic()
    result = engine.deploy(blueprint(), store, ListSink(), engine_aws(proxy))
    took = time.monotonic() - started

    assert result.status == "FAILED"
    assert "cannot be assumed by Lambda" in result.error
    assert "creating Lambda function" in result.error and "rely-dev-" in result.error
    assert BROKEN_TIMEOUT_S <= took < BROKEN_TIMEOUT_S + 20, took
    assert not any(r.resource_type == "lambda:function" for r in store.load().values())
    # and once the role works, the next deploy finishes the job
    proxy.set_profile({})
    with_role = engine.deploy(blueprint(), store, ListSink(), engine_aws(proxy))
    assert with_role.status == "SUCCEEDED", with_role.error
    print(f"IAM role never assumable: FAILED after {took:.1f} s ({result.error[:120]})")


def test_the_proxy_refuses_only_functions_of_a_fresh_role(proxy: FaultProxy) -> None:
    # a CreateFunction whose role the proxy never saw made is never refused
    proxy.set_profile({"iam_propagation": {"seconds": 60}})
    state = proxy._state  # the rule's own bookkeeping
    assert not state.role_not_assumable("unknown-role")
    state.role_created("fresh")
    assert state.role_not_assumable("fresh")
