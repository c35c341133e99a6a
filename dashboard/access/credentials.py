"""Who a stage deploys as: the sandbox, the worker's boto3 credential chain, an assumed
role (ARN + external ID, short-lived STS credentials whose session names the run), and
static keys only where a team insists (sealed at rest, opened here, never logged).

`check_access` answers the stage page's "Check access" button with STS
GetCallerIdentity, made exactly as a deploy would make it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from dashboard.access import secrets
from dashboard.projects.models import Stage
from provisioning.aws import AwsContext, Target, make_session

_SESSION_UNSAFE = re.compile(r"[^\w+=,.@-]")
# A button press: answer within seconds, not after botocore's patient retries.
_QUICK = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})


def session_name(*, project: str, stage: str, run: str) -> str:
    """An STS role session name (2-64 of [\\w+=,.@-]) that says which run it is."""
    return _SESSION_UNSAFE.sub("-", f"strands-deploy-{project}-{stage}-{run}")[:64]


def stage_target(stage: Stage, *, run: str) -> Target:
    sandboxed = stage.target == Stage.Target.SANDBOX
    static = not sandboxed and bool(stage.access_key_id_sealed)
    return Target(
        region=stage.region,
        endpoint_url=settings.SANDBOX_ENDPOINT_URL if sandboxed else None,
        role_arn=(stage.role_arn or None) if not sandboxed else None,
        external_id=(stage.external_id or None) if not sandboxed else None,
        session_name=session_name(project=stage.project.name, stage=stage.name, run=run),
        access_key_id=secrets.open_(stage.access_key_id_sealed) if static else None,
        secret_access_key=secrets.open_(stage.secret_access_key_sealed) if static else None,
    )


def stage_aws(stage: Stage, *, run: str, project: str, stage_name: str) -> AwsContext:
    return AwsContext(
        target=stage_target(stage, run=run),
        project=project,
        stage=stage_name,
        max_pool_connections=settings.ENGINE_MAX_WORKERS + 8,
        reveal=secrets.open_,
    )


@dataclass(frozen=True)
class Identity:
    ok: bool
    account: str = ""
    arn: str = ""
    user_id: str = ""
    how: str = ""
    error: str = ""


def _how(stage: Stage) -> str:
    if stage.target == Stage.Target.SANDBOX:
        return f"the sandbox at {settings.SANDBOX_ENDPOINT_URL}"
    via = "static keys" if stage.access_key_id_sealed else "the worker's AWS credential chain"
    return f"{via}, assuming {stage.role_arn}" if stage.role_arn else via


def check_access(stage: Stage, *, who: str) -> Identity:
    """STS GetCallerIdentity as the stage's deploys would call it (role assumed, if any)."""
    how = _how(stage)
    try:
        target = stage_target(stage, run=f"check-{who}")
        sts = make_session(target).client(
            "sts", region_name=target.region, endpoint_url=target.endpoint_url, config=_QUICK
        )
        reply = sts.get_caller_identity()
    except (ClientError, BotoCoreError, secrets.SecretError) as exc:
        return Identity(ok=False, how=how, error=secrets.redact(_short(exc)))
    return Identity(
        ok=True,
        account=str(reply.get("Account", "")),
        arn=str(reply.get("Arn", "")),
        user_id=str(reply.get("UserId", "")),
        how=how,
    )


def _short(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
    return str(exc) or type(exc).__name__
