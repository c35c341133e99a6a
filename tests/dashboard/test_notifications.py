"""Notifications: signed webhooks, Slack and email, their retries and their delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dramatiq
import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from dashboard.audit.models import AuditEntry
from dashboard.notifications import actors as notification_actors  # noqa: F401 - registers it
from dashboard.notifications import dispatch, services
from dashboard.notifications.models import Attempt, Channel, Delivery
from dashboard.projects.models import Project
from dashboard.runs import actors, lifecycle
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from tests.dashboard.api_fixtures import ApiClient, personal


class Receiver:
    """A local HTTP endpoint that records each POST and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int = 1, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"received {len(self.received)} of {count}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def local_receivers_allowed(settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def _empty_queue() -> Iterator[None]:
    yield
    dramatiq.get_broker().flush_all()  # no test leaves messages for the next one's worker


def owner_page(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def add_channel(client: Client, project: Project, **fields: Any) -> Any:
    data = {"name": "ops", "kind": "webhook", "events": ["run.succeeded", "run.failed"]}
    return client.post(f"/projects/{project.name}/notifications/", {**data, **fields})


def running_deploy(project: Project) -> Deployment:
    deployment = run_services.deployment_start(
        stage=project.stages.get(), kind="deploy", user=None, enqueue=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(status="RUNNING")
    deployment.refresh_from_db()
    return deployment


def try_until_done(delivery: Delivery) -> None:
    """What the actor does, without the waits between tries."""
    while services.delivery_attempt(delivery_id=delivery.pk) is not None:
        pass


def shown_secret(page: str) -> str:
    found = re.search(r"<code class=\"token-secret\" data-secret>([^<]+)</code>", page)
    assert found, "the new channel's secret is not on the page"
    return found.group(1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not django_settings.EMBEDDED, reason="embedded mode only (REDIS_URL unset)")
def test_a_run_end_reaches_a_webhook_signed_with_the_secret_shown_once(
    acme: Project, alice: Any, receiver: Receiver, local_receivers_allowed: None, settings: Any
) -> None:
    # Given an owner adds a webhook and copies the secret the page shows once
    page = owner_page(alice)
    made = add_channel(page, acme, url=receiver.url)
    secret = shown_secret(made.content.decode())
    assert secret not in page.get(f"/projects/{acme.name}/notifications/").content.decode()
    settings.EMBEDDED_WORKER_THREADS = 1
    deployment = running_deploy(acme)

    # when the deploy ends, with the worker threads running
    actors.start_embedded_worker()
    try:
        lifecycle.finish(deployment, lifecycle.Outcome(Deployment.Status.SUCCEEDED))
        receiver.wait()
    finally:
        actors.stop_embedded_worker()

    # then the receiver got the event, and the signature checks out with that secret
    headers, body = receiver.received[0]
    signed = dict(part.split("=", 1) for part in headers["X-Strands-Signature"].split(","))
    stamp, digest = signed["t"], signed["v1"]
    assert abs(int(time.time()) - int(stamp)) < 60
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(digest, expected.hexdigest())
    event = json.loads(body)
    assert event["event"] == "run.succeeded" and event["data"]["run"] == deployment.pk
    assert "acme/dev succeeded" in event["text"]
    # and the page's log shows the delivery: the event, attempt 1, the receiver's 200
    log = page.get(f"/projects/{acme.name}/notifications/").content.decode()
    assert re.search(r"run\.succeeded</td>\s*<td>1</td>\s*<td>200", log), log


@pytest.mark.django_db
def test_a_private_address_is_refused_when_saved(acme: Project, alice: Any) -> None:
    page = owner_page(alice)

    for url in ("http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://10.0.0.5/"):
        answer = add_channel(page, acme, url=url)

        assert answer.status_code == 400
        assert "private, loopback or link-local" in answer.content.decode()
    assert not Channel.objects.filter(project=acme).exists()


@pytest.mark.django_db
def test_a_name_that_resolves_to_a_private_address_is_refused_at_send(
    acme: Project, alice: Any, settings: Any, receiver: Receiver
) -> None:
    # Given a channel saved while private receivers were allowed (or a name that later
    # resolved elsewhere: "localhost" passes no check of its own at send time) ...
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    url = receiver.url.replace("127.0.0.1", "localhost")
    channel = services.channel_create(
        project=acme, user=alice, name="ops", kind="webhook", events=["run.failed"], url=url
    ).channel
    # ... when it is sent with private addresses refused
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    delivery = services.channel_send_test(channel=channel, user=alice)
    try_until_done(delivery)

    # then nothing left, in one try (trying again cannot help), and the log says why
    delivery.refresh_from_db()
    assert receiver.received == []
    assert (delivery.status, delivery.attempts) == ("FAILED", 1)
    assert "private, loopback or link-local" in Attempt.objects.get(delivery=delivery).error


@pytest.mark.django_db
def test_retries_stop_at_the_bound_and_the_log_shows_each_try(
    acme: Project, alice: Any, receiver: Receiver, local_receivers_allowed: None, settings: Any
) -> None:
    settings.NOTIFICATION_ATTEMPTS = 3
    receiver.status = 503
    channel = services.channel_create(
        project=acme,
        user=alice,
        name="ops",
        kind="webhook",
        events=["run.failed"],
        url=receiver.url,
    ).channel

    delivery = services.channel_send_test(channel=channel, user=alice)
    waits = []
    while (wait := services.delivery_attempt(delivery_id=delivery.pk)) is not None:
        waits.append(wait)

    delivery.refresh_from_db()
    assert len(receiver.received) == 3
    assert waits == [services.backoff_s(1), services.backoff_s(2)] and waits[1] == 2 * waits[0]
    assert (delivery.status, delivery.attempts) == ("FAILED", 3)
    page = owner_page(alice).get(f"/projects/{acme.name}/notifications/").content.decode()
    for number in (1, 2, 3):
        assert re.search(rf"<td>test</td>\s*<td>{number}</td>\s*<td>503", page)
    assert services.delivery_attempt(delivery_id=delivery.pk) is None  # a late copy: nothing
    assert len(receiver.received) == 3


@pytest.mark.django_db
def test_a_failed_run_is_emailed_to_the_channel_addresses(
    acme: Project, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    services.channel_create(
        project=acme,
        user=alice,
        name="team",
        kind="email",
        events=["run.failed"],
        addresses=["ops@example.com", "dev@example.com"],
    )
    deployment = running_deploy(acme)

    lifecycle.finish(deployment, lifecycle.Outcome(Deployment.Status.FAILED, error="quota"))
    try_until_done(Delivery.objects.get(channel__name="team"))

    [message] = mail.outbox
    assert message.to == ["ops@example.com", "dev@example.com"]
    assert "deploy of acme/dev failed: quota" in message.subject


@pytest.mark.django_db
def test_slack_gets_text_and_its_url_is_never_shown_again(
    acme: Project, alice: Any, receiver: Receiver, local_receivers_allowed: None
) -> None:
    slack_url = receiver.url + "/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
    page = owner_page(alice)
    add_channel(page, acme, name="slack", kind="slack", url=slack_url, events=["drift.found"])
    channel = Channel.objects.get(name="slack")

    try_until_done(services.channel_send_test(channel=channel, user=alice))

    [(_headers, body)] = receiver.received
    assert json.loads(body) == {"text": "test notification from acme to slack"}
    html = page.get(f"/projects/{acme.name}/notifications/").content.decode()
    assert "XXXXXXXXXXXXXXXXXXXXXXXX" not in html and "127.0.0.1" in html
    api = ApiClient(personal(alice))
    listed = api.get(f"/api/projects/{acme.name}/notifications").content.decode()
    assert "XXXXXXXXXXXXXXXXXXXXXXXX" not in listed


@pytest.mark.django_db
def test_the_api_shows_a_webhook_secret_in_the_answer_that_made_it_only(
    acme: Project, alice: Any, local_receivers_allowed: None
) -> None:
    api = ApiClient(personal(alice))
    base = f"/api/projects/{acme.name}/notifications"

    made = api.post(base, {"name": "ci", "kind": "webhook", "events": ["run.started"],
                           "url": "https://hooks.example.com/x"})  # fmt: skip
    secret = made.json()["secret"]
    channel_id = made.json()["id"]
    api.post(f"{base}/{channel_id}/test")

    assert made.status_code == 201 and secret.startswith("whsec_")
    for answer in (api.get(base), api.get(f"{base}/{channel_id}/deliveries")):
        assert answer.status_code == 200 and secret not in answer.content.decode()
    assert [d["event"] for d in api.get(f"{base}/{channel_id}/deliveries").json()] == ["test"]
    assert secret not in json.dumps(list(Delivery.objects.values("payload")))
    assert api.delete(f"{base}/{channel_id}").status_code == 204
    assert api.get(base).json() == []


@pytest.mark.django_db
def test_a_run_start_is_sent_only_to_channels_subscribed_to_it(
    acme: Project, alice: Any, local_receivers_allowed: None
) -> None:
    url = "https://hooks.example.com/x"
    for name, events in (("starts", ["run.started"]), ("ends", ["run.succeeded"])):
        services.channel_create(
            project=acme, user=alice, name=name, kind="webhook", events=events, url=url
        )

    running_deploy(acme)

    assert [d.channel.name for d in Delivery.objects.all()] == ["starts"]
    assert dispatch.RUN_KINDS  # plans and refreshes have events of their own


@pytest.mark.django_db
def test_drift_found_and_a_plan_awaiting_approval_are_their_own_events(
    acme: Project, alice: Any, local_receivers_allowed: None
) -> None:
    events = ["drift.found", "approval.requested", "run.succeeded"]
    services.channel_create(
        project=acme, user=alice, name="ops", kind="webhook", events=events, url="https://h.io/x"
    )
    stage = acme.stages.get()
    stage.protected = True
    stage.save(update_fields=["protected"])
    drift = [
        {"logical_id": "TableOrders", "status": "drifted"},
        {"logical_id": "QueueJobs", "status": "in_sync"},
    ]
    for kind, plan in (("refresh", {"drift": drift}), ("plan", {})):
        run = Deployment.objects.create(
            stage=stage, project=acme, project_name="acme", stage_name="dev", kind=kind,
            status="RUNNING", blueprint={},
        )  # fmt: skip
        lifecycle.finish(run, lifecycle.Outcome(Deployment.Status.SUCCEEDED, plan=plan))

    sent = {d.event: d.payload for d in Delivery.objects.all()}
    assert set(sent) == {"drift.found", "approval.requested"}  # neither is a deploy's success
    assert sent["drift.found"]["data"]["resources"] == [
        {"logical_id": "TableOrders", "status": "drifted"}
    ]
    assert "awaits an owner's approval" in sent["approval.requested"]["text"]


def test_channel_writes_are_audited_without_their_secrets(acme: Project, alice: Any) -> None:
    hook = "https://hooks.slack.com/services/T000/B000/very-secret-part"
    slack = services.channel_create(
        project=acme, user=alice, name="team", kind="slack", events=["run.failed"], url=hook
    )
    services.channel_delete(channel=slack.channel, user=alice)

    entries = AuditEntry.objects.filter(project=acme, action__startswith="notification.")
    assert [e.action for e in entries.order_by("id")] == [
        "notification.create",
        "notification.delete",
    ]
    recorded = json.dumps([e.changes for e in entries])
    assert "very-secret-part" not in recorded and "hooks.slack.com" in recorded
