"""The one door into the engine: plan, deploy and destroy a blueprint.

The dashboard calls only these functions; each wires graph -> optimizer ->
planner -> orchestrator with the store, sink and AWS context it is handed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provisioning.aws import AwsContext
from provisioning.blueprint import Blueprint
from provisioning.events import ProgressSink
from provisioning.state import StateStore


@dataclass(frozen=True)
class EngineSettings:
    max_workers: int = 16
    """Concurrent AWS calls: control-plane APIs throttle, so real accounts want tens, not hundreds."""


@dataclass(frozen=True)
class RunResult:
    status: str
    """"SUCCEEDED", "FAILED" or "CANCELLED"."""
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    plan: dict[str, Any] = field(default_factory=dict)


CancelCheck = Callable[[], bool]
