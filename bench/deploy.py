"""How close a deploy comes to the best any scheduler could do, with AWS-like latency.

    python bench/deploy.py --agents 10,50 [--concurrency 16] [--profile bench/latency-profile.json]

Starts a sandbox (moto) and the fault proxy (tests/support/faultproxy.py) in front of it
with per-action latency from the profile, then for each size deploys the bench/plan.py
project (N agents, a bucket each, one shared HTTP API) through `engine.deploy`,
redeploys it unchanged, and destroys it. For deploy and destroy it prints:

  wall       the run's wall time (deploy = plan reads + apply)
  bound      what a perfect scheduler could do with the same per-resource times and the
             same concurrency limit: max(longest dependency chain, total work / concurrency),
             per-resource time being the orchestrator's measured elapsed_ms
  ratio      apply wall / bound (1.00 is perfect)
  sequential the sum of every call's time at the proxy (one call at a time)

The no-op redeploy must make no write call at all.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.plan import project
from provisioning import engine, sandbox
from provisioning.aws import AwsContext, Target
from provisioning.events import Event, EventStatus
from provisioning.state import MemoryStateStore
from tests.support.faultproxy import Call, Fault, FaultProxy, Profile, is_read

DEFAULT_PROFILE = Path(__file__).resolve().parent / "latency-profile.json"


class TimedSink:
    """Keeps events with the moment they arrived (the orchestrator's own clock is private)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, Event]] = []
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        with self._lock:
            self.events.append((time.monotonic(), event))

    def elapsed(self) -> dict[str, float]:
        """Seconds per resource that finished, from its `succeeded` event."""
        return {
            e.resource: e.elapsed_ms / 1000
            for _, e in self.events
            if e.resource and e.status is EventStatus.SUCCEEDED and e.elapsed_ms is not None
        }

    def apply_window(self) -> tuple[float, float] | None:
        stamps = [at for at, e in self.events if e.resource]
        return (min(stamps), max(stamps)) if stamps else None

    def failures(self) -> list[str]:
        return [
            f"{e.resource}: {e.message}" for _, e in self.events if e.status is EventStatus.FAILED
        ]


@dataclass
class Phase:
    name: str
    wall: float
    apply: float
    chain: float
    work: float
    concurrency: int
    calls: list[Call] = field(default_factory=list)

    @property
    def bound(self) -> float:
        return max(self.chain, self.work / self.concurrency)

    @property
    def writes(self) -> int:
        return sum(1 for c in self.calls if not is_read(c.action))

    def line(self) -> str:
        sequential = sum(c.seconds for c in self.calls)
        ratio = self.apply / self.bound if self.bound else float("nan")
        return (
            f"  {self.name:<8} wall {self.wall:7.2f}s  (plan {self.wall - self.apply:5.2f}s, "
            f"apply {self.apply:6.2f}s)  bound {self.bound:6.2f}s "
            f"[chain {self.chain:5.2f}s, work {self.work:7.2f}s / {self.concurrency}]  "
            f"ratio {ratio:4.2f}  sequential {sequential:7.2f}s  calls {len(self.calls)}"
        )


def longest_chain(seconds: Mapping[str, float], deps: Mapping[str, tuple[str, ...]]) -> float:
    """Longest path through the dependency DAG, weighting each resource by its seconds.

    The same figure bounds destroy: reversing every edge keeps every path's length."""
    memo: dict[str, float] = {}

    def finish(lid: str) -> float:
        if lid not in memo:
            before = [finish(d) for d in deps.get(lid, ()) if d in seconds]
            memo[lid] = seconds[lid] + max(before, default=0.0)
        return memo[lid]

    return max((finish(lid) for lid in seconds), default=0.0)


def run_phase(
    name: str,
    proxy: FaultProxy,
    concurrency: int,
    deps: Mapping[str, tuple[str, ...]],
    work: Callable[[TimedSink], engine.RunResult],
) -> tuple[Phase, engine.RunResult, TimedSink]:
    sink = TimedSink()
    proxy.reset()
    started = time.monotonic()
    result = work(sink)
    wall = time.monotonic() - started
    window = sink.apply_window()
    apply = wall - (window[0] - started) if window else 0.0
    seconds = sink.elapsed()
    phase = Phase(
        name,
        wall,
        apply,
        longest_chain(seconds, deps),
        sum(seconds.values()),
        concurrency,
        proxy.calls(),
    )
    return phase, result, sink


def upstream_counts(upstream: str) -> dict[str, int]:
    """What the sandbox holds, asked directly (not through the proxy): twins and leftovers show."""
    session = boto3.Session(
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox-secret", region_name="us-east-1"
    )

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=upstream)  # type: ignore[call-overload]

    gw = client("apigatewayv2")
    apis = [a["ApiId"] for a in gw.get_apis(MaxResults="500")["Items"]]
    return {
        "apis": len(apis),
        "routes": sum(len(gw.get_routes(ApiId=a, MaxResults="500")["Items"]) for a in apis),
        "integrations": sum(
            len(gw.get_integrations(ApiId=a, MaxResults="500")["Items"]) for a in apis
        ),
        "functions": _paged(client("lambda"), "list_functions", "Functions"),
        "roles": _paged(client("iam"), "list_roles", "Roles"),
        "buckets": len(client("s3").list_buckets()["Buckets"]),
        "log groups": _paged(client("logs"), "describe_log_groups", "logGroups"),
    }


