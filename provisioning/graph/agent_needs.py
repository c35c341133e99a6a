"""What one agent needs beyond its function: model access, tools, sessions, dependencies.

The graph asks `agent_needs` for an agent's IAM statements, environment variables,
layer requirements and problems, and `agent_recipe` for the code it packages. Nothing
here touches AWS; ARNs not known before deploy are `Ref`/`Join` placeholders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from provisioning.model.blueprint import Agent
from provisioning.model.naming import global_name
from provisioning.model.policy_documents import bedrock_statements, statement
from provisioning.model.spec import Join, Ref, ResourceSpec
from provisioning.strands import layers, packaging
from provisioning.strands import tools_catalogue as catalogue
from provisioning.strands.requirements import requirements_problems

SDK_PACKAGE = "strands-agents"
SDK_VERSION = "1.62.0"
HANDLER = "handler.handler"
SESSION_BUCKET_ENV = "STRANDS_DEPLOY_SESSION_BUCKET"
SESSION_PREFIX_ENV = "STRANDS_DEPLOY_SESSION_PREFIX"
SESSION_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
CODE_KINDS = ("zip", "directory")
_ENTRY_POINT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\.[A-Za-z_]\w*$")
# AWS region names: us-east-1, ap-southeast-2, cn-northwest-1, us-gov-west-1, us-isob-east-1,
# eu-isoe-west-1. Checked by shape, not against a list, so a region newer than botocore passes.
REGION_NAME = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
# Bedrock model ids ("anthropic.claude-3-5-sonnet-20240620-v1:0", "amazon.nova-pro-v1:0",
# "anthropic.claude-3-sonnet-20240229-v1:0:200k") and inference profile ids, which put a
# geography in front ("us.amazon.nova-pro-v1:0", "global.anthropic.claude-sonnet-4-6"). The id
# goes verbatim into IAM resource ARNs, so nothing beyond these characters gets through.
BEDROCK_MODEL_ID = re.compile(
    r"^(?:(?:us|eu|apac|global|us-gov|jp|au|ca)\.)?"
    r"[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}(?:[.:][a-z0-9-]{1,63}){0,3}$"
)
# A Bedrock ARN: an application inference profile, a provisioned, custom or imported model.
BEDROCK_MODEL_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]{1,20}:(?:\d{12})?:"
    r"(?:foundation-model|inference-profile|application-inference-profile|provisioned-model"
    r"|custom-model|custom-model-deployment|imported-model)/[A-Za-z0-9][A-Za-z0-9.:/-]{0,200}$"
)
# Other providers' names ("gpt-4o", "claude-sonnet-4-5", litellm's "openai/gpt-4o") reach only
# the handler's configuration, never a policy: any plain token of these characters.
OTHER_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
Problem = tuple[str, str]
LAMBDA_ENVIRONMENT_LIMIT = 4096
"""Bytes of a function's variables, measured as Lambda does: one compact JSON object."""


class Namer(Protocol):
    def __call__(self, *parts: str, kind: str, lowercase: bool = False) -> str: ...


@dataclass(frozen=True)
class Provider:
    """A model provider of the Strands SDK (strands.models.<module>)."""

    name: str
    label: str
    extra: str = ""
    """The SDK's pip extra that installs the provider's client library."""
    api_key_env: str = ""
    """The secret environment variable the handler passes to the client as its API key."""


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("bedrock", "Amazon Bedrock"),
        Provider("anthropic", "Anthropic API", "anthropic", "ANTHROPIC_API_KEY"),
        Provider("openai", "OpenAI API", "openai", "OPENAI_API_KEY"),
        Provider("litellm", "LiteLLM (any provider it routes to)", "litellm", "LITELLM_API_KEY"),
    )
}


@dataclass
class AgentNeeds:
    statements: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)
    """pip requirements of the dependency layer (sorted, the SDK first when included)."""
    problems: list[Problem] = field(default_factory=list)


def sdk_requirement(provider: str) -> str:
    extra = PROVIDERS[provider].extra if provider in PROVIDERS else ""
    return f"{SDK_PACKAGE}{f'[{extra}]' if extra else ''}=={SDK_VERSION}"


def session_prefix(agent: Agent) -> str:
    return f"sessions/{agent.name}/"


def session_statements(bucket_arn: Ref | str, prefix: str) -> list[dict[str, Any]]:
    """Object actions under the agent's prefix, and ListBucket limited to that prefix:
    without ListBucket S3 answers AccessDenied instead of "no such key" for a session
    that does not exist yet, and the agent fails on its first message."""
    objects = statement(SESSION_OBJECT_ACTIONS, [Join((bucket_arn, f"/{prefix}*"))])
    listing = statement(["s3:ListBucket"], [bucket_arn])
    listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    return [objects, listing]


