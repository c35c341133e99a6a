"""The form for a new channel; the service checks every value (the API shares it)."""

from __future__ import annotations

from django import forms

from dashboard.notifications.models import SUBSCRIBABLE, Channel


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=64)
    kind = forms.ChoiceField(choices=Channel.Kind.choices)
    url = forms.CharField(
        label="URL",
        required=False,
        max_length=2000,
        help_text="Webhook or Slack: where to POST. A Slack URL is stored sealed and never shown again.",
    )
    addresses = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Email: one or more addresses, separated by commas or new lines.",
    )
    events = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple, help_text="What to send."
    )
