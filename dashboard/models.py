"""The dashboard's data, one module per domain; Django finds every model through this one."""

from dashboard.access.models import ApiToken, Membership
from dashboard.audit.models import AuditEntry
from dashboard.notifications.models import Attempt, Channel, Delivery
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
    "Attempt",
    "AuditEntry",
    "CanvasNode",
    "Channel",
    "Component",
    "Delivery",
    "DeployedResource",
    "Deployment",
    "DeploymentEvent",
    "Link",
    "Membership",
    "PendingOperation",
    "Project",
    "Stage",
]
