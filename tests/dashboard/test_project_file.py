"""Project files in the dashboard: export, import into an empty database, apply with a preview,
and nothing half-written when a file is refused."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.access import secrets
from dashboard.access.models import Membership
from dashboard.projects import demo, project_file, services
from dashboard.projects.blueprint import blueprint_for_stage
from dashboard.projects.models import Agent, Component, Link, Project, Stage
from provisioning.model import project_file as pf

pytestmark = pytest.mark.django_db

SAMPLE = """\
version: 1
project:
  name: shop
  description: Orders and the agent that answers about them.
stages:
- name: dev
  settings:
    log_retention_days: 30
agents:
- name: support
  x: 100
  memory_mb: 2048
  extra_models:
  - us.anthropic.claude-sonnet-4-20250514-v1:0
components:
- kind: http_api
  name: public
- kind: table
  name: orders
  settings:
    partition_key: order_id
    partition_key_type: N
links:
- source: agent:support
  target: table:orders
  kind: read
  settings:
    env_name: ORDERS_TABLE
- source: http_api:public
  target: agent:support
  settings:
    method: GET
    path: /orders/{id}
"""


def _export(name: str) -> str:
    return project_file.export_text(Project.objects.get(name=name))


def _wipe_all_projects() -> None:
    for project in Project.objects.all():
        for model in (Link, Agent, Component, Stage):
            model.objects.filter(project=project).delete()
        project.delete()


@pytest.mark.parametrize("fixture", sorted(demo.FIXTURES))
def test_an_export_imported_into_an_empty_database_exports_byte_identical(
    fixture: str, alice: Any
) -> None:
    demo.load(fixture)
    name = Project.objects.get().name
    first = _export(name)
    stage = Stage.objects.get(project__name=name, name="dev")
    blueprint = blueprint_for_stage(stage)
    # Planning the file (plan -f) asks for exactly what the project does.
    assert project_file.blueprint_of(pf.parse(first), stage) == blueprint
    _wipe_all_projects()

    project_file.apply(project_file=pf.parse(first), user=alice, prune=False)

    assert _export(name) == first
    again = blueprint_for_stage(Stage.objects.get(project__name=name, name="dev"))
    assert again == blueprint  # so its deployed stage plans no change


def test_applying_a_file_creates_the_project_the_file_describes(alice: Any) -> None:
    project = project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)

    assert _export("shop") == SAMPLE
    blueprint = blueprint_for_stage(project.stages.get(name="dev"))
    link = next(link for link in blueprint.links if link.target == "table:orders")
    assert link.settings["env_name"] == "ORDERS_TABLE"
    table = next(c for c in blueprint.components if c.name == "orders")
    assert table.settings["partition_key_type"] == "N"
    assert blueprint.settings["log_retention_days"] == 30


def test_the_preview_lists_changes_field_by_field_and_writes_nothing(alice: Any) -> None:
    project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)
    version = Project.objects.get(name="shop").version
    changed = SAMPLE.replace("memory_mb: 2048", "memory_mb: 4096").replace(
        "- kind: http_api\n  name: public\n", ""
    )
    changed = changed.replace(
        "- source: http_api:public\n  target: agent:support\n  settings:\n    method: GET\n"
        "    path: /orders/{id}\n",
        "",
    )

    kept = project_file.preview(pf.parse(changed), prune=False)
    pruned = project_file.preview(pf.parse(changed), prune=True)

    support = next(c for c in kept.changes if c.key == "agent:support")
    assert support.fields == (("memory_mb", 2048, 4096),)
    assert "http_api:public" in kept.kept
    assert {("remove", "http_api:public"), ("remove", "link http_api:public->agent:support")} <= {
        (c.action, c.key) for c in pruned.changes
    }
    assert Project.objects.get(name="shop").version == version


def test_prune_removes_what_the_file_no_longer_lists(alice: Any) -> None:
    project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)
    smaller = SAMPLE.split("components:")[0]

    project_file.apply(project_file=pf.parse(smaller), user=alice, prune=False)
    assert Component.objects.filter(project__name="shop").count() == 2
    project_file.apply(project_file=pf.parse(smaller), user=alice, prune=True)

    assert Component.objects.filter(project__name="shop").count() == 0
    assert Link.objects.filter(project__name="shop").count() == 0
    assert _export("shop") == smaller


def test_a_refused_change_leaves_the_project_as_it_was(alice: Any) -> None:
    project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)
    before = _export("shop")
    # The file is well-formed, but the engine refuses the model id (it would become an ARN).
    bad = SAMPLE.replace("memory_mb: 2048", "memory_mb: 512\n  model_id: 'no such model!'")

    with pytest.raises(project_file.ServiceError) as caught:
        project_file.apply(project_file=pf.parse(bad), user=alice, prune=False)

    assert caught.value.message.startswith("agent:support.model_id")
    assert _export("shop") == before


def test_secret_values_never_leave_and_names_survive_a_round_trip(alice: Any) -> None:
    project = project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)
    Agent.objects.filter(project=project).update(
        secret_environment={"API_TOKEN": secrets.seal("s3cret-value")}
    )

    text = _export("shop")

    assert "s3cret-value" not in text and "API_TOKEN" in text
    assert project_file.preview(pf.parse(text), prune=False).unchanged


def test_viewers_cannot_apply_a_file_to_a_project(alice: Any, bob: Any) -> None:
    project = project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)
    Membership.objects.create(project=project, user=bob, role=Membership.Role.VIEWER)

    with pytest.raises(PermissionDenied):
        project_file.apply(
            project_file=pf.parse(SAMPLE.replace("2048", "4096")), user=bob, prune=False
        )
    assert "memory_mb: 2048" in _export("shop")


def test_the_commands_export_and_apply_with_exit_codes(tmp_path: Path) -> None:
    path = tmp_path / "strands-deploy.yaml"
    path.write_text(SAMPLE)
    out = io.StringIO()

    call_command("apply", "-f", str(path), "--yes", stdout=out)
    assert "create shop" in out.getvalue() and "applied to shop" in out.getvalue()
    exported = io.StringIO()
    call_command("export", "shop", stdout=exported)
    assert exported.getvalue() == SAMPLE

    again = io.StringIO()
    call_command("apply", "-f", str(path), stdout=again)
    assert "shop: no changes" in again.getvalue()

    path.write_text(SAMPLE.replace("memory_mb: 2048", "memory_mb: lots"))
    with pytest.raises(CommandError) as caught:
        call_command("apply", "-f", str(path), "--yes")
    assert f"{path}:12:14: agents.0.memory_mb: Input should be a valid integer" in str(caught.value)


def test_the_schema_is_public_and_the_file_downloads_for_members(
    client: Client, alice: Any
) -> None:
    project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)
    schema = client.get(reverse("file_schema"))
    assert schema.status_code == 200 and schema.json()["title"] == "Strands Deploy project file"
    assert client.get(reverse("project_file", args=["shop"])).status_code == 302  # login first

    client.force_login(alice)
    response = client.get(reverse("project_file", args=["shop"]))

    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith("# yaml-language-server: $schema=http://testserver/schema/")
    assert text.split("\n", 1)[1] == SAMPLE


def test_the_import_page_shows_errors_at_their_line_then_previews_then_applies(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    url = reverse("project_import")
    broken = SAMPLE.replace("partition_key_type: N", "partition_key_type: number")

    refused = client.post(url, {"text": broken, "action": "preview"})
    assert refused.status_code == 400
    assert b"line 22, column 25" in refused.content
    assert not Project.objects.filter(name="shop").exists()

    preview = client.post(url, {"text": SAMPLE, "action": "preview"})
    assert preview.status_code == 200 and b"New project shop" in preview.content
    assert not Project.objects.filter(name="shop").exists()

    applied = client.post(url, {"text": SAMPLE, "action": "apply"})
    assert applied.status_code == 302
    assert applied["Location"] == reverse("project_detail", args=["shop"])
    assert _export("shop") == SAMPLE


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.sampled_from(
            [
                ("memory_mb: 2048", "memory_mb: -1"),
                ("memory_mb: 2048", "memory_mb: [1]"),
                ("name: support", "name: Support"),
                ("partition_key_type: N", "partition_key_type: {a: 1}"),
                ("env_name: ORDERS_TABLE", "env_name: AWS_SECRET"),
                ("path: /orders/{id}", "path: orders"),
                ("kind: read", "kind: write"),
                ("method: GET", "method: 7"),
                ("log_retention_days: 30", "log_retention_days: 31"),
                ("- kind: http_api", "- kind: lambda"),
                ("version: 1", "version: '1'"),
                ("  x: 100", "  x: 1e400"),
                ("target: table:orders", "target: table:orders\n  extra: 1"),
            ]
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mangled_files_never_500_nor_write_half_a_project(
    client: Client, alice: Any, edits: list[tuple[str, str]]
) -> None:
    client.force_login(alice)
    text = SAMPLE
    for old, new in edits:
        text = text.replace(old, new)
    response = client.post(reverse("project_import"), {"text": text, "action": "apply"})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert not Project.objects.filter(name="shop").exists()
    else:
        _wipe_all_projects()


def test_a_secret_setting_is_sealed_never_exported_and_refused_in_a_file(alice: Any) -> None:
    project = project_file.apply(project_file=pf.parse(SAMPLE), user=alice, prune=False)
    api = Component.objects.get(project=project, kind="http_api")
    services.component_update(
        component=api, user=alice, name="public", settings={"api_key_hashes": "abc123"}
    )
    api.refresh_from_db()
    assert secrets.open_(api.settings["api_key_hashes"]) == "abc123"

    text = _export("shop")
    assert "api_key_hashes" not in text
    project_file.apply(project_file=pf.parse(text), user=alice, prune=False)
    api.refresh_from_db()
    assert secrets.open_(api.settings["api_key_hashes"]) == "abc123"  # kept, not cleared
    with pytest.raises(pf.ProjectFileError) as caught:
        pf.parse(
            SAMPLE.replace(
                "  name: public\n", "  name: public\n  settings:\n    api_key_hashes: x\n"
            )
        )
    assert "a project file never carries secrets" in str(caught.value)
