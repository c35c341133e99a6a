"""CIDR arithmetic for a stage's VPC: checks, subnet sizes and the subnets carved from a block."""

from __future__ import annotations

import ipaddress
import math

MIN_PREFIX, MAX_PREFIX = 16, 28


def cidr_problems(cidr: str) -> list[str]:
    """Why a VPC CIDR would be refused (empty when it is fine)."""
    try:
        net = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        return [f"{cidr!r} is not a valid IPv4 CIDR ({exc})"]
    if not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
        return [f"{cidr}: a VPC CIDR must be between /{MIN_PREFIX} and /{MAX_PREFIX}"]
    if not (net.is_private or net.subnet_of(ipaddress.IPv4Network("100.64.0.0/10"))):
        return [f"{cidr} is not a private range (10/8, 172.16/12, 192.168/16, 100.64/10)"]
    return []


def subnet_prefix(vpc_prefix: int, count: int) -> int:
    """Equal subnets: the smallest power of two of slots holding `count`."""
    return vpc_prefix + max(1, math.ceil(math.log2(max(count, 1))))


def carve_subnets(cidr: str, count: int, prefix_length: int | None = None) -> list[str]:
    net = ipaddress.ip_network(cidr)
    prefix = prefix_length or subnet_prefix(net.prefixlen, count)
    if prefix > MAX_PREFIX:
        raise ValueError(f"{cidr} is too small for {count} subnets of at least /{MAX_PREFIX}")
    subnets = net.subnets(new_prefix=prefix)
    return [str(next(subnets)) for _ in range(count)]
