"""VPC networking: VPC, subnets, internet and NAT gateways, route tables, VPC endpoints."""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
