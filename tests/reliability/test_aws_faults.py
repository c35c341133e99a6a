"""Scenarios 3 and 6: AWS did it but the client saw an error; a throttled account.

Engine-level (no worker process needed): `engine.deploy` through the fault proxy,
the sandbox checked directly afterwards.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from provisioning import engine
from provisioning.errors import EngineError
from provisioning.events import EventStatus, ListSink
from provisioning.state import MemoryStateStore
from tests.reliability.conftest import (
    CREATE_ACTIONS,
    blueprint,
    engine_aws,
    lost_reply_on_first_call_of_each_create,
)
from tests.reliability.inventory import TYPE_TO_KIND, counts, duplicates, inventory, leftovers
from tests.support.faultproxy import FaultProxy, is_read

THROTTLE_TRIALS = 3


def assert_matches_state(found: dict[str, list[str]], store: MemoryStateStore) -> None:
    """Each kind AWS has, as many as the engine recorded: no twin, no orphan."""
    recorded = Counter(r.resource_type for r in store.load().values())
    have = counts(found)
    assert {kind: have[kind] for kind in TYPE_TO_KIND.values()} == {
        kind: recorded.get(t, 0) for t, kind in TYPE_TO_KIND.items()
    }


def deploy(proxy: FaultProxy, store: MemoryStateStore, **target: Any) -> tuple[Any, ListSink]:
    sink = ListSink()
    result = engine.deploy(blueprint(), store, sink, engine_aws(proxy, **target))
    return result, sink


def writes(proxy: FaultProxy) -> list[str]:
    return [c.action for c in proxy.calls() if not is_read(c.action)]


def test_a_lost_reply_on_every_kind_of_create_makes_no_twin(
    sandbox: str, proxy: FaultProxy
) -> None:
    # Given: the first call of every create action is done by AWS, but answered 500.
    proxy.set_profile(lost_reply_on_first_call_of_each_create())
    store = MemoryStateStore()

    result, sink = deploy(proxy, store)

    lost = {c.action for c in proxy.calls() if c.injected}
    assert lost == set(CREATE_ACTIONS) - {"sns:Subscribe"} | ({"sns:Subscribe"} & lost)
    assert result.status == "SUCCEEDED", result.error
    found = inventory(sandbox, "rely")
    assert duplicates(found) == {}
    assert_matches_state(found, store)
    assert not [e for e in sink.events if e.status is EventStatus.FAILED]
    # and the next deploy finds everything as it is: no write at all
    proxy.set_profile({})
    proxy.reset()
    again, _ = deploy(proxy, store)
    assert again.status == "SUCCEEDED" and writes(proxy) == []
    assert set(again.plan["summary"]) == {"NO_CHANGE"}


def test_a_quarter_of_all_replies_lost_still_converges_without_twins(
    sandbox: str, proxy: FaultProxy
) -> None:
    proxy.set_profile(
        {
            "seed": 11,
            "faults": [{"action": "*", "kind": "server_error", "rate": 0.25, "after": True}],
        }
    )
    store = MemoryStateStore()

    result, _ = deploy(proxy, store)

    assert result.status == "SUCCEEDED", result.error
    found = inventory(sandbox, "rely")
    assert duplicates(found) == {}
    assert_matches_state(found, store)


def test_deploys_succeed_at_30_percent_throttling_and_the_scheduler_backs_off(
    sandbox: str, proxy: FaultProxy, record_property: Any
) -> None:
    proxy.set_profile({"seed": 3, "faults": [{"action": "*", "kind": "throttle", "rate": 0.3}]})
    outcomes, seconds, lowered = [], [], 0
    for trial in range(THROTTLE_TRIALS):
        store = MemoryStateStore()
        started = time.monotonic()
        result, sink = deploy(proxy, store)
        seconds.append(time.monotonic() - started)
        outcomes.append(result.status)
        lowered += sum("concurrency lowered" in e.message for e in sink.events)
        # destroy with throttling too: nothing of the project may remain for the next trial
        gone = engine.destroy(store, ListSink(), engine_aws(proxy))
        assert gone.status == "SUCCEEDED", gone.error
        assert leftovers(inventory(sandbox, "rely")) == {}, f"trial {trial}"

    injected = sum(1 for c in proxy.calls() if c.injected == "throttle")
    record_property("throttle_trials", f"{outcomes.count('SUCCEEDED')}/{THROTTLE_TRIALS}")
    record_property("throttle_seconds", [round(s, 1) for s in seconds])
    print(f"30% throttling: {outcomes.count('SUCCEEDED')}/{THROTTLE_TRIALS} deploys succeeded, "
          f"{injected} throttles injected, deploy seconds {[round(s, 1) for s in seconds]}")  # fmt: skip
    assert outcomes == ["SUCCEEDED"] * THROTTLE_TRIALS
    assert lowered > 0  # the AIMD limit reacted, and said so in the events


@pytest.mark.parametrize("attempts", [4])
def test_total_throttling_fails_cleanly_in_bounded_time_and_the_next_deploy_resumes(
    sandbox: str, proxy: FaultProxy, attempts: int
) -> None:
    # Given: a deploy got half-way, then AWS throttles every call.
    store = MemoryStateStore()
    proxy.set_profile({"faults": [{"action": "lambda:*", "kind": "throttle", "rate": 1.0}]})
    first, _ = deploy(proxy, store, max_attempts=attempts)
    assert first.status == "FAILED" and "ThrottlingException" in first.error
    made = len(store.load())
    proxy.set_profile({"faults": [{"action": "*", "kind": "throttle", "rate": 1.0}]})

    started = time.monotonic()
    with pytest.raises(EngineError, match="ThrottlingException") as failed:
        deploy(proxy, store, max_attempts=attempts)
    took = time.monotonic() - started

    # botocore's backoff is at most 1+2+4 s over 4 attempts; reads run level by level
    assert took < 60, took
    assert "Rate exceeded" in str(failed.value)
    proxy.set_profile({})
    resumed, _ = deploy(proxy, store)
    assert resumed.status == "SUCCEEDED", resumed.error
    assert 0 < made < len(store.load())
    assert duplicates(inventory(sandbox, "rely")) == {}
