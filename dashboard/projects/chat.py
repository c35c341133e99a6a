"""Try the agent: send one prompt to the agent as deployed to a stage (the chat panel).

The answer comes from `provisioning.engine.ask_agent`: the deployed function on AWS, or
in the sandbox its package run locally with a stand-in model (and a note saying so) -
unless the operator switched local runs of uploaded code off (settings.LOCAL_AGENT_RUNS).
Each user may ask settings.CHAT_RATE_PER_MIN times a minute; each answer carries its
tokens and their estimated model cost when the handler reported them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from dashboard import rate_limits
from dashboard.access import credentials
from dashboard.access.models import Membership
from dashboard.access.roles import require_role
from dashboard.errors import ServiceError
from dashboard.projects.models import Agent, Stage
from dashboard.runs.models import DeployedResource
from provisioning import engine

User = AbstractBaseUser | AnonymousUser
MAX_PROMPT = 4000


class ChatRateLimited(ServiceError):
    """Too many prompts this minute; `retry_after` is how many seconds until the next window."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ChatAnswer:
    answer: engine.Answer
    cost_usd: float | None
    """The answer's model tokens at the price table's rate; None: no usage or no price."""


def agent_ask(
    *, agent: Agent, stage: Stage, user: User | None, prompt: str, session_id: str = ""
) -> ChatAnswer:
    """Deployers only: on AWS every prompt is a paid model call, so each user has a budget of
    prompts a minute."""
    require_role(project=agent.project, user=user, role=Membership.Role.DEPLOYER)
    prompt = prompt.strip()
    if not prompt:
        raise ServiceError("type a prompt first", field="prompt")
    if len(prompt) > MAX_PROMPT:
        raise ServiceError(f"a prompt is at most {MAX_PROMPT} characters", field="prompt")
    function = DeployedResource.objects.filter(
        stage=stage, logical_id=f"agent/{agent.name}/function"
    ).first()
    if function is None:
        raise ServiceError(f"{agent.name} is not deployed to {stage.name} yet: deploy it first")
    who = getattr(user, "username", "") or "cli"
    aws = credentials.stage_aws(
        stage, run=f"chat-{who}", project=agent.project.name, stage_name=stage.name
    )
    if aws.target.is_sandbox and not settings.LOCAL_AGENT_RUNS:
        raise ServiceError(engine.LOCAL_RUNS_OFF)
    _count_a_run(user)
    answer = engine.ask_agent(
        aws,
        function.properties,
        prompt,
        session_id=session_id.strip() or None,
        layer_keys=_layer_keys(stage, function.properties.get("layers") or []),
        allow_local=settings.LOCAL_AGENT_RUNS,
        hide=[str(settings.BASE_DIR), str(settings.VAR_DIR), str(settings.AGENT_CODE_ROOT)],
    )
    return ChatAnswer(answer, _cost(agent, answer))


def _cost(agent: Agent, answer: engine.Answer) -> float | None:
    if answer.usage is None:
        return None
    return engine.answer_cost(agent.model_id, answer.usage)


def _count_a_run(user: User | None) -> None:
    """One more run in the user's current minute (a fixed window in the shared cache)."""
    limit = int(getattr(settings, "CHAT_RATE_PER_MIN", 10))
    wait = rate_limits.wait_after_counting(
        f"chat:{getattr(user, 'pk', None) or 'anonymous'}", limit
    )
    if wait:
        raise ChatRateLimited(
            f"You sent {limit} prompts this minute, the most the chat allows "
            f"(STRANDS_CHAT_RATE_PER_MIN): send again in {wait} s.",
            retry_after=wait,
        )


def _layer_keys(stage: Stage, arns: list[str]) -> list[str]:
    rows = DeployedResource.objects.filter(stage=stage, type="lambda:layer-version")
    return [
        str(row.properties.get("key")) for row in rows if (row.outputs or {}).get("arn") in arns
    ]
