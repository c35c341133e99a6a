"""What an agent's model calls cost, from its token counts and the price table's
`model_tokens` (read once, in cost.py)."""

from __future__ import annotations

from dataclasses import dataclass

from provisioning.analysis.cost import price_data, token_price


@dataclass(frozen=True)
class TokenCost:
    amount: float
    currency: str
    priced_as: str
    """The price table's entry the model id matched ("claude-sonnet-4")."""
    as_of: str
    basis: str
    """How the figure was reached, for the page."""


def token_cost(model_id: str, input_tokens: float, output_tokens: float) -> TokenCost | None:
    """None when the table has no price for the model (a custom or stand-in model)."""
    price = token_price(model_id)
    if price is None:
        return None
    per_in, per_out = price.input_per_million, price.output_per_million
    amount = input_tokens / 1e6 * per_in + output_tokens / 1e6 * per_out
    basis = (
        f"{input_tokens:,.0f} input tokens x ${per_in}/M + "
        f"{output_tokens:,.0f} output tokens x ${per_out}/M"
    )
    raw = price_data()
    return TokenCost(amount, str(raw["currency"]), price.match, str(raw["as_of"]), basis)
