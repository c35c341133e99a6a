"""How fast the history pages answer with 10,000 deployments and a million events.

    python bench/history.py                       # SQLite in a temporary directory
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_history python bench/history.py
    python bench/history.py --deployments 10000 --events-per-run 100 --keep

Seeds N deployments over 10 projects x 2 stages (mixed kinds, statuses and users) and
~events-per-run events each with bulk_create in batches, then times the pages through
Django's test client (the whole request: URL routing, auth, query, template). Target:
every page under 100 ms. With PostgreSQL the database named in DATABASE_URL is emptied.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("DATABASE_URL"):
    os.environ["STRANDS_VAR_DIR"] = os.environ.get("BENCH_DIR") or tempfile.mkdtemp()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from dashboard.access.models import Membership  # noqa: E402
from dashboard.projects.models import Project, Stage  # noqa: E402
from dashboard.runs.models import Deployment, DeploymentEvent  # noqa: E402

PROJECTS = 10
KINDS = ("deploy", "plan", "deploy", "refresh", "destroy")
STATUSES = ("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED", "CANCELLED")
USERS = ("alice", "bob", "carol", "dave")
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def schema() -> None:
    # Build tables straight from the models, like pytest --nomigrations: a bench must not
    # depend on the migration graph being merged.
    settings.MIGRATION_MODULES = {"dashboard": None}
    for app in ("contenttypes", "auth", "sessions", "admin"):
        call_command("migrate", app, verbosity=0)  # first: the dashboard's tables refer to them
    call_command("migrate", run_syncdb=True, verbosity=0)
    DeploymentEvent._base_manager.all()._raw_delete(DeploymentEvent._base_manager.db)
    Deployment._base_manager.all()._raw_delete(Deployment._base_manager.db)


def seed(runs: int, events_per_run: int, batch: int) -> tuple[Any, Project]:
    user_model = get_user_model()
    alice = user_model.objects.filter(username="alice").first() or user_model.objects.create_user(
        "alice", password="bench-password-1"
    )
    projects = []
    for i in range(PROJECTS):
        project, _ = Project.objects.get_or_create(name=f"bench-{i}")
        for name in ("dev", "prod"):
            Stage.objects.get_or_create(project=project, name=name)
        Membership.objects.get_or_create(project=project, user=alice, defaults={"role": "owner"})
        projects.append(project)
    stages = list(Stage.objects.filter(project__in=projects).select_related("project"))
    started = time.perf_counter()
    rows = []
    for n in range(runs):
        stage = stages[n % len(stages)]
        at = T0 + timedelta(minutes=7 * n)
        kind = KINDS[n % len(KINDS)]
        rows.append(
            Deployment(
                stage=stage,
                project=stage.project,
                project_name=stage.project.name,
                stage_name=stage.name,
                kind=kind,
                status=STATUSES[(n // 5) % len(STATUSES)],
                triggered_by_name=USERS[n % len(USERS)],
                counts={"succeeded": 40, "failed": 0, "skipped": 0, "unchanged": 30, "total": 70},
                plan={"summary": {"CREATE": 3, "UPDATE": 1}} if kind == "plan" else {},
                started_at=at,
                finished_at=at + timedelta(seconds=42),
            )
        )
    Deployment.objects.bulk_create(rows, batch_size=batch)
    # created_at is auto_now_add: spread the runs over time (seed data, written in SQL)
    ids = list(Deployment._base_manager.order_by("id").values_list("id", flat=True))
    _spread_created_at(ids)
    seeded_runs = time.perf_counter() - started
    started = time.perf_counter()
    events: list[DeploymentEvent] = []
    total = 0
    for n, pk in enumerate(ids):
        at = T0 + timedelta(minutes=7 * n)
        for seq in range(1, events_per_run + 1):
            events.append(
                DeploymentEvent(
                    deployment_id=pk,
                    seq=seq,
                    at=at + timedelta(milliseconds=300 * seq),
                    resource=f"agent/a{seq // 2}/function",
                    type="lambda:function",
                    action="CREATE",
                    status="started" if seq % 2 else "succeeded",
                    message="",
                    elapsed_ms=None if seq % 2 else 300,
                )
            )
        if len(events) >= batch:
            DeploymentEvent.objects.bulk_create(events, batch_size=batch)
            total += len(events)
            events = []
    if events:
        DeploymentEvent.objects.bulk_create(events, batch_size=batch)
        total += len(events)
    print(
        f"seeded {len(ids):,} deployments in {seeded_runs:.1f} s, "
        f"{total:,} events in {time.perf_counter() - started:.1f} s"
    )
    return alice, projects[0]


def _spread_created_at(ids: list[int]) -> None:
    """One UPDATE: created_at = T0 + 7 minutes x rank (the bench's own seed, not the app's)."""
    table = Deployment._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET created_at = %s + (id - %s) * interval '7 minutes'",
                [T0, ids[0]],
            )
        else:
            cursor.execute(f"SELECT id FROM {table} ORDER BY id")
            for pk in [row[0] for row in cursor.fetchall()]:
                moment = T0 + timedelta(minutes=7 * (pk - ids[0]))
                cursor.execute(f"UPDATE {table} SET created_at = %s WHERE id = %s", [moment, pk])


def timed(client: Client, url: str, repeat: int) -> tuple[float, float, int, str]:
    client.get(url)  # warm the template and query caches
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        took.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    return statistics.median(took), max(took), len(queries), page


def deep_cursor(client: Client, url: str, pages: int) -> str:
    """The `older=` link after following `pages` pages: a page deep in the history."""
    import html
    import re
    from urllib.parse import unquote

    link = url
    for _ in range(pages):
        page = client.get(link).content.decode()
        found = re.search(r'href="([^"]*older=[^"]+)"', page)
        if not found:
            break
        link = unquote(html.unescape(found.group(1)))
    return link


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--events-per-run", type=int, default=100)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse what an earlier run seeded")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    if not (args.keep and Deployment._base_manager.exists()):
        schema()
        alice, project = seed(args.deployments, args.events_per_run, args.batch)
    else:
        alice = get_user_model().objects.get(username="alice")
        project = Project.objects.get(name="bench-0")
    client = Client()
    client.force_login(alice)
    history = reverse("deployment_history", args=[project.name])
    sample = Deployment._base_manager.filter(project=project, kind="deploy").first()
    assert sample is not None
    pages = {
        "project history, first page": history,
        "project history, 50 pages deep": deep_cursor(client, history, 50),
        "project history, status=FAILED": history + "?status=FAILED",
        "project history, user+kind+dates": history
        + "?user=bob&kind=deploy&since=2025-01-10&until=2025-02-10",
        "all projects, first page": reverse("history_all"),
        "all projects, kind=refresh": reverse("history_all") + "?kind=refresh",
        "deployment page (100 events)": reverse("deployment_detail", args=[sample.pk]),
    }
    print(
        f"{Deployment._base_manager.count():,} deployments, "
        f"{DeploymentEvent._base_manager.count():,} events on {connection.vendor}"
    )
    print(f"{'page':<36} {'median':>9} {'max':>9} {'queries':>8}")
    for name, url in pages.items():
        median, worst, queries, _page = timed(client, url, args.repeat)
        flag = "" if median < 100 else "  over 100 ms"
        print(f"{name:<36} {median:>7.1f} ms {worst:>6.1f} ms {queries:>8}{flag}")


if __name__ == "__main__":
    main()
