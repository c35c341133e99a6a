"""The sandbox: moto in server mode standing in for AWS on this machine.

`python manage.py sandbox` (and `make run`) keep one running on 127.0.0.1:4566;
tests start their own on a free port. Bound to loopback only: it accepts any
credentials, so it must never be reachable from the network.

moto is the optional `[sandbox]` extra, which the production image leaves out: it is
imported only when a sandbox starts, so the dashboard (which asks `is_running`) loads
without it.
"""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"
MISSING = "the sandbox needs moto, the [sandbox] extra: pip install 'strands-deploy[sandbox]'"


class SandboxUnavailable(RuntimeError):
    """moto is not installed here (a production image): no sandbox can start."""


@dataclass
class Sandbox:
    server: ThreadedMotoServer
    host: str
    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.stop()


def start(host: str = LOOPBACK, port: int = 0) -> Sandbox:
    """Start a moto server thread; `port=0` picks a free port (see `Sandbox.port`)."""
    # Lambda/DynamoDB Streams in-process would otherwise build account-specific endpoints.
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    try:
        # Here, not at the top: moto is optional (see the module docstring).
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise SandboxUnavailable(MISSING) from exc
    if port:
        _check_free(host, port)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return Sandbox(server=server, host=bound_host, port=bound_port)


def _check_free(host: str, port: int) -> None:
    """Raise OSError now: moto's server thread would exit quietly and leave start() waiting."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def is_running(endpoint_url: str, timeout_s: float = 2.0) -> bool:
    """Whether something answers HTTP at the endpoint (any status counts as answering)."""
    try:
        with urllib.request.urlopen(f"{endpoint_url.rstrip('/')}/moto-api/", timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def reset(endpoint_url: str, timeout_s: float = 10.0) -> None:
    """Forget everything the sandbox holds (moto's /moto-api/reset)."""
    request = urllib.request.Request(f"{endpoint_url.rstrip('/')}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s):
        pass
