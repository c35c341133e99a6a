"""boto3 sessions and clients: region, endpoint, credentials, retries.

Nothing here runs at import time: moto (or the sandbox) must be in place
before the first client is made, so callers build an `AwsContext` when work starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

SANDBOX_ACCESS_KEY = "sandbox"
SANDBOX_SECRET_KEY = "sandbox-secret"  # throwaway: the sandbox accepts any key
TAG_PROJECT = "strands-deploy:project"
TAG_STAGE = "strands-deploy:stage"
TAG_LOGICAL_ID = "strands-deploy:logical-id"


@dataclass(frozen=True)
class Target:
    """Where a stage deploys: the sandbox (an endpoint URL) or real AWS."""

    region: str = "us-east-1"
    endpoint_url: str | None = None
    """Set for the sandbox; None means real AWS through boto3's credential chain."""
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = "strands-deploy"
    max_attempts: int = 10
    """botocore standard retry mode: enough for a throttled account."""

    @property
    def is_sandbox(self) -> bool:
        return self.endpoint_url is not None


def make_session(target: Target) -> boto3.Session:
    if target.is_sandbox:
        return boto3.Session(
            aws_access_key_id=SANDBOX_ACCESS_KEY,
            aws_secret_access_key=SANDBOX_SECRET_KEY,
            region_name=target.region,
        )
    base = boto3.Session(region_name=target.region)
    if not target.role_arn:
        return base
    assume: dict[str, Any] = {"RoleArn": target.role_arn, "RoleSessionName": target.session_name}
    if target.external_id:
        assume["ExternalId"] = target.external_id
    creds = base.client("sts").assume_role(**assume)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=target.region,
    )


@dataclass
class AwsContext:
    """Everything a provisioner needs to talk to AWS for one stage."""

    target: Target
    project: str
    stage: str
    session: boto3.Session | None = None
    max_pool_connections: int = 32
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _account_id: str | None = field(default=None, repr=False)

    @property
    def region(self) -> str:
        return self.target.region

    def client(self, service: str) -> Any:
        """A shared client per service (boto3 clients are thread-safe; sessions are not)."""
        with self._lock:
            if service not in self._clients:
                if self.session is None:
                    self.session = make_session(self.target)
                config = Config(
                    retries={"mode": "standard", "max_attempts": self.target.max_attempts},
                    max_pool_connections=self.max_pool_connections,
                    connect_timeout=5,
                    read_timeout=60,
                )
                self._clients[service] = self.session.client(
                    service,
                    region_name=self.target.region,
                    endpoint_url=self.target.endpoint_url,
                    config=config,
                )
            return self._clients[service]

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = str(self.client("sts").get_caller_identity()["Account"])
        return self._account_id

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def tags(self, logical_id: str) -> dict[str, str]:
        return {TAG_PROJECT: self.project, TAG_STAGE: self.stage, TAG_LOGICAL_ID: logical_id}

    def tag_list(self, logical_id: str) -> list[dict[str, str]]:
        """Tags in the `[{"Key": ..., "Value": ...}]` shape most services take."""
        return [{"Key": k, "Value": v} for k, v in self.tags(logical_id).items()]
