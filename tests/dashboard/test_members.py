"""Members: owners invite and change roles; the last owner stays; a removed or logged-out
member's open websocket stops receiving; log-in attempts are rate-limited."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from dashboard.access import services as access_services
from dashboard.access.models import Membership
from dashboard.projects.models import Project
from dashboard.runs import services as run_services
from dashboard.runs.models import Deployment
from dashboard.runs.progress import DbProgressSink
from provisioning.events import Event, EventStatus


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _membership(project: Project, user: Any) -> Membership:
    return Membership.objects.get(project=project, user=user)


@pytest.mark.django_db
def test_an_owner_invites_an_existing_user_who_then_sees_the_project(
    acme: Project, alice: Any, bob: Any
) -> None:
    owner = _login(alice)

    unknown = owner.post(
        reverse("member_list", args=["acme"]), {"username": "nobody", "role": "viewer"}
    )
    invited = owner.post(
        reverse("member_list", args=["acme"]), {"username": "bob", "role": "deployer"}
    )

    assert unknown.status_code == 400 and b"there is no user named" in unknown.content
    assert invited.status_code == 302
    assert _membership(acme, bob).role == "deployer"
    page = _login(bob).get(reverse("member_list", args=["acme"]))
    assert page.status_code == 200 and b"alice" in page.content and b"Invite" not in page.content


@pytest.mark.django_db
def test_a_project_of_one_says_so_and_points_its_owner_to_the_invite(
    acme: Project, alice: Any, bob: Any
) -> None:
    alone = _login(alice).get(reverse("member_list", args=["acme"])).content.decode()
    Membership.objects.create(project=acme, user=bob, role="viewer")
    shared = _login(alice).get(reverse("member_list", args=["acme"])).content.decode()

    assert "Only you so far." in alone and 'href="#invite-form"' in alone
    assert 'id="invite-form"' in alone
    assert "Only you so far." not in shared


@pytest.mark.django_db
def test_a_viewer_cannot_invite_or_change_roles(acme: Project, alice: Any, bob: Any) -> None:
    Membership.objects.create(project=acme, user=bob, role="viewer")
    viewer = _login(bob)

    invite = viewer.post(
        reverse("member_list", args=["acme"]), {"username": "bob", "role": "owner"}
    )
    promote = viewer.post(
        reverse("member_role", args=["acme", _membership(acme, bob).pk]), {"role": "owner"}
    )

    assert (invite.status_code, promote.status_code) == (403, 403)
    assert _membership(acme, bob).role == "viewer"


@pytest.mark.django_db
def test_the_last_owner_can_neither_be_demoted_nor_leave(
    acme: Project, alice: Any, bob: Any
) -> None:
    owner = _login(alice)
    mine = _membership(acme, alice)

    demote = owner.post(
        reverse("member_role", args=["acme", mine.pk]), {"role": "viewer"}, follow=True
    )
    leave = owner.post(reverse("member_remove", args=["acme", mine.pk]), follow=True)

    assert b"the last owner cannot be demoted" in demote.content
    assert b"the last owner cannot leave" in leave.content
    assert _membership(acme, alice).role == "owner"

    # With a second owner, the first may step down.
    access_services.member_invite(project=acme, user=alice, username="bob", role="owner")
    owner.post(reverse("member_role", args=["acme", mine.pk]), {"role": "viewer"})
    assert _membership(acme, alice).role == "viewer"


@pytest.mark.django_db
def test_a_member_may_leave_but_not_remove_others(acme: Project, alice: Any, bob: Any) -> None:
    Membership.objects.create(project=acme, user=bob, role="deployer")

    with pytest.raises(PermissionDenied):
        access_services.member_remove(membership=_membership(acme, alice), user=bob)
    left = _login(bob).post(reverse("member_remove", args=["acme", _membership(acme, bob).pk]))

    assert left.status_code == 302 and left["Location"] == reverse("project_list")
    assert not Membership.objects.filter(project=acme, user=bob).exists()
    assert _login(bob).get(reverse("project_detail", args=["acme"])).status_code == 404


# --- open websockets ------------------------------------------------------------------------
def _event(n: int) -> Event:
    return Event(f"agent/a{n}/function", "lambda:function", "CREATE", EventStatus.SUCCEEDED, "", n)


@pytest.fixture
def running(acme: Project, alice: Any) -> Deployment:
    deployment = run_services.deployment_start(
        stage=acme.stages.get(), kind="plan", user=alice, enqueue=False
    )
    Deployment.objects.filter(pk=deployment.pk).update(status="RUNNING")
    return deployment


def _socket(deployment: Deployment, client: Client) -> WebsocketCommunicator:
    from dashboard.asgi import application

    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
    return WebsocketCommunicator(application, f"/ws/deployments/{deployment.pk}/", headers=headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["removed", "logged out"])
def test_a_removed_or_logged_out_members_socket_stops_receiving(
    how: str, running: Deployment, acme: Project, alice: Any, bob: Any, settings: Any
) -> None:
    settings.WEBSOCKET_ACCESS_RECHECK_S = 0.3
    Membership.objects.create(project=acme, user=bob, role="viewer")
    client = _login(bob)
    sink = DbProgressSink(running)

    async def scenario() -> None:
        socket = _socket(running, client)
        assert (await socket.connect())[0]
        await database_sync_to_async(sink.emit)(_event(1))
        assert (await socket.receive_json_from(timeout=5))["seq"] == 1
        if how == "removed":
            await database_sync_to_async(Membership.objects.filter(project=acme, user=bob).delete)()
        else:
            await database_sync_to_async(client.post)(reverse("logout"))
        closed = await socket.receive_output(timeout=3)
        await database_sync_to_async(sink.emit)(_event(2))
        assert closed == {"type": "websocket.close", "code": 4403}
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()

    async_to_sync(scenario)()


# --- log in ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_log_in_attempts_are_limited_per_user_and_address(alice: Any, bob: Any) -> None:
    cache.clear()
    client = Client()
    url = reverse("login")
    wrong = [client.post(url, {"username": "alice", "password": "nope"}) for _ in range(5)]

    blocked = client.post(url, {"username": "alice", "password": "alice-password-1"})
    other = client.post(url, {"username": "bob", "password": "bob-password-1"})

    assert [r.status_code for r in wrong] == [200] * 5
    assert blocked.status_code == 429
    assert b"Too many failed log-in attempts" in blocked.content
    assert other.status_code == 302  # another account from the same address still gets in
    cache.clear()
