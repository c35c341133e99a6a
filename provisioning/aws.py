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

from provisioning.errors import THROTTLE_CODES, aws_errors

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
    """Retries (botocore standard mode; 11 calls in all): enough for a throttled account
    (at 30% throttling a call fails every time once in 560,000; each wait is at most 20 s)."""
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    """Static keys, only where a team insists; never in repr (and so never in a log line)."""

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
    base = boto3.Session(
        aws_access_key_id=target.access_key_id or None,
        aws_secret_access_key=target.secret_access_key or None,
        region_name=target.region,
    )
    if not target.role_arn:
        return base
    # Short-lived credentials (STS's default hour) named after the deployment, so
    # CloudTrail says which run did what.
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
    reveal: Callable[[str], str] | None = field(default=None, repr=False)
    """Opens a secret reference (a blueprint's sealed value) at the moment a provisioner
    hands it to AWS; the engine never holds secret values in specs, plans or state."""
    client_hooks: list[Callable[[str, Any], None]] = field(default_factory=list, repr=False)
    """Called with (service, client) for each client made: observers, test hooks."""
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _account_id: str | None = field(default=None, repr=False)
    _throttle_listeners: list[Callable[[str], None]] = field(default_factory=list, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def region(self) -> str:
        return self.target.region

    def client(self, service: str) -> Any:
        """A shared client per service (boto3 clients are thread-safe; sessions are not)."""
        return self._client(service, {"mode": "standard", "max_attempts": self.target.max_attempts})

    def client_once(self, service: str) -> Any:
        """A client that never retries: for creates AWS does not make idempotent
        (CreateRoute, CreateIntegration, ...), where botocore retrying a call whose
        reply was lost makes a twin. The caller looks up, adopts, then retries itself."""
        # botocore's `max_attempts` counts retries; `total_max_attempts` counts calls.
        return self._client(service, {"mode": "standard", "total_max_attempts": 1}, "#once")

    def _client(self, service: str, retries: dict[str, Any], suffix: str = "") -> Any:
        key = service + suffix
        with self._lock:
            if key not in self._clients:
                if self.session is None:
                    self.session = make_session(self.target)
                config = Config(
                    retries=retries,
                    max_pool_connections=self.max_pool_connections,
                    connect_timeout=5,
                    read_timeout=60,
                )
                made = self.session.client(
                    service,
                    region_name=self.target.region,
                    endpoint_url=self.target.endpoint_url,
                    config=config,
                )
                made.meta.events.register("needs-retry", self._saw_retry)
                for hook in self.client_hooks:
                    hook(service, made)
                self._clients[key] = made
            return self._clients[key]

    # --- what the orchestrator listens to ------------------------------------------------
    def on_throttle(self, listener: Callable[[str], None]) -> None:
        """`listener(action)` is called each time AWS answers a call "slow down"."""
        self._throttle_listeners.append(listener)

    def _saw_retry(self, response: Any = None, operation: Any = None, **_: Any) -> None:
        # Runs for every attempt's reply; returning None leaves the retry decision to botocore.
        if not response or not self._throttle_listeners:
            return
        http, parsed = response
        code = str((parsed or {}).get("Error", {}).get("Code", ""))
        if code in THROTTLE_CODES or getattr(http, "status_code", 0) == 429:
            action = getattr(operation, "name", "?")
            for listener in list(self._throttle_listeners):
                listener(action)

    def note(self, message: str) -> None:
        """Progress a provisioner reports while it waits ("waiting for Lambda ENIs to
        release subnet ..."); the orchestrator shows it as an INFO event of the resource
        this thread is working on. Ignored when nobody listens."""
        target = getattr(self._local, "note", None)
        if target is not None:
            target(message)

    def listen_for_notes(self, target: Callable[[str], None] | None) -> None:
        """Set (or clear, with None) where `note` goes for the calling thread."""
        self._local.note = target

    def open_secret(self, reference: str) -> str:
        if self.reveal is None:
            raise RuntimeError("this AwsContext cannot open secrets (no `reveal` was given)")
        return self.reveal(reference)

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            with aws_errors("asking STS which account", f"region {self.region}"):
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