def _paged(client: Any, operation: str, key: str) -> int:
    return sum(len(page[key]) for page in client.get_paginator(operation).paginate())


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _injected(calls: list[Call]) -> str:
    faults = Counter(c.injected for c in calls if c.injected)
    return ", ".join(f"{kind}={n}" for kind, n in sorted(faults.items())) or "none"


def bench_size(agents: int, proxy: FaultProxy, upstream: str, concurrency: int) -> None:
    sandbox.reset(upstream)
    blueprint = project(agents)
    aws = AwsContext(
        target=Target(region="us-east-1", endpoint_url=proxy.endpoint_url),
        project="bench",
        stage="dev",
        max_pool_connections=max(32, concurrency * 2),
    )
    settings = engine.EngineSettings(max_workers=concurrency)
    store = MemoryStateStore()
    aws.account_id  # noqa: B018 - one STS call up front, outside the timed phases
    # The sandbox imports each service's backend on its first request (about a second for
    # S3 or API Gateway): warm them, straight at the sandbox, so no phase times moto's imports.
    upstream_counts(upstream)

    deploy, result, sink = run_phase(
        "deploy",
        proxy,
        concurrency,
        {},
        lambda s: engine.deploy(blueprint, store, s, aws, settings=settings),
    )
    _check(result, sink)
    deps = {lid: r.depends_on for lid, r in store.load().items()}
    deploy.chain = longest_chain(sink.elapsed(), deps)
    resources = len(store.load())
    after_deploy = upstream_counts(upstream)

    noop, result, sink = run_phase(
        "no-op",
        proxy,
        concurrency,
        deps,
        lambda s: engine.deploy(blueprint, store, s, aws, settings=settings),
    )
    _check(result, sink)

    destroy, result, sink = run_phase(
        "destroy",
        proxy,
        concurrency,
        deps,
        lambda s: engine.destroy(store, s, aws, settings=settings),
    )
    _check(result, sink)
    after_destroy = upstream_counts(upstream)

    print(f"agents={agents} resources={resources} concurrency={concurrency}")
    print(deploy.line())
    print(f"  no-op    wall {noop.wall:7.2f}s  calls {len(noop.calls)}  write calls {noop.writes}")
    reads = Counter(c.action for c in noop.calls if is_read(c.action))
    print(
        f"  no-op reads: {sum(reads.values())} for {resources} resources "
        f"({sum(reads.values()) / max(resources, 1):.2f} per resource): "
        + ", ".join(f"{a}={n}" for a, n in sorted(reads.items()))
    )
    print(destroy.line())
    print(f"  sandbox after deploy: {_counts(after_deploy)}")
    print(f"  sandbox after destroy: {_counts(after_destroy)}")
    print(
        f"  injected faults: deploy {_injected(deploy.calls)}; destroy {_injected(destroy.calls)}"
    )
    print("  deploy calls by action:")
    for action, n in sorted(Counter(c.action for c in deploy.calls).items()):
        print(f"    {action:<44} {n:5d}")
    by_destroy = Counter(c.action for c in destroy.calls)
    print("  destroy calls: " + ", ".join(f"{a}={n}" for a, n in sorted(by_destroy.items())))
    if noop.writes:
        writes = Counter(c.action for c in noop.calls if not is_read(c.action))
        print(f"  !! the no-op redeploy wrote: {dict(writes)}")
    sys.stdout.flush()


def _check(result: engine.RunResult, sink: TimedSink) -> None:
    if result.status != "SUCCEEDED":
        raise SystemExit(f"run {result.status}: {result.error}\n" + "\n".join(sink.failures()[:10]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", default="10,50", help="comma-separated sizes")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", default=str(DEFAULT_PROFILE))
    parser.add_argument("--scale", type=float, default=None, help="multiply every latency")
    parser.add_argument(
        "--throttle", type=float, default=0.0, help="share of calls answered ThrottlingException"
    )
    parser.add_argument(
        "--lost-replies",
        type=float,
        default=0.0,
        help="share of calls done upstream but answered 500 (retries must be idempotent)",
    )
    args = parser.parse_args()
    profile = Profile.load(args.profile)
    if args.scale is not None:
        profile.scale = args.scale
    if args.throttle:
        profile.faults.append(Fault("*", "throttle", rate=args.throttle))
    if args.lost_replies:
        profile.faults.append(Fault("*", "server_error", rate=args.lost_replies, after=True))
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    box = sandbox.start()
    proxy = FaultProxy(box.endpoint_url, profile).start()
    print(
        f"sandbox {box.endpoint_url}, proxy {proxy.endpoint_url}, profile {args.profile} "
        f"(scale {profile.scale})"
    )
    try:
        for size in (int(s) for s in args.agents.split(",")):
            bench_size(size, proxy, box.endpoint_url, args.concurrency)
    finally:
        proxy.stop()
        box.stop()


if __name__ == "__main__":
    main()
