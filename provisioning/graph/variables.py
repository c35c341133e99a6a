"""Who sets each environment variable of an agent: its links, its own settings, the engine.

Two sources giving one variable different values would leave the agent's code reading
whichever the deploy wrote last; that is reported as a problem naming both sources.
A link and its reverse (an agent sending to the queue that triggers it) give the same
value under the same name, which is no conflict.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from provisioning.model.blueprint import Agent, Link
from provisioning.model.spec import to_jsonable

Problem = tuple[str, str, str]

OWN_ENVIRONMENT = "its environment"
SECRET_VARIABLES = "its secret variables"
SESSIONS = "its conversation sessions"


def link_source(agent_key: str, link: Link) -> str:
    """How a message names a link from the agent's side: "the link to table:orders"."""
    if link.source == agent_key:
        return f"the link to {link.target}"
    return f"the link from {link.source}"


@dataclass
class Variables:
    """agent key -> variable name -> [(source, value)], in the order they were set."""

    sources: dict[str, dict[str, list[tuple[str, Any]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )

    def set(self, agent_key: str, name: str, source: str, value: Any) -> None:
        self.sources[agent_key][name].append((source, value))

    def agent_own(self, agent: Agent) -> None:
        """The agent's plain and secret variables (a secret keeps its name at run time)."""
        for name, value in agent.environment.items():
            self.set(agent.key, name, OWN_ENVIRONMENT, value)
        for name, reference in agent.secrets.items():
            self.set(agent.key, name, SECRET_VARIABLES, ("secret", reference))

    def problems(self) -> list[Problem]:
        found = []
        for agent_key, names in self.sources.items():
            for name, given in names.items():
                values = {repr(to_jsonable(value)) for _, value in given}
                if len(given) > 1 and len(values) > 1:
                    by = _phrase([source for source, _ in given])
                    found.append((agent_key, "", f"variable {name} is set by {by}"))
        return found


def _phrase(sources: list[str]) -> str:
    """["the link to a", "the link to b", "its environment"] ->
    "the links to a and b and its environment"."""
    parts: list[str] = []
    grouped: dict[str, list[str]] = {}
    for source in dict.fromkeys(sources):
        for lead in ("the link to ", "the link from "):
            if source.startswith(lead):
                if lead not in grouped:
                    grouped[lead] = []
                    parts.append(lead)
                grouped[lead].append(source.removeprefix(lead))
                break
        else:
            parts.append(source)
    words = []
    for part in parts:
        if part in grouped:
            ends = grouped[part]
            lead = part.replace("the link ", "the links ") if len(ends) > 1 else part
            words.append(lead + " and ".join(ends))
        else:
            words.append(part)
    return " and ".join(words)
