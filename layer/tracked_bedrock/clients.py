"""Clients created once per execution environment (cold start pays, warm invocations reuse them)."""

from __future__ import annotations

import contextvars
from functools import lru_cache
from typing import Any

from .settings import get_settings

# Attempts botocore made for the current call, counted by an event hook: errors raised before any response
# (timeouts, refused connections) carry no ResponseMetadata.RetryAttempts.
http_attempts: contextvars.ContextVar[int] = contextvars.ContextVar("http_attempts", default=0)


def _count_attempt(**_: Any) -> None:
    http_attempts.set(http_attempts.get() + 1)


@lru_cache(maxsize=1)
def bedrock_client() -> Any:
    """The Bedrock Runtime client, with retries and timeouts set explicitly: the Lambda runtime bundles its own
    botocore, whose defaults (retry mode, attempts) change between versions."""
    import boto3
    from botocore.config import Config

    settings = get_settings()
    client = boto3.client(
        "bedrock-runtime",
        config=Config(
            retries={
                "mode": settings.bedrock_retry_mode,
                "total_max_attempts": settings.bedrock_max_attempts,
            },
            read_timeout=settings.bedrock_read_timeout,
            connect_timeout=settings.bedrock_connect_timeout,
            user_agent_extra="tracked-bedrock",
        ),
    )
    client.meta.events.register("before-send.bedrock-runtime", _count_attempt)
    return client
