"""Advice before deploy: each rule, as a user reading the plan would meet it."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning import engine
from provisioning.aws import AwsContext
from provisioning.errors import BlueprintError
from provisioning.model import examples
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.state import MemoryStateStore


def bp(*agents: Agent, components: tuple[Component, ...] = (), **kw: Any) -> Blueprint:
    return Blueprint("acme", "dev", agents=agents, components=components, **kw)


def found(blueprint: Blueprint, code: str) -> list[engine.Advice]:
    return [a for a in engine.advise(blueprint) if a.code == code]


def only(blueprint: Blueprint, code: str) -> engine.Advice:
    [advice] = found(blueprint, code)
    return advice


# --- memory and timeout -------------------------------------------------------------------
def test_128_mb_is_too_little_for_the_sdk_and_the_fix_names_a_memory() -> None:
    advice = only(bp(Agent("support", memory_mb=128)), "memory-low")

    assert (advice.severity, advice.node, advice.field) == ("warning", "agent:support", "memory_mb")
    assert "128 MB" in advice.message
    assert advice.fix == "set memory_mb to 512"


def test_heavy_tools_raise_the_recommended_memory() -> None:
    agent = Agent("math", memory_mb=512, tools=("calculator", "generate_image"))

    advice = only(bp(agent), "memory-low")

    assert advice.fix == "set memory_mb to 1280"  # 512 + 256 (SymPy) + 512 (images)
    assert "calculator loads SymPy" in advice.message


def test_enough_memory_gets_no_advice() -> None:
    assert found(bp(Agent("support", memory_mb=1024, tools=("calculator",))), "memory-low") == []


def test_a_timeout_too_short_for_a_model_loop_grows_with_the_tools() -> None:
    no_tools = only(bp(Agent("a", timeout_s=10)), "timeout-low")
    three_tools = only(
        bp(Agent("b", timeout_s=60, tools=("http_request", "current_time", "retrieve"))),
        "timeout-low",
    )

    assert no_tools.fix == "set timeout_s to 30"
    assert three_tools.fix == "set timeout_s to 75"
    assert found(bp(Agent("c", timeout_s=120)), "timeout-low") == []


def test_behind_a_route_the_timeout_advice_stops_at_the_apis_30_seconds() -> None:
    agent = Agent("chat", timeout_s=20, tools=("http_request", "current_time", "retrieve"))
    routed = bp(
        agent,
        components=(Component("http_api", "public"),),
        links=(Link("http_api:public", "agent:chat"),),
    )

    assert only(routed, "timeout-low").fix == "set timeout_s to 30"


# --- the model's geography ----------------------------------------------------------------------
def test_a_us_profile_in_an_eu_stage_is_blocking() -> None:
    agent = Agent("support", model_id="us.anthropic.claude-sonnet-4-6")

    advice = only(bp(agent, region="eu-west-1"), "model-region-mismatch")

    assert (advice.severity, advice.field) == ("blocking", "model_id")
    assert "does not exist in eu-west-1" in advice.message
    assert "global.anthropic.claude-sonnet-4-6" in advice.fix


def test_the_model_region_decides_not_the_stage() -> None:
    agent = Agent("support", model_id="eu.amazon.nova-pro-v1:0", model_region="eu-central-1")

    assert found(bp(agent, region="us-east-1"), "model-region-mismatch") == []


@pytest.mark.parametrize(
    ("model_id", "region"),
    [
        ("global.anthropic.claude-sonnet-4-6", "ap-south-1"),
        ("apac.amazon.nova-pro-v1:0", "ap-southeast-1"),
        ("jp.anthropic.claude-sonnet-4-6", "ap-northeast-1"),
        ("amazon.nova-pro-v1:0", "eu-west-3"),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x", "eu-west-1"),
    ],
)
def test_matching_or_plain_model_ids_are_fine(model_id: str, region: str) -> None:
    assert found(bp(Agent("a", model_id=model_id), region=region), "model-region-mismatch") == []


def test_each_extra_model_of_another_geography_is_blocking() -> None:
    agent = Agent("a", extra_models=("eu.amazon.nova-lite-v1:0", "us.amazon.nova-micro-v1:0"))

    [advice] = found(bp(agent, region="us-west-2"), "model-region-mismatch")

    assert (advice.severity, advice.field) == ("blocking", "extra_models")
    assert "eu.amazon.nova-lite-v1:0" in advice.message


def test_another_provider_has_no_geography_to_check() -> None:
    agent = Agent("a", model_provider="openai", model_id="us.gpt-4o")

    assert found(bp(agent, region="eu-west-1"), "model-region-mismatch") == []


# --- routes ---------------------------------------------------------------------------------------
def test_the_demo_is_warned_of_the_apis_30_seconds_but_its_routes_are_authenticated() -> None:
    advice = {a.code: a for a in engine.advise(examples.demo())}

    assert set(advice) == {"route-timeout"}
    assert advice["route-timeout"].fix.startswith("set timeout_s to 30")
    assert all(not a.blocking for a in advice.values())


def test_only_an_api_whose_auth_is_none_is_warned_of_its_public_route() -> None:
    def routed(auth: str) -> Blueprint:
        return bp(
            Agent("assistant", timeout_s=30),
            components=(Component("http_api", "public", {"auth": auth}),),
            links=(Link("http_api:public", "agent:assistant"),),
        )

    public = only(routed("none"), "route-public")

    assert (public.node, public.field, public.severity) == ("http_api:public", "auth", "warning")
    assert "public route" in public.message and "POST /assistant" in public.message
    assert public.fix.startswith("set auth to iam, jwt or api_key")
    for auth in ("iam", "jwt", "api_key"):
        assert found(routed(auth), "route-public") == []


def test_a_route_with_its_own_path_names_it() -> None:
    routed = bp(
        Agent("chat", timeout_s=30),
        components=(Component("http_api", "public", {"auth": "none"}),),
        links=(Link("http_api:public", "agent:chat", settings={"method": "GET", "path": "/c"}),),
    )

    assert "GET /c" in only(routed, "route-public").message
    assert found(routed, "route-timeout") == []


# --- queues -------------------------------------------------------------------------------------
def _queued(visibility: int, timeout: int = 60, **settings: Any) -> Blueprint:
    queue = Component("queue", "jobs", {"visibility_timeout_s": visibility, **settings})
    return bp(
        Agent("worker", timeout_s=timeout),
        components=(queue,),
        links=(Link("queue:jobs", "agent:worker"),),
    )


def test_a_visibility_below_the_timeout_is_blocking() -> None:
    advice = only(_queued(30, timeout=60), "queue-visibility-below-timeout")

    assert (advice.severity, advice.node, advice.field) == (
        "blocking",
        "queue:jobs",
        "visibility_timeout_s",
    )
    assert advice.fix == "set visibility_timeout_s to 360"


def test_a_visibility_below_six_times_the_timeout_is_a_warning_counting_the_window() -> None:
    advice = only(_queued(120, timeout=60, batching_window_s=20), "queue-visibility-short")

    assert advice.severity == "warning"
    assert advice.fix == "set visibility_timeout_s to 380"
    assert found(_queued(360, timeout=60), "queue-visibility-short") == []


def test_a_trigger_without_dead_letter_queue_is_warned() -> None:
    assert only(_queued(360, dead_letter=False), "queue-no-dead-letter").fix == (
        "turn dead_letter on"
    )


# --- the agent's own settings -------------------------------------------------------------------
def test_zero_reserved_concurrency_means_the_agent_never_runs() -> None:
    advice = only(bp(Agent("a", reserved_concurrency=0)), "concurrency-zero")

    assert "can never run" in advice.message
    assert found(bp(Agent("a", reserved_concurrency=5)), "concurrency-zero") == []


def test_broad_permissions_with_statements_are_warned() -> None:
    statement = {"actions": ["s3:*"], "resources": ["*"]}
    agent = Agent("a", allow_broad_permissions=True, extra_statements=(statement,))

    advice = only(bp(agent), "broad-permissions")

    assert "s3:*" in advice.message
    assert found(bp(Agent("a", allow_broad_permissions=True)), "broad-permissions") == []


def test_an_on_failure_destination_without_asynchronous_caller_is_warned() -> None:
    unused = bp(
        Agent("a", on_failure="queue:failed"),
        components=(Component("queue", "failed"), Component("topic", "events")),
    )
    used = bp(
        Agent("a", on_failure="queue:failed"),
        components=(Component("queue", "failed"), Component("topic", "events")),
        links=(Link("topic:events", "agent:a"),),
    )

    assert only(unused, "on-failure-unused").field == "on_failure"
    assert found(used, "on-failure-unused") == []


def test_heavy_requirements_risk_the_250_mb_limit() -> None:
    agent = Agent("a", requirements=("torch>=2", "pandas"))

    advice = only(bp(agent), "layer-size-risk")

    assert "250 MB" in advice.message
    assert "torch (~800 MB)" in advice.fix
    assert found(bp(Agent("a", requirements=("requests",))), "layer-size-risk") == []


def test_a_stage_without_dependencies_leaves_the_sdk_out() -> None:
    stage = bp(Agent("a"), settings={"dependencies": "none"})
    with_layer = bp(
        Agent("a", layers=("arn:aws:lambda:us-east-1:123456789012:layer:strands:1",)),
        settings={"dependencies": "none"},
    )

    assert only(stage, "sdk-missing").field == "layers"
    assert found(with_layer, "sdk-missing") == []


def test_a_vpc_without_nat_or_bedrock_endpoint_cannot_reach_the_model() -> None:
    network = {"enabled": True, "cidr": "10.0.0.0/16", "nat": "none", "endpoints": ["s3"]}

    advice = only(bp(Agent("a"), settings={"network": network}), "vpc-no-model-route")

    assert (advice.node, advice.field) == ("stage", "network.endpoints")
    reachable = {**network, "endpoints": ["bedrock-runtime"]}
    assert found(bp(Agent("a"), settings={"network": reachable}), "vpc-no-model-route") == []


# --- ordering and the engine ---------------------------------------------------------------
def test_blocking_advice_comes_first() -> None:
    agent = Agent("a", memory_mb=128, model_id="eu.amazon.nova-pro-v1:0")

    advice = engine.advise(bp(agent, region="us-east-1"))

    assert advice[0].code == "model-region-mismatch"
    assert [a.blocking for a in advice] == sorted((a.blocking for a in advice), reverse=True)


def test_the_engine_refuses_to_deploy_blocking_advice_before_any_aws_call() -> None:
    agent = Agent("a", model_id="us.anthropic.claude-sonnet-4-6")
    store = MemoryStateStore()

    with pytest.raises(BlueprintError, match="does not exist in eu-west-1"):
        engine.deploy(bp(agent, region="eu-west-1"), store, None, None)  # type: ignore[arg-type]

    assert store.load() == {}


def test_a_plan_carries_the_advice(aws: AwsContext) -> None:
    the_plan = engine.plan(examples.demo("acme"), MemoryStateStore(), aws)

    codes = {a["code"] for a in the_plan.as_dict()["advice"]}
    assert codes == {"route-timeout"}
