"""Physical names: readable, within each service's limit, and never shared by two resources."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.graph.builder import build
from provisioning.model.blueprint import Blueprint, Component
from provisioning.model.naming import (
    ACCOUNT_SUFFIX_LEN,
    GLOBAL_KINDS,
    LIMITS,
    SUFFIXES,
    account_suffix,
    identity_hash,
    physical_name,
    reserved_name_problem,
)

Triple = tuple[str, str, tuple[str, ...]]
KINDS = sorted(LIMITS)
S3_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")

# What users type (the dashboard allows lowercase letters, digits and hyphens) ...
typed = st.from_regex(r"[a-z0-9][a-z0-9-]{0,40}", fullmatch=True)
# ... and anything a blueprint from elsewhere may hold.
anything = st.text(min_size=0, max_size=80)
triples = st.tuples(
    st.one_of(typed, anything),
    st.one_of(typed, anything),
    st.lists(st.one_of(typed, anything), min_size=1, max_size=3).map(tuple),
)


@st.composite
def regroupings(draw: st.DrawFn) -> tuple[Triple, Triple]:
    """Two different triples whose parts joined with '-' read the same (the takeover:
    `hotel` + `dev-bot` and `hotel-dev` + `bot`)."""
    words = draw(st.lists(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=3, max_size=9))

    def split() -> Triple:
        cuts = sorted(draw(st.sets(st.integers(1, len(words) - 1), min_size=2)))
        groups = [
            "-".join(words[a:b]) for a, b in zip([0, *cuts], [*cuts, len(words)], strict=True)
        ]
        return groups[0], groups[1], tuple(groups[2:])

    first, second = split(), split()
    return first, second


def name_of(triple: Triple, kind: str) -> str:
    project, stage, parts = triple
    return physical_name(project, stage, *parts, kind=kind, lowercase=kind == "s3")


def full_length(name: str, kind: str) -> int:
    return len(name) + (ACCOUNT_SUFFIX_LEN + 1 if kind in GLOBAL_KINDS else 0)


def test_the_takeover_pair_gets_two_names() -> None:
    for kind in KINDS:
        hotel = physical_name("hotel", "dev", "dev-bot", kind=kind)
        hotel_dev = physical_name("hotel-dev", "dev", "bot", kind=kind)
        assert hotel != hotel_dev
        assert hotel.startswith("hotel-dev-dev-bot-")  # still readable


@settings(max_examples=400)
@given(regroupings(), st.sampled_from(KINDS))
def test_triples_that_read_alike_never_share_a_name(pair: tuple[Triple, Triple], kind: str) -> None:
    first, second = pair
    if first != second:
        assert name_of(first, kind) != name_of(second, kind)


@settings(max_examples=300)
@given(st.lists(triples, min_size=2, max_size=20, unique=True), st.sampled_from(KINDS))
def test_distinct_triples_get_distinct_names_of_every_kind(many: list[Triple], kind: str) -> None:
    names = [name_of(t, kind) for t in many]
    assert len(set(names)) == len(many)


@settings(max_examples=300)
@given(triples, st.sampled_from(KINDS))
def test_names_fit_their_service_and_never_change(triple: Triple, kind: str) -> None:
    name = name_of(triple, kind)

    assert name == name_of(triple, kind)
    assert 1 <= full_length(name, kind) <= LIMITS[kind]
    suffix = SUFFIXES.get(kind, "")
    assert name.endswith(suffix)
    assert re.fullmatch(r"[A-Za-z0-9-]+", name.removesuffix(suffix))
    if kind == "s3":
        assert S3_NAME.fullmatch(f"{name}-{account_suffix('123456789012', 'p', 's')}")


# Long names that differ only at their end, which any cut to the service's limit removes.
long_part = st.builds(
    lambda length, tail: "n" * length + tail, st.integers(60, 300), st.sampled_from("abc-")
)


@settings(max_examples=200)
@given(
    st.lists(st.tuples(long_part, long_part), min_size=2, max_size=10, unique=True),
    st.sampled_from(KINDS),
)
def test_long_names_are_cut_but_keep_the_hash_that_tells_them_apart(
    many: list[tuple[str, str]], kind: str
) -> None:
    # Given nodes whose names are far longer than the service allows and alike up to their
    # last character (FIFO kinds included)
    names = [name_of(("acme", "dev", parts), kind) for parts in many]

    # Then every name fits with its suffix, ends with its own hash, and no two collide
    suffix = SUFFIXES.get(kind, "")
    for parts, name in zip(many, names, strict=True):
        assert full_length(name, kind) <= LIMITS[kind]
        assert name.endswith(f"-{identity_hash('acme', 'dev', *parts)}{suffix}")
    assert len(set(names)) == len(names)


def test_fifo_queues_and_topics_end_with_fifo_within_the_service_limit() -> None:
    queue = physical_name("acme", "dev", "jobs", kind="sqs_fifo")
    topic = physical_name("acme", "dev", "jobs", kind="sns_fifo")

    assert queue == f"acme-dev-jobs-{identity_hash('acme', 'dev', 'jobs')}.fifo"
    assert topic == queue
    assert physical_name("acme", "dev", "jobs", kind="sqs") == queue.removesuffix(".fifo")
    assert len(physical_name("p" * 60, "s" * 30, "n" * 60, kind="sqs_fifo")) == 80


def test_the_account_suffix_is_stable_and_differs_per_account_and_stage() -> None:
    suffix = account_suffix("123456789012", "hotel", "dev")
    assert suffix == account_suffix("123456789012", "hotel", "dev")
    assert len(suffix) == ACCOUNT_SUFFIX_LEN
    assert suffix != account_suffix("210987654321", "hotel", "dev")
    assert suffix != account_suffix("123456789012", "hotel", "prod")


def test_the_stage_s_own_names_are_reserved() -> None:
    assert "artifacts" in (reserved_name_problem("artifacts") or "")
    assert reserved_name_problem("docs") is None


def test_long_fifo_queue_and_topic_names_keep_their_whole_hash() -> None:
    # Given the longest names the dashboard allows
    project, stage, node = "p" * 32, "s" * 16, "n" * 32
    settings = {"fifo": True, "dead_letter": True, "visibility_timeout_s": 60}
    blueprint = Blueprint(
        project,
        stage,
        components=(Component("queue", node, settings), Component("topic", node, {"fifo": True})),
    )

    specs = build(blueprint).specs

    # Then each fits its service and still ends with the hash of exactly its own parts
    for logical_id, parts, limit in (
        (f"queue/{node}", (node,), 80),
        (f"queue/{node}/dlq", (node, "dlq"), 80),
        (f"topic/{node}", (node,), 256),
    ):
        name = specs[logical_id].properties["name"]
        assert len(name) <= limit
        assert name.endswith(f"-{identity_hash(project, stage, *parts)}.fifo")
