from __future__ import annotations

import pytest

from tests.cli.fakes import FakeServer


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()
