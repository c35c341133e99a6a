"""Engine tests: moto in-process is our AWS; `upstream` and `proxy` are the sandbox server
and the fault proxy in front of it, for tests about what goes over the wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from provisioning import sandbox
from provisioning.aws import AwsContext, Target
from tests.support.faultproxy import FaultProxy


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def aws() -> Iterator[AwsContext]:
    """An AwsContext for project "acme", stage "dev", on moto; sleeps are skipped."""
    with mock_aws():
        yield AwsContext(
            target=Target(region="us-east-1"), project="acme", stage="dev", sleep=lambda _s: None
        )


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """A sandbox server (moto) of this module's own."""
    box = sandbox.start()
    yield box.endpoint_url
    box.stop()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    """The fault proxy in front of a sandbox emptied for this test."""
    sandbox.reset(upstream)
    with FaultProxy(upstream, {"seed": 3}) as running:
        yield running
