"""The API key check of an HTTP API in api_key mode, unzipped from its package and run locally."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import uuid
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from provisioning.graph import api_auth
from provisioning.model.blueprint import Component
from provisioning.strands.packaging import package_code

GOOD_KEY = "sk-team-7f3a9c"
PARAMETER = "/strands-deploy/acme/dev/http_api/public/api-key-hashes"


class FakeSsm:
    """Answers GetParameter with the stored hashes, and counts the reads."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reads = 0

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
        assert (Name, WithDecryption) == (PARAMETER, True)
        self.reads += 1
        return {"Parameter": {"Name": Name, "Value": self.value}}


class BrokenSsm:
    def get_parameter(self, **_: Any) -> dict[str, Any]:
        raise RuntimeError("AccessDenied")


def packaged_authorizer(into: Path) -> ModuleType:
    """The function exactly as the graph packages it for an api_key API."""
    specs = api_auth.auth_specs(
        Component("http_api", "public", {"auth": "api_key", "api_key_hashes": ""}),
        lambda *parts, kind, lowercase=False: "-".join(("acme", "dev", *parts)),
        {},
        project="acme",
        stage_name="dev",
        arn={"region": "us-east-1", "account": "123456789012", "partition": "aws"},
    )
    function = next(s for s in specs if s.resource_type == "lambda:function")
    zipfile.ZipFile(io.BytesIO(package_code(function.properties["code"]))).extractall(into)
    spec = importlib.util.spec_from_file_location(
        f"authorizer_{uuid.uuid4().hex}", into / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def authorizer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("API_KEY_PARAMETER", PARAMETER)
    return packaged_authorizer(tmp_path)


def request(key: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["X-Api-Key"] = key  # any case: API Gateway lowercases, clients may not
    return {"version": "2.0", "type": "REQUEST", "routeKey": "POST /support", "headers": headers}


def hashes(*keys: str) -> str:
    return json.dumps([hashlib.sha256(k.encode()).hexdigest() for k in keys])


def test_the_right_key_is_let_in_and_a_wrong_one_is_not(authorizer: ModuleType) -> None:
    ssm = FakeSsm(hashes("an-old-key", GOOD_KEY))

    assert authorizer.handler(request(GOOD_KEY), None, ssm) == {"isAuthorized": True}
    assert authorizer.handler(request("sk-team-7f3a9d"), None, ssm) == {"isAuthorized": False}
    assert authorizer.handler(request(None), None, ssm) == {"isAuthorized": False}


def test_hashes_one_per_line_are_read_too(authorizer: ModuleType) -> None:
    one_per_line = "\n".join(json.loads(hashes("a", GOOD_KEY))).upper() + "\n"

    assert authorizer.handler(request(GOOD_KEY), None, FakeSsm(one_per_line))["isAuthorized"]


def test_before_any_key_is_issued_every_key_is_refused(authorizer: ModuleType) -> None:
    assert authorizer.handler(request(GOOD_KEY), None, FakeSsm(api_auth.NO_KEYS)) == {
        "isAuthorized": False
    }


def test_keys_that_cannot_be_read_let_nobody_in(authorizer: ModuleType) -> None:
    assert authorizer.handler(request(GOOD_KEY), None, BrokenSsm()) == {"isAuthorized": False}


def test_the_hashes_are_read_once_a_minute_not_per_request(authorizer: ModuleType) -> None:
    ssm = FakeSsm(hashes(GOOD_KEY))

    for _ in range(5):
        authorizer.handler(request(GOOD_KEY), None, ssm)

    assert ssm.reads == 1
