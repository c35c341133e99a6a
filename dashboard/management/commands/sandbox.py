from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning import sandbox


class Command(BaseCommand):
    help = "Run the sandbox (moto, the local AWS emulator) in the foreground until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.SANDBOX_PORT)
        parser.add_argument(
            "--host",
            default=sandbox.LOOPBACK,
            help="address to listen on; only a container needs more than loopback",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        if sandbox.is_running(f"http://{sandbox.LOOPBACK}:{port}"):
            raise CommandError(f"something already answers on {sandbox.LOOPBACK}:{port}")
        try:
            running = sandbox.start(host=host, port=port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
        except sandbox.SandboxUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"sandbox listening at {running.endpoint_url} (Ctrl-C stops it)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("stopping the sandbox")
        finally:
            running.stop()
