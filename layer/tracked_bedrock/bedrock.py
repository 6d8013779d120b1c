"""The tracked Bedrock client: the one entry point every operation calls.

Each Bedrock call is timed with a monotonic clock, its tokens, cost, retries and outcome are recorded, and one
``$ai_generation`` event per call joins the current invocation's trace. Calls go through the Converse API by
default, so every Converse model works with one code path; the native InvokeModel bodies of Nova and Claude are
kept for callers that need them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from pydantic import BaseModel, ValidationError

from . import clients
from .analytics import Generation
from .clients import http_attempts
from .errors import BedrockCallError, DeadlineError, IncompleteOutputError, SettingsError, StructuredOutputError
from .invocation import Invocation, current_invocation, tracked_invocation
from .observability import logger
from .pricing import ModelRef
from .settings import get_settings
from .structured import describe_errors, json_from_text, tool_spec

M = TypeVar("M", bound=BaseModel)
Api = Literal["converse", "invoke_model"]

# Errors botocore retries itself, and a model timeout: the same request can succeed later.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ModelNotReadyException",
        "InternalServerException",
        "ServiceUnavailableException",
        "ModelTimeoutException",
        "ModelErrorException",
    }
)
# A text answer that stopped for one of these reasons is not a whole answer.
INCOMPLETE_STOP_REASONS = frozenset(
    {
        "max_tokens",
        "guardrail_intervened",
        "content_filtered",
        "malformed_model_output",
        "model_context_window_exceeded",
    }
)
# A floor for how fast a model writes (Nova Micro writes ~150-250 tokens/s): sizes the time a retry may need.
SLOWEST_TOKENS_PER_SECOND = 100
FEEDBACK = (
    "\n\nYour previous answer was rejected because it did not match the required schema:\n{errors}\n"
    "Answer again, calling the tool `{tool}` exactly once with input that fixes every error.{cut}"
)


@dataclass(frozen=True, slots=True)
class InferenceSettings:
    """Optional inference parameters; None leaves the model's default."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None

    def camel_case(self) -> dict[str, Any]:
        """The parameters that are set, named as Converse's ``inferenceConfig`` and Nova's native body name them."""
        named = (("maxTokens", self.max_tokens), ("temperature", self.temperature), ("topP", self.top_p))
        return {key: value for key, value in named if value is not None}


@overload
def invoke_bedrock(
    *,
    system_prompt: str,
    user_content: str,
    operation: str | None = None,
    output_model: None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    api: Api = "converse",
) -> str: ...


@overload
def invoke_bedrock(
    *,
    system_prompt: str,
    user_content: str,
    operation: str | None = None,
    output_model: type[M],
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    api: Api = "converse",
) -> M: ...


def invoke_bedrock(
    *,
    system_prompt: str,
    user_content: str,
    operation: str | None = None,
    output_model: type[M] | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    api: Api = "converse",
) -> str | M:
    """Call the model from ``MODEL_ID`` once (twice if a structured answer needs correcting), tracked.

    Args:
        system_prompt: The instructions.
        user_content: The user's content; wrap untrusted text with ``as_data``.
        operation: Name reported as ``operation`` (defaults to the open invocation's, e.g. the GraphQL field).
        output_model: A pydantic model: the call forces a tool whose schema is generated from it and returns a
            validated instance. Without it the call returns the answer's text.
        max_tokens, temperature, top_p: Inference settings.
        api: ``"converse"`` (default) or ``"invoke_model"`` (native Nova / Claude bodies).

    Raises:
        BedrockCallError: Bedrock failed the call (``retryable`` says whether trying later may help).
        StructuredOutputError: the answer did not validate, even after one corrective retry.
        IncompleteOutputError: a text answer was cut off (max tokens) or blocked.
    """
    inference = InferenceSettings(max_tokens, temperature, top_p)
    invocation = current_invocation()
    if invocation is None:
        # Called outside a tracked handler: this call is its own invocation, delivered when it ends.
        with tracked_invocation(operation or "unnamed") as own:
            return _invoke(own, operation, system_prompt, user_content, output_model, inference, api)
    return _invoke(invocation, operation, system_prompt, user_content, output_model, inference, api)


