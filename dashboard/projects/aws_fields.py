"""Checks for every value that becomes part of an AWS name, ARN, tag or policy, or a URL.

Each `clean_*` returns the normalised value or raises `ValueError` with a message a form
shows next to the field. Patterns follow the AWS API references (IAM role and policy
ARNs, STS external ids, access key ids); regions come from botocore's own endpoint data.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import boto3

PARTITION = r"arn:aws(?:-cn|-us-gov)?"
ROLE_ARN = re.compile(PARTITION + r":iam::\d{12}:role/(?:[\w+=,.@-]{1,64}/){0,16}[\w+=,.@-]{1,64}$")
POLICY_ARN = re.compile(
    PARTITION + r":iam::(?:\d{12}|aws):policy/(?:[\w+=,.@-]{1,128}/){0,16}[\w+=,.@-]{1,128}$"
)
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
ACCESS_KEY_ID = re.compile(r"^(?:AKIA|ASIA)[A-Z0-9]{12,124}$")
SECRET_ACCESS_KEY = re.compile(r"^[A-Za-z0-9/+=]{40}$")
_BLOCKED_HOSTS = ("localhost", "metadata", "metadata.google.internal", "instance-data")
_BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


@lru_cache(maxsize=1)
def regions() -> tuple[str, ...]:
    """Every region where Lambda runs, per botocore's bundled endpoint data (no network)."""
    session = boto3.session.Session()
    found: set[str] = set()
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        found.update(session.get_available_regions("lambda", partition_name=partition))
    return tuple(sorted(found))


def clean_region(value: str) -> str:
    text = (value or "").strip()
    if text not in regions():
        raise ValueError(f"{text[:40]!r} is not an AWS region where Lambda runs")
    return text


def clean_role_arn(value: str) -> str:
    text = (value or "").strip()
    if text and (len(text) > 2048 or not ROLE_ARN.match(text)):
        raise ValueError("must be an IAM role ARN like arn:aws:iam::123456789012:role/deployer")
    return text


def clean_external_id(value: str) -> str:
    text = (value or "").strip()
    if text and not EXTERNAL_ID.fullmatch(text):
        raise ValueError("2-1224 characters: letters, digits and _+=,.@:/-")
    return text


def clean_policy_arn(value: str) -> str:
    text = (value or "").strip()
    if text and (len(text) > 2048 or not POLICY_ARN.match(text)):
        raise ValueError("must be an IAM policy ARN like arn:aws:iam::123456789012:policy/boundary")
    return text


def clean_access_key_id(value: str) -> str:
    text = (value or "").strip()
    if text and not ACCESS_KEY_ID.fullmatch(text):
        raise ValueError("an access key id starts with AKIA or ASIA: 16-128 capitals and digits")
    return text


def clean_secret_access_key(value: str) -> str:
    text = (value or "").strip()
    if text and not SECRET_ACCESS_KEY.fullmatch(text):
        raise ValueError("a secret access key is 40 characters of letters, digits, / + =")
    return text


def clean_public_url(value: str, *, schemes: tuple[str, ...] = ("https", "http")) -> str:
    """A URL whose host is a public name or address: never loopback, link-local
    (169.254.169.254, the instance metadata service), private or reserved."""
    text = (value or "").strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"{text[:60]!r} is not a URL") from None
    if parts.scheme not in schemes or not host:
        raise ValueError(f"{text[:60]!r} is not a {' or '.join(schemes)} URL with a host")
    if parts.username or parts.password:
        raise ValueError("a URL must not carry a user name or password")
    if not is_public_host(host):
        raise ValueError(f"{host} is a private, loopback or link-local address")
    return text


def is_public_host(host: str) -> bool:
    if host in _BLOCKED_HOSTS or host.endswith(_BLOCKED_SUFFIXES):
        return False
    address = _as_address(host)
    if address is None:
        return True
    return address.is_global and not address.is_multicast


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return _legacy_ipv4(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Forms browsers and curl still accept: 2852039166, 0xa9fea9fe, 0251.0376.0251.0376."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    try:
        numbers = [int(p, 0) if not (len(p) > 1 and p[0] == "0" and p[1].isdigit()) else int(p, 8)
                   for p in parts]  # fmt: skip
    except ValueError:
        return None
    value = 0
    for number in numbers[:-1]:
        if not 0 <= number <= 255:
            return None
        value = value * 256 + number
    last_bits = 8 * (5 - len(numbers))
    if not 0 <= numbers[-1] < 2**last_bits:
        return None
    return ipaddress.IPv4Address((value << last_bits) | numbers[-1])
