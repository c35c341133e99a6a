"""One schema per node kind: every setting a user can give, written once.

Each field carries its type, default, bounds or allowed values and help text, plus what the
dashboard needs to lay it out (`group`: "basic" or "advanced"; `label`), whether a stage may
override it (`stage`) and whether it is secret (`secret`). Validation, the dashboard's forms
and side panel, the blueprint and the project file all read these models; adding a setting is
one entry here plus the engine code that uses it.

The models are pydantic v2 so each one also gives a JSON Schema (`json_schema`).
"""

from __future__ import annotations

from provisioning.model.schema.agents import (
    AgentSettings,
    EgressRule,
    IamStatement,
    Port,
)
from provisioning.model.schema.base import (
    KEY_TYPE_HELP,
    RESERVED_ENV,
    RULE_DESCRIPTION,
    AttributeName,
    Cidr,
    EnvName,
    FilterPolicy,
    Group,
    KeyType,
    KmsKey,
    Settings,
    bounded,
    check_issuer,
    check_origins,
    check_route_path,
    env_name_problem,
    setting,
)
from provisioning.model.schema.components import (
    COMPONENTS,
    ApiKeyLabel,
    BucketSettings,
    HttpApiSettings,
    HttpMethod,
    QueueSettings,
    SecondaryIndex,
    TableSettings,
    TopicSettings,
)
from provisioning.model.schema.links import (
    LINKS,
    AgentSubscriptionSettings,
    BucketLinkSettings,
    NoLinkSettings,
    PublishLinkSettings,
    QueueSubscriptionSettings,
    RouteLinkSettings,
    RouteMethod,
    SendLinkSettings,
    TableLinkSettings,
    TriggerLinkSettings,
)
from provisioning.model.schema.reading import (
    FieldSpec,
    SettingsError,
    clean,
    component_model,
    fields,
    json_schema,
    link_model,
    problems_of,
    secret_names,
)
from provisioning.model.schema.stages import (
    LOG_RETENTION_DAYS,
    NetworkSettings,
    StageSettings,
)

__all__ = [
    "COMPONENTS",
    "KEY_TYPE_HELP",
    "LINKS",
    "LOG_RETENTION_DAYS",
    "RESERVED_ENV",
    "RULE_DESCRIPTION",
    "AgentSettings",
    "AgentSubscriptionSettings",
    "ApiKeyLabel",
    "AttributeName",
    "BucketLinkSettings",
    "BucketSettings",
    "Cidr",
    "EgressRule",
    "EnvName",
    "FieldSpec",
    "FilterPolicy",
    "Group",
    "HttpApiSettings",
    "HttpMethod",
    "IamStatement",
    "KeyType",
    "KmsKey",
    "NetworkSettings",
    "NoLinkSettings",
    "Port",
    "PublishLinkSettings",
    "QueueSettings",
    "QueueSubscriptionSettings",
    "RouteLinkSettings",
    "RouteMethod",
    "SecondaryIndex",
    "SendLinkSettings",
    "Settings",
    "SettingsError",
    "StageSettings",
    "TableLinkSettings",
    "TableSettings",
    "TopicSettings",
    "TriggerLinkSettings",
    "bounded",
    "check_issuer",
    "check_origins",
    "check_route_path",
    "clean",
    "component_model",
    "env_name_problem",
    "fields",
    "json_schema",
    "link_model",
    "problems_of",
    "secret_names",
    "setting",
]
