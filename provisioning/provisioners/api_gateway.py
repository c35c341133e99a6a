"""API Gateway v2 HTTP APIs: the API, Lambda integrations, routes and the auto-deploy stage.

apigw:api properties:  name: str, description: str, cors: dict | None
  (cors keys: allow_origins, allow_methods, allow_headers, max_age)
outputs: physical_id (api id), api_id, endpoint (https URL), execution_arn ("arn:aws:execute-api:<region>:<acct>:<id>")

apigw:integration properties: api_id (Ref), integration_uri (Ref to function arn),
  payload_format_version: "2.0", timeout_ms: int
outputs: physical_id (integration id), integration_id

apigw:route properties: api_id (Ref), route_key: str ("ANY /support/{proxy+}"), target: str (Join "integrations/" + Ref)
outputs: physical_id (route id), route_id

apigw:stage properties: api_id (Ref), name: "$default", auto_deploy: bool
outputs: physical_id ("<api id>/<stage name>"), url"""

from __future__ import annotations

from provisioning.provisioners.base import Provisioner

PROVISIONERS: tuple[type[Provisioner], ...] = ()
