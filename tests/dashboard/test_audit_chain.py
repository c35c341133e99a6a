"""`manage.py audit verify`: intact on a clean history; an edited, deleted or forged row is
named. Appends from two threads at once keep one chain (PostgreSQL, where writers run in
parallel; SQLite lets one writer at a time, so there is nothing to race)."""

from __future__ import annotations

import io
import threading
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from dashboard.audit import services as audit_log
from dashboard.audit.models import GENESIS, AuditEntry
from dashboard.projects import services as project_services
from dashboard.projects.models import Project

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        verify(*args)
    assert caught.value.returncode == 1
    return str(caught.value)


@pytest.fixture
def history(acme: Project, alice: Any) -> list[AuditEntry]:
    """Five entries: acme created, then four agents."""
    for name in ("a", "b", "c", "d"):
        project_services.agent_create(project=acme, user=alice, data={"name": name})
    return list(AuditEntry.objects.order_by("id"))


def test_a_clean_history_is_intact(history: list[AuditEntry]) -> None:
    assert verify() == "5 entries, chain intact\n"
    assert history[0].prev_hash == GENESIS
    assert all(e.prev_hash == p.hash for p, e in pairwise(history))


def test_an_edited_row_is_named(history: list[AuditEntry]) -> None:
    edited = history[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_auditentry SET changes = %s WHERE id = %s", ['{"name": 1}', edited.pk]
        )
    message = refused()
    assert f"entry #{edited.pk} (" in message and "node.create" in message
    assert "does not match its hash" in message and "2 entries" in message


def test_a_deleted_row_is_found_at_the_entry_after_it(history: list[AuditEntry]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_auditentry WHERE id = %s", [history[2].pk])
    message = refused()
    assert f"entry #{history[3].pk} (" in message and "does not follow" in message


def test_an_inserted_row_with_a_forged_hash_is_named(history: list[AuditEntry]) -> None:
    head = history[-1]
    forged = AuditEntry(
        at=head.at, actor_name="mallory", source="web", project_name="acme",
        action="member.invite", target="mallory", prev_hash=head.hash, hash="f" * 64,
    )  # fmt: skip
    forged.save()
    message = refused()
    assert f"entry #{forged.pk} (" in message and "member.invite" in message


def test_a_row_rewritten_with_a_recomputed_hash_breaks_the_link_after_it(
    history: list[AuditEntry],
) -> None:
    # A forger who replaces a row and recomputes its hash cannot fix the next entry's link.
    original = history[2]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_auditentry WHERE id = %s", [original.pk])
    forged = AuditEntry(
        id=original.pk, at=original.at, actor_name="mallory", source="web",
        project_name="acme", action="node.create", target="agent:x", prev_hash=original.prev_hash,
    )  # fmt: skip
    forged.hash = forged.computed_hash()
    forged.save(force_insert=True)
    message = refused()
    assert f"entry #{history[3].pk} (" in message and "does not follow" in message


def test_verify_for_one_project_counts_its_entries(history: list[AuditEntry], bob: Any) -> None:
    project_services.project_create(name="other", user=bob)
    assert verify("--project", "acme") == "5 entries of acme, chain intact\n"
    assert verify() == "6 entries, chain intact\n"


def test_list_shows_entries_newest_first_as_text_or_json(history: list[AuditEntry]) -> None:
    out = io.StringIO()
    call_command("audit", "list", "--project", "acme", "--action", "node", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "agent:d" in lines[0] and "agent:a" in lines[-1]
    out = io.StringIO()
    call_command("audit", "list", "--json", "--limit", "1", stdout=out)
    assert '"action": "node.create"' in out.getvalue() and '"target": "agent:d"' in out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): SQLite runs one writer at a time",
)
def test_two_writers_at_once_keep_one_chain() -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                with transaction.atomic():
                    audit_log.entry_record(action="test.append", user=None, target=f"{n}-{i}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert verify() == "40 entries, chain intact\n"
    hashes = AuditEntry.objects.values_list("prev_hash", flat=True)
    assert len(set(hashes)) == 40  # no two entries extend the same head