def agent_needs(
    agent: Agent,
    *,
    arn: catalogue.ArnContext,
    session_bucket: str | None,
    dependencies: str = "layer",
) -> AgentNeeds:
    """`session_bucket` is the logical id of the bucket that stores its conversations."""
    needs = AgentNeeds(problems=agent_problems(agent))
    region = agent.model_region or arn.region
    for model_id in bedrock_models(agent):
        needs.statements += bedrock_statements(
            model_id, region=region, account=arn.account, partition=arn.partition
        )
    for name in agent.tools:
        tool = catalogue.CATALOGUE.get(name)
        if tool is not None and tool.runs_on_lambda:
            needs.statements += tool.statements(agent.tool_settings, arn)
            needs.environment.update(tool.env(agent.tool_settings))
    if session_bucket:
        prefix = session_prefix(agent)
        needs.statements += session_statements(Ref(session_bucket, "arn"), prefix)
        needs.environment[SESSION_BUCKET_ENV] = Ref(session_bucket, "name")
        needs.environment[SESSION_PREFIX_ENV] = prefix
    needs.requirements = layer_requirements(agent, dependencies=dependencies)
    return needs


def bedrock_models(agent: Agent) -> list[str]:
    """The Bedrock models the role may invoke: the agent's own (when Bedrock is its provider)
    and each additional model that passes the model check (a refused one is a problem)."""
    main = [agent.model_id] if agent.model_provider == "bedrock" and agent.model_id else []
    extra = [m for m in agent.extra_models if not extra_model_problems(m)]
    return list(dict.fromkeys(main + extra))


def extra_model_problems(model_id: object) -> list[Problem]:
    """The main model's check, for one of `extra_models` (always Bedrock: the SDK reaches
    them through the role, whatever the agent's own provider)."""
    if not model_id:
        return [("extra_models", "an additional model id is empty")]
    found = model_problems(provider="bedrock", model_id=model_id, model_region="")
    return [("extra_models", message) for _field, message in found]


def layer_requirements(agent: Agent, *, dependencies: str = "layer") -> list[str]:
    """What the dependency layer installs; with the official Strands layer, not the SDK."""
    wanted: list[str] = []
    if not agent.code and dependencies == "layer":
        wanted.append(sdk_requirement(agent.model_provider))
    elif not agent.code and agent.model_provider != "bedrock":
        wanted.append(sdk_requirement(agent.model_provider))  # the official layer has no extras
    if not agent.code and catalogue.needs_tools_package(agent.tools):
        wanted.append(catalogue.TOOLS_PACKAGE)
    wanted += [r.strip() for r in agent.requirements if r.strip()]
    return sorted(set(wanted))


def model_problems(*, provider: object, model_id: object, model_region: object) -> list[Problem]:
    """What is wrong with an agent's model id and model region, as (field, message).

    An empty model id is left to the canvas's "no model chosen"; an empty region means the
    stage's region."""
    problems: list[Problem] = []
    if not isinstance(model_region, str) or (model_region and not REGION_NAME.match(model_region)):
        problems.append(
            ("model_region", f"{_shown(model_region)} is not an AWS region name like us-east-1")
        )
    if not isinstance(model_id, str):
        return [*problems, ("model_id", "the model id must be text")]
    if not model_id:
        return problems
    if provider == "bedrock":
        if not (BEDROCK_MODEL_ID.match(model_id) or BEDROCK_MODEL_ARN.match(model_id)):
            problems.append(
                (
                    "model_id",
                    f"{_shown(model_id)} is not a Bedrock model id like "
                    "anthropic.claude-3-5-sonnet-20240620-v1:0, an inference profile id like "
                    "us.amazon.nova-pro-v1:0, or a Bedrock model ARN",
                )
            )
    elif not OTHER_MODEL_ID.match(model_id):
        problems.append(
            (
                "model_id",
                f"{_shown(model_id)} is not a model name: letters, digits and . _ : / @ + - "
                "only, up to 200",
            )
        )
    return problems


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def environment_size(variables: Mapping[str, str]) -> int:
    """The size Lambda compares with its 4 KB limit: the variables as compact JSON
    ({"KEY":"value",...}, its refusal quotes that string), so quotes and commas count."""
    return len(json.dumps(dict(variables), separators=(",", ":")).encode())


def environment_problems(agent: Agent, variables: Mapping[str, str]) -> list[Problem]:
    """`variables`: everything the function will get, the engine's own variables included."""
    size = environment_size(variables)
    if size <= LAMBDA_ENVIRONMENT_LIMIT:
        return []
    return [
        (
            "environment",
            f"the environment of agent {agent.name} takes {size} bytes as Lambda counts them "
            f"(its variables with the link and secret variables the deploy adds); Lambda "
            f"allows {LAMBDA_ENVIRONMENT_LIMIT}: shorten values or keep large ones in a secret",
        )
    ]


