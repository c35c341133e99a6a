"""A latency- and fault-injecting HTTP proxy in front of the sandbox (a moto server).

moto answers every call in milliseconds and never fails on its own, so neither the
orchestrator's parallelism nor the engine's retry paths show anything against it.
This proxy forwards each request to the sandbox, naming its AWS action
("lambda:CreateFunction", "sqs:CreateQueue", ...), and on the way applies a profile:

    {"seed": 7, "scale": 1.0,
     "defaults": {"write": 0.2, "read": 0.03},
     "latency": {"lambda:CreateFunction": 2.0, "iam:*": [0.3, 0.5]},
     "faults": [{"action": "sqs:CreateQueue", "kind": "throttle", "rate": 0.5},
                {"action": "iam:CreateRole", "kind": "server_error", "after": true, "count": 1}]}

Latency is seconds (a number, or [low, high] drawn uniformly), looked up as the exact
action, then "service:*", then the read/write default; `scale` multiplies all of it.
Fault kinds: throttle (400 ThrottlingException), too_many_requests (429
TooManyRequestsException), server_error (500), unavailable (503), reset (the TCP
connection is dropped). `after: true` forwards the call first and then answers with
the fault: AWS did it, the client saw an error. `count` caps how often a rule fires.
Randomness comes from one `random.Random(seed)`, so a run replays exactly given the
same order of calls.

IAM propagation emulation: `"iam_propagation": {"seconds": 10}` makes Lambda refuse a
CreateFunction whose role passed through the proxy's CreateRole less than 10 s ago
(400 InvalidParameterValueException "The role defined for the function cannot be
assumed by Lambda."), as AWS does for a few seconds after a role is made; `"seconds":
null` refuses it for ever (a permanently broken role).

A worker in another process is steered through control endpoints on the proxy itself:
GET/POST /__proxy__/profile, GET /__proxy__/stats, POST /__proxy__/reset.
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.faultproxy_wire import error_body, identify, protocol_of

CONTROL_PREFIX = "/__proxy__/"
READ_PREFIXES = ("Get", "List", "Describe", "Head", "Query", "Scan", "Lookup", "Search")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
FAULTS: dict[str, tuple[int, str, str]] = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "too_many_requests": (429, "TooManyRequestsException", "Too many requests"),
    "server_error": (500, "InternalFailure", "We encountered an internal error"),
    "unavailable": (503, "ServiceUnavailable", "Service is unavailable"),
    "reset": (0, "", ""),
    "iam_propagation": (
        400,
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    ),
}


@dataclass
class Fault:
    action: str
    """An action or an fnmatch pattern ("sqs:*", "*")."""
    kind: str = "throttle"
    rate: float = 1.0
    after: bool = False
    count: int | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None
    fired: int = 0

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Fault:
        if raw.get("kind", "throttle") not in FAULTS:
            raise ValueError(f"unknown fault kind {raw.get('kind')!r}; one of {sorted(FAULTS)}")
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__ and k != "fired"}
        return cls(**known)

    def response(self, protocol: str) -> tuple[int, str, str]:
        status, code, message = FAULTS[self.kind]
        if protocol == "rest-xml" and self.kind in ("throttle", "too_many_requests"):
            # S3 throttles with 503 SlowDown, the only shape a bodiless HEAD reply can carry.
            status, code, message = 503, "SlowDown", "Please reduce your request rate."
        return self.status or status, self.code or code, self.message or message


@dataclass
class Profile:
    seed: int = 0
    scale: float = 1.0
    defaults: dict[str, float] = field(default_factory=lambda: {"write": 0.0, "read": 0.0})
    latency: dict[str, Any] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    iam_propagation: dict[str, Any] | None = None
    """{"seconds": N}; N None means never assumable."""

    @classmethod
    def load(cls, source: Mapping[str, Any] | str | Path | None) -> Profile:
        if source is None:
            return cls()
        if isinstance(source, (str, Path)):
            source = json.loads(Path(source).read_text())
        assert isinstance(source, Mapping)
        defaults = {"write": 0.0, "read": 0.0, **source.get("defaults", {})}
        return cls(
            seed=int(source.get("seed", 0)),
            scale=float(source.get("scale", 1.0)),
            defaults={k: float(v) for k, v in defaults.items()},
            latency=dict(source.get("latency", {})),
            faults=[Fault.from_dict(f) for f in source.get("faults", [])],
            iam_propagation=source.get("iam_propagation"),
        )

    def as_dict(self) -> dict[str, Any]:
        faults = [
            {k: v for k, v in vars(f).items() if v is not None and k != "fired"}
            for f in self.faults
        ]
        return {
            "seed": self.seed,
            "scale": self.scale,
            "defaults": dict(self.defaults),
            "latency": dict(self.latency),
            "faults": faults,
            **({"iam_propagation": self.iam_propagation} if self.iam_propagation else {}),
        }

    def latency_for(self, action: str, rng: random.Random) -> float:
        service = action.split(":", 1)[0]
        value = self.latency.get(action, self.latency.get(f"{service}:*"))
        if value is None:
            value = self.defaults["read" if is_read(action) else "write"]
        if isinstance(value, (list, tuple)):
            value = rng.uniform(float(value[0]), float(value[1]))
        return float(value) * self.scale


def is_read(action: str) -> bool:
    return action.split(":", 1)[-1].startswith(READ_PREFIXES)


@dataclass(frozen=True)
class Call:
    """One request as the proxy saw it; times are `time.monotonic()` seconds."""

    action: str
    started: float
    ended: float
    status: int
    injected: str = ""
    latency: float = 0.0
    subject: str = ""
    """The role name of a CreateRole or CreateFunction (IAM propagation emulation)."""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


ROLE_NOT_ASSUMABLE = Fault("lambda:CreateFunction", kind="iam_propagation")


def role_of(action: str, body: bytes) -> str:
    """The role a CreateRole makes, or a CreateFunction runs as (its name); else ""."""
    try:
        if action == "iam:CreateRole":
            return parse_qs(body.decode("utf-8", "replace")).get("RoleName", [""])[0]
        if action == "lambda:CreateFunction":
            return str(json.loads(body or b"{}").get("Role", "")).rsplit("/", 1)[-1]
    except (ValueError, AttributeError):
        return ""
    return ""


class _State:
    """Profile, random source and call log shared by all handler threads."""

    def __init__(self, profile: Profile) -> None:
        self.lock = threading.Lock()
        self.profile = profile
        self.rng = random.Random(profile.seed)
        self.calls: list[Call] = []
        self.roles: dict[str, float] = {}
        """Role name -> when its CreateRole was answered (monotonic)."""

    def set_profile(self, profile: Profile) -> None:
        with self.lock:
            self.profile = profile
            self.rng = random.Random(profile.seed)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.roles.clear()
            self.rng = random.Random(self.profile.seed)
            for fault in self.profile.faults:
                fault.fired = 0

    def decide(self, action: str) -> tuple[float, Fault | None]:
        with self.lock:
            delay = self.profile.latency_for(action, self.rng)
            for fault in self.profile.faults:
                if not fnmatch.fnmatchcase(action, fault.action):
                    continue
                if fault.count is not None and fault.fired >= fault.count:
                    continue
                if self.rng.random() < fault.rate:
                    fault.fired += 1
                    return delay, fault
            return delay, None

    def role_created(self, name: str) -> None:
        with self.lock:
            self.roles[name] = time.monotonic()

    def role_not_assumable(self, name: str) -> bool:
        """True while the emulated IAM propagation delay of this role lasts."""
        with self.lock:
            rule, made = self.profile.iam_propagation, self.roles.get(name)
        if not rule or made is None:
            return False
        seconds = rule.get("seconds")
        return seconds is None or time.monotonic() - made < float(seconds)

    def record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            calls = list(self.calls)
        by_action: dict[str, dict[str, Any]] = {}
        for call in calls:
            entry = by_action.setdefault(call.action, {"calls": 0, "injected": 0, "seconds": 0.0})
            entry["calls"] += 1
            entry["injected"] += 1 if call.injected else 0
            entry["seconds"] = round(entry["seconds"] + call.seconds, 6)
        return {
            "total_calls": len(calls),
            "calls": {a: e["calls"] for a, e in sorted(by_action.items())},
            "actions": dict(sorted(by_action.items())),
        }


@dataclass(frozen=True)
class _Reply:
    status: int
    """0 for a dropped connection."""
    headers: list[tuple[str, str]]
    payload: bytes
    reset: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def setup(self) -> None:
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None

    def finish(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a benchmark makes thousands of calls: stay quiet

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        body = self._read_body()
        if self.path.startswith(CONTROL_PREFIX):
            self._control(body)
            return
        started = time.monotonic()
        action = identify(self.command, self.path, dict(self.headers.items()), body)
        delay, fault = self.server.state.decide(action)
        role = role_of(action, body)
        creating = fault is None and action == "lambda:CreateFunction"
        if creating and role and self.server.state.role_not_assumable(role):
            fault = ROLE_NOT_ASSUMABLE
        if delay > 0:
            time.sleep(delay)
        reply = self._reply(action, body, fault)
        # Recorded before the client hears anything: whoever got an answer (or a dropped
        # connection) and then reads the stats, or calls CreateFunction, sees this call.
        if action == "iam:CreateRole" and 200 <= reply.status < 300 and role:
            self.server.state.role_created(role)
        injected = fault.kind if fault is not None else ""
        self.server.state.record(
            Call(action, started, time.monotonic(), reply.status, injected, round(delay, 6), role)
        )
        if reply.reset:
            self._reset()
        else:
            self._send(reply.status, reply.headers, reply.payload)

    def _reply(self, action: str, body: bytes, fault: Fault | None) -> _Reply:
        """What the client is to get: the sandbox's answer, an injected error, or a reset."""
        if fault is None or fault.after:
            status, headers, payload = self._forward(body)
            if fault is None:
                return _Reply(status, headers, payload)
        assert fault is not None
        if fault.kind == "reset":
            return _Reply(0, [], b"", reset=True)
        protocol = protocol_of(action, dict(self.headers.items()))
        status, code, message = fault.response(protocol)
        headers, payload = error_body(protocol, status, code, message)
        return _Reply(status, headers, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):  # a kept-alive upstream socket may have gone stale
            connection = self._connection()
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                return response.status, response.getheaders(), payload
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self._upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connection(self) -> http.client.HTTPConnection:
        if self._upstream is None:
            host, port = self.server.upstream
            self._upstream = http.client.HTTPConnection(host, port, timeout=120)
        return self._upstream

    def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in ("server", "date"):
                continue
            if lower == "content-length" and self.command != "HEAD":
                continue
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            self.end_headers()

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends RST, which the client sees as "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _control(self, body: bytes) -> None:
        state = self.server.state
        route = urlsplit(self.path).path[len(CONTROL_PREFIX) :].strip("/")
        try:
            if route == "profile" and self.command == "POST":
                state.set_profile(Profile.load(json.loads(body or b"{}")))
                reply: Any = state.profile.as_dict()
            elif route == "profile":
                reply = state.profile.as_dict()
            elif route == "stats":
                reply = state.stats()
            elif route == "reset" and self.command == "POST":
                state.reset()
                reply = {"reset": True}
            else:
                self._json(404, {"error": f"no control endpoint {self.command} {self.path}"})
                return
        except (ValueError, TypeError, KeyError) as exc:
            self._json(400, {"error": str(exc)})
            return
        self._json(200, reply)

    def _json(self, status: int, reply: Any) -> None:
        payload = json.dumps(reply).encode()
        self._send(status, [("Content-Type", "application/json")], payload)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], state: _State):
        self.upstream = upstream
        self.state = state
        super().__init__(address, _Handler)


class FaultProxy:
    """In-process handle: `FaultProxy(upstream_url, profile).start()`; `.endpoint_url` for boto3."""

    def __init__(
        self,
        upstream_url: str,
        profile: Mapping[str, Any] | str | Path | Profile | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        loaded = profile if isinstance(profile, Profile) else Profile.load(profile)
        self._state = _State(loaded)
        self._address = (host, port)
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FaultProxy:
        self._server = _ProxyServer(self._address, self.upstream, self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="faultproxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the proxy first"
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def set_profile(self, profile: Mapping[str, Any] | str | Path | Profile) -> None:
        self._state.set_profile(profile if isinstance(profile, Profile) else Profile.load(profile))

    def stats(self) -> dict[str, Any]:
        return self._state.stats()

    def calls(self) -> list[Call]:
        with self._state.lock:
            return list(self._state.calls)

    def reset(self) -> None:
        self._state.reset()


def main() -> None:
    """`python -m provisioning.faultproxy --upstream http://127.0.0.1:4566 --port 4570`."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--profile", default=None, help="a JSON profile file")
    args = parser.parse_args()
    proxy = FaultProxy(args.upstream, args.profile, port=args.port).start()
    print(f"fault proxy on {proxy.endpoint_url} -> {args.upstream}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
