"""Sending one notification over the wire: signed webhooks, Slack's body, email.

Outbound URLs are user input, so the server must not become a way into its own network:
a URL is checked when a channel is saved (`clean_url`), and at send time its host is
resolved once, every address checked, and the connection made to the checked address
itself, so a name that resolves elsewhere a moment later (DNS rebinding) changes nothing.
`STRANDS_WEBHOOKS_ALLOW_PRIVATE=1` lifts both checks, for receivers on the operator's own
network (and the tests' local receiver).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail

from dashboard.projects.aws_fields import clean_public_url, is_public_host

SIGNATURE_HEADER = "X-Strands-Signature"
TIMEOUT_S = 10.0
USER_AGENT = "strands-deploy-notifications/1"


class SendError(Exception):
    """A delivery that did not arrive; `retry` says whether trying again can help."""

    def __init__(self, message: str, *, status_code: int | None = None, retry: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry = retry


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def clean_url(value: str) -> str:
    """An http(s) URL a channel may post to; ValueError says why not."""
    if private_allowed():
        return clean_public_url(value) if _is_public(value) else _plain_http_url(value)
    return clean_public_url(value)


def _is_public(value: str) -> bool:
    try:
        return is_public_host((urlsplit(value.strip()).hostname or "").lower())
    except ValueError:
        return True  # let the full check say what is wrong with it


def _plain_http_url(value: str) -> str:
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{text[:60]!r} is not a https or http URL with a host")
    return text


# --- signing ---------------------------------------------------------------------------------
def signature(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`: the time is signed too, so a receiver
    can refuse an old delivery replayed at it."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    return {"text": str(payload.get("text") or payload.get("event") or "")}


# --- sending ---------------------------------------------------------------------------------
def post_webhook(url: str, payload: dict[str, Any], *, secret: str) -> int:
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {SIGNATURE_HEADER: signature(secret, body, int(time.time()))}
    return post_json(url, body, headers)


def post_slack(url: str, payload: dict[str, Any]) -> int:
    return post_json(url, json.dumps(slack_body(payload)).encode(), {})


def send_email(addresses: Sequence[str], payload: dict[str, Any]) -> None:
    subject = f"[strands-deploy] {payload.get('text') or payload.get('event')}"[:200]
    body = json.dumps(payload, indent=2, sort_keys=True)
    try:
        send_mail(subject, body, None, list(addresses), fail_silently=False)
    except (OSError, ValueError) as exc:
        raise SendError(f"the mail server refused it: {exc}") from exc


def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code; SendError for anything but 2xx."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_checked(host, port)
    connection = _connection(parts.scheme, host, port, address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    try:
        connection.request("POST", path, body=body, headers=all_headers)
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        raise SendError(f"could not reach {host}: {exc}") from exc
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    # A 4xx other than "too many"/"timeout" will answer the same next time.
    retry = status >= 500 or status in (408, 429)
    raise SendError(f"{host} answered {status}", status_code=status, retry=retry)


def resolve_checked(host: str, port: int) -> str:
    """The address to connect to: every address the name has must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise SendError(f"cannot resolve {host}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise SendError(f"{host} has no address")
    if not private_allowed():
        private = [a for a in addresses if not _global(a)]
        if private:
            raise SendError(
                f"{host} resolves to {private[0]}, a private, loopback or link-local address: "
                "refused (an operator may allow it with STRANDS_WEBHOOKS_ALLOW_PRIVATE=1)",
                retry=False,
            )
    return addresses[0]


def _global(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while the request names the host."""

    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=TIMEOUT_S)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=TIMEOUT_S, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the name, not the address we pinned.
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _connection(scheme: str, host: str, port: int, address: str) -> http.client.HTTPConnection:
    if scheme == "https":
        return _PinnedHTTPSConnection(host, port, address)
    return _PinnedHTTPConnection(host, port, address)