def agent_problems(agent: Agent) -> list[Problem]:
    problems = model_problems(
        provider=agent.model_provider, model_id=agent.model_id, model_region=agent.model_region
    )
    problems += [p for model_id in agent.extra_models for p in extra_model_problems(model_id)]
    if agent.model_provider not in PROVIDERS:
        problems.append(("model_provider", f"must be one of: {', '.join(PROVIDERS)}"))
    else:
        key_env = PROVIDERS[agent.model_provider].api_key_env
        if key_env and key_env not in agent.secrets:
            problems.append(("api_key", f"{agent.model_provider} needs an API key ({key_env})"))
    if agent.max_tokens is not None and not 1 <= agent.max_tokens <= 200_000:
        problems.append(("max_tokens", "must be from 1 to 200000"))
    if agent.temperature is not None and not 0 <= agent.temperature <= 2:
        problems.append(("temperature", "must be from 0 to 2"))
    if not agent.code:
        problems += catalogue.tool_problems(list(agent.tools), agent.tool_settings)
        problems += [
            ("tool_settings", f"{s.label} ({s.env}) is a secret: store it as a secret variable")
            for s in catalogue.secret_settings(list(agent.tools))
            if s.env not in agent.secrets
        ]
    problems += _code_problems(agent.code)
    wanted = [r for r in agent.requirements if r.strip()]
    problems += [("requirements", problem) for problem in requirements_problems(wanted)]
    return problems


def _code_problems(code: Mapping[str, str]) -> list[Problem]:
    if not code:
        return []
    if code.get("kind") not in CODE_KINDS:
        return [("code", f"custom code is one of: {', '.join(CODE_KINDS)}")]
    problems: list[Problem] = []
    if not code.get("path"):
        problems.append(("code", f"custom code ({code['kind']}) needs a path"))
    if not _ENTRY_POINT.match(code.get("handler") or ""):
        problems.append(("code", "the handler entry point looks like module.function"))
    return problems


def agent_recipe(
    agent: Agent, *, region: str, project: str = "", stage: str = ""
) -> dict[str, Any]:
    """The packaging recipe: the custom code as given, or the generated handler's config
    (with the project and stage its metrics are reported under, where given)."""
    if agent.code:
        recipe: dict[str, Any] = {"kind": agent.code["kind"], "path": agent.code["path"]}
        if agent.code.get("sha256"):
            recipe["sha256"] = agent.code["sha256"]  # an uploaded zip, addressed by content
        return recipe
    config: dict[str, Any] = {
        "name": agent.name,
        "model_id": agent.model_id,
        "region": agent.model_region or region,
        "system_prompt": agent.system_prompt,
        "tools": list(agent.tools),
    }
    if agent.model_provider != "bedrock":
        config["provider"] = agent.model_provider
        config["api_key_env"] = PROVIDERS[agent.model_provider].api_key_env
    if agent.max_tokens is not None:
        config["max_tokens"] = agent.max_tokens
    if agent.temperature is not None:
        config["temperature"] = agent.temperature
    if project:
        config["project"] = project
    if stage:
        config["stage"] = stage
    return {"kind": "generated", "agent": config}


def handler_entry(agent: Agent) -> str:
    return (agent.code.get("handler") or HANDLER) if agent.code else HANDLER


# --- dependencies ------------------------------------------------------------------------------
ARTIFACTS = "stage/artifacts"
"""The stage's bucket for zips over Lambda's 50 MB direct-upload limit."""


def code_requirements(agent: Agent, recipe: Mapping[str, Any]) -> list[str]:
    """The requirements file shipped with the agent's custom code; a line pip must not see
    raises RequirementRefused."""
    try:
        return packaging.requirements_of(
            recipe, agent.code.get("requirements") or "requirements.txt"
        )
    except packaging.PackagingError:
        return []  # reported once, where the function is packaged


def layer_spec(
    agent: Agent, requirements: list[str], namer: Namer, artifacts_bucket: Ref
) -> ResourceSpec:
    """The dependency layer for these requirements on the agent's platform: agents with the
    same requirements, runtime and architecture share it (same key, same logical id)."""
    python = agent.runtime.removeprefix("python")
    platform = layers.PLATFORMS.get(agent.architecture, agent.architecture)
    key = layers.layer_key(requirements, platform, python)
    return ResourceSpec(
        f"layer/{key[:12]}",
        "lambda:layer-version",
        {
            "name": namer("deps", key[:12], kind="lambda"),
            "key": key,
            "requirements": requirements,
            "architecture": agent.architecture,
            "python_version": python,
            "artifacts_bucket": artifacts_bucket,
        },
    )


def artifacts_bucket_spec(namer: Namer) -> ResourceSpec:
    return ResourceSpec(
        ARTIFACTS,
        "s3:bucket",
        {
            "name": global_name(namer("artifacts", kind="s3", lowercase=True)),
            "versioning": False,
            "encryption": None,
            "block_public_access": True,
        },
    )
