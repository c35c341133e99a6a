"""The agent form's model, tool, session and code fields, mixed into AgentForm.

The provider's API key is write-only: it is never rendered, and a blank field keeps the
stored key. It travels as one of the agent's secret variables (the secret variables' mechanism:
sealed in the database, an SSM SecureString on AWS), under the name the handler reads.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from dashboard.projects import validation
from dashboard.projects.models import Agent
from provisioning import engine

_LINE_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
TOOLS_HELP = (
    "Comma-separated. From strands-agents-tools: "
    + ", ".join(name for name, _label in engine.tool_choices())
    + ". Your own tools as dotted module paths (team_tools.orders)."
)


class AgentSettingsFields(forms.Form):
    model_provider = forms.ChoiceField(
        label="Model provider",
        choices=[(p.name, p.label) for p in engine.MODEL_PROVIDERS.values()],
        initial="bedrock",
        required=False,
    )
    model_region = forms.CharField(
        label="Model region", max_length=32, required=False, help_text="Empty: the stage's region."
    )
    max_tokens = forms.IntegerField(
        label="Max tokens", min_value=1, max_value=200000, required=False
    )
    temperature = forms.FloatField(min_value=0, max_value=2, required=False)
    api_key = forms.CharField(
        label="Provider API key",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text="Only for providers other than Bedrock. Stored encrypted; leave empty to keep it.",
    )
    tool_settings = forms.CharField(
        label="Tool settings",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="name=value per line, e.g. knowledge_base_id=KB12345678 for retrieve.",
    )
    session_bucket = forms.CharField(
        label="Session bucket",
        max_length=32,
        required=False,
        help_text="A bucket in this project that keeps the agent's conversations.",
    )
    requirements = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Extra pip requirements for the dependency layer, one per line: a package "
        "name with extras, versions and markers (no URLs, paths or pip options).",
    )

    def check_tools(self, tools: list[str]) -> list[str]:
        problems = [
            message
            for field, message in engine.tool_problems(tools, {})
            if field == "tools"  # missing settings are reported on tool_settings
        ]
        if problems:
            raise forms.ValidationError(problems)
        return tools

    def clean_model_provider(self) -> str:
        return str(self.cleaned_data.get("model_provider") or "bedrock")

    def clean_tool_settings(self) -> dict[str, str]:
        settings: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["tool_settings"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not _LINE_KEY.match(name.strip()):
                raise forms.ValidationError(f"Line {number} is not name=value.")
            settings[name.strip()] = value.strip()
        return settings

    def clean_requirements(self) -> list[str]:
        # One per line: a comma belongs to a specifier (boto3>=1.34,<2), not between requirements.
        try:
            return validation.clean_requirements(self.cleaned_data["requirements"])
        except validation.RuleError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tools, settings = cleaned.get("tools"), cleaned.get("tool_settings")
        if isinstance(tools, list) and isinstance(settings, dict):
            for field, message in engine.tool_problems(tools, settings):
                if field == "tool_settings":
                    self.add_error("tool_settings", message)
        return cleaned

    def settings_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """The service's data: the API key becomes the provider's secret variable."""
        data = dict(data)
        api_key = data.pop("api_key", "") or ""
        key_env = engine.MODEL_PROVIDERS[data.get("model_provider") or "bedrock"].api_key_env
        if api_key and key_env:
            secrets = data.get("secret_environment")
            data["secret_environment"] = {**(secrets or {}), key_env: api_key}
        return data

    @staticmethod
    def settings_initial(agent: Agent) -> dict[str, Any]:
        return {
            "model_provider": agent.model_provider,
            "model_region": agent.model_region,
            "max_tokens": agent.max_tokens,
            "temperature": agent.temperature,
            "tool_settings": "\n".join(f"{k}={v}" for k, v in (agent.tool_settings or {}).items()),
            "session_bucket": agent.session_bucket,
            "requirements": "\n".join(agent.requirements or []),
        }
