"""An agent's own code from the dashboard: a directory under the allowed root or an
uploaded zip, its handler entry point and requirements; the deployed function runs it."""

from __future__ import annotations

import html
import io
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dashboard import errors
from dashboard.projects import services as project_services
from dashboard.projects.models import Agent, Project
from dashboard.runs import execution
from dashboard.runs import services as run_services
from dashboard.runs.models import DeployedResource
from provisioning.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from provisioning.graph import builder as graph_builder
from provisioning.model.blueprint import Blueprint
from provisioning.strands import packaging

NEW = "/projects/acme/agents/new/"
FORM = {
    "name": "support",
    "model_id": "anthropic.claude-sonnet-4-5",
    "system_prompt": "Help.",
    "runtime": "python3.12",
    "architecture": "x86_64",
    "memory_mb": 1024,
    "timeout_s": 120,
}
APP = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'mine'}\n"


@pytest.fixture
def code_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "agent-code"
    root.mkdir()
    settings.AGENT_CODE_ROOT = root
    return root


def zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)  # today's timestamps: the stored copy must not depend on them
    return buf.getvalue()


def _upload(data: bytes, name: str = "app.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


@pytest.mark.django_db
def test_a_directory_inside_the_root_is_accepted_and_one_outside_is_refused(
    acme: Project, alice: Any, client: Client, code_root: Path
) -> None:
    client.force_login(alice)
    mine = code_root / "support"
    (mine / "app").mkdir(parents=True)
    (mine / "app" / "main.py").write_text(APP)
    own = {**FORM, "code_source": "directory", "code_handler": "app.main.handler"}

    outside = client.post(NEW, {**own, "code_directory": "/etc"})
    relative = client.post(NEW, {**own, "code_directory": "support"})
    escaping = client.post(NEW, {**own, "code_directory": f"{code_root}/../.."})
    inside = client.post(NEW, {**own, "code_directory": str(mine)})

    assert outside.status_code == 400
    assert f"/etc is outside {code_root}" in outside.content.decode()
    assert "Give an absolute path" in relative.content.decode()
    assert "is outside" in escaping.content.decode()
    assert inside.status_code == 302, inside.content.decode()
    agent = Agent.objects.get()
    assert agent.code == {"kind": "directory", "path": str(mine), "handler": "app.main.handler"}
    edit = client.get("/projects/acme/agents/support/edit/").content.decode()
    assert str(mine) in edit and re.search(r'value="directory"[^>]*checked', edit)


@pytest.mark.django_db
def test_a_bad_handler_or_a_zip_without_it_is_refused(
    acme: Project, alice: Any, client: Client, code_root: Path
) -> None:
    client.force_login(alice)
    data = zip_bytes({"app.py": APP})
    own = {**FORM, "code_source": "zip"}

    bad_path = client.post(NEW, {**own, "code_handler": "app/handler", "code_zip": _upload(data)})
    no_module = client.post(NEW, {**own, "code_handler": "svc.handler", "code_zip": _upload(data)})
    not_a_zip = client.post(
        NEW, {**own, "code_handler": "app.handler", "code_zip": _upload(b"not a zip")}
    )
    bad_requirement = client.post(
        NEW,
        {**own, "code_handler": "app.handler", "code_zip": _upload(data),
         "requirements": "requests>=2,<3\nthis is not a requirement"},
    )  # fmt: skip

    assert "module.function" in bad_path.content.decode()
    assert "no svc.py for svc.handler" in no_module.content.decode()
    assert "not a valid .zip" in not_a_zip.content.decode()
    assert "not a pip requirement" in bad_requirement.content.decode()
    assert {r.status_code for r in (bad_path, no_module, not_a_zip, bad_requirement)} == {400}
    assert not Agent.objects.exists()
    assert not (code_root / "uploads").exists()  # a refused form leaves nothing on disk


def _symlink(name: str) -> zipfile.ZipInfo:
    """An entry that unpacks as a link; its content is the path it points to."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("../../etc/x", "'../../etc/x' climbs out of the package (a .. part)"),
        ("/abs/evil", "'/abs/evil' is an absolute path"),
        ("D:/evil.py", "'D:/evil.py' is an absolute path"),
        ("tools\\..\\..\\evil.py", "has a backslash in its path"),
        (_symlink("settings.py"), "'settings.py' is a symbolic link"),
    ],
)
def test_a_zip_with_an_entry_that_points_outside_the_package_is_refused_at_upload(
    acme: Project,
    alice: Any,
    client: Client,
    code_root: Path,
    entry: str | zipfile.ZipInfo,
    complaint: str,
) -> None:
    client.force_login(alice)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
        zf.writestr(entry, "/etc/passwd")

    response = client.post(
        NEW,
        {**FORM, "code_source": "zip", "code_handler": "app.handler",
         "code_zip": _upload(buf.getvalue())},
    )  # fmt: skip

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "The zip has unsafe entries: " in page and complaint in page
    assert not Agent.objects.exists()
    assert not (code_root / "uploads").exists()


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_zip_is_stored_planned_and_deployed_with_its_handler(
    acme: Project, alice: Any, client: Client, code_root: Path, sandbox: str
) -> None:
    client.force_login(alice)
    data = zip_bytes({"app.py": APP, "__pycache__/app.cpython-312.pyc": "junk"})

    created = client.post(
        NEW,
        {**FORM, "code_source": "zip", "code_handler": "app.handler", "code_zip": _upload(data),
         "requirements": "requests>=2.31,<3"},
    )  # fmt: skip

    assert created.status_code == 302, created.content.decode()
    agent = Agent.objects.get()
    stored = Path(agent.code["path"])
    assert stored.parent == code_root / "uploads" and stored.name == f"{agent.code['sha256']}.zip"
    assert zipfile.ZipFile(stored).namelist() == ["app.py"]  # caches are never packaged
    assert agent.requirements == ["requests>=2.31,<3"]

    # Edited without a new upload: the stored zip stays (requirements dropped: no layer build).
    kept = client.post(
        "/projects/acme/agents/support/edit/",
        {**FORM, "code_source": "zip", "code_handler": "app.handler", "version": acme.version + 1},
    )
    assert kept.status_code == 302, kept.content.decode()
    agent.refresh_from_db()
    assert agent.code["path"] == str(stored) and agent.requirements == []

    stage = acme.stages.get()
    plan = run_services.deployment_start(stage=stage, kind="plan", user=alice, enqueue=False)
    planned = execution.run_deployment(plan.pk)
    assert planned is not None and planned.status == "SUCCEEDED", planned and planned.error
    function = next(c for c in planned.plan["changes"] if c["resource_type"] == "lambda:function")
    assert function["action"] == "CREATE" and not planned.plan["problems"]
    # What that plan compared: the function spec built from the plan's blueprint snapshot.
    plan.refresh_from_db()
    specs = graph_builder.build(Blueprint.from_dict(plan.blueprint)).specs
    wanted = specs[function["logical_id"]].properties
    assert wanted["code_sha256"] == packaging.code_sha256(stored.read_bytes())
    assert wanted["handler"] == "app.handler" and wanted["code"]["path"] == str(stored)

    deploy = run_services.deployment_start(stage=stage, kind="deploy", user=alice, enqueue=False)
    done = execution.run_deployment(deploy.pk)
    assert done is not None and done.status == "SUCCEEDED", done and done.error
    name = DeployedResource.objects.get(stage=stage, type="lambda:function").physical_id
    aws = boto3.client(
        "lambda", endpoint_url=sandbox, region_name=stage.region,
        aws_access_key_id=SANDBOX_ACCESS_KEY, aws_secret_access_key=SANDBOX_SECRET_KEY,
    )  # fmt: skip
    config = aws.get_function(FunctionName=name)["Configuration"]
    assert config["Handler"] == "app.handler"
    assert config["CodeSha256"] == packaging.code_sha256(stored.read_bytes())


@pytest.mark.django_db
def test_services_refuse_code_outside_the_root_from_any_caller(
    acme: Project, alice: Any, code_root: Path
) -> None:
    with pytest.raises(errors.ServiceError, match="outside") as refused:
        project_services.agent_create(
            project=acme,
            user=alice,
            data={
                "name": "support",
                "code": {"kind": "directory", "path": "/etc", "handler": "a.b"},
            },
        )

    assert refused.value.field == "code_directory"
    assert not Agent.objects.exists()
