"""The strands-agents-tools tools an agent can be given, and what each needs on Lambda.

Each entry knows the IAM actions the tool's AWS calls make, the settings it reads from
the environment (a knowledge base id, an API key), and - for tools that cannot work in
a Lambda function - why. Checked against strands-agents-tools 0.8.10 (`strands_tools/*.py`).

Tool names with a dot ("team_tools.orders") are the team's own modules: they are not in
the catalogue, need nothing from it, and are imported by the handler as given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.model.spec import Join, Ref

TOOLS_PACKAGE = "strands-agents-tools==0.8.10"
CONSENT_ENV = {"BYPASS_TOOL_CONSENT": "true"}
"""Tools that ask "are you sure?" on stdin would wait forever on Lambda: nobody answers."""

_READ_ONLY_FS = "Lambda's file system is read-only outside /tmp and is wiped between containers"


@dataclass(frozen=True)
class ToolSetting:
    name: str
    """The key in the agent's tool settings: "knowledge_base_id"."""
    env: str
    """The environment variable the tool reads: "KNOWLEDGE_BASE_ID"."""
    label: str
    required: bool = True
    secret: bool = False
    """An API key: stored and delivered as a secret, never as a plain variable."""


@dataclass(frozen=True)
class ArnContext:
    """What a tool's resource ARNs are built from (placeholders until deploy)."""

    partition: Ref | str
    region: Ref | str
    account: Ref | str


ResourceBuilder = Callable[[Mapping[str, str], ArnContext], list[Any]]


def _everything(_settings: Mapping[str, str], _arn: ArnContext) -> list[Any]:
    return ["*"]


def _knowledge_base(setting: str) -> ResourceBuilder:
    def build(settings: Mapping[str, str], arn: ArnContext) -> list[Any]:
        kb = settings.get(setting) or "*"
        parts = ("arn:", arn.partition, ":bedrock:", arn.region, ":", arn.account)
        return [Join((*parts, f":knowledge-base/{kb}"))]

    return build


def _stability_models(_settings: Mapping[str, str], arn: ArnContext) -> list[Any]:
    return [Join(("arn:", arn.partition, ":bedrock:*::foundation-model/stability.*"))]


