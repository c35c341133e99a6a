"""pip requirements as data: names, extras, versions and markers pass; URLs, paths and pip
options are refused with a message naming the line, never the URL."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioning.strands.requirements import (
    RequirementRefused,
    parse_requirements,
    pip_arguments,
    requirement_problem,
    requirements_file,
)

REFUSED = {
    "x @ http://169.254.169.254/latest/meta-data/": "URL",
    "x @ file:///etc/passwd": "URL",
    "--index-url http://evil.example/simple": "--index-url",
    "--extra-index-url=http://evil.example/simple": "--extra-index-url",
    "-e git+https://evil.example/x.git#egg=x": "-e",
    "-r other.txt": "-r",
    "-c constraints.txt": "-c",
    "./local/path": "local path",
    "/abs/wheel.whl": "local path",
    "C:\\wheels\\x.whl": "local path",
    "http://evil.example/x.whl": "URL",
    "x.whl": "names a file",
    "requests==2.32.0 --hash=sha256:abc": "--hash",
    "this is not a requirement": "not a pip requirement",
}
ACCEPTED = [
    "strands-agents>=1.0",
    'requests[socks]==2.32.0; python_version>="3.12"',
    "boto3>=1.34,<2",
    "httpx",
]
SECRETS = ("169.254", "/etc/passwd", "evil.example", "git+")


@pytest.mark.parametrize(("line", "reason"), REFUSED.items())
def test_urls_paths_and_options_are_refused_with_the_reason(line: str, reason: str) -> None:
    problem = requirement_problem(line)

    assert problem is not None and reason in problem
    assert not any(part in problem for part in SECRETS)  # the URL is never echoed


@pytest.mark.parametrize("line", ACCEPTED)
def test_names_extras_versions_and_markers_are_accepted(line: str) -> None:
    assert requirement_problem(line) is None


def test_text_keeps_every_requirement_drops_only_comments_and_names_refused_lines() -> None:
    # Given a requirements box with comments, blanks and two lines pip must not see
    text = "# tools\nhttpx==0.28.1  # client\n\n--index-url http://evil.example\nx @ file:///etc/passwd\n"

    # When it is parsed
    with pytest.raises(RequirementRefused) as refused:
        parse_requirements(text)

    # Then both refused lines are named by their place in the text, nothing else
    assert [p.split(":")[0] for p in refused.value.problems] == ["line 4", "line 5"]
    assert parse_requirements("# tools\nhttpx==0.28.1  # client\n\n") == ["httpx==0.28.1"]


def test_a_requirements_file_that_is_not_text_is_refused() -> None:
    with pytest.raises(RequirementRefused, match=r"requirements\.txt is not UTF-8"):
        requirements_file(b"\xff\xfe\x00junk")


def test_pip_is_given_the_parsers_spelling_of_checked_requirements_only() -> None:
    assert pip_arguments([" requests[socks]==2.32.0 ; python_version>='3.12' "]) == [
        'requests[socks]==2.32.0; python_version >= "3.12"'
    ]
    with pytest.raises(RequirementRefused, match="layer requirement 2: the pip option -e"):
        pip_arguments(["httpx", "-e git+https://evil.example/x.git"])


NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}([._-][A-Za-z0-9]{1,5}){0,2}", fullmatch=True)
VERSIONS = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){1,2}", fullmatch=True)  # ~= needs two parts
OPERATORS = st.sampled_from(["==", ">=", "<=", "~=", "!=", "<", ">"])
MARKERS = st.sampled_from(["", '; python_version >= "3.12"', "; sys_platform == 'linux'"])
SCHEMES = st.sampled_from(["http://", "https://", "file://", "git+https://", "ftp://"])


@given(
    name=NAMES,
    extras=st.lists(NAMES, max_size=2),
    op=OPERATORS,
    version=VERSIONS,
    marker=MARKERS,
)
def test_any_plain_requirement_is_accepted(
    name: str, extras: list[str], op: str, version: str, marker: str
) -> None:
    extra = f"[{','.join(extras)}]" if extras else ""
    assert requirement_problem(f"{name}{extra}{op}{version}{marker}") is None


@given(name=NAMES, scheme=SCHEMES, host=NAMES, path=NAMES)
def test_any_requirement_by_url_is_refused_without_its_url(
    name: str, scheme: str, host: str, path: str
) -> None:
    problem = requirement_problem(f"{name} @ {scheme}{host}.internal/{path}.whl")

    assert problem is not None and ".internal" not in problem


@given(text=st.text())
def test_any_text_gets_an_answer_never_a_crash(text: str) -> None:
    try:
        kept = parse_requirements(text)
    except RequirementRefused as refused:
        assert refused.problems
    else:
        assert all(requirement_problem(line) is None for line in kept)
