"""The dashboard's data, one module per domain; Django finds every model through this one."""

from dashboard.access.models import ApiToken, Membership
from dashboard.audit.models import AuditEntry
from dashboard.projects.models import Agent, CanvasNode, Component, Link, Project, Stage
from dashboard.runs.models import (
    DeployedResource,
    Deployment,
    DeploymentEvent,
    PendingOperation,
)

__all__ = [
    "Agent",
    "ApiToken",
    "AuditEntry",
    "CanvasNode",
    "Component",
    "DeployedResource",
    "Deployment",
    "DeploymentEvent",
    "Link",
    "Membership",
    "PendingOperation",
    "Project",
    "Stage",
]
