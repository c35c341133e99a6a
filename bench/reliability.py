"""Scenario 6 as figures: deploy + destroy of the reliability project on a throttled account.

    python bench/reliability.py                   # 100 trials at 30 % throttling
    python bench/reliability.py --trials 20 --throttle 0.3 --seed 100
    python bench/reliability.py --throttle 1.0 --trials 3   # every call throttled

Starts a sandbox (moto) and the fault proxy (tests/support/faultproxy.py) in front of it
answering a share of all calls with ThrottlingException, then per trial deploys the
scenarios' project (tests/reliability/conftest.py: 22 resources of 15 kinds) through
`engine.deploy` with a MemoryStateStore, and destroys it, throttled the same way. Trial
i draws its faults from seed `--seed + i`, so any trial replays alone.

Per trial: deploy and destroy status and seconds, throttles injected, how often the
adaptive concurrency limit was lowered, and what the sandbox still holds of the project
afterwards, listed directly (not through the proxy) per service and by tags. The summary
gives succeeded / failed, median / p95 / max seconds and the leftovers, which must be 0.

With `--throttle 1.0` nothing can succeed: each trial must end FAILED, naming the
throttling, in bounded time; the summary prints that time beside botocore's worst-case
retry schedule for one call. Exit status 1 if any expectation is not met.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provisioning import engine, sandbox
from provisioning.aws import AwsContext, Target
from provisioning.errors import EngineError
from provisioning.events import ListSink
from provisioning.state import MemoryStateStore
from tests.reliability.conftest import PROJECT, blueprint
from tests.reliability.inventory import inventory, leftovers
from tests.support.faultproxy import FaultProxy

TAGGED = "tagged (any service)"
MAX_BACKOFF_S = 20  # botocore standard mode caps each wait here


@dataclass
class Trial:
    number: int
    deploy: str
    deploy_s: float
    destroy: str
    destroy_s: float
    throttles: int
    lowered: int
    left: dict[str, list[str]]
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.deploy_s + self.destroy_s

    @property
    def left_count(self) -> int:
        return sum(len(items) for items in self.left.values())

    @property
    def tagged_count(self) -> int:
        return len(self.left.get(TAGGED, []))

    def line(self) -> str:
        text = (
            f"trial {self.number:3d}  deploy {self.deploy:<9} {self.deploy_s:6.1f}s  "
            f"destroy {self.destroy:<9} {self.destroy_s:6.1f}s  total {self.seconds:6.1f}s  "
            f"throttles {self.throttles:4d}  limit lowered {self.lowered:2d}x  "
            f"left {self.left_count} (tagged {self.tagged_count})"
        )
        if self.error:
            text += f"\n           {self.error[:300]}"
        if self.left:
            text += f"\n           left: {self.left}"
        return text


def aws_for(proxy: FaultProxy, max_attempts: int) -> AwsContext:
    """A fresh context per run, as the dashboard makes one per deployment."""
    target = Target(endpoint_url=proxy.endpoint_url, max_attempts=max_attempts)
    return AwsContext(target=target, project=PROJECT, stage="dev")


def deploy_once(
    proxy: FaultProxy, store: MemoryStateStore, sink: ListSink, max_attempts: int
) -> tuple[str, str]:
    """(status, error); an error while planning is a FAILED run, as the dashboard shows it."""
    try:
        result = engine.deploy(blueprint(), store, sink, aws_for(proxy, max_attempts))
    except EngineError as exc:
        return "FAILED", str(exc)
    return result.status, result.error


def run_trial(number: int, args: argparse.Namespace, proxy: FaultProxy, upstream: str) -> Trial:
    proxy.set_profile(
        {
            "seed": args.seed + number,
            "faults": [{"action": "*", "kind": "throttle", "rate": args.throttle}],
        }
    )
    proxy.reset()
    store, sink = MemoryStateStore(), ListSink()

    started = time.monotonic()
    deployed, error = deploy_once(proxy, store, sink, args.max_attempts)
    deploy_s = time.monotonic() - started

    started = time.monotonic()
    gone = engine.destroy(store, ListSink(), aws_for(proxy, args.max_attempts))
    destroy_s = time.monotonic() - started

    left = leftovers(inventory(upstream, PROJECT))
    if left:
        sandbox.reset(upstream)  # so one trial's leftovers do not turn into the next one's
    return Trial(
        number=number,
        deploy=deployed,
        deploy_s=deploy_s,
        destroy=gone.status,
        destroy_s=destroy_s,
        throttles=sum(1 for c in proxy.calls() if c.injected == "throttle"),
        lowered=sum("concurrency lowered" in e.message for e in sink.events),
        left=left,
        error=error or gone.error,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spread(name: str, values: list[float]) -> str:
    return (
        f"{name:<8} median {statistics.median(values):6.1f}s  p95 {percentile(values, 0.95):6.1f}s"
        f"  max {max(values):6.1f}s  min {min(values):6.1f}s"
    )


def worst_retry_schedule(max_attempts: int) -> float:
    """Seconds one call can spend waiting: botocore's jittered 2**n backoff, capped."""
    return float(sum(min(2**n, MAX_BACKOFF_S) for n in range(max_attempts)))


def summarise(trials: list[Trial], args: argparse.Namespace) -> bool:
    """Print the figures; True if every expectation of the mode was met."""
    succeeded = [t for t in trials if t.deploy == "SUCCEEDED" and t.destroy == "SUCCEEDED"]
    failed = [t for t in trials if t not in succeeded]
    left = sum(t.left_count for t in trials)
    print(
        f"\n{len(trials)} trials at {args.throttle:.0%} throttling (max_attempts {args.max_attempts})"
    )
    print(f"succeeded {len(succeeded)}  failed {len(failed)}  "
          f"leftovers after destroy {left} (tagged {sum(t.tagged_count for t in trials)})")  # fmt: skip
    print(spread("deploy", [t.deploy_s for t in trials]))
    print(spread("destroy", [t.destroy_s for t in trials]))
    print(spread("total", [t.seconds for t in trials]))
    throttles = [t.throttles for t in trials]
    print(f"throttles injected per trial: median {statistics.median(throttles):.0f}, "
          f"max {max(throttles)}; limit lowered in {sum(t.lowered > 0 for t in trials)} "
          f"of {len(trials)} trials")  # fmt: skip
    if args.throttle < 1.0:
        return not failed and left == 0
    clean = all(t.deploy == "FAILED" and "ThrottlingException" in t.error for t in trials)
    bound = worst_retry_schedule(args.max_attempts)
    took = max(t.deploy_s for t in trials)
    print(f"every call throttled: {'FAILED cleanly' if clean else 'NOT a clean FAILED'} "
          f"in at most {took:.1f}s (one call's worst retry schedule: {bound:.0f}s of waits)")  # fmt: skip
    return clean and left == 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--throttle", type=float, default=0.3, help="share of calls throttled")
    parser.add_argument("--seed", type=int, default=0, help="trial i uses seed + i")
    parser.add_argument(
        "--max-attempts", type=int, default=Target.max_attempts, help="botocore retries"
    )
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    box = sandbox.start()
    proxy = FaultProxy(box.endpoint_url).start()
    print(f"sandbox {box.endpoint_url}, proxy {proxy.endpoint_url}, project {PROJECT}", flush=True)
    trials: list[Trial] = []
    try:
        for number in range(args.trials):
            trials.append(run_trial(number, args, proxy, box.endpoint_url))
            print(trials[-1].line(), flush=True)
    finally:
        proxy.stop()
        box.stop()
    if not summarise(trials, args):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
