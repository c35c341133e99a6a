"""How long graph + optimize + plan take in memory for a large project.

    python bench/plan.py --agents 500

Each agent has its own bucket (read-write link) and a route on one shared HTTP API.
The plan runs against a recorded state of the same project with refresh off, so the
figure is the engine's own work, not AWS's latency. Target: under 0.5 s at 500 agents.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto import mock_aws

from provisioning import engine
from provisioning.aws import AwsContext, Target
from provisioning.graph.builder import build
from provisioning.model.blueprint import Agent, Blueprint, Component, Link
from provisioning.model.spec import iter_refs, properties_hash, resolve, to_jsonable
from provisioning.optimize.optimizer import optimize
from provisioning.plan.planner import pseudo_outputs
from provisioning.state import MemoryStateStore, RecordedResource


def project(agents: int) -> Blueprint:
    names = [f"agent-{i}" for i in range(agents)]
    return Blueprint(
        project="bench",
        stage="dev",
        agents=tuple(Agent(n) for n in names),
        components=(
            Component("http_api", "public"),
            *tuple(Component("bucket", f"b-{n}") for n in names),
        ),
        links=tuple(Link("http_api:public", f"agent:{n}") for n in names)
        + tuple(Link(f"agent:{n}", f"bucket:b-{n}", "read_write") for n in names),
    )


def recorded_state(blueprint: Blueprint, aws: AwsContext) -> MemoryStateStore:
    """The state a successful deploy of this blueprint would have left (fake ids)."""
    graph = optimize(build(blueprint), blueprint).graph
    outputs: dict[str, dict[str, object]] = dict(pseudo_outputs(aws))
    wanted: dict[str, set[str]] = {}
    for spec in graph.specs.values():
        for ref in iter_refs(spec.properties):
            wanted.setdefault(ref.logical_id, set()).add(ref.attribute)
    store = MemoryStateStore()
    for lid in graph.order():
        spec = graph.specs[lid]
        fake: dict[str, object] = {f: f"fake-{f}" for f in wanted.get(lid, ())}
        fake |= {
            "physical_id": f"id-{lid}",
            "arn": f"arn:aws:fake:::{lid}",
            "name": resolve(spec.properties.get("name", lid), outputs),
            "api_id": "api123",
            "execution_arn": "arn:aws:execute-api:us-east-1:123456789012:api123",
            "integration_id": f"int-{lid}",
            "url": f"https://{lid}",
            "endpoint": "https://api123.example",
        }
        outputs[lid] = fake
        props = to_jsonable(resolve(spec.properties, outputs))
        store.save(
            RecordedResource(
                lid,
                spec.resource_type,
                fake["physical_id"],
                fake["arn"],
                fake,
                properties_hash(props),
                props,
                spec.node,
                tuple(sorted(spec.dependencies())),
            )
        )
    return store


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", default="500", help="comma-separated sizes")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}.items():
        os.environ.setdefault(name, value)
    with mock_aws():
        aws = AwsContext(target=Target(region="us-east-1"), project="bench", stage="dev")
        for size in (int(s) for s in args.agents.split(",")):
            blueprint = project(size)
            store = recorded_state(blueprint, aws)
            timings, plan = [], None
            for _ in range(args.repeat):
                started = time.perf_counter()
                plan = engine.plan(blueprint, store, aws, refresh=False)
                timings.append(time.perf_counter() - started)
            assert plan is not None
            summary = plan.summary()
            print(
                f"agents={size} resources={len(plan.changes)} "
                f"plan median={statistics.median(timings):.3f}s best={min(timings):.3f}s "
                f"actions={summary}"
            )


if __name__ == "__main__":
    main()