def _invoke(
    invocation: Invocation,
    operation: str | None,
    system_prompt: str,
    user_content: str,
    output_model: type[M] | None,
    inference: InferenceSettings,
    api: Api,
) -> str | M:
    settings = get_settings()
    ref = ModelRef.parse(settings.model_id)

    def new_generation(content: str, tool: dict[str, Any] | None = None, attempt: int = 1) -> Generation:
        return Generation(
            operation=operation or invocation.operation,
            trace_id=invocation.trace_id,
            model_id=ref.model_id,
            vendor=ref.vendor,
            api=api,
            system_prompt=system_prompt,
            user_content=content,
            max_tokens=inference.max_tokens,
            temperature=inference.temperature,
            top_p=inference.top_p,
            tool=tool,
            attempt=attempt,
        )

    if output_model is None:
        gen = new_generation(user_content)
        with _recorded(invocation, gen):
            _send(gen, ref, inference)
            if gen.stop_reason in INCOMPLETE_STOP_REASONS or not (gen.output_text or "").strip():
                incomplete = IncompleteOutputError(gen.stop_reason or "empty answer", max_tokens=inference.max_tokens)
                # An answer the operation cannot use is an error in PostHog too, not only a stop reason.
                gen.error, gen.error_code, gen.error_retryable = str(incomplete), incomplete.error_type, False
                raise incomplete
        return gen.output_text or ""

    spec = tool_spec(output_model)
    content = user_content
    errors: list[str] = []
    calls = 0
    for attempt in (1, 2):
        if attempt == 2 and not _time_for_another_call(invocation, inference):
            errors.insert(0, "no time left in the invocation for a corrective attempt")
            break
        calls = attempt
        gen = new_generation(content, spec, attempt)
        with _recorded(invocation, gen):
            _send(gen, ref, inference)
            data = gen.tool_input if gen.tool_input is not None else json_from_text(gen.output_text or "")
            try:
                return output_model.model_validate(data)
            except ValidationError as exc:
                errors = describe_errors(exc)
                gen.output_validation_error = "; ".join(errors)[:2000]
        cut = " Your answer was cut off by the token limit: be more concise." if gen.stop_reason == "max_tokens" else ""
        content = user_content + FEEDBACK.format(errors="\n".join(errors[:20]), tool=spec["name"], cut=cut)
    raise StructuredOutputError(
        f"the model's answer did not match {output_model.__name__} after {calls} attempt{'s' if calls > 1 else ''}: "
        f"{'; '.join(errors[:5])}",
        validation_errors=errors,
    )


def _time_for_another_call(invocation: Invocation, inference: InferenceSettings) -> bool:
    """Whether a full answer can still arrive before Lambda's timeout (estimated from the token limit)."""
    left = invocation.seconds_left()
    if left is None:
        return True
    settings = get_settings()
    answer_s = min(settings.bedrock_read_timeout, (inference.max_tokens or 1000) / SLOWEST_TOKENS_PER_SECOND)
    return left > answer_s + settings.posthog_delivery_timeout + clients.DEADLINE_RESERVE_SECONDS


class _recorded:
    """Context manager: whatever happens inside, the call's Generation is priced and recorded on exit."""

    def __init__(self, invocation: Invocation, gen: Generation) -> None:
        self.invocation, self.gen = invocation, gen

    def __enter__(self) -> Generation:
        return self.gen

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> None:
        gen = self.gen
        if exc is not None and gen.error is None:
            # Failed before or around the HTTP call (no region, bad MODEL_ID ...): the event still says so.
            gen.error, gen.error_code, gen.http_status = f"{type(exc).__name__}: {exc}", type(exc).__name__, 500
        try:
            gen.cost = get_settings().price_book.cost(
                gen.model_id,
                input_tokens=gen.input_tokens,
                output_tokens=gen.output_tokens,
                cache_read_tokens=gen.cache_read_tokens,
                cache_write_tokens=gen.cache_write_tokens,
            )
            self.invocation.record(gen)
        except Exception as error:  # analytics must never change the operation's outcome
            logger.warning("Could not record a Bedrock call", extra={"error": repr(error)})


