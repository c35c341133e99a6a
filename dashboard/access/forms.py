"""Forms for members, stage settings and secret variables.

Secrets are write-only: a stored one is shown as a mask, and submitting the mask
back keeps it; static AWS keys are never rendered at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django import forms

from dashboard.access.models import Membership
from dashboard.access.secrets import MASK
from dashboard.projects import aws_fields, schema_forms
from dashboard.projects.models import Stage
from provisioning.model import schema

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SECRET_HELP = (
    "One NAME=value per line; stored encrypted, delivered to Lambda as an SSM SecureString "
    f"and never shown again ({MASK} keeps the stored value)."
)


def secret_environment_field() -> forms.CharField:
    return forms.CharField(
        label="Secret variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false", "autocomplete": "off"}),
        help_text=SECRET_HELP,
    )


def parse_secret_lines(text: str) -> dict[str, str | None]:
    """NAME -> value, or None where the mask was left in place (keep the stored value)."""
    found: dict[str, str | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _NAME.match(name):
            raise forms.ValidationError(f"Line {number} is not NAME=value. {SECRET_HELP}")
        value = value.strip()
        found[name] = None if value == MASK else value
    return found


def masked_secret_lines(sealed: Mapping[str, str] | None) -> str:
    return "\n".join(f"{name}={MASK}" for name in sorted(sealed or {}))


def _checked(check: Callable[[str], str]) -> Callable[[str], None]:
    def validator(value: str) -> None:
        try:
            check(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    return validator


# Logs, roles, dependencies, the secrets' key and the network: straight from the schema.
# The permissions boundary is a column of the stage (with its ARN check), not a JSON setting.
StageSettingsFields = schema_forms.settings_form(
    schema.StageSettings,
    name="StageSettingsFields",
    only=set(schema.StageSettings.model_fields) - {"permissions_boundary"},
)


class StageForm(StageSettingsFields):  # type: ignore[valid-type,misc]
    target = forms.ChoiceField(choices=Stage.Target.choices)
    region = forms.ChoiceField(choices=())
    role_arn = forms.CharField(
        label="Role to assume (ARN)",
        required=False,
        max_length=2048,
        validators=[_checked(aws_fields.clean_role_arn)],
        help_text="Optional: deploys assume it with short-lived STS credentials.",
    )
    external_id = forms.CharField(
        label="External ID",
        required=False,
        max_length=1224,
        validators=[_checked(aws_fields.clean_external_id)],
    )
    permissions_boundary = forms.CharField(
        label="Permissions boundary (policy ARN)",
        required=False,
        max_length=2048,
        validators=[_checked(aws_fields.clean_policy_arn)],
        help_text="Every role this stage creates carries it.",
    )
    protected = forms.BooleanField(
        required=False,
        help_text="Deploys need an owner's approval of the plan; destroy is disabled.",
    )
    access_key_id = forms.CharField(
        label="Static access key id",
        required=False,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        validators=[_checked(aws_fields.clean_access_key_id)],
        help_text="Only if your team insists on static keys; blank keeps what is stored.",
    )
    secret_access_key = forms.CharField(
        label="Static secret access key",
        required=False,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        validators=[_checked(aws_fields.clean_secret_access_key)],
    )
    clear_static_keys = forms.BooleanField(required=False, label="Forget the stored static keys")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r, r) for r in aws_fields.regions()]
        # The stage's own fields first, then its engine settings.
        own = [name for name in self.fields if name not in self.settings_names]
        self.order_fields(own + sorted(self.settings_names, key=list(self.fields).index))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            self.checked_settings = self.check_settings()
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """The stage's fields, and its engine settings as one checked mapping."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.settings_names}
        data["settings"] = getattr(self, "checked_settings", None) or self.settings_values()
        return data

    @classmethod
    def initial_for(cls, stage: Stage) -> dict[str, Any]:
        fields = {n: f for n, f in cls.base_fields.items() if n in cls.settings_names}
        return {
            **schema_forms.initial_from(stage.settings or {}, fields),
            "target": stage.target,
            "region": stage.region,
            "role_arn": stage.role_arn,
            "external_id": stage.external_id,
            "permissions_boundary": stage.permissions_boundary,
            "protected": stage.protected,
        }


class MemberInviteForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


EXPIRY_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


class TokenForm(forms.Form):
    """A personal token: a name, an end, and optionally a lower role than the user's own."""

    name = forms.CharField(max_length=64, help_text="Where it is used, e.g. laptop or ci-deploy.")
    expires_in_days = forms.TypedChoiceField(
        label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial=30
    )
    role = forms.ChoiceField(
        label="Highest role",
        choices=[("", "Same as mine"), *Membership.Role.choices],
        required=False,
        help_text="The token never does more than this, whatever your own role.",
    )


class DeployTokenForm(forms.Form):
    """A project's deploy token: for CI, with its own role in this project only."""

    name = forms.CharField(max_length=64, help_text="Where it is used, e.g. github-actions.")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.DEPLOYER)
    expires_in_days = forms.TypedChoiceField(
        label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial=90
    )
