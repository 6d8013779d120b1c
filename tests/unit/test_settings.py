"""Settings: defaults of the original design, and start-up errors that name the variable."""

import pytest

from tracked_bedrock import SettingsError
from tracked_bedrock.settings import Settings


def test_defaults_follow_the_original_design() -> None:
    settings = Settings.from_env({})
    assert settings.model_id == "eu.amazon.nova-micro-v1:0"
    assert settings.posthog_host == "https://eu.i.posthog.com"
    assert settings.posthog_distinct_id == "backend-ai-operations"
    assert settings.analytics_enabled is False  # empty key: disabled
    assert settings.bedrock_read_timeout < 30


def test_empty_host_means_default_and_key_enables() -> None:
    settings = Settings.from_env({"POSTHOG_HOST": "", "POSTHOG_API_KEY": "phc_x", "POSTHOG_PRIVACY_MODE": "true"})
    assert settings.posthog_host == "https://eu.i.posthog.com"
    assert settings.analytics_enabled
    assert settings.posthog_privacy_mode


def test_price_override_from_json() -> None:
    settings = Settings.from_env({"BEDROCK_PRICES": '{"mistral.large": {"input": 2, "output": 6}}'})
    cost = settings.price_book.cost("eu.mistral.large", input_tokens=1_000_000, output_tokens=0)
    assert cost.input_usd == 2
    assert cost.source == "override"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BEDROCK_PRICES": "{not json"}, "BEDROCK_PRICES"),
        ({"BEDROCK_PRICES": '{"x": {"input": -1, "output": 1}}'}, "BEDROCK_PRICES"),
        ({"BEDROCK_PRICES": '{"x": {"input": 1}}'}, "BEDROCK_PRICES"),
        ({"BEDROCK_READ_TIMEOUT": "45"}, "BEDROCK_READ_TIMEOUT"),
        ({"POSTHOG_HOST": "eu.i.posthog.com"}, "POSTHOG_HOST"),
        ({"POSTHOG_DELIVERY_TIMEOUT": "soon"}, "POSTHOG_DELIVERY_TIMEOUT"),
        ({"BEDROCK_MAX_ATTEMPTS": "0"}, "BEDROCK_MAX_ATTEMPTS"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
