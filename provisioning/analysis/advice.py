"""Advice before a deploy: settings AWS accepts that will not work well, or will not work at all.

`advise(blueprint)` reads the blueprint only (no AWS call) and returns one `Advice` per
finding. A *warning* deploys but will probably disappoint (an agent that runs out of memory,
a route that gives up before the agent answers); a *blocking* finding names something AWS
refuses or that cannot exist (an inference profile of another geography), so the dashboard
will not deploy it. Each advice names the node and field to change and the value to change it
to. The numbers come from AWS's documented limits; each rule says which.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Literal

from provisioning.model import links, schema
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.strands import tools_catalogue as catalogue

Severity = Literal["warning", "blocking"]
WARNING: Severity = "warning"
BLOCKING: Severity = "blocking"
STAGE = "stage"


@dataclass(frozen=True)
class Advice:
    code: str
    """Stable across releases ("memory-low"): what scripts and tests match on."""
    severity: Severity
    node: str
    """The node key ("agent:support", "queue:jobs") or "stage"."""
    field: str
    message: str
    fix: str
    """What to change, with the suggested value."""

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# --- memory and timeout ------------------------------------------------------------------------
# Importing the SDK (boto3, botocore's service models, pydantic, OpenTelemetry, MCP) takes more
# than 128 MB, Lambda's minimum, before the first model call; and Lambda gives CPU in proportion
# to memory (one full vCPU at 1,769 MB), so a small function also cold-starts slowly. 512 MB
# holds the SDK, a conversation and the model's streamed answer with room to spare.
SDK_MEMORY_MB = 512
# Tools that load big libraries or hold large payloads: each wants more room.
HEAVY_TOOLS: dict[str, tuple[int, str]] = {
    "calculator": (256, "loads SymPy"),
    "generate_image": (512, "holds generated images in memory"),
    "use_aws": (256, "loads botocore's models of every service it calls"),
    "python_repl": (256, "runs arbitrary code in the function"),
    "workflow": (256, "runs several nested agents"),
    "use_llm": (128, "runs a nested agent"),
    "think": (128, "runs nested reasoning cycles"),
}
# One model turn of a large model takes seconds to tens of seconds; each tool the agent may
# call adds at least one more turn to the loop (the call, then the model reading the result).
MODEL_LOOP_S = 30
PER_TOOL_S = 15
LAMBDA_MAX_TIMEOUT_S = 900  # Lambda's 15-minute cap
# An HTTP API waits at most 30 s for its integration (a hard quota, unlike REST APIs'); then
# the caller gets an error while the agent keeps running, and billing.
HTTP_API_INTEGRATION_S = 30


def recommended_memory_mb(agent: Agent) -> int:
    return SDK_MEMORY_MB + sum(HEAVY_TOOLS[t][0] for t in agent.tools if t in HEAVY_TOOLS)


def recommended_timeout_s(agent: Agent) -> int:
    return min(MODEL_LOOP_S + PER_TOOL_S * len(agent.tools), LAMBDA_MAX_TIMEOUT_S)


def _memory(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    wanted = recommended_memory_mb(agent)
    if agent.memory_mb >= wanted:
        return
    heavy = [f"{t} {HEAVY_TOOLS[t][1]}" for t in agent.tools if t in HEAVY_TOOLS]
    why = f"; {', '.join(heavy)}" if heavy else ""
    yield Advice(
        "memory-low", WARNING, agent.key, "memory_mb",
        f"{agent.memory_mb} MB is too little for the Strands SDK and this agent's tools "
        f"(the SDK alone wants about {SDK_MEMORY_MB} MB{why}): expect slow cold starts or "
        "out-of-memory failures",
        f"set memory_mb to {wanted}",
    )  # fmt: skip


def _timeout(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    wanted = recommended_timeout_s(agent)
    if agent.key in _routed(bp):
        wanted = min(wanted, HTTP_API_INTEGRATION_S)  # the API stops waiting there anyway
    if agent.timeout_s >= wanted:
        return
    tools = f" and {len(agent.tools)} tools" if agent.tools else ""
    yield Advice(
        "timeout-low", WARNING, agent.key, "timeout_s",
        f"{agent.timeout_s} s is too short for a model call loop{tools}: one answer often "
        "takes several model turns, and Lambda stops the agent mid-answer",
        f"set timeout_s to {wanted}",
    )  # fmt: skip


# --- the model's geography ----------------------------------------------------------------------
# A cross-region inference profile is called from a source region of its own geography only:
# arn:aws:bedrock:<region>:<account>:inference-profile/eu.x does not exist in us-east-1.
# "global." profiles work from every commercial region.
GEOGRAPHIES: dict[str, Callable[[str], bool]] = {
    "us": lambda r: r.startswith("us-") and not r.startswith("us-gov-"),
    "us-gov": lambda r: r.startswith("us-gov-"),
    "eu": lambda r: r.startswith("eu-"),
    "apac": lambda r: r.startswith("ap-"),
    "jp": lambda r: r in ("ap-northeast-1", "ap-northeast-3"),
    "au": lambda r: r in ("ap-southeast-2", "ap-southeast-4"),
    "ca": lambda r: r.startswith("ca-"),
    "global": lambda r: not r.startswith(("us-gov-", "cn-")) and "-iso" not in r,
}


def geography_of(model_id: str) -> str | None:
    """ "eu" for "eu.anthropic.x"; None for a plain model id or an ARN."""
    prefix, dot, _rest = model_id.partition(".")
    return prefix if dot and prefix in GEOGRAPHIES else None


def _profile_region(model_id: str, region: str) -> str | None:
    """Why `model_id` cannot be invoked from `region`, or None."""
    geography = geography_of(model_id)
    if geography is None or GEOGRAPHIES[geography](region):
        return None
    return (
        f"the inference profile {model_id} belongs to the {geography!r} geography and does not "
        f"exist in {region}"
    )


def _model_region(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    region = agent.model_region or bp.region
    where = "model_region" if agent.model_region else "the stage's region"
    base = agent.model_id.partition(".")[2]
    fix = f"use an id whose prefix matches {region} (e.g. global.{base}), or set model_region"
    if agent.model_provider == "bedrock":
        problem = _profile_region(agent.model_id, region)
        if problem:
            yield Advice(
                "model-region-mismatch", BLOCKING, agent.key, "model_id",
                f"{problem} ({where}): every call of the agent would fail", fix,
            )  # fmt: skip
    for extra in agent.extra_models:
        problem = _profile_region(extra, region)
        if problem:
            yield Advice(
                "model-region-mismatch", BLOCKING, agent.key, "extra_models",
                f"{problem} ({where}): the grant would name an ARN that cannot exist",
                f"replace {extra} with global.{extra.partition('.')[2]} or an id of {region}'s "
                "geography",
            )  # fmt: skip


# --- routes ---------------------------------------------------------------------------------------
def _routes(bp: Blueprint) -> list[Link]:
    return [
        link
        for link in bp.links
        if (links.node_kind(link.source), links.node_kind(link.target)) == ("http_api", "agent")
    ]


def _routed(bp: Blueprint) -> set[str]:
    return {link.target for link in _routes(bp)}


def _route_timeout(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    apis = sorted({link.source for link in _routes(bp) if link.target == agent.key})
    if apis and agent.timeout_s > HTTP_API_INTEGRATION_S:
        yield Advice(
            "route-timeout", WARNING, agent.key, "timeout_s",
            f"{', '.join(apis)} waits at most {HTTP_API_INTEGRATION_S} s for an answer (an HTTP "
            f"API limit that cannot be raised); the agent may run {agent.timeout_s} s, so long "
            "answers reach the caller as an error while the agent keeps running",
            f"set timeout_s to {HTTP_API_INTEGRATION_S}, or put a queue between the API and "
            "the agent for long work",
        )  # fmt: skip


def _public_route(link: Link, agent: Agent, api: Component | None) -> Iterator[Advice]:
    # Only an API whose auth mode is "none" lets anyone call its routes (graph/api_auth.py).
    if api is None or api.settings.get("auth", AUTH_DEFAULT) != "none":
        return
    method = str(link.settings.get("method") or "POST")
    path = str(link.settings.get("path") or f"/{agent.name}")
    yield Advice(
        "route-public", WARNING, link.source, "auth",
        f"public route: anyone with the URL can call {method} {path} and spend model tokens "
        f"on {agent.name}",
        "set auth to iam, jwt or api_key, and set reserved_concurrency to cap what one caller "
        "can spend",
    )  # fmt: skip


AUTH_DEFAULT = schema.HttpApiSettings.model_fields["auth"].default


# --- queues -------------------------------------------------------------------------------------
SQS_DEFAULT_VISIBILITY_S = 30  # what SQS, and graph/components.py, use when none is set
# Lambda refuses an event source mapping whose queue hides a message for less than the
# function's timeout; AWS recommends six times the timeout plus the batching window, so a
# batch retried after throttling is not delivered twice.
VISIBILITY_FACTOR = 6


def _trigger(queue: Component, agent: Agent) -> Iterator[Advice]:
    visibility = int(queue.settings.get("visibility_timeout_s", SQS_DEFAULT_VISIBILITY_S))
    window = int(queue.settings.get("batching_window_s") or 0)
    wanted = min(VISIBILITY_FACTOR * agent.timeout_s + window, 43200)  # SQS's 12-hour cap
    if visibility < agent.timeout_s:
        yield Advice(
            "queue-visibility-below-timeout", BLOCKING, queue.key, "visibility_timeout_s",
            f"{visibility} s is less than the timeout of agent {agent.name} "
            f"({agent.timeout_s} s): AWS refuses to let this queue trigger it",
            f"set visibility_timeout_s to {wanted}",
        )  # fmt: skip
    elif visibility < wanted:
        yield Advice(
            "queue-visibility-short", WARNING, queue.key, "visibility_timeout_s",
            f"{visibility} s is less than AWS's recommended {VISIBILITY_FACTOR}x the timeout of "
            f"agent {agent.name} ({agent.timeout_s} s): a throttled batch may be processed twice",
            f"set visibility_timeout_s to {wanted}",
        )  # fmt: skip
    if queue.settings.get("dead_letter") is False:
        yield Advice(
            "queue-no-dead-letter", WARNING, queue.key, "dead_letter",
            f"a message {agent.name} keeps failing on is retried until it expires, each time "
            "paying for model calls",
            "turn dead_letter on",
        )  # fmt: skip


# --- the agent's own settings -------------------------------------------------------------------
def _concurrency(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    if agent.reserved_concurrency == 0:
        yield Advice(
            "concurrency-zero", WARNING, agent.key, "reserved_concurrency",
            "a reserved concurrency of 0 throttles every invocation: the agent can never run",
            "clear reserved_concurrency (the account's shared pool) or set it to 1 or more",
        )  # fmt: skip


def _broad(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    if agent.allow_broad_permissions and agent.extra_statements:
        actions = sorted({a for s in agent.extra_statements for a in s.get("actions", ())})
        yield Advice(
            "broad-permissions", WARNING, agent.key, "allow_broad_permissions",
            f"extra permissions with * or resources outside the project are allowed "
            f"({', '.join(actions[:5])}{', ...' if len(actions) > 5 else ''}): a prompt "
            "injection can use them all",
            "name exact actions and resources, then turn allow_broad_permissions off",
        )  # fmt: skip


def _on_failure(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    # Only asynchronous invocations (here: a topic's) reach an on-failure destination; routes
    # and queue triggers invoke synchronously and never use it.
    if not agent.on_failure:
        return
    async_callers = [
        link
        for link in bp.links
        if link.target == agent.key and links.node_kind(link.source) == "topic"
    ]
    if not async_callers:
        yield Advice(
            "on-failure-unused", WARNING, agent.key, "on_failure",
            f"{agent.on_failure} receives only failed asynchronous invocations, and nothing "
            f"invokes {agent.name} asynchronously (routes and queues call it synchronously)",
            "link a topic to the agent, or clear on_failure (a queue's dead-letter queue "
            "keeps its failed messages)",
        )  # fmt: skip


# --- the dependency layer -----------------------------------------------------------------------
# Lambda refuses a function whose code and layers unzip to more than 250 MB. Rough unzipped
# sizes of manylinux wheels (with their own dependencies), to warn before a long build fails.
LAYER_LIMIT_MB = 250
LAYER_MARGIN_MB = 50  # the function's own code, and packages this table does not know
SDK_MB = 90  # strands-agents with boto3 and botocore
TOOLS_MB = 70  # strands-agents-tools with SymPy and its other dependencies
PACKAGE_MB: dict[str, int] = {
    "torch": 800,
    "tensorflow": 1100,
    "tensorflow-cpu": 600,
    "jax": 200,
    "pyarrow": 130,
    "scipy": 110,
    "polars": 100,
    "opencv-python": 90,
    "opencv-python-headless": 90,
    "playwright": 120,
    "pandas": 70,
    "transformers": 60,
    "duckdb": 60,
    "scikit-learn": 50,
    "numpy": 40,
    "matplotlib": 40,
    "spacy": 40,
    "sympy": 60,
}
MANY_REQUIREMENTS = 25
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def package_name(requirement: str) -> str:
    """The normalised distribution name: "Scikit_Learn>=1.4" -> "scikit-learn"."""
    found = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", found.group(1)).lower() if found else ""


def estimated_layer_mb(agent: Agent) -> int:
    names = {package_name(r) for r in agent.requirements}
    tools = TOOLS_MB if catalogue.needs_tools_package(agent.tools) else 0
    return SDK_MB + tools + sum(PACKAGE_MB.get(name, 0) for name in names)


def _layer(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    estimate = estimated_layer_mb(agent)
    many = len(agent.requirements) >= MANY_REQUIREMENTS
    if estimate < LAYER_LIMIT_MB - LAYER_MARGIN_MB and not many:
        return
    heavy = sorted(
        ((PACKAGE_MB[n], n) for n in {package_name(r) for r in agent.requirements} if n in PACKAGE_MB),
        reverse=True,
    )  # fmt: skip
    largest = ", ".join(f"{name} (~{mb} MB)" for mb, name in heavy[:3])
    yield Advice(
        "layer-size-risk", WARNING, agent.key, "requirements",
        f"the SDK and {len(agent.requirements)} requirements unzip to about {estimate} MB; "
        f"Lambda refuses more than {LAYER_LIMIT_MB} MB of code and layers together",
        f"drop what the agent does not import{f', largest first: {largest}' if largest else ''}",
    )  # fmt: skip


# --- the stage ------------------------------------------------------------------------------------
def _sdk_missing(bp: Blueprint, agent: Agent) -> Iterator[Advice]:
    # With dependencies "none" nothing installs the SDK the generated handler imports.
    if bp.settings.get("dependencies") == "none" and not agent.code and not agent.layers:
        yield Advice(
            "sdk-missing", WARNING, agent.key, "layers",
            f"the stage installs no dependencies and {agent.name} has no layer of its own: "
            "its handler cannot import the Strands SDK",
            "add a layer version ARN holding strands-agents, or set the stage's "
            "dependencies to layer",
        )  # fmt: skip


def _network_egress(bp: Blueprint) -> Iterator[Advice]:
    # In a VPC without NAT, a function reaches only what an endpoint serves: Bedrock needs
    # bedrock-runtime, and other providers' APIs are on the internet, out of reach.
    network = bp.settings.get("network") or {}
    if not network.get("enabled") or network.get("nat", "single") != "none":
        return
    providers = {agent.model_provider for agent in bp.agents}
    if "bedrock" in providers and "bedrock-runtime" not in (network.get("endpoints") or ()):
        yield Advice(
            "vpc-no-model-route", WARNING, STAGE, "network.endpoints",
            "the agents run in a VPC without NAT and without a bedrock-runtime endpoint: "
            "their model calls cannot reach Bedrock and time out",
            "add bedrock-runtime to the network's endpoints, or set network.nat to single",
        )  # fmt: skip
    if providers - {"bedrock"}:
        yield Advice(
            "vpc-no-model-route", WARNING, STAGE, "network.nat",
            "an agent calls a model provider on the internet, and its VPC has no NAT",
            "set network.nat to single",
        )  # fmt: skip


AGENT_RULES: tuple[Callable[[Blueprint, Agent], Iterator[Advice]], ...] = (
    _memory,
    _timeout,
    _route_timeout,
    _model_region,
    _concurrency,
    _broad,
    _on_failure,
    _layer,
    _sdk_missing,
)


def advise(blueprint: Blueprint) -> list[Advice]:
    """Every finding, blocking first, then by node, in a stable order."""
    found: list[Advice] = list(_network_egress(blueprint))
    for agent in blueprint.agents:
        for rule in AGENT_RULES:
            found.extend(rule(blueprint, agent))
    agents = {agent.key: agent for agent in blueprint.agents}
    components = {component.key: component for component in blueprint.components}
    for link in _routes(blueprint):
        if link.target in agents:
            found.extend(_public_route(link, agents[link.target], components.get(link.source)))
    for link in blueprint.links:
        queue, target = components.get(link.source), agents.get(link.target)
        if queue is not None and queue.kind == "queue" and target is not None:
            found.extend(_trigger(queue, target))
    unique = list(dict.fromkeys(found))  # one route may be linked twice in a broken blueprint
    return sorted(unique, key=lambda a: (not a.blocking, a.node, a.code))


def blocking(advice: list[Advice]) -> list[Advice]:
    return [a for a in advice if a.blocking]