@dataclass(frozen=True)
class Tool:
    name: str
    summary: str
    actions: tuple[str, ...] = ()
    resources: ResourceBuilder = _everything
    settings: tuple[ToolSetting, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    lambda_problem: str = ""
    """Why the tool cannot run on Lambda; empty when it can."""
    actions_setting: str = ""
    """A setting holding more IAM actions the user grants (use_aws calls what it is told)."""

    @property
    def runs_on_lambda(self) -> bool:
        return not self.lambda_problem

    def statements(self, settings: Mapping[str, str], arn: ArnContext) -> list[dict[str, Any]]:
        actions = set(self.actions)
        if self.actions_setting:
            actions.update(split_actions(settings.get(self.actions_setting) or ""))
        if not actions:
            return []
        resources = self.resources(settings, arn)
        return [{"Effect": "Allow", "Action": sorted(actions), "Resource": resources}]

    def env(self, settings: Mapping[str, str]) -> dict[str, str]:
        """Plain environment variables; secret settings are delivered separately."""
        values = {
            s.env: settings[s.name]
            for s in self.settings
            if s.env and not s.secret and settings.get(s.name)
        }
        return {**self.environment, **values}


_KB_ID = ToolSetting("knowledge_base_id", "KNOWLEDGE_BASE_ID", "Knowledge base id")
_MEMORY_KB_ID = ToolSetting(
    "memory_knowledge_base_id", "STRANDS_KNOWLEDGE_BASE_ID", "Memory knowledge base id"
)

CATALOGUE: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("calculator", "Arithmetic, algebra and calculus with SymPy."),
        Tool("current_time", "The current date and time in any time zone."),
        Tool("sleep", "Waits a number of seconds (counts against the function's timeout)."),
        Tool("stop", "Ends the agent's event loop."),
        Tool("think", "Reasons in several cycles with the agent's own model."),
        Tool("use_llm", "Asks a nested agent on the agent's own model."),
        Tool("file_read", "Reads files that ship with the function (read-only)."),
        Tool(
            "http_request",
            "Calls HTTP APIs (GET, POST, ...) on the internet or in the VPC.",
            environment=CONSENT_ENV,
        ),
        Tool(
            "use_aws",
            "Calls AWS APIs through boto3; grant exactly the IAM actions it may use.",
            settings=(
                ToolSetting(
                    "use_aws_actions",
                    "",
                    "IAM actions use_aws may call (comma-separated, e.g. s3:ListAllMyBuckets)",
                ),
            ),
            environment=CONSENT_ENV,
            actions_setting="use_aws_actions",
        ),
        Tool(
            "retrieve",
            "Searches an Amazon Bedrock knowledge base.",
            actions=("bedrock:Retrieve",),
            resources=_knowledge_base("knowledge_base_id"),
            settings=(_KB_ID,),
        ),
        Tool(
            "memory",
            "Stores and retrieves documents in a Bedrock knowledge base.",
            actions=(
                "bedrock:Retrieve",
                "bedrock:ListDataSources",
                "bedrock:ListKnowledgeBaseDocuments",
                "bedrock:GetKnowledgeBaseDocuments",
                "bedrock:IngestKnowledgeBaseDocuments",
                "bedrock:DeleteKnowledgeBaseDocuments",
            ),
            resources=_knowledge_base("memory_knowledge_base_id"),
            settings=(_MEMORY_KB_ID,),
            environment=CONSENT_ENV,
        ),
        Tool(
            "tavily",
            "Web search through the Tavily API.",
            settings=(
                ToolSetting("tavily_api_key", "TAVILY_API_KEY", "Tavily API key", secret=True),
            ),
        ),
        Tool(
            "exa",
            "Web search through the Exa API.",
            settings=(ToolSetting("exa_api_key", "EXA_API_KEY", "Exa API key", secret=True),),
        ),
        Tool(
            "generate_image",
            "Generates images with Stability models on Bedrock.",
            actions=("bedrock:InvokeModel",),
            resources=_stability_models,
            lambda_problem=f"saves images under ./output; {_READ_ONLY_FS}",
        ),
        Tool("file_write", "Writes files.", lambda_problem=f"writes files; {_READ_ONLY_FS}"),
        Tool("editor", "Edits files.", lambda_problem=f"edits files in place; {_READ_ONLY_FS}"),
        Tool("journal", "Keeps a journal.", lambda_problem=f"writes ./journal; {_READ_ONLY_FS}"),
        Tool(
            "shell",
            "Runs shell commands.",
            lambda_problem="needs an interactive terminal, which Lambda does not have",
        ),
        Tool(
            "python_repl",
            "Runs Python code.",
            lambda_problem=f"needs a terminal and keeps its state in ./repl_state; {_READ_ONLY_FS}",
        ),
        Tool(
            "workflow",
            "Runs multi-step workflows.",
            lambda_problem=f"keeps workflows in ~/.strands and watches them; {_READ_ONLY_FS}",
        ),
        Tool("cron", "Edits the crontab.", lambda_problem="Lambda has no crontab"),
        Tool(
            "mcp_client",
            "Connects to MCP servers.",
            lambda_problem="starts MCP servers as local processes (uvx); Lambda cannot "
            "install or keep them running between invocations",
        ),
        Tool(
            "handoff_to_user",
            "Asks a person at the console.",
            lambda_problem="waits for someone to type at a console; nobody can on Lambda",
        ),
        Tool("speak", "Speaks text aloud.", lambda_problem="plays audio on the local machine"),
        Tool(
            "load_tool",
            "Loads tools from files at run time.",
            lambda_problem="loads code from files at run time; ship tools in the package",
        ),
    )
}


def is_custom(name: str) -> bool:
    """A dotted module path is the team's own tool, not a catalogue entry."""
    return "." in name


def tool_problems(
    tools: tuple[str, ...] | list[str], settings: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(field, message) for every chosen tool that cannot be deployed to Lambda as configured."""
    problems: list[tuple[str, str]] = []
    for name in tools:
        if is_custom(name):
            continue
        tool = CATALOGUE.get(name)
        if tool is None:
            problems.append(
                ("tools", f"{name!r} is not a strands-agents-tools tool; use a dotted module "
                 "path for your own tools")
            )  # fmt: skip
        elif tool.lambda_problem:
            problems.append(("tools", f"{name} cannot run on Lambda: {tool.lambda_problem}"))
        else:
            problems.extend(
                ("tool_settings", f"{name} needs {s.label.lower()} ({s.name})")
                for s in tool.settings
                if s.required and not (settings.get(s.name) or "").strip()
            )
    return problems


def split_actions(text: str) -> list[str]:
    return sorted({a.strip() for a in text.replace("\n", ",").split(",") if a.strip()})


def needs_tools_package(tools: tuple[str, ...] | list[str]) -> bool:
    return any(name in CATALOGUE for name in tools)


def secret_settings(tools: tuple[str, ...] | list[str]) -> list[ToolSetting]:
    return [s for name in tools if name in CATALOGUE for s in CATALOGUE[name].settings if s.secret]


def lambda_choices() -> list[tuple[str, str]]:
    """(name, label) of the tools that can run on Lambda, for the agent form."""
    return [(t.name, f"{t.name} - {t.summary}") for t in CATALOGUE.values() if t.runs_on_lambda]
