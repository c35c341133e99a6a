"""Forms: turn what the user typed into the plain dicts the services take.

They validate shape and spelling (names AWS accepts, KEY=VALUE lines); whether
an edit is allowed is the services' call, and their errors come back as form errors.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django import forms

from dashboard.access.forms import masked_secret_lines, parse_secret_lines, secret_environment_field
from dashboard.projects import schema_forms
from dashboard.projects.agent_fields import TOOLS_HELP, AgentSettingsFields
from dashboard.projects.code_fields import AgentCodeFields
from dashboard.projects.models import NAME_HELP, Agent, Component, Link, name_validator
from dashboard.projects.validation import LINK_RULES
from provisioning.model import bounds, schema
from provisioning.model.links import split_key

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


class AgentOwnFields(AgentCodeFields, AgentSettingsFields, VersionedForm):
    """The agent's fields that need more than the schema gives: the name, the upload, write-only
    secrets, the tools catalogue and environment lines checked as Lambda variable names."""

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


# Every other agent setting comes straight from the schema (in the advanced group).
AgentGeneratedFields = schema_forms.settings_form(
    schema.AgentSettings,
    only=set(schema.AgentSettings.model_fields) - set(AgentOwnFields.base_fields),
    name="AgentGeneratedFields",
)


class AgentForm(AgentOwnFields, AgentGeneratedFields):  # type: ignore[valid-type,misc]
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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned.update(self.settings_values())  # an empty generated field holds its default
        if not self.errors:  # the schema's check of every agent setting the form holds
            names = schema.AgentSettings.model_fields.keys() & cleaned.keys()
            self.check_settings({name: cleaned[name] for name in names})
        return cleaned

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
            **schema_forms.initial_from(
                {name: agent.schema_value(name) for name in AgentGeneratedFields.settings_names},
                AgentGeneratedFields.base_fields,
            ),
            **AgentCodeFields.code_initial(agent),
            "secret_environment": masked_secret_lines(agent.secret_environment),
        }


class ComponentForm(schema_forms.SettingsForm, VersionedForm):
    """A component's name; each kind's form adds the fields of its schema (`COMPONENTS`)."""

    clean = schema_forms.SettingsForm.checked_clean

    kind: ClassVar[str]
    name = _name_field()

    @classmethod
    def initial_for(cls, component: Component, version: int) -> dict[str, Any]:
        fields = {n: f for n, f in cls.base_fields.items() if n in cls.settings_names}
        initial = schema_forms.initial_from(component.settings or {}, fields)
        return {"version": version, "name": component.name, **initial}


MANAGED_ON_THEIR_OWN_PAGE = frozenset({"api_key_labels"})
"""Settings a page of their own writes (an HTTP API's keys), left out of the component form."""

COMPONENT_FORMS: dict[str, type[ComponentForm]] = {
    kind: schema_forms.settings_form(
        model,
        base=ComponentForm,
        only={f.name for f in schema.fields(model)} - MANAGED_ON_THEIR_OWN_PAGE,
        name=f"{model.__name__.removesuffix('Settings')}Form",
        kind=kind,
    )
    for kind, model in schema.COMPONENTS.items()
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


class LinkSettingsForm(schema_forms.SettingsForm, VersionedForm):
    """A link's own settings (`schema.LINKS`), and its kind where several fit the two nodes."""

    clean = schema_forms.SettingsForm.checked_clean

    pair: ClassVar[tuple[str, str]] = ("", "")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = LINK_RULES.get(self.pair, ())
        if len(kinds) > 1:
            self.fields["kind"] = forms.ChoiceField(
                choices=[(k, k.replace("_", " & ")) for k in kinds], initial=kinds[0]
            )

    def link_kind(self) -> str | None:
        return self.cleaned_data.get("kind") if "kind" in self.fields else None

    @classmethod
    def initial_for(cls, link: Link, version: int) -> dict[str, Any]:
        fields = {n: f for n, f in cls.base_fields.items() if n in cls.settings_names}
        initial = schema_forms.initial_from(link.settings or {}, fields)
        kinds = LINK_RULES.get(cls.pair, ())
        return {"version": version, "kind": link.kind or (kinds[0] if kinds else ""), **initial}


LINK_FORMS: dict[tuple[str, str], type[LinkSettingsForm]] = {
    pair: schema_forms.settings_form(
        model, base=LinkSettingsForm, name=f"{model.__name__.removesuffix('Settings')}Form",
        pair=pair,
    )
    for pair, model in schema.LINKS.items()
}  # fmt: skip


def link_form_class(link: Link) -> type[LinkSettingsForm]:
    pair = (split_key(link.source)[0], split_key(link.target)[0])
    return LINK_FORMS.get(pair) or schema_forms.settings_form(
        schema.link_model(*pair), base=LinkSettingsForm, name="NoLinkSettingsForm", pair=pair
    )


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


# The agent's own fields fold like the generated ones where the schema calls them advanced.
for _spec in schema.fields(schema.AgentSettings):
    if _spec.name in AgentForm.base_fields:
        AgentForm.base_fields[_spec.name].group = _spec.group  # type: ignore[attr-defined]
