"""Forms: turn what the user typed into the plain dicts the services take.

They validate shape and spelling (names AWS accepts, KEY=VALUE lines); whether
an edit is allowed is the services' call, and their errors come back as form errors.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django import forms

from dashboard.access.forms import masked_secret_lines, parse_secret_lines, secret_environment_field
from dashboard.projects.agent_fields import TOOLS_HELP, AgentSettingsFields
from dashboard.projects.code_fields import AgentCodeFields
from dashboard.projects.models import NAME_HELP, Agent, Component, name_validator
from provisioning.model import bounds

ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ENV_HELP = (
    "One KEY=VALUE per line; keys are letters, digits and underscores, starting with a letter."
)


def _name_field(label: str = "Name") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=32,
        validators=[name_validator],
        help_text=NAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _form_limits(bound: bounds.Bound) -> dict[str, int]:
    return {"min_value": bound.low, "max_value": bound.high, "initial": bound.default}


class VersionedForm(forms.Form):
    """Carries the project version the user saw, so an edit made meanwhile is not overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ProjectForm(forms.Form):
    name = _name_field("Project name")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AgentForm(AgentCodeFields, AgentSettingsFields, VersionedForm):
    name = _name_field()
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    model_id = forms.CharField(
        label="Model id", max_length=128, initial=Agent._meta.get_field("model_id").default
    )
    system_prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        initial=Agent._meta.get_field("system_prompt").default,
    )
    tools = forms.CharField(required=False, help_text=TOOLS_HELP)
    runtime = forms.ChoiceField(choices=Agent.Runtime.choices, initial=Agent.Runtime.PY312)
    architecture = forms.ChoiceField(
        choices=Agent.Architecture.choices, initial=Agent.Architecture.X86_64
    )
    memory_mb = forms.IntegerField(label="Memory (MB)", **_form_limits(bounds.AGENT["memory_mb"]))
    timeout_s = forms.IntegerField(label="Timeout (s)", **_form_limits(bounds.AGENT["timeout_s"]))
    environment = forms.CharField(
        label="Environment variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=ENV_HELP,
    )
    reserved_concurrency = forms.IntegerField(
        required=False, min_value=0, help_text="Leave empty for the account's shared pool."
    )
    tracing = forms.BooleanField(required=False, label="X-Ray tracing")
    secret_environment = secret_environment_field()

    def clean_secret_environment(self) -> dict[str, str | None]:
        return parse_secret_lines(self.cleaned_data["secret_environment"])

    def clean_tools(self) -> list[str]:
        return self.check_tools(_comma_list(self.cleaned_data["tools"]))

    def clean_environment(self) -> dict[str, str]:
        environment: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["environment"].splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or not ENV_KEY.match(key):
                raise forms.ValidationError(f"Line {number} is not KEY=VALUE. {ENV_HELP}")
            environment[key] = value.strip()
        return environment

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        return self.code_data(self.settings_data(data))

    @staticmethod
    def initial_for(agent: Agent, version: int) -> dict[str, Any]:
        return {
            "version": version,
            "name": agent.name,
            "description": agent.description,
            "model_id": agent.model_id,
            "system_prompt": agent.system_prompt,
            "tools": ", ".join(agent.tools or []),
            "runtime": agent.runtime,
            "architecture": agent.architecture,
            "memory_mb": agent.memory_mb,
            "timeout_s": agent.timeout_s,
            "environment": "\n".join(f"{k}={v}" for k, v in (agent.environment or {}).items()),
            "reserved_concurrency": agent.reserved_concurrency,
            "tracing": agent.tracing,
            **AgentSettingsFields.settings_initial(agent),
            **AgentCodeFields.code_initial(agent),
            "secret_environment": masked_secret_lines(agent.secret_environment),
        }


class ComponentForm(VersionedForm):
    """A component's name; each kind's subclass adds its settings fields."""

    kind: ClassVar[str]
    name = _name_field()

    def settings(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("name", "version")}

    @classmethod
    def initial_for(cls, component: Component, version: int) -> dict[str, Any]:
        return {"version": version, "name": component.name, **component.settings}


class HttpApiForm(ComponentForm):
    kind = Component.Kind.HTTP_API
    cors_origins = forms.CharField(
        label="CORS origins",
        required=False,
        initial="*",
        help_text="Comma-separated origins allowed to call the API from a browser; * for any.",
    )

    def clean_cors_origins(self) -> list[str]:
        return _comma_list(self.cleaned_data["cors_origins"])

    @classmethod
    def initial_for(cls, component: Component, version: int) -> dict[str, Any]:
        initial = super().initial_for(component, version)
        initial["cors_origins"] = ", ".join(component.settings.get("cors_origins", []))
        return initial


class BucketForm(ComponentForm):
    kind = Component.Kind.BUCKET
    versioning = forms.BooleanField(required=False, help_text="Keep every version of each object.")


class TableForm(ComponentForm):
    kind = Component.Kind.TABLE
    partition_key = forms.CharField(max_length=255, initial="pk")
    sort_key = forms.CharField(max_length=255, required=False, help_text="Optional.")
    billing_mode = forms.ChoiceField(
        choices=[("PAY_PER_REQUEST", "On demand"), ("PROVISIONED", "Provisioned")],
        initial="PAY_PER_REQUEST",
    )


class QueueForm(ComponentForm):
    kind = Component.Kind.QUEUE
    fifo = forms.BooleanField(required=False, label="FIFO (ordered, exactly once)")
    visibility_timeout_s = forms.IntegerField(
        label="Visibility timeout (s)",
        **_form_limits(bounds.COMPONENT["queue"]["visibility_timeout_s"]),
        help_text="At least six times the timeout of an agent this queue triggers.",
    )
    dead_letter = forms.BooleanField(
        required=False, initial=True, help_text="Move messages that keep failing to a second queue."
    )


class TopicForm(ComponentForm):
    kind = Component.Kind.TOPIC
    fifo = forms.BooleanField(required=False, label="FIFO (ordered, exactly once)")


COMPONENT_FORMS: dict[str, type[ComponentForm]] = {
    form.kind: form for form in (BucketForm, TableForm, QueueForm, TopicForm, HttpApiForm)
}

LINK_KINDS = [
    ("", "default"), ("read", "read"), ("read_write", "read & write"),
    ("sessions", "conversation sessions (agent → bucket)"),
]  # fmt: skip
LINK_HELP = (
    "Allowed: agent → bucket or table (read / read & write), agent → queue or topic, "
    "queue → agent, topic → queue or agent, HTTP API → agent."
)


class LinkForm(forms.Form):
    source = forms.ChoiceField(label="From")
    target = forms.ChoiceField(label="To")
    kind = forms.ChoiceField(choices=LINK_KINDS, required=False, help_text=LINK_HELP)

    def __init__(self, *args: Any, nodes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = nodes
        self.fields["target"].choices = nodes

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("source") and cleaned.get("source") == cleaned.get("target"):
            raise forms.ValidationError("A node cannot link to itself.")
        return cleaned


def node_choices(agents: list[Agent], components: list[Component]) -> list[tuple[str, str]]:
    nodes = [(a.key, f"agent {a.name}") for a in agents]
    nodes += [(c.key, f"{c.get_kind_display()} {c.name}") for c in components]
    return nodes


class DestroyConfirmForm(forms.Form):
    confirm_name = forms.CharField(
        label="Project name", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def __init__(self, *args: Any, project_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project_name = project_name

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.project_name:
            raise forms.ValidationError(f'Type "{self.project_name}" exactly to confirm.')
        return typed