def _send(gen: Generation, ref: ModelRef, inference: InferenceSettings) -> None:
    """Make the HTTP call (botocore retries inside), filling ``gen``; failures raise BedrockCallError."""
    client = clients.bedrock_client()
    gen.base_url = client.meta.endpoint_url
    if gen.api == "converse":
        request = _converse_request(gen, inference)
        response = _timed(gen, lambda: client.converse(**request))
        _read_converse(gen, response)
    else:
        body = _native_body(gen, ref, inference)
        response = _timed(
            gen,
            lambda: client.invoke_model(
                modelId=ref.model_id,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            ),
        )
        _read_native(gen, ref, response)


def _timed(gen: Generation, send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    token = http_attempts.set(0)
    started = time.monotonic()
    try:
        response = send()
        meta = response.get("ResponseMetadata", {})
        gen.retry_attempts = meta.get("RetryAttempts", 0)
        gen.request_id = meta.get("RequestId")
        gen.http_status = meta.get("HTTPStatusCode", 200)
        return response
    except ClientError as exc:
        raise _client_error(gen, exc) from exc
    except BotoCoreError as exc:
        raise _transport_error(gen, exc) from exc
    except DeadlineError as exc:
        raise _fail(gen, code="DeadlineExceeded", status=504, retryable=True, detail=exc.detail) from exc
    finally:
        gen.latency_s = time.monotonic() - started
        if not gen.retry_attempts:
            gen.retry_attempts = max(0, http_attempts.get() - 1)
        http_attempts.reset(token)


def _fail(gen: Generation, *, code: str, status: int, retryable: bool, detail: str) -> BedrockCallError:
    attempts = gen.retry_attempts + 1
    advice = "retrying later may help" if retryable else "retrying will not help until the cause is fixed"
    message = (
        f"Bedrock call for {gen.operation} failed with {code} (HTTP {status}) after {attempts} "
        f"attempt{'s' if attempts > 1 else ''}: {detail}; {advice}"
    )
    gen.error, gen.error_code, gen.http_status, gen.error_retryable = message, code, status, retryable
    return BedrockCallError(
        message,
        code=code,
        http_status=status,
        retryable=retryable,
        retry_attempts=gen.retry_attempts,
        request_id=gen.request_id,
    )


def _client_error(gen: Generation, exc: ClientError) -> BedrockCallError:
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = error.get("Code") or "UnknownError"
    gen.retry_attempts = meta.get("RetryAttempts", max(0, http_attempts.get() - 1))
    gen.request_id = meta.get("RequestId")
    return _fail(
        gen,
        code=code,
        status=int(meta.get("HTTPStatusCode") or 500),
        retryable=code in RETRYABLE_CODES,
        detail=error.get("Message") or str(exc),
    )


def _transport_error(gen: Generation, exc: BotoCoreError) -> BedrockCallError:
    # No HTTP answer: report the status a gateway would have given (408 for a read timeout, 503 otherwise).
    gen.retry_attempts = max(0, http_attempts.get() - 1)
    status = 408 if isinstance(exc, ReadTimeoutError | ConnectTimeoutError) else 503
    return _fail(gen, code=type(exc).__name__, status=status, retryable=True, detail=str(exc))


def _converse_request(gen: Generation, inference: InferenceSettings) -> dict[str, Any]:
    config = inference.camel_case()
    request: dict[str, Any] = {
        "modelId": gen.model_id,
        "system": [{"text": gen.system_prompt}],
        "messages": [{"role": "user", "content": [{"text": gen.user_content}]}],
    }
    if config:
        request["inferenceConfig"] = config
    if gen.tool is not None:
        request["toolConfig"] = {
            "tools": [{"toolSpec": gen.tool}],
            "toolChoice": {"tool": {"name": gen.tool["name"]}},
        }
    return request


def _read_converse(gen: Generation, response: dict[str, Any]) -> None:
    blocks = response.get("output", {}).get("message", {}).get("content", [])
    texts = [block["text"] for block in blocks if "text" in block]
    tool_uses = [block["toolUse"] for block in blocks if "toolUse" in block]
    gen.output_text = "".join(texts) if texts else None
    if tool_uses:
        gen.tool_input = tool_uses[0].get("input")
    gen.stop_reason = response.get("stopReason")
    usage = response.get("usage", {})
    gen.input_tokens = int(usage.get("inputTokens", 0))
    gen.output_tokens = int(usage.get("outputTokens", 0))
    gen.cache_read_tokens = int(usage.get("cacheReadInputTokens", 0))
    gen.cache_write_tokens = int(usage.get("cacheWriteInputTokens", 0))


def _native_family(ref: ModelRef) -> Literal["nova", "claude"]:
    if ref.base_id.startswith("amazon.nova"):
        return "nova"
    if ref.base_id.startswith("anthropic.claude"):
        return "claude"
    raise SettingsError(
        f"MODEL_ID {ref.model_id!r} has no native InvokeModel body here (Nova and Claude only); use the Converse API"
    )


def _native_body(gen: Generation, ref: ModelRef, inference: InferenceSettings) -> dict[str, Any]:
    if gen.tool is not None:
        raise SettingsError("structured output needs the Converse API (api='converse')")
    if _native_family(ref) == "nova":
        config = inference.camel_case()
        return {
            "schemaVersion": "messages-v1",
            "system": [{"text": gen.system_prompt}],
            "messages": [{"role": "user", "content": [{"text": gen.user_content}]}],
            **({"inferenceConfig": config} if config else {}),
        }
    body: dict[str, Any] = {
        "anthropic_version": "bedrock-2023-05-31",
        # Claude's native API requires max_tokens.
        "max_tokens": inference.max_tokens or 1024,
        "system": gen.system_prompt,
        "messages": [{"role": "user", "content": [{"type": "text", "text": gen.user_content}]}],
    }
    if inference.temperature is not None:
        body["temperature"] = inference.temperature
    if inference.top_p is not None:
        body["top_p"] = inference.top_p
    return body


def _header_int(headers: dict[str, str], name: str) -> int:
    try:
        return int(headers.get(f"x-amzn-bedrock-{name}", 0))
    except ValueError:
        return 0


def _read_native(gen: Generation, ref: ModelRef, response: dict[str, Any]) -> None:
    headers = {k.lower(): v for k, v in response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).items()}
    try:
        body = json.loads(response["body"].read())
    except (ValueError, KeyError):
        # The body can arrive incomplete (seen with guardrails); the usage headers still tell the tokens.
        body = {}
    usage = body.get("usage", {})
    if _native_family(ref) == "nova":
        blocks = body.get("output", {}).get("message", {}).get("content", [])
        gen.output_text = "".join(block.get("text", "") for block in blocks)
        gen.stop_reason = body.get("stopReason")
        tokens = (
            usage.get("inputTokens"),
            usage.get("outputTokens"),
            usage.get("cacheReadInputTokenCount"),
            usage.get("cacheWriteInputTokenCount"),
        )
    else:
        gen.output_text = "".join(
            block.get("text", "") for block in body.get("content", []) if block.get("type") == "text"
        )
        gen.stop_reason = body.get("stop_reason")
        tokens = (
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            usage.get("cache_read_input_tokens"),
            usage.get("cache_creation_input_tokens"),
        )
    names = (
        "input-token-count",
        "output-token-count",
        "cache-read-input-token-count",
        "cache-write-input-token-count",
    )
    values = [
        int(value) if value is not None else _header_int(headers, name)
        for value, name in zip(tokens, names, strict=True)
    ]
    gen.input_tokens, gen.output_tokens, gen.cache_read_tokens, gen.cache_write_tokens = values
