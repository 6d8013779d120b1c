"""Prices: the original design's rows stay exact; prefixes, ARNs and overrides resolve as documented."""

import pytest

from tracked_bedrock.pricing import DEFAULT_PRICE, ModelPrice, ModelRef, PriceBook


@pytest.mark.parametrize(
    ("model_id", "expected_in", "expected_out"),
    [
        ("eu.amazon.nova-micro-v1:0", 0.035, 0.14),
        ("amazon.nova-lite-v1:0", 0.06, 0.24),
        ("meta.llama3-70b-instruct-v1:0", 0.10, 0.40),  # unknown model: the original's default row
    ],
)
def test_original_design_rows_are_exact(model_id: str, expected_in: float, expected_out: float) -> None:
    # GIVEN one million input and one million output tokens
    cost = PriceBook().cost(model_id, input_tokens=1_000_000, output_tokens=1_000_000)
    # THEN the cost is the per-1M price of the original table
    assert cost.input_usd == pytest.approx(expected_in)
    assert cost.output_usd == pytest.approx(expected_out)
    assert cost.total_usd == pytest.approx(expected_in + expected_out)


def test_small_call_cost_is_proportional() -> None:
    cost = PriceBook().cost("eu.amazon.nova-micro-v1:0", input_tokens=1200, output_tokens=350)
    assert cost.input_usd == pytest.approx(1200 * 0.035 / 1e6)
    assert cost.output_usd == pytest.approx(350 * 0.14 / 1e6)
    assert cost.source == "table"


@pytest.mark.parametrize(
    ("model_id", "base", "prefix"),
    [
        ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", ""),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0", "global."),
        (
            "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "eu.",
        ),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", ""),
        ("us-gov.anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0", "us-gov."),
    ],
)
def test_model_ids_are_taken_apart(model_id: str, base: str, prefix: str) -> None:
    ref = ModelRef.parse(model_id)
    assert (ref.base_id, ref.prefix) == (base, prefix)


def test_global_and_geographic_profiles_have_their_own_prices() -> None:
    book = PriceBook()
    global_price, _ = book.price_of("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    eu_price, _ = book.price_of("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    bare_price, _ = book.price_of("anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert (global_price.input, global_price.output) == (3.0, 15.0)
    assert (eu_price.input, eu_price.output) == (3.30, 16.50)
    assert bare_price == eu_price


def test_longest_family_key_wins() -> None:
    # Claude 3.5 Haiku must not be priced as Claude 3 Haiku, nor Sonnet 4.5 as Sonnet 4.
    book = PriceBook()
    assert book.price_of("anthropic.claude-3-5-haiku-20241022-v1:0")[0].input == 0.80
    assert book.price_of("anthropic.claude-3-haiku-20240307-v1:0")[0].input == 0.25
    assert book.price_of("anthropic.claude-sonnet-4-20250514-v1:0")[0].input == 3.0
    assert book.price_of("us.anthropic.claude-opus-4-5-20251101-v1:0")[0].input == 5.50


def test_cache_tokens_are_priced_as_input() -> None:
    cost = PriceBook().cost(
        "anthropic.claude-3-haiku-20240307-v1:0",
        input_tokens=1_000_000,
        output_tokens=0,
        cache_read_tokens=1_000_000,
        cache_write_tokens=1_000_000,
    )
    assert cost.input_usd == pytest.approx(0.25 + 0.025 + 0.3125)


def test_overrides_win_by_full_id_then_base_id() -> None:
    book = PriceBook(
        {
            "eu.amazon.nova-micro-v1:0": ModelPrice(input=1, output=2),
            "meta.llama3-70b-instruct-v1:0": ModelPrice(input=3, output=4),
        }
    )
    assert book.price_of("eu.amazon.nova-micro-v1:0") == (ModelPrice(input=1, output=2), "override")
    assert book.price_of("us.meta.llama3-70b-instruct-v1:0") == (ModelPrice(input=3, output=4), "override")
    assert book.price_of("us.amazon.nova-micro-v1:0")[1] == "table"
    assert book.price_of("mistral.unknown")[0] == DEFAULT_PRICE
