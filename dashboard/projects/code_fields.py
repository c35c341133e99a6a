"""The agent form's code fields: the generated Strands handler, or the team's own.

Mixed into AgentForm; `cleaned_data["code"]` is the service's `code` value ({} for the
generated handler). An upload is checked in clean() but written only by code_data(),
once the whole form is valid, so a refused form leaves nothing on disk.
"""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.projects import agent_code
from dashboard.projects.models import Agent
from provisioning import engine

GENERATED, DIRECTORY, ZIP = "generated", "directory", "zip"
CODE_FIELDS = ("code_source", "code_directory", "code_zip", "code_handler")


class AgentCodeFields(forms.Form):
    code_source = forms.ChoiceField(
        label="Code",
        choices=[
            (GENERATED, "Generated Strands handler"),
            (DIRECTORY, "My own code: a directory on the server"),
            (ZIP, "My own code: an uploaded .zip"),
        ],
        initial=GENERATED,
        required=False,
        widget=forms.RadioSelect,
    )
    code_directory = forms.CharField(label="Code directory", max_length=1024, required=False)
    code_zip = forms.FileField(
        label="Code zip",
        required=False,
        widget=forms.FileInput(attrs={"accept": ".zip,application/zip"}),
    )
    code_handler = forms.CharField(
        label="Handler entry point",
        max_length=128,
        required=False,
        help_text="module.function in your code, e.g. app.handler. "
        "A requirements.txt beside it (package names and versions only) is installed "
        "as the agent's layer.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in CODE_FIELDS:  # after the agent's other settings, whatever the base order
            self.fields[name] = self.fields.pop(name)
        self.fields[
            "code_directory"
        ].help_text = f"An absolute path inside {agent_code.root()} on the server."
        self.fields[
            "code_zip"
        ].help_text = (
            f"Up to {self._max_mb()} MB; when editing, leave empty to keep the zip uploaded before."
        )
        self._upload: bytes | None = None

    @staticmethod
    def _max_mb() -> int:
        return agent_code.max_zip_bytes() // engine.MB

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned["code"] = self._clean_code(cleaned)
        except agent_code.CodeError as exc:
            self.add_error(exc.field, exc.message)
        return cleaned

    def _clean_code(self, cleaned: dict[str, Any]) -> dict[str, str]:
        source = cleaned.get("code_source") or GENERATED
        if source == GENERATED:
            return {}
        entry = agent_code.check_handler(cleaned.get("code_handler") or "")
        if source == DIRECTORY:
            path = agent_code.check_directory(cleaned.get("code_directory") or "", entry)
            return {"kind": DIRECTORY, "path": path, "handler": entry}
        upload = cleaned.get("code_zip")
        if upload is not None:
            if upload.size > agent_code.max_zip_bytes():  # before reading it into memory
                raise agent_code.CodeError("code_zip", f"The zip is over {self._max_mb()} MB.")
            self._upload = agent_code.canonical_zip(upload.read(), entry)
            path, digest = agent_code.upload_path(self._upload)
            return {"kind": ZIP, "path": str(path), "sha256": digest, "handler": entry}
        stored = self.initial.get("code") or {}
        if stored.get("kind") != ZIP:
            raise agent_code.CodeError("code_zip", "Choose the .zip holding your code.")
        return {**agent_code.check_stored_zip(stored, entry), "handler": entry}

    def code_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """The service's data without the form-only fields; stores a new upload."""
        if self._upload is not None:
            agent_code.store_zip(self._upload)
        return {k: v for k, v in data.items() if k not in CODE_FIELDS}

    @staticmethod
    def code_initial(agent: Agent) -> dict[str, Any]:
        code = dict(agent.code or {})
        kind = code.get("kind") or GENERATED
        return {
            "code": code,
            "code_source": kind,
            "code_directory": code.get("path", "") if kind == DIRECTORY else "",
            "code_handler": code.get("handler", ""),
        }
