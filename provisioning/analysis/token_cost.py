"""What an agent's model calls cost, from its token counts and the price table."""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.analysis.cost import price_data


@dataclass(frozen=True)
class TokenCost:
    amount: float
    currency: str
    priced_as: str
    """The price table's model entry the id matched ("anthropic.claude-sonnet-4")."""
    as_of: str
    basis: str
    """How the figure was reached, for the page."""


def token_cost(model_id: str, input_tokens: float, output_tokens: float) -> TokenCost | None:
    """None when the table has no price for the model (a custom or stand-in model)."""
    raw = price_data()
    prices: dict[str, list[float]] = raw.get("model_tokens") or {}
    matches = [part for part in prices if part in model_id]
    if not matches:
        return None
    part = max(matches, key=len)
    per_in, per_out = (float(x) for x in prices[part])
    amount = input_tokens / 1e6 * per_in + output_tokens / 1e6 * per_out
    basis = (
        f"{input_tokens:,.0f} input tokens x ${per_in}/M + "
        f"{output_tokens:,.0f} output tokens x ${per_out}/M"
    )
    return TokenCost(amount, str(raw["currency"]), part, str(raw["as_of"]), basis)
