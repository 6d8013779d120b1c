"""Fixtures shared by every suite: a clean environment per test, the loopback stand-ins, a Lambda context."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from loopback.bedrock import BedrockStandIn
from loopback.context import LambdaContext
from loopback.posthog import PostHogSink
from tracked_bedrock import extension
from tracked_bedrock.clients import bedrock_client
from tracked_bedrock.delivery import UNDELIVERED_KEY
from tracked_bedrock.observability import logger
from tracked_bedrock.settings import ENVIRONMENT_VARIABLES, get_settings

# Every variable the layer reads, and the AWS ones that could point boto3 elsewhere, so a developer's shell never
# leaks into a test.
LAYER_VARIABLES = (
    *ENVIRONMENT_VARIABLES,
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
)


def _reset_caches() -> None:
    get_settings.cache_clear()
    bedrock_client.cache_clear()
    extension.reset_for_tests()


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No real AWS credentials, no real endpoints, fresh settings and clients."""
    for name in LAYER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "tests")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Tests")
    _reset_caches()
    yield
    _reset_caches()


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[BedrockStandIn]:
    """The Bedrock Runtime stand-in; boto3 reaches it through AWS_ENDPOINT_URL_BEDROCK_RUNTIME."""
    with BedrockStandIn() as standin:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", standin.endpoint_url)
        bedrock_client.cache_clear()
        yield standin


@pytest.fixture
def posthog(monkeypatch: pytest.MonkeyPatch) -> Iterator[PostHogSink]:
    """The PostHog capture stand-in, with analytics enabled and pointed at it."""
    with PostHogSink() as sink:
        monkeypatch.setenv("POSTHOG_API_KEY", "phc_test_key")
        monkeypatch.setenv("POSTHOG_HOST", sink.host)
        get_settings.cache_clear()
        yield sink


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext(function_name="test-function")


def undelivered_from_logs(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The events the layer logged as undelivered, read back from the JSON lines its logger writes."""
    formatter = logger.registered_formatter
    lines = [formatter.format(record) for record in caplog.records if hasattr(record, UNDELIVERED_KEY)]
    return [json.loads(line)[UNDELIVERED_KEY] for line in lines]
