"""Bedrock on-demand prices and the cost of one call.

Prices are USD per 1M tokens. Cross-region inference profiles carry a prefix (``eu.``, ``us.``, ``global.`` ...)
and some models cost more through a geographic profile than through ``global.``; ARNs wrap either form. The
table keeps the original design's rows exact (Nova Micro, Nova Lite, and 0.10 / 0.40 for any unknown model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CROSS_REGION_PREFIXES = ("us-gov.", "global.", "us.", "eu.", "apac.", "jp.", "au.", "ca.")

PriceSource = Literal["table", "override", "default"]


class ModelPrice(BaseModel):
    """USD per 1M tokens. Cache prices default to the input price when a model has none listed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)


def _p(input: float, output: float, cache_read: float | None = None, cache_write: float | None = None) -> ModelPrice:
    return ModelPrice(input=input, output=output, cache_read=cache_read, cache_write=cache_write)


DEFAULT_PRICE = _p(0.10, 0.40)

# Keyed by the start of the base model id, so every dated version of a family matches; the longest key wins.
# A pair is (global profile price, geographic profile or bare id price).
_PRICES: dict[str, ModelPrice | tuple[ModelPrice, ModelPrice]] = {
    "amazon.nova-micro": _p(0.035, 0.14, 0.00875),
    "amazon.nova-lite": _p(0.06, 0.24, 0.015),
    "amazon.nova-pro": _p(0.80, 3.20, 0.20),
    "amazon.nova-premier": _p(2.50, 12.50, 0.625),
    "amazon.nova-2-lite": (_p(0.30, 2.50, 0.075), _p(0.33, 2.75, 0.0825)),
    "anthropic.claude-3-haiku": _p(0.25, 1.25, 0.025, 0.3125),
    "anthropic.claude-3-5-haiku": _p(0.80, 4.00, 0.08, 1.00),
    "anthropic.claude-haiku-4-5": (_p(1.00, 5.00, 0.10, 1.25), _p(1.10, 5.50, 0.11, 1.375)),
    "anthropic.claude-3-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "anthropic.claude-3-5-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "anthropic.claude-3-7-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "anthropic.claude-sonnet-4-2": _p(3.0, 15.0, 0.30, 3.75),  # Sonnet 4: dated ids 2025...
    "anthropic.claude-sonnet-4-5": (_p(3.0, 15.0, 0.30, 3.75), _p(3.30, 16.50, 0.33, 4.125)),
    "anthropic.claude-sonnet-4-6": (_p(3.0, 15.0, 0.30, 3.75), _p(3.30, 16.50, 0.33, 4.125)),
    "anthropic.claude-opus-4-2": _p(15.0, 75.0, 1.50, 18.75),  # Opus 4: dated ids 2025...
    "anthropic.claude-opus-4-1": _p(15.0, 75.0, 1.50, 18.75),
    "anthropic.claude-opus-4-5": (_p(5.0, 25.0, 0.50, 6.25), _p(5.50, 27.50, 0.55, 6.875)),
    "anthropic.claude-opus-4-6": (_p(5.0, 25.0, 0.50, 6.25), _p(5.50, 27.50, 0.55, 6.875)),
}


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A model id taken apart: ``arn:...:inference-profile/eu.amazon.nova-micro-v1:0`` -> eu. + base id."""

    model_id: str
    base_id: str
    prefix: str  # "" for a bare foundation-model id

    @property
    def vendor(self) -> str:
        """The model's maker as Bedrock names it: ``amazon``, ``anthropic``, ``meta`` ..."""
        return self.base_id.split(".", 1)[0]

    @classmethod
    def parse(cls, model_id: str) -> ModelRef:
        resource = model_id
        if model_id.startswith("arn:"):
            # arn:partition:bedrock:region:account:foundation-model/<id> or .../inference-profile/<id>
            resource = model_id.split(":", 5)[-1].split("/", 1)[-1]
        for prefix in CROSS_REGION_PREFIXES:
            if resource.startswith(prefix):
                return cls(model_id, resource.removeprefix(prefix), prefix)
        return cls(model_id, resource, "")


@dataclass(frozen=True, slots=True)
class Cost:
    """What one call cost, in USD. Cache reads and writes count as input."""

    input_usd: float
    output_usd: float
    price: ModelPrice
    source: PriceSource

    @property
    def total_usd(self) -> float:
        return self.input_usd + self.output_usd


class PriceBook:
    """Looks up a model's price: user overrides first (by full id, then base id), then the table, then the
    original design's default."""

    def __init__(self, overrides: dict[str, ModelPrice] | None = None) -> None:
        self._overrides = dict(overrides or {})

    def price_of(self, model_id: str) -> tuple[ModelPrice, PriceSource]:
        ref = ModelRef.parse(model_id)
        for key in (model_id, ref.prefix + ref.base_id, ref.base_id):
            if key in self._overrides:
                return self._overrides[key], "override"
        matches = [key for key in _PRICES if ref.base_id.startswith(key)]
        if not matches:
            return DEFAULT_PRICE, "default"
        entry = _PRICES[max(matches, key=len)]
        if isinstance(entry, tuple):
            global_price, geographic_price = entry
            return (global_price if ref.prefix == "global." else geographic_price), "table"
        return entry, "table"

    def cost(
        self,
        model_id: str,
        *,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> Cost:
        """Cost of one call. Bedrock's ``inputTokens`` excludes cache tokens, so they are priced separately."""
        price, source = self.price_of(model_id)
        cache_read = price.input if price.cache_read is None else price.cache_read
        cache_write = price.input if price.cache_write is None else price.cache_write
        input_usd = (
            input_tokens * price.input + cache_read_tokens * cache_read + cache_write_tokens * cache_write
        ) / 1_000_000
        return Cost(input_usd, output_tokens * price.output / 1_000_000, price, source)
