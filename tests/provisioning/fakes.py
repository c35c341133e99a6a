"""An in-memory "cloud" and a provisioner for it, to test scheduling without AWS latency.

The fake keeps every call in `cloud.calls`, can fail a named resource, and can
block a resource until released, so tests can observe what runs concurrently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioning.provisioners.base import Current, Provisioner
from provisioning.state import RecordedResource


@dataclass
class FakeCloud:
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    delay_s: float = 0.0
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, call: str, name: str) -> None:
        with self.lock:
            self.calls.append((call, name))

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in {"create", "update", "delete"}]


CLOUD = FakeCloud()


class FakeThing(Provisioner):
    resource_type = "fake:thing"
    replace_on = {"name": "names cannot change"}

    def get_current_state(
        self, properties: Mapping[str, Any] | None, recorded: RecordedResource | None
    ) -> Current | None:
        name = recorded.physical_id if recorded else (properties or {}).get("name")
        CLOUD.record("read", str(name))
        found = CLOUD.resources.get(str(name))
        if found is None:
            return None
        return Current(dict(found), {"physical_id": name, "arn": f"arn:fake:{name}", "name": name})

    def create(self, logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        return self._write("create", properties)

    def update(
        self, logical_id: str, properties: Mapping[str, Any], current: Current
    ) -> dict[str, Any]:
        return self._write("update", properties)

    def _write(self, call: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        name = str(properties["name"])
        with CLOUD.lock:
            CLOUD.active += 1
            CLOUD.max_active = max(CLOUD.max_active, CLOUD.active)
        try:
            if CLOUD.delay_s:
                time.sleep(CLOUD.delay_s)
            if name in CLOUD.fail:
                raise RuntimeError(f"creating fake thing {name}: InjectedFailure")
            CLOUD.record(call, name)
            CLOUD.resources[name] = dict(properties)
        finally:
            with CLOUD.lock:
                CLOUD.active -= 1
        return {"physical_id": name, "arn": f"arn:fake:{name}", "name": name}

    def destroy(self, recorded: RecordedResource) -> None:
        CLOUD.record("delete", recorded.physical_id)
        CLOUD.resources.pop(recorded.physical_id, None)
