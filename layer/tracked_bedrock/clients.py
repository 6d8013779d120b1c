"""Clients created once per execution environment (cold start pays, warm invocations reuse them)."""

from __future__ import annotations

import contextvars
from functools import lru_cache
from typing import Any

from .errors import DeadlineError
from .invocation import current_invocation
from .settings import get_settings

# Attempts botocore made for the current call, counted by an event hook: errors raised before any response
# (timeouts, refused connections) carry no ResponseMetadata.RetryAttempts.
# Time kept back, beyond the delivery budget, for recording the call and returning.
DEADLINE_RESERVE_SECONDS = 1.0
http_attempts: contextvars.ContextVar[int] = contextvars.ContextVar("http_attempts", default=0)


def _count_attempt(**_: Any) -> None:
    http_attempts.set(http_attempts.get() + 1)


def _guard_deadline(**_: Any) -> None:
    # botocore retries a read timeout (20 s by default) without knowing Lambda's timeout (25 s): a retry that
    # cannot finish before it would be killed mid-call, with no typed error and no event. So a retry is sent only
    # when a whole read timeout still fits, and any attempt only when the analytics can still be delivered.
    invocation = current_invocation()
    left = invocation.seconds_left() if invocation is not None else None
    if left is None:
        return
    settings = get_settings()
    reserve = settings.posthog_delivery_timeout + DEADLINE_RESERVE_SECONDS
    is_retry = http_attempts.get() > 0
    needed = reserve + (settings.bedrock_read_timeout if is_retry else 0.0)
    if left < needed:
        attempt = "a retry" if is_retry else "the call"
        raise DeadlineError(f"{left:.1f} s left before the Lambda timeout, {needed:.1f} s needed for {attempt}")


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
    client.meta.events.register("before-send.bedrock-runtime", _guard_deadline)
    client.meta.events.register("before-send.bedrock-runtime", _count_attempt)
    return client
