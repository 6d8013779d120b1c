"""What one Bedrock call was, and the PostHog ``$ai_generation`` event that reports it.

Property names follow PostHog's LLM analytics "manual capture" contract; the few of our own (``operation``,
``bedrock_retry_attempts`` ...) carry no ``$`` so they read as custom properties in PostHog.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .pricing import Cost
from .settings import Settings

# PostHog's client drops an event over 900 KiB; stay under it with room for the batch envelope.
MAX_EVENT_BYTES = 880 * 1024
TRUNCATION_MARKER = "…[truncated {dropped} characters]"
LIB_NAME = "tracked-bedrock"
LIB_VERSION = "0.1.0"


@dataclass(slots=True)
class Generation:
    """Measurements of one Bedrock call, filled in as the call goes."""

    operation: str
    trace_id: str
    model_id: str
    vendor: str
    api: str
    system_prompt: str
    user_content: str
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    tool: dict[str, Any] | None = None
    attempt: int = 1
    span_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Outcome
    latency_s: float = 0.0
    http_status: int = 200
    output_text: str | None = None
    tool_input: Any = None
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    retry_attempts: int = 0
    request_id: str | None = None
    cost: Cost | None = None
    error: str | None = None
    error_code: str | None = None
    error_retryable: bool | None = None
    output_validation_error: str | None = None
    base_url: str | None = None

    @property
    def is_error(self) -> bool:
        return self.error is not None


def _input_messages(gen: Generation) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": gen.system_prompt},
        {"role": "user", "content": gen.user_content},
    ]


def _output_choices(gen: Generation) -> list[dict[str, Any]]:
    if gen.tool_input is not None and gen.tool is not None:
        call = {"type": "function", "function": {"name": gen.tool["name"], "arguments": gen.tool_input}}
        return [{"role": "assistant", "content": [call]}]
    if gen.output_text is not None:
        return [{"role": "assistant", "content": gen.output_text}]
    return []


def generation_properties(gen: Generation, settings: Settings) -> dict[str, Any]:
    """The ``$ai_generation`` properties for one call (before size limits)."""
    model_parameters = {
        k: v
        for k, v in (("max_tokens", gen.max_tokens), ("temperature", gen.temperature), ("top_p", gen.top_p))
        if v is not None
    }
    props: dict[str, Any] = {
        "$ai_trace_id": gen.trace_id,
        "$ai_span_id": gen.span_id,
        "$ai_span_name": gen.operation,
        "$ai_model": gen.model_id,
        # PostHog maps "bedrock" to its amazon-bedrock provider; the model's maker goes in model_vendor.
        "$ai_provider": "bedrock",
        "$ai_input": None if settings.posthog_privacy_mode else _input_messages(gen),
        "$ai_output_choices": None if settings.posthog_privacy_mode else _output_choices(gen),
        "$ai_input_tokens": gen.input_tokens,
        "$ai_output_tokens": gen.output_tokens,
        "$ai_latency": round(gen.latency_s, 6),
        "$ai_http_status": gen.http_status,
        "$ai_is_error": gen.is_error,
        "$ai_stream": False,
        "$ai_model_parameters": model_parameters,
        "operation": gen.operation,
        "model_vendor": gen.vendor,
        "bedrock_api": gen.api,
        "bedrock_retry_attempts": gen.retry_attempts,
        "structured_output_attempt": gen.attempt if gen.tool is not None else None,
        "privacy_mode": settings.posthog_privacy_mode,
        "$lib": LIB_NAME,
        "$lib_version": LIB_VERSION,
    }
    if gen.temperature is not None:
        props["$ai_temperature"] = gen.temperature
    if gen.max_tokens is not None:
        props["$ai_max_tokens"] = gen.max_tokens
    if gen.stop_reason is not None:
        props["$ai_stop_reason"] = gen.stop_reason
    if gen.cache_read_tokens:
        props["$ai_cache_read_input_tokens"] = gen.cache_read_tokens
    if gen.cache_write_tokens:
        props["$ai_cache_creation_input_tokens"] = gen.cache_write_tokens
    if gen.base_url:
        props["$ai_base_url"] = gen.base_url
    if gen.tool is not None:
        props["$ai_tools"] = [gen.tool]
    if gen.cost is not None:
        props["$ai_input_cost_usd"] = gen.cost.input_usd
        props["$ai_output_cost_usd"] = gen.cost.output_usd
        props["$ai_total_cost_usd"] = gen.cost.total_usd
        props["price_source"] = gen.cost.source
    if gen.request_id:
        props["bedrock_request_id"] = gen.request_id
    if gen.is_error:
        props["$ai_error"] = gen.error
        props["bedrock_error_code"] = gen.error_code
        props["bedrock_error_retryable"] = gen.error_retryable
    if gen.output_validation_error is not None:
        props["output_validation_error"] = gen.output_validation_error
    return {k: v for k, v in props.items() if v is not None}


def _size(obj: Any) -> int:
    # Measured as the posthog client measures (escaped JSON): the larger figure for non-ASCII text.
    return len(json.dumps(obj, default=str))


def _cut_strings(value: Any, limit: int) -> Any:
    """Every string inside ``value`` cut to ``limit`` characters, with a marker saying how much went."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + TRUNCATION_MARKER.format(dropped=len(value) - limit)
    if isinstance(value, list):
        return [_cut_strings(item, limit) for item in value]
    if isinstance(value, dict):
        return {key: _cut_strings(item, limit) for key, item in value.items()}
    return value


def fit_to_limit(props: dict[str, Any], max_bytes: int = MAX_EVENT_BYTES) -> dict[str, Any]:
    """Shrink the content properties until the event fits PostHog's limit; the event says it was cut."""
    if _size(props) <= max_bytes:
        return props
    heavy = ("$ai_input", "$ai_output_choices", "$ai_tools")
    limit = max(len(json.dumps(props.get(key, ""))) for key in heavy)
    fitted = dict(props)
    while limit > 64:
        limit //= 2
        for key in heavy:
            if key in props:
                fitted[key] = _cut_strings(props[key], limit)
        if _size(fitted) <= max_bytes:
            break
    else:
        for key in heavy:
            fitted.pop(key, None)
    fitted["content_truncated"] = True
    fitted["content_original_bytes"] = _size(props)
    return fitted


def generation_event(gen: Generation, settings: Settings, user_id: str | None) -> dict[str, Any]:
    """The full PostHog event (the shape the posthog client puts in a batch)."""
    props = fit_to_limit(generation_properties(gen, settings))
    if user_id is None:
        # A backend actor, not a person: PostHog must not create a person profile for it.
        props["$process_person_profile"] = False
    return {
        "event": "$ai_generation",
        "distinct_id": user_id or settings.posthog_distinct_id,
        "properties": props,
        "timestamp": gen.started_at.isoformat(),
        "uuid": str(uuid.uuid4()),
    }
