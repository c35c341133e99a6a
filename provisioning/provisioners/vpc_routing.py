"""Route tables (routes and subnet associations) and VPC endpoints.

ec2:route-table properties:
  name: str, vpc_id: str (Ref)
  routes: [{"destination": "0.0.0.0/0", "gateway_id" | "nat_gateway_id": str (Ref)}]
      only the routes we manage: the VPC's local route and routes gateway endpoints add
      (prefix lists) are left out, and order never matters
  subnet_ids: [str (Ref)]   the subnets associated with this table, in any order
outputs: physical_id (route table id), route_table_id, arn

ec2:vpc-endpoint properties:
  name: str, vpc_id: str (Ref)
  service: str ("s3", "dynamodb", "bedrock-runtime", "logs", ...: com.amazonaws.<region>.<service>)
  endpoint_type: "Gateway" (s3, dynamodb) | "Interface"
  route_table_ids: [str (Ref)]                    Gateway only
  subnet_ids: [str (Ref)], security_group_ids: [str (Ref)], private_dns_enabled: bool
                                                  Interface only
outputs: physical_id (vpce id), vpc_endpoint_id, arn, dns_name
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from provisioning.errors import ProvisioningError, aws_errors, delete_if_present
from provisioning.model.spec import to_jsonable
from provisioning.provisioners.base import Current, Provisioner
from provisioning.provisioners.ec2_common import Ec2Provisioner, code_in, name_of, tags_of
from provisioning.state import RecordedResource

ROUTE_TARGETS = {"GatewayId": "gateway_id", "NatGatewayId": "nat_gateway_id"}
_GONE_ENDPOINT_STATES = {"deleted", "deleting", "failed", "rejected", "expired"}


def sorted_ids(values: Any) -> list[Any]:
    return sorted(values or [], key=lambda v: str(to_jsonable(v)))


def canonical_route(route: Mapping[str, Any]) -> dict[str, Any]:
    destination = route["destination"]
    if isinstance(destination, str):
        destination = str(ipaddress.ip_network(destination, strict=False))
    targets = {k: v for k, v in route.items() if k != "destination" and v is not None}
    return {"destination": destination, **targets}


class RouteTableProvisioner(Ec2Provisioner):
    resource_type = "ec2:route-table"
    noun, tag_type = "route table", "route-table"
    id_key, list_key = "RouteTableIds", "RouteTables"
    not_found_codes = ("InvalidRouteTableID.NotFound",)
    replace_on = {"vpc_id": "a route table cannot move to another VPC"}

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_route_tables(**kwargs)

    def canonical_properties(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        result = dict(properties)
        if "routes" in result:
            routes = [canonical_route(r) for r in result["routes"]]
            result["routes"] = sorted(routes, key=lambda r: str(to_jsonable(r["destination"])))
        if "subnet_ids" in result:
            result["subnet_ids"] = sorted_ids(result["subnet_ids"])
        return result

    def _current(
        self, table: Mapping[str, Any], recorded: RecordedResource | None = None
    ) -> Current:
        table_id = table["RouteTableId"]
        properties = {
            "name": tags_of(table).get("Name", ""),
            "vpc_id": table["VpcId"],
            "routes": self.canonical_properties({"routes": self._routes(table)})["routes"],
            "subnet_ids": sorted(self._associations(table)),
        }
        return Current(properties, self.id_outputs("route_table_id", table_id))

    @staticmethod
    def _routes(table: Mapping[str, Any]) -> list[dict[str, Any]]:
        routes = []
        for route in table.get("Routes", []):
            managed = route.get("Origin", "CreateRoute") == "CreateRoute"
            if not managed or route.get("GatewayId") == "local":
                continue
            if "DestinationCidrBlock" not in route:
                continue  # prefix-list routes belong to gateway endpoints
            targets = {ours: route[key] for key, ours in ROUTE_TARGETS.items() if route.get(key)}
            routes.append({"destination": route["DestinationCidrBlock"], **targets})
        return routes

    @staticmethod
    def _associations(table: Mapping[str, Any]) -> dict[str, str]:
        """subnet id -> association id, for explicit subnet associations."""
        return {
            a["SubnetId"]: a["RouteTableAssociationId"]
            for a in table.get("Associations", [])
            if a.get("SubnetId") and not a.get("Main")
        }

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        made = ec2.create_route_table(
            VpcId=properties["vpc_id"],
            ClientToken=self.client_token(logical_id),
            TagSpecifications=self.tag_specs(logical_id, properties["name"]),
        )
        return dict(made["RouteTable"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        name, wanted = properties["name"], self.canonical_properties(properties)
        table_id = current.outputs["route_table_id"]
        table = self.ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        self._apply_routes(table_id, wanted.get("routes", []), self._routes(table))
        self._apply_associations(table_id, wanted.get("subnet_ids", []), table)
        if tags_of(table).get("Name") != name:
            self.rename(table_id, name)
        return dict(self._current(table).outputs)

    def _apply_routes(
        self, table_id: str, wanted: list[dict[str, Any]], have: list[dict[str, Any]]
    ) -> None:
        want = {r["destination"]: r for r in wanted}
        now = {r["destination"]: canonical_route(r) for r in have}
        for destination, route in want.items():
            targets = {
                aws_key: route[ours] for aws_key, ours in ROUTE_TARGETS.items() if ours in route
            }
            args = {"RouteTableId": table_id, "DestinationCidrBlock": destination, **targets}
            if destination not in now:
                self._create_route(args)
            elif now[destination] != route:
                self.ec2.replace_route(**args)
        for destination in now.keys() - want.keys():
            delete_if_present(
                self.ec2.delete_route,
                "InvalidRoute.NotFound",
                RouteTableId=table_id,
                DestinationCidrBlock=destination,
            )

    def _create_route(self, args: Mapping[str, Any]) -> None:
        try:
            self.ec2.create_route(**args)
        except ClientError as exc:
            if not code_in(exc, "RouteAlreadyExists"):
                raise
            # Made by our own call whose reply was lost, or by someone since we looked:
            # either way it must point where we want.
            self.ec2.replace_route(**args)

    def _apply_associations(
        self, table_id: str, wanted: list[str], table: Mapping[str, Any]
    ) -> None:
        have = self._associations(table)
        for subnet_id in set(wanted) - have.keys():
            self._associate(table_id, subnet_id)
        for subnet_id in have.keys() - set(wanted):
            self._disassociate(have[subnet_id])

    def _associate(self, table_id: str, subnet_id: str) -> None:
        try:
            self.ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
        except ClientError as exc:
            if not code_in(exc, "Resource.AlreadyAssociated"):
                raise
            # In this table already (our own call whose reply was lost) is done; in another
            # table, the subnet is moved rather than the deploy failed.
            filters = [{"Name": "association.subnet-id", "Values": [subnet_id]}]
            for other in self.ec2.describe_route_tables(Filters=filters)["RouteTables"]:
                if other["RouteTableId"] != table_id:
                    self.ec2.replace_route_table_association(
                        AssociationId=self._associations(other)[subnet_id], RouteTableId=table_id
                    )

    def _disassociate(self, association_id: str) -> None:
        delete_if_present(
            self.ec2.disassociate_route_table,
            "InvalidAssociationID.NotFound",
            AssociationId=association_id,
        )

    def destroy(self, recorded: RecordedResource) -> None:
        with aws_errors("deleting", self.what(name_of(recorded, None))):
            table = self._find("", recorded)
            if table is None:
                return
            for association in self._associations(table).values():
                self._disassociate(association)
            self.while_in_use(
                lambda: self.ec2.delete_route_table(RouteTableId=recorded.physical_id)
            )


class VpcEndpointProvisioner(Ec2Provisioner):
    resource_type = "ec2:vpc-endpoint"
    noun, tag_type = "VPC endpoint", "vpc-endpoint"
    id_key, list_key = "VpcEndpointIds", "VpcEndpoints"
    not_found_codes = ("InvalidVpcEndpointId.NotFound",)
    replace_on = {
        "vpc_id": "an endpoint cannot move to another VPC",
        "service": "an endpoint serves one service",
        "endpoint_type": "an endpoint's type is fixed",
    }
    _LISTS = {
        "route_table_ids": "RouteTableIds",
        "subnet_ids": "SubnetIds",
        "security_group_ids": "SecurityGroupIds",
    }

    def describe(self, **kwargs: Any) -> Any:
        return self.ec2.describe_vpc_endpoints(**kwargs)

    def service_name(self, service: str) -> str:
        return service if "." in service else f"com.amazonaws.{self.aws.region}.{service}"

    def canonical_properties(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        result = dict(properties)
        for key in self._LISTS:
            if key in result:
                result[key] = sorted_ids(result[key])
        return result

    def is_live(self, found: Mapping[str, Any]) -> bool:
        return str(found.get("State", "")).lower() not in _GONE_ENDPOINT_STATES

    def _current(
        self, endpoint: Mapping[str, Any], recorded: RecordedResource | None = None
    ) -> Current:
        endpoint_id = endpoint["VpcEndpointId"]
        prefix = f"com.amazonaws.{self.aws.region}."
        service = endpoint["ServiceName"]
        properties = {
            "name": tags_of(endpoint).get("Name", ""),
            "vpc_id": endpoint["VpcId"],
            "service": service.removeprefix(prefix),
            "endpoint_type": endpoint.get("VpcEndpointType", "Gateway"),
            "route_table_ids": sorted(endpoint.get("RouteTableIds") or []),
            "subnet_ids": sorted(endpoint.get("SubnetIds") or []),
            "security_group_ids": sorted(g["GroupId"] for g in endpoint.get("Groups") or []),
            "private_dns_enabled": bool(endpoint.get("PrivateDnsEnabled", False)),
        }
        dns = endpoint.get("DnsEntries") or [{}]
        outputs = {
            **self.id_outputs("vpc_endpoint_id", endpoint_id),
            "dns_name": dns[0].get("DnsName", ""),
        }
        return Current(properties, outputs)

    def create_resource(
        self, ec2: Any, logical_id: str, properties: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        wanted = self.canonical_properties(properties)
        kind = wanted.get("endpoint_type", "Gateway")
        args: dict[str, Any] = {
            "VpcEndpointType": kind,
            "VpcId": wanted["vpc_id"],
            "ServiceName": self.service_name(wanted["service"]),
            "ClientToken": self.client_token(logical_id),
            "TagSpecifications": self.tag_specs(logical_id, wanted["name"]),
        }
        for key, aws_key in self._LISTS.items():
            if wanted.get(key):
                args[aws_key] = list(wanted[key])
        if kind == "Interface":
            args["PrivateDnsEnabled"] = bool(wanted.get("private_dns_enabled", True))
        return dict(ec2.create_vpc_endpoint(**args)["VpcEndpoint"])

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        name = properties["name"]
        endpoint_id = current.outputs["vpc_endpoint_id"]
        self._modify(endpoint_id, self.canonical_properties(properties), current.properties)
        if current.properties["name"] != name:
            self.rename(endpoint_id, name)
        return dict(current.outputs)

    def wait_until_usable(
        self, logical_id: str, properties: Mapping[str, Any], outputs: dict[str, Any]
    ) -> dict[str, Any]:
        endpoint_id, what = outputs["vpc_endpoint_id"], self.what(properties["name"])
        with aws_errors("waiting for", what):
            self.wait_for(lambda: self._available(endpoint_id), f"{what} available")
        return super().wait_until_usable(logical_id, properties, outputs)

    def _modify(self, endpoint_id: str, wanted: Mapping[str, Any], have: Mapping[str, Any]) -> None:
        args: dict[str, Any] = {}
        for key, aws_key in self._LISTS.items():
            if key not in wanted:
                continue
            add = set(wanted[key]) - set(have.get(key, []))
            remove = set(have.get(key, [])) - set(wanted[key])
            if add:
                args[f"Add{aws_key}"] = sorted(add)
            if remove:
                args[f"Remove{aws_key}"] = sorted(remove)
        dns = wanted.get("private_dns_enabled")
        if dns is not None and bool(dns) != have.get("private_dns_enabled"):
            args["PrivateDnsEnabled"] = bool(dns)
        if args:
            self.ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, **args)

    def _available(self, endpoint_id: str) -> bool:
        found = self.ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
        state = str(found[0].get("State", "")).lower()
        if state in _GONE_ENDPOINT_STATES:
            raise ProvisioningError("creating", f"VPC endpoint {endpoint_id}", f"state {state}")
        return state == "available"

    def destroy(self, recorded: RecordedResource) -> None:
        what = self.what(name_of(recorded, None))
        with aws_errors("deleting", what):
            if self._find("", recorded) is None:
                return
            answer = self.ec2.delete_vpc_endpoints(VpcEndpointIds=[recorded.physical_id])
            for failure in answer.get("Unsuccessful", []):
                error = failure.get("Error", {})
                if "NotFound" not in error.get("Code", ""):
                    raise ProvisioningError("deleting", what, error.get("Message", str(error)))
            self.wait_for(lambda: self._find("", recorded) is None, f"deletion of {what}")


PROVISIONERS: tuple[type[Provisioner], ...] = (RouteTableProvisioner, VpcEndpointProvisioner)
