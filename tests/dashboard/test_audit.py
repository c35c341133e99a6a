"""The audit log: every kind of change records one entry naming who, what and how it changed,
never a secret; a refused change records nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from dashboard.access import services as access_services
from dashboard.access import tokens
from dashboard.access.models import Membership
from dashboard.access.roles import DeployTokenUser
from dashboard.audit import selectors as audit_selectors
from dashboard.audit.models import AuditEntry
from dashboard.errors import ServiceError
from dashboard.history import drift
from dashboard.projects import project_file
from dashboard.projects import services as project_services
from dashboard.projects.models import Project
from dashboard.runs import services as run_services
from dashboard.runs.models import AppendOnlyError
from provisioning.model import project_file as pf

pytestmark = pytest.mark.django_db

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SECRET = "sk-live-S3cr3t-value-0042"


@pytest.fixture(autouse=True)
def _chain_stays_intact() -> Iterator[None]:
    """Whatever a test records, read back from the database, still matches its hashes."""
    yield
    assert audit_selectors.chain_verify().intact


def recorded(after: int = 0) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(id__gt=after).order_by("id"))


def last_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def only(after: int) -> AuditEntry:
    entries = recorded(after)
    assert len(entries) == 1, [e.action for e in entries]
    return entries[0]


def text_of(entry: AuditEntry) -> str:
    return json.dumps(entry.as_row())


def test_creating_a_project_records_who_created_it(alice: Any) -> None:
    project = project_services.project_create(name="acme", user=alice)

    entry = only(0)
    assert (entry.action, entry.actor_name, entry.actor, entry.project) == (
        "project.create", "alice", alice, project,
    )  # fmt: skip
    assert entry.source == "cli"  # no request: a command or a test
    assert entry.changes["name"] == {"after": "acme"}


def test_node_create_update_delete_record_the_fields_that_changed(
    acme: Project, alice: Any
) -> None:
    start = last_id()
    agent = project_services.agent_create(project=acme, user=alice, data={"name": "helper"})
    created = only(start)
    assert (created.action, created.target) == ("node.create", "agent:helper")

    start = last_id()
    project_services.agent_update(agent=agent, user=alice, data={"memory_mb": 2048})
    updated = only(start)
    assert updated.action == "node.update"
    assert updated.changes == {"memory_mb": {"before": 1024, "after": 2048}}

    start = last_id()
    project_services.agent_delete(agent=agent, user=alice)
    deleted = only(start)
    assert (deleted.action, deleted.target) == ("node.delete", "agent:helper")
    assert deleted.changes["memory_mb"] == {"before": 2048}


def test_links_record_create_update_and_delete(acme: Project, alice: Any) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "a"})
    project_services.component_create(project=acme, user=alice, kind="bucket", name="docs")
    start = last_id()
    link = project_services.link_create(
        project=acme, user=alice, source="agent:a", target="bucket:docs"
    )
    project_services.link_delete(link=link, user=alice)
    assert [(e.action, e.target) for e in recorded(start)] == [
        ("link.create", "agent:a -> bucket:docs"),
        ("link.delete", "agent:a -> bucket:docs"),
    ]


def test_a_refused_change_records_nothing(acme: Project, alice: Any, bob: Any) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "a"})
    start = last_id()
    with pytest.raises(ServiceError):  # the name is taken: refused after the entry was made
        project_services.agent_create(project=acme, user=alice, data={"name": "a"})
    with pytest.raises(PermissionDenied):
        project_services.agent_create(project=acme, user=bob, data={"name": "b"})
    assert recorded(start) == []


def test_secret_variables_and_settings_are_recorded_as_set_or_rotated_never_their_value(
    acme: Project, alice: Any
) -> None:
    start = last_id()
    agent = project_services.agent_create(
        project=acme, user=alice, data={"name": "a", "secret_environment": {"KEY": SECRET}}
    )
    project_services.agent_update(
        agent=agent, user=alice, data={"secret_environment": {"KEY": SECRET + "-new"}}
    )
    api = project_services.component_create(
        project=acme, user=alice, kind="http_api", name="web", settings={"api_key_hashes": SECRET}
    )
    project_services.component_update(
        component=api, user=alice, name="web", settings={"api_key_hashes": SECRET + "x"}
    )
    entries = recorded(start)
    assert [e.changes.get("secret_environment.KEY") for e in entries[:2]] == ["set", "rotated"]
    assert [e.changes.get("settings.api_key_hashes") for e in entries[2:]] == ["set", "rotated"]
    for entry in entries:
        assert SECRET not in text_of(entry)


def test_stage_credentials_protection_and_settings_are_told_apart(
    acme: Project, alice: Any
) -> None:
    stage = acme.stages.get(name="dev")
    start = last_id()
    access_services.stage_update(
        stage=stage,
        user=alice,
        data={"access_key_id": KEY_ID, "secret_access_key": SECRET_KEY, "external_id": SECRET},
    )
    access_services.stage_update(stage=stage, user=alice, data={"protected": True})
    access_services.stage_update(stage=stage, user=alice, data={"region": "eu-west-1"})
    access_services.stage_update(stage=stage, user=alice, data={"clear_static_keys": True})
    entries = recorded(start)
    assert [e.action for e in entries] == [
        "stage.credentials", "stage.protection", "stage.update", "stage.credentials",
    ]  # fmt: skip
    assert entries[0].changes["secret_access_key_sealed"] == "set"
    assert entries[0].changes["external_id"] == "set"
    assert entries[1].changes == {"protected": {"before": False, "after": True}}
    assert entries[3].changes["access_key_id_sealed"] == "cleared"
    for entry in entries:
        for clear in (KEY_ID, SECRET_KEY, SECRET):
            assert clear not in text_of(entry)


def test_members_are_recorded_by_username(acme: Project, alice: Any, bob: Any) -> None:
    start = last_id()
    membership = access_services.member_invite(
        project=acme, user=alice, username="bob", role="viewer"
    )
    access_services.member_set_role(membership=membership, user=alice, role="deployer")
    access_services.member_remove(membership=membership, user=bob)  # bob leaves
    entries = recorded(start)
    assert [(e.action, e.target, e.actor_name) for e in entries] == [
        ("member.invite", "bob", "alice"),
        ("member.role", "bob", "alice"),
        ("member.remove", "bob", "bob"),
    ]
    assert entries[1].changes == {"role": {"before": "viewer", "after": "deployer"}}


def test_tokens_are_recorded_without_the_token(acme: Project, alice: Any) -> None:
    start = last_id()
    made = tokens.token_create_deploy(
        project=acme, user=alice, name="ci-deploy", role="deployer", expires_in_days=30
    )
    tokens.token_revoke(token=made.token, user=alice)
    entries = recorded(start)
    assert [(e.action, e.target, e.project) for e in entries] == [
        ("token.create", "ci-deploy", acme),
        ("token.revoke", "ci-deploy", acme),
    ]
    assert entries[0].changes["role"] == {"after": "deployer"}
    for entry in entries:
        assert made.secret not in text_of(entry)
        assert made.token.digest not in text_of(entry)


def test_a_run_started_with_a_deploy_token_names_the_token(acme: Project, alice: Any) -> None:
    made = tokens.token_create_deploy(
        project=acme, user=alice, name="ci-deploy", role="deployer", expires_in_days=30
    )
    start = last_id()
    run = run_services.deployment_start(
        stage=acme.stages.get(name="dev"), kind="plan", user=DeployTokenUser(made.token),
        enqueue=False,
    )  # fmt: skip
    run_services.deployment_cancel(deployment=run, user=alice)
    entries = recorded(start)
    assert [(e.action, e.actor_name, e.target) for e in entries] == [
        ("run.start", "token ci-deploy", "dev"),
        ("run.cancel", "alice", "dev"),
    ]
    assert entries[0].changes == {"run": run.pk, "kind": "plan"}


def test_a_personal_token_run_says_whose_token(acme: Project, alice: Any) -> None:
    made = tokens.token_create_personal(user=alice, name="laptop", expires_in_days=30)
    alice.api_token = made.token  # as the API's authentication sets it
    start = last_id()
    run_services.deployment_start(
        stage=acme.stages.get(name="dev"), kind="plan", user=alice, enqueue=False
    )
    assert only(start).actor_name == "alice (token laptop)"


def test_the_drift_schedule_is_a_stage_update(acme: Project, alice: Any) -> None:
    start = last_id()
    drift.drift_schedule(stage=acme.stages.get(name="dev"), hours=6, user=alice)
    entry = only(start)
    assert (entry.action, entry.changes) == (
        "stage.update", {"drift_check_hours": {"before": None, "after": 6}},
    )  # fmt: skip


def test_applying_a_project_file_records_each_change_and_the_apply(
    acme: Project, alice: Any
) -> None:
    project_services.agent_create(project=acme, user=alice, data={"name": "a"})
    text = project_file.export_text(acme).replace("acme", "beta")
    start = last_id()
    project_file.apply(project_file=pf.parse(text), user=alice, prune=False)
    entries = recorded(start)
    assert [e.action for e in entries] == ["project.create", "node.create", "file.apply"]
    assert {e.project_name for e in entries} == {"beta"}


def test_entries_cannot_be_changed_or_deleted_through_the_app(acme: Project) -> None:
    entry = AuditEntry.objects.first()
    assert entry is not None
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_a_change_made_through_a_page_says_web_and_the_address(alice: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(alice)
    client.post("/", {"name": "acme", "description": ""})
    entry = AuditEntry.objects.get(action="project.create")
    assert (entry.source, entry.address, entry.actor_name) == ("web", "203.0.113.7", "alice")


def test_entries_outlive_their_project(acme: Project, alice: Any) -> None:
    project_services.project_delete(project=acme, user=alice)
    assert AuditEntry.objects.filter(project_name="acme").count() == 2
    assert AuditEntry.objects.latest("id").action == "project.delete"
    assert Project.with_deleted.filter(name="acme").exists()
    assert Membership.objects.filter(project=acme).count() == 0
