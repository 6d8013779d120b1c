"""Amazon Bedrock Runtime on loopback: an HTTP server that ``boto3.client("bedrock-runtime")`` really talks to.

It speaks Bedrock Runtime's rest-json wire protocol, so boto3's own serialisation, SigV4 signing, response
parsing, error parsing and retries all run for real. Point a client at it with ``endpoint_url=`` or the
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` environment variable, with dummy credentials and any region.

Operations (the model id is a URL path segment; botocore percent-encodes ``:`` and ``/``):

``POST /model/{modelId}/converse``
    Converse. A forced tool (``toolChoice {"tool": {"name"}}``, or ``any``) is answered with a ``toolUse``
    block whose ``input`` satisfies the tool's JSON Schema (see :mod:`loopback._schema_instance`); with
    ``auto`` a tool is used only when the last user message names it. Otherwise the answer is text.
``POST /model/{modelId}/invoke``
    InvokeModel with the native bodies of Amazon Nova (``amazon.nova`` in the id) and Anthropic Claude
    (``anthropic.``), including their tools. Token counts and latency are also sent as
    ``x-amzn-bedrock-*`` headers.
``POST /model/{modelId}/count-tokens``
    CountTokens, for either input form.

The streaming operations (``converse-stream``, ``invoke-with-response-stream``) are not served: they are answered
404 ``UnknownOperationException``.

Answers are deterministic: the same model id and request body always get the same answer. Text mentions the
first words of the last user message and stops at ``maxTokens`` (``stopReason`` ``max_tokens``) or a stop
sequence. Usage follows the prompt: ``inputTokens = ceil(characters of system and message text / 4)``,
``outputTokens = ceil(characters of the answer / 4)`` (text, or the compact JSON of a tool's input). A prompt
with a cache point (Converse/Nova ``cachePoint`` block, Claude ``cache_control``) writes the text before it to
a per-server cache on first sight and reads it afterwards; those tokens are reported as cache tokens and left
out of ``inputTokens``, as Bedrock does. Tool definitions are not counted. Requests must carry a SigV4
``Authorization`` header scoped to the ``bedrock`` signing name (what boto3 sends); the signature is not checked.

Faults, for tests: a queue consumed one per model request (``inject``, ``inject_delay``, ``inject_malformed``,
``inject_max_tokens``) and a sticky error that answers every request until cleared (``set_sticky``). Errors are
sent the way Bedrock sends them: ``{"message"}`` with ``x-amzn-ErrorType: <Code>:http://internal.amazon.com/...``
and the modelled HTTP status, so ``ClientError.response["Error"]["Code"]`` is the bare code and botocore's retry
rules apply unchanged. Every model request is recorded (``requests``), including rejected ones.

Admin endpoints (same port, never recorded, never consume faults): ``GET /_standin/health``,
``GET /_standin/requests``, ``GET|POST /_standin/faults`` (``{"kind", "times", ...}``, see :class:`Fault`),
``POST|DELETE /_standin/sticky`` (``{"error", "message"?, "status"?}``), ``POST /_standin/reset``.
:class:`RemoteBedrockStandIn` drives them with the same methods as the in-process server.

Standalone: ``python -m loopback.bedrock [--host H] [--port N] [--latency S]`` prints its URL on the first
line of stdout and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import dataclasses
import hashlib
import itertools
import json
import logging
import math
import random
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal, Self, cast, get_args
from urllib.parse import unquote, urlsplit

from loopback._schema_instance import SchemaInstanceError, schema_instance, seed_from, violating_instance

log = logging.getLogger(__name__)

__all__ = [
    "ERROR_STATUS",
    "RETRIED_BY_BOTOCORE",
    "BedrockStandIn",
    "ErrorCode",
    "Fault",
    "FaultKind",
    "MalformedStyle",
    "RecordedRequest",
    "RemoteBedrockStandIn",
    "bedrock_standin",
    "estimate_tokens",
    "main",
]

ErrorCode = Literal[
    "ThrottlingException",
    "ModelNotReadyException",
    "InternalServerException",
    "ServiceUnavailableException",
    "ModelTimeoutException",
    "ModelErrorException",
    "ValidationException",
    "ServiceQuotaExceededException",
    "AccessDeniedException",
    "ResourceNotFoundException",
]
#: The HTTP status Bedrock Runtime's service model gives each error.
ERROR_STATUS: Final[Mapping[str, int]] = {
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
}
#: Errors botocore retries (legacy and standard mode alike): throttling codes, 5xx, and the modelled-retryable one.
RETRIED_BY_BOTOCORE: Final = frozenset(
    {"ThrottlingException", "ModelNotReadyException", "InternalServerException", "ServiceUnavailableException"}
)
_DEFAULT_MESSAGES: Final[Mapping[str, str]] = {
    "ThrottlingException": "Too many requests, please wait before trying again.",
    "ModelNotReadyException": "Model is not ready to serve inference requests. Try again later.",
    "InternalServerException": "The server encountered an internal error while processing the request.",
    "ServiceUnavailableException": "Bedrock is unable to process your request.",
    "ModelTimeoutException": "Model has timed out in processing the request. Try your request again.",
    "ModelErrorException": "The model returned an error while processing the request.",
    "ValidationException": "Malformed input request, please reformat your input and try again.",
    "ServiceQuotaExceededException": "Your request exceeds the service quota for your account.",
    "AccessDeniedException": "You don't have access to the model with the specified model ID.",
    "ResourceNotFoundException": "The requested resource could not be found.",
}
# Bedrock's error type header carries a namespace after the code; botocore keeps only what precedes the colon.
_ERROR_NAMESPACE: Final = ":http://internal.amazon.com/coral/com.amazon.bedrock/"

FaultKind = Literal["error", "delay", "malformed", "max_tokens"]
#: How ``inject_malformed`` breaks a tool answer: drop a required property, give a property the wrong JSON type,
#: or answer prose instead of calling the tool.
MalformedStyle = Literal["missing_required", "wrong_type", "text"]

ADMIN_PREFIX: Final = "/_standin/"
_OPERATIONS: Final[Mapping[str, str]] = {"converse": "Converse", "invoke": "InvokeModel", "count-tokens": "CountTokens"}
_SIGV4: Final = re.compile(r"AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")
_NOVA_KEYS: Final = frozenset({"schemaVersion", "messages", "system", "inferenceConfig", "toolConfig"})
_CLAUDE_KEYS: Final = frozenset(
    {
        "anthropic_version",
        "anthropic_beta",
        "max_tokens",
        "system",
        "messages",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "metadata",
        "thinking",
    }
)
_SENTENCES: Final = (
    "The main points are summarised below in plain language.",
    "Each point builds on the details given in the request.",
    "Where the request was open to several readings, the most common one was assumed.",
    "A short example makes the idea concrete.",
    "The trade-offs are noted so that the best option can be chosen.",
    "More detail can be added on request.",
    "Nothing here relies on information beyond what was provided.",
    "The answer keeps to the scope of the question.",
    "The steps are listed in the order they would be carried out.",
    "Risks and open questions are called out at the end.",
)


def estimate_tokens(text: str) -> int:
    """The stand-in's token count for ``text``: one token per four characters, rounded up."""
    return math.ceil(len(text) / 4)


# --- faults and records ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Fault:
    """One injected fault: what the next model request gets instead of (or on top of) a normal answer.

    ``error``: answer with ``error`` (a code from :data:`ERROR_STATUS`, or any code with an explicit ``status``).
    ``delay``: wait ``seconds`` before answering normally. ``malformed``: break the answer (see
    :data:`MalformedStyle`). ``max_tokens``: cut the answer off as if the token limit was reached.
    """

    kind: FaultKind
    error: str | None = None
    status: int | None = None
    message: str | None = None
    seconds: float = 0.0
    style: MalformedStyle = "missing_required"

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {get_args(FaultKind)}")
        if self.kind == "error" and (self.error is None or (self.error not in ERROR_STATUS and self.status is None)):
            raise ValueError(f"unknown error {self.error!r}: use one of {sorted(ERROR_STATUS)} or give a status")
        if self.style not in get_args(MalformedStyle):
            raise ValueError(f"unknown malformed style {self.style!r}; expected one of {get_args(MalformedStyle)}")
        if self.seconds < 0:
            raise ValueError("a delay cannot be negative")

    @property
    def http_status(self) -> int:
        """The status an ``error`` fault is answered with."""
        return self.status or ERROR_STATUS.get(self.error or "", 500)

    @property
    def label(self) -> str:
        """Short name for records: the error code, or the kind."""
        return self.error if self.kind == "error" and self.error else self.kind

    def to_json(self) -> dict[str, Any]:
        """The admin endpoint's JSON form."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Parse the admin endpoint's JSON form (unknown keys are ignored)."""
        fields = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in fields})


@dataclasses.dataclass
class RecordedRequest:
    """A request the stand-in received on a model route, and how it was answered."""

    method: str
    path: str
    #: ``Converse``, ``InvokeModel``, ``CountTokens``, or the unknown path segment.
    operation: str
    #: Percent-decoded model id (a base id, an inference profile id, or an ARN).
    model_id: str
    #: The parsed JSON body (for InvokeModel, the native model body), or None when it was not JSON.
    body: Any
    #: Request headers, names lower-cased.
    headers: dict[str, str]
    request_id: str
    #: The region of the SigV4 credential scope, when signed.
    region: str | None
    received_at: float
    #: None while the answer is still pending (e.g. during an injected delay).
    status: int | None = None
    #: The injected fault that shaped the answer (error code or fault kind), if any.
    fault: str | None = None

    @property
    def prompt_text(self) -> str:
        """All system and message text of the request, in order (what the input tokens are counted from)."""
        try:
            return _prompt_for(self.operation, self.model_id, self.body).text
        except _Rejection:
            return ""

    def to_json(self) -> dict[str, Any]:
        """JSON form, as ``GET /_standin/requests`` returns it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordedRequest:
        """Parse the JSON form."""
        return cls(**data)


class _Rejection(Exception):
    """The request is answered with a Bedrock error."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        super().__init__(message or _DEFAULT_MESSAGES.get(code, code))
        self.code = code
        self.message = message or _DEFAULT_MESSAGES.get(code, code)
        self.status = status or ERROR_STATUS.get(code, 400)


def _invalid(message: str) -> _Rejection:
    return _Rejection("ValidationException", message)


# --- prompts ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Prompt:
    """What the stand-in needs from a request body, whatever its API."""

    segments: list[str] = dataclasses.field(default_factory=list)
    #: Number of leading segments before the last cache point; None without one.
    cached_segments: int | None = None
    user_text: str = ""
    #: The last user turn carries tool results: the model is expected to write text.
    after_tool_result: bool = False
    max_tokens: int | None = None
    stop_sequences: list[str] = dataclasses.field(default_factory=list)
    tools: dict[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    tool_mode: str | None = None
    forced_tool: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.segments)

    @property
    def cache_prefix(self) -> str | None:
        return None if self.cached_segments is None else "".join(self.segments[: self.cached_segments])

    def chosen_tool(self) -> str | None:
        """The tool the model calls: the forced one, else (``any``, or ``auto`` when named) the one the user named."""
        # After a tool result an ``auto`` model writes text; ``any`` and ``tool`` still force a call.
        if not self.tools or (self.after_tool_result and self.tool_mode == "auto"):
            return None
        if self.tool_mode == "tool":
            return self.forced_tool
        named = next((name for name in self.tools if name in self.user_text), None)
        if self.tool_mode == "any":
            return named or next(iter(self.tools))
        return named


def _family(model_id: str) -> Literal["nova", "claude"] | None:
    if "amazon.nova" in model_id:
        return "nova"
    if "anthropic." in model_id:
        return "claude"
    return None


def _prompt_for(operation: str, model_id: str, body: Any) -> _Prompt:
    """Parse and validate a request body into a prompt (raises _Rejection as Bedrock would answer)."""
    if not isinstance(body, Mapping):
        raise _invalid("Malformed input request: the body must be a JSON object, please reformat your input.")
    if operation == "Converse":
        return _converse_prompt(body)
    if operation == "CountTokens":
        return _count_tokens_prompt(model_id, body)
    family = _family(model_id)
    if family == "nova":
        return _nova_prompt(body)
    if family == "claude":
        return _claude_prompt(body)
    raise _invalid(
        f"The stand-in has no native InvokeModel body for {model_id!r} (Amazon Nova and Anthropic Claude only)."
    )


def _check_turns(roles: list[Any]) -> None:
    if not roles or roles[0] != "user":
        raise _invalid(
            "A conversation must start with a user message. Try again with a conversation that starts with a user "
            "message."
        )
    if any(role not in ("user", "assistant") for role in roles) or any(a == b for a, b in itertools.pairwise(roles)):
        raise _invalid(
            "A conversation must alternate between user and assistant roles. Make sure the conversation alternates "
            "between user and assistant roles and try again."
        )


def _block_texts(blocks: Any, prompt: _Prompt, *, where: str) -> tuple[str, bool]:
    """Add Converse/Nova content blocks to ``prompt``; returns (their plain text, whether they hold tool results)."""
    if not isinstance(blocks, list) or not blocks:
        raise _invalid(f"The content field in the {where} is empty. Add a content block and try again.")
    texts: list[str] = []
    tool_result = False
    for block in blocks:
        if not isinstance(block, Mapping):
            raise _invalid(f"Malformed content block in the {where}.")
        if "text" in block:
            prompt.segments.append(str(block["text"]))
            texts.append(str(block["text"]))
        elif "cachePoint" in block:
            prompt.cached_segments = len(prompt.segments)
        elif "toolUse" in block:
            prompt.segments.append(json.dumps(block["toolUse"].get("input"), separators=(",", ":")))
        elif "toolResult" in block:
            tool_result = True
            for part in block["toolResult"].get("content", []):
                value = part.get("text") if "text" in part else part.get("json")
                prompt.segments.append(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
    return " ".join(texts), tool_result


def _add_messages(prompt: _Prompt, messages: Any) -> None:
    if not isinstance(messages, list):
        raise _invalid("Malformed input request: messages must be a list.")
    _check_turns([m.get("role") if isinstance(m, Mapping) else None for m in messages])
    for index, message in enumerate(messages):
        text, tool_result = _block_texts(message.get("content"), prompt, where=f"Message object at messages.{index}")
        if message["role"] == "user":
            prompt.user_text, prompt.after_tool_result = text, tool_result


def _add_system(prompt: _Prompt, system: Any) -> None:
    if system is None:
        return
    if not isinstance(system, list):
        raise _invalid("Malformed input request: system must be a list of content blocks.")
    for block in system:
        if "text" in block:
            prompt.segments.append(str(block["text"]))
        elif "cachePoint" in block:
            prompt.cached_segments = len(prompt.segments)


def _add_tool_config(prompt: _Prompt, config: Any) -> None:
    if config is None:
        return
    tools = config.get("tools") if isinstance(config, Mapping) else None
    if not isinstance(tools, list) or not tools:
        raise _invalid("The toolConfig field must be defined with at least one tool.")
    for tool in tools:
        spec = tool.get("toolSpec", {}) if isinstance(tool, Mapping) else {}
        schema = spec.get("inputSchema", {}).get("json")
        if not spec.get("name") or not isinstance(schema, Mapping):
            raise _invalid("Each tool needs toolSpec.name and toolSpec.inputSchema.json (a JSON Schema object).")
        prompt.tools[spec["name"]] = schema
    _set_tool_choice(prompt, config.get("toolChoice"), converse=True)


def _set_tool_choice(prompt: _Prompt, choice: Any, *, converse: bool) -> None:
    if choice is None:
        prompt.tool_mode = "auto"
        return
    if converse:
        mode = next(iter(choice), None) if isinstance(choice, Mapping) and len(choice) == 1 else None
        name = choice.get("tool", {}).get("name") if mode == "tool" else None
    else:
        mode, name = (choice.get("type"), choice.get("name")) if isinstance(choice, Mapping) else (None, None)
    if mode not in ("auto", "any", "tool"):
        raise _invalid(f"Malformed tool choice {choice!r}: expected exactly one of auto, any or tool.")
    if mode == "tool" and name not in prompt.tools:
        raise _invalid(f"The tool choice names {name!r}, which is not one of the tools defined: {list(prompt.tools)}.")
    prompt.tool_mode, prompt.forced_tool = mode, name


def _positive_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _invalid(f"The value at {field} must be an integer greater than or equal to 1, got {value!r}.")
    return value


def _check_unit_interval(config: Mapping[str, Any], *fields: str) -> None:
    for field in fields:
        value = config.get(field)
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
            raise _invalid(f"The value at inferenceConfig.{field} must be between 0 and 1, got {value!r}.")


def _converse_prompt(body: Mapping[str, Any]) -> _Prompt:
    prompt = _Prompt()
    _add_system(prompt, body.get("system"))
    _add_messages(prompt, body.get("messages"))
    config = body.get("inferenceConfig") or {}
    prompt.max_tokens = _positive_int(config.get("maxTokens"), "inferenceConfig.maxTokens")
    _check_unit_interval(config, "temperature", "topP")
    prompt.stop_sequences = list(config.get("stopSequences") or [])
    _add_tool_config(prompt, body.get("toolConfig"))
    return prompt


def _nova_prompt(body: Mapping[str, Any]) -> _Prompt:
    # Nova rejects keys it does not know, the usual symptom of sending it a Claude-shaped body.
    extra = sorted(set(body) - _NOVA_KEYS)
    if extra:
        raise _invalid(f"Malformed input request: #: extraneous key [{extra[0]}] is not permitted, please reformat.")
    prompt = _Prompt()
    _add_system(prompt, body.get("system"))
    _add_messages(prompt, body.get("messages"))
    config = body.get("inferenceConfig") or {}
    max_tokens = config.get("maxTokens", config.get("max_new_tokens"))
    prompt.max_tokens = _positive_int(max_tokens, "inferenceConfig.maxTokens")
    _check_unit_interval(config, "temperature", "topP")
    prompt.stop_sequences = list(config.get("stopSequences") or [])
    _add_tool_config(prompt, body.get("toolConfig"))
    return prompt


def _claude_blocks(content: Any, prompt: _Prompt) -> tuple[str, bool]:
    """Add Claude content (a string or typed blocks) to ``prompt``; returns (plain text, holds tool results)."""
    if isinstance(content, str):
        prompt.segments.append(content)
        return content, False
    if not isinstance(content, list) or not content:
        raise _invalid("Malformed input request: message content must be a string or a non-empty list of blocks.")
    texts: list[str] = []
    tool_result = False
    for block in content:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            prompt.segments.append(str(block.get("text", "")))
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            prompt.segments.append(json.dumps(block.get("input"), separators=(",", ":")))
        elif kind == "tool_result":
            tool_result = True
            inner = block.get("content", "")
            if isinstance(inner, str):
                prompt.segments.append(inner)
            else:
                prompt.segments.extend(str(part.get("text", "")) for part in inner if isinstance(part, Mapping))
        if isinstance(block, Mapping) and "cache_control" in block:
            prompt.cached_segments = len(prompt.segments)
    return " ".join(texts), tool_result


def _claude_prompt(body: Mapping[str, Any]) -> _Prompt:
    for required in ("anthropic_version", "max_tokens"):
        if required not in body:
            raise _invalid(f"Malformed input request: #: required key [{required}] not found, please reformat.")
    extra = sorted(set(body) - _CLAUDE_KEYS)
    if extra:
        raise _invalid(f"Malformed input request: #: extraneous key [{extra[0]}] is not permitted, please reformat.")
    prompt = _Prompt()
    if body.get("system") is not None:
        _claude_blocks(body["system"], prompt)
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise _invalid("Malformed input request: #: required key [messages] not found, please reformat.")
    _check_turns([m.get("role") if isinstance(m, Mapping) else None for m in messages])
    for message in messages:
        text, tool_result = _claude_blocks(message.get("content"), prompt)
        if message["role"] == "user":
            prompt.user_text, prompt.after_tool_result = text, tool_result
    prompt.max_tokens = _positive_int(body["max_tokens"], "max_tokens")
    _check_unit_interval(body, "temperature", "top_p")
    prompt.stop_sequences = list(body.get("stop_sequences") or [])
    tools = body.get("tools") or []
    for tool in tools:
        if not isinstance(tool, Mapping) or not tool.get("name") or not isinstance(tool.get("input_schema"), Mapping):
            raise _invalid("Malformed input request: each tool needs a name and an input_schema object.")
        prompt.tools[tool["name"]] = tool["input_schema"]
    if tools or body.get("tool_choice") is not None:
        _set_tool_choice(prompt, body.get("tool_choice"), converse=False)
    return prompt


def _count_tokens_prompt(model_id: str, body: Mapping[str, Any]) -> _Prompt:
    request = body.get("input") or {}
    if "converse" in request:
        return _converse_prompt(request["converse"])
    if "invokeModel" in request:
        try:
            native = json.loads(base64.b64decode(request["invokeModel"]["body"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise _invalid("input.invokeModel.body must be a base64-encoded JSON model body.") from exc
        return _prompt_for("InvokeModel", model_id, native)
    raise _invalid("input must hold exactly one of converse or invokeModel.")


# --- answers ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Answer:
    text: str | None = None
    tool_name: str | None = None
    tool_input: Any = None
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    output_tokens: int = 0
    #: The body itself should come out broken (InvokeModel text answers under ``inject_malformed``).
    broken_body: bool = False


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _topic(text: str) -> str:
    words = re.sub(r"\s+", " ", text.replace('"', "")).strip().split(" ")
    return " ".join(words[:8]).rstrip(".,;:!?") or "your request"


def _compose_text(prompt: _Prompt, rng: random.Random) -> str:
    sentences = rng.sample(_SENTENCES, rng.randint(3, 6))
    return f'Here is a response to "{_topic(prompt.user_text)}". ' + " ".join(sentences)


def _cut_object(value: Any, budget_chars: int | None = None) -> Any:
    """A tool input cut short: the leading properties that fit ``budget_chars``, or half of them."""
    if not isinstance(value, dict):
        return {}
    keys = list(value)
    if budget_chars is None:
        return {key: value[key] for key in keys[: len(keys) // 2]}
    kept: dict[str, Any] = {}
    for key in keys:
        if len(_compact({**kept, key: value[key]})) > budget_chars:
            break
        kept[key] = value[key]
    return kept


def _answer(prompt: _Prompt, seed: int, fault: Fault | None) -> _Answer:
    """The model's deterministic answer to ``prompt``, shaped by ``fault``."""
    rng = random.Random(seed)
    malformed = fault is not None and fault.kind == "malformed"
    cut_off = fault is not None and fault.kind == "max_tokens"
    tool = prompt.chosen_tool()
    if tool is not None and not (malformed and fault is not None and fault.style == "text"):
        schema = prompt.tools[tool]
        try:
            instance = schema_instance(schema, seed=seed, name=tool)
        except SchemaInstanceError as exc:
            raise _invalid(f"The input schema of tool {tool!r} cannot be satisfied: {exc}") from exc
        if malformed and fault is not None and fault.style != "text":
            instance = violating_instance(schema, instance, fault.style)
        answer = _Answer(tool_name=tool, tool_input=instance, stop_reason="tool_use")
        if cut_off:
            answer.tool_input, answer.stop_reason = _cut_object(instance), "max_tokens"
        elif prompt.max_tokens is not None and estimate_tokens(_compact(instance)) > prompt.max_tokens:
            answer.tool_input, answer.stop_reason = _cut_object(instance, prompt.max_tokens * 4), "max_tokens"
        answer.output_tokens = estimate_tokens(_compact(answer.tool_input))
        if answer.stop_reason == "max_tokens" and prompt.max_tokens is not None and not cut_off:
            answer.output_tokens = prompt.max_tokens  # the model spent its whole budget before being cut off
        return answer
    if tool is not None:  # malformed, style "text": prose where a tool call was required
        text = (
            f"I can describe the {tool.replace('_', ' ')} in words, but not call the tool. {_compose_text(prompt, rng)}"
        )
        return _Answer(text=text, output_tokens=estimate_tokens(text))
    answer = _Answer(text=_compose_text(prompt, rng), broken_body=malformed)
    assert answer.text is not None
    hits = [(answer.text.find(seq), seq) for seq in prompt.stop_sequences if seq and seq in answer.text]
    if hits:
        index, sequence = min(hits)
        answer.text, answer.stop_reason, answer.stop_sequence = answer.text[:index], "stop_sequence", sequence
    if cut_off:
        answer.text, answer.stop_reason = answer.text[: len(answer.text) // 2], "max_tokens"
    if prompt.max_tokens is not None and estimate_tokens(answer.text) > prompt.max_tokens:
        answer.text, answer.stop_reason = answer.text[: prompt.max_tokens * 4], "max_tokens"
    answer.output_tokens = estimate_tokens(answer.text)
    return answer


def _short_id(seed: int, length: int = 22) -> str:
    digest = hashlib.sha256(seed.to_bytes(8, "big")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=").replace("-", "A").replace("_", "B")[:length]


@dataclasses.dataclass(frozen=True)
class _Usage:
    input_tokens: int
    output_tokens: int
    cache_read: int
    cache_write: int
    has_cache_point: bool

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read + self.cache_write


def _render_converse(answer: _Answer, usage: _Usage, seed: int, latency_ms: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    stop_reason = answer.stop_reason
    if answer.tool_name is not None:
        tool_use = {"toolUseId": f"tooluse_{_short_id(seed)}", "name": answer.tool_name, "input": answer.tool_input}
        content.append({"toolUse": tool_use})
    elif answer.broken_body:
        stop_reason = "malformed_model_output"  # Converse reports a broken generation instead of passing it on
    elif answer.text is not None:
        content.append({"text": answer.text})
    usage_json = {"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens, "totalTokens": usage.total}
    if usage.has_cache_point:
        usage_json |= {"cacheReadInputTokens": usage.cache_read, "cacheWriteInputTokens": usage.cache_write}
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": usage_json,
        "metrics": {"latencyMs": latency_ms},
    }


def _render_nova(answer: _Answer, usage: _Usage, seed: int) -> dict[str, Any]:
    rendered = _render_converse(answer, usage, seed, 0)
    if answer.broken_body:
        rendered["output"]["message"]["content"] = [{"text": answer.text}]
        rendered["stopReason"] = answer.stop_reason
    del rendered["metrics"]
    rendered["usage"] = {
        "inputTokens": usage.input_tokens,
        "outputTokens": usage.output_tokens,
        "totalTokens": usage.total,
        "cacheReadInputTokenCount": usage.cache_read,
        "cacheWriteInputTokenCount": usage.cache_write,
    }
    return rendered


def _render_claude(answer: _Answer, usage: _Usage, seed: int, model_id: str) -> dict[str, Any]:
    content: list[dict[str, Any]]
    if answer.tool_name is not None:
        tool_use = {"type": "tool_use", "id": f"toolu_bdrk_{_short_id(seed, 24)}", "name": answer.tool_name}
        content = [{**tool_use, "input": answer.tool_input}]
    else:
        content = [{"type": "text", "text": answer.text or ""}]
    base = model_id.rsplit("/", 1)[-1].split("anthropic.", 1)[-1]
    return {
        "id": f"msg_bdrk_{_short_id(seed, 24)}",
        "type": "message",
        "role": "assistant",
        "model": re.sub(r"-v\d+(:\d+)?$", "", base),
        "content": content,
        "stop_reason": answer.stop_reason,
        "stop_sequence": answer.stop_sequence,
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": usage.cache_read,
            "cache_creation_input_tokens": usage.cache_write,
        },
    }


# --- HTTP -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def _json_reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


def _error_reply(rejection: _Rejection, request_id: str) -> _Reply:
    headers = {"x-amzn-ErrorType": f"{rejection.code}{_ERROR_NAMESPACE}", "x-amzn-RequestId": request_id}
    return _json_reply(rejection.status, {"message": rejection.message}, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog (5) drops connection attempts of concurrent clients: ~1 s SYN retransmits.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], standin: BedrockStandIn) -> None:
        self.standin = standin
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """End kept-alive connections, so a stopped stand-in stops answering clients that still hold one."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (read timeout) leaves a broken socket behind; that is expected, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as urllib3 expects from AWS endpoints
    # Headers and body go out in separate writes; without TCP_NODELAY each answer waits on a delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server_version = "BedrockStandIn/1.0"
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read the recorded requests; access logs are noise

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    def do_DELETE(self) -> None:
        self.serve()

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def serve(self) -> None:
        body = self.read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.standin._respond(self.command, self.path, headers, body)
        if self.server.standin._stopping.is_set():
            self.close_connection = True
        try:
            self.send_response(reply.status)
            for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client already gave up (e.g. its read timeout fired)


# --- fault control (shared by the in-process and the remote stand-in) ------------------------------------------


class _FaultControls(ABC):
    """The test-facing control surface, the same in-process and over the admin endpoint."""

    @abstractmethod
    def _queue_fault(self, fault: Fault, times: int) -> None: ...

    @abstractmethod
    def _put_sticky(self, fault: Fault | None) -> None: ...

    @property
    @abstractmethod
    def requests(self) -> list[RecordedRequest]:
        """Every model request received so far, oldest first."""

    @property
    @abstractmethod
    def pending_faults(self) -> list[Fault]:
        """Queued faults not yet consumed, next first."""

    @abstractmethod
    def reset(self) -> None:
        """Forget recorded requests, queued and sticky faults, and the prompt cache."""

    def inject(
        self,
        error: ErrorCode | str = "ThrottlingException",
        times: int = 1,
        *,
        message: str | None = None,
        status: int | None = None,
    ) -> None:
        """Answer the next ``times`` model requests with ``error`` (its modelled status unless ``status`` is given)."""
        self._queue_fault(Fault("error", error=error, message=message, status=status), times)

    def inject_delay(self, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` answers for ``seconds`` each (longer than the client's read timeout: a timeout)."""
        self._queue_fault(Fault("delay", seconds=seconds), times)

    def inject_malformed(self, times: int = 1, *, style: MalformedStyle = "missing_required") -> None:
        """Break the next ``times`` answers.

        A tool answer gets an ``input`` that violates the tool's schema (``missing_required``, ``wrong_type``) or
        prose instead of a tool call (``text``). A Converse text answer gets ``stopReason`` ``malformed_model_output``
        and no content; an InvokeModel text answer gets a truncated, unparseable body (its usage headers intact).
        """
        self._queue_fault(Fault("malformed", style=style), times)

    def inject_max_tokens(self, times: int = 1) -> None:
        """Cut the next ``times`` answers off: ``max_tokens`` stop reason, half the text or tool input."""
        self._queue_fault(Fault("max_tokens"), times)

    def set_sticky(
        self, error: ErrorCode | str = "ThrottlingException", *, message: str | None = None, status: int | None = None
    ) -> None:
        """Answer every model request with ``error`` until :meth:`clear_sticky` (queued faults still come first)."""
        self._put_sticky(Fault("error", error=error, message=message, status=status))

    def clear_sticky(self) -> None:
        """End the sticky error."""
        self._put_sticky(None)


# --- the in-process server --------------------------------------------------------------------------------------


class BedrockStandIn(_FaultControls):
    """Bedrock Runtime on loopback, in a daemon thread.

    Use as a context manager (``with BedrockStandIn() as bedrock: ...``) or call :meth:`start` / :meth:`stop`.
    Port 0 (the default) binds a free port; :attr:`endpoint_url` tells which.

    Args:
        host: interface to bind (``0.0.0.0`` to reach it from containers).
        port: port to bind; 0 for any free one.
        latency: seconds every model answer takes, on top of injected delays.
        require_signature: reject requests without a SigV4 ``Authorization`` header for the ``bedrock`` service.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0, require_signature: bool = True
    ) -> None:
        self._address = (host, port)
        self.latency = latency
        self.require_signature = require_signature
        self._lock = threading.Lock()
        self._faults: collections.deque[Fault] = collections.deque()
        self._sticky: Fault | None = None
        self._requests: list[RecordedRequest] = []
        self._cache: set[str] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self._address, self)
        # stop() waits up to one poll interval for the serving loop to notice; keep it short for fast fixtures.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="bedrock-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: pending delays end at once, kept-alive connections are closed."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def serve_until_interrupted(self) -> None:
        """Start, then block until SIGINT or SIGTERM (the standalone mode)."""
        self.start()
        signal.signal(signal.SIGTERM, lambda *_: self._stopping.set())
        try:
            while not self._stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # where it listens

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("the Bedrock stand-in is not running; call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """The bound interface (``127.0.0.1`` when bound to every interface, for URLs)."""
        host = self._address[0]
        return "127.0.0.1" if host in ("", "0.0.0.0") else host

    @property
    def endpoint_url(self) -> str:
        """The URL to give boto3 (``endpoint_url=`` or ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Environment that points boto3 at the stand-in (credentials and region are up to the caller)."""
        return {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.endpoint_url}

    # inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every model request received so far, oldest first (admin requests excluded)."""
        with self._lock:
            return list(self._requests)

    @property
    def pending_faults(self) -> list[Fault]:
        """Queued faults not yet consumed, next first."""
        with self._lock:
            return list(self._faults)

    @property
    def sticky(self) -> Fault | None:
        """The sticky fault, if one is set."""
        return self._sticky

    def reset(self) -> None:
        """Forget recorded requests, queued and sticky faults, and the prompt cache."""
        with self._lock:
            self._faults.clear()
            self._sticky = None
            self._requests.clear()
            self._cache.clear()

    def _queue_fault(self, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.extend([fault] * times)

    def _put_sticky(self, fault: Fault | None) -> None:
        with self._lock:
            self._sticky = fault

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else self._sticky

    # serving

    def _respond(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        path = urlsplit(raw_path).path
        if path.startswith(ADMIN_PREFIX):
            try:
                return self._admin(method, path.removeprefix(ADMIN_PREFIX).strip("/"), body)
            except (ValueError, TypeError, KeyError) as exc:
                return _json_reply(400, {"message": f"bad admin request: {exc}"})
        request_id = str(uuid.uuid4())
        parts = path.split("/")
        if len(parts) != 4 or parts[1] != "model" or not parts[2]:
            return _error_reply(
                _Rejection("UnknownOperationException", f"No route for {method} {path}", 404), request_id
            )
        model_id = unquote(parts[2])
        operation = _OPERATIONS.get(parts[3], parts[3])
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        signature = _SIGV4.match(headers.get("authorization", ""))
        record = RecordedRequest(
            method=method,
            path=path,
            operation=operation,
            model_id=model_id,
            body=parsed,
            headers=dict(headers),
            request_id=request_id,
            region=signature["region"] if signature else None,
            received_at=time.time(),
        )
        with self._lock:
            self._requests.append(record)
        started = time.monotonic()
        try:
            reply = self._model_reply(record, method, body, signature, started)
        except _Rejection as rejection:
            reply = _error_reply(rejection, request_id)
        except Exception as exc:
            # A request shape the stand-in did not foresee: say so in the answer rather than drop the connection.
            log.exception("Bedrock stand-in failed on %s %s", method, path)
            reply = _error_reply(_Rejection("InternalServerException", f"stand-in failure: {exc!r}", 500), request_id)
        record.status = reply.status
        return reply

    def _model_reply(
        self, record: RecordedRequest, method: str, body: bytes, signature: re.Match[str] | None, started: float
    ) -> _Reply:
        self._check_request(record, method, body, signature)
        fault = self._take_fault()
        if fault is not None:
            record.fault = fault.label
            if fault.kind == "error":
                raise _Rejection(cast(str, fault.error), fault.message, fault.http_status)
            if fault.kind == "delay":
                self._stopping.wait(fault.seconds)
        if self.latency:
            self._stopping.wait(self.latency)
        prompt = _prompt_for(record.operation, record.model_id, record.body)
        headers = {"x-amzn-RequestId": record.request_id}
        if record.operation == "CountTokens":
            return _json_reply(200, {"inputTokens": estimate_tokens(prompt.text)}, headers)
        seed = seed_from(record.model_id, record.body)
        answer = _answer(prompt, seed, fault)
        usage = self._usage(record.model_id, prompt, answer)
        latency_ms = max(1, round((time.monotonic() - started) * 1000))
        if record.operation == "Converse":
            return _json_reply(200, _render_converse(answer, usage, seed, latency_ms), headers)
        if _family(record.model_id) == "nova":
            payload = _render_nova(answer, usage, seed)
        else:
            payload = _render_claude(answer, usage, seed, record.model_id)
        headers |= {
            "X-Amzn-Bedrock-Content-Type": "application/json",
            "x-amzn-bedrock-input-token-count": str(usage.input_tokens),
            "x-amzn-bedrock-output-token-count": str(usage.output_tokens),
            "x-amzn-bedrock-cache-read-input-token-count": str(usage.cache_read),
            "x-amzn-bedrock-cache-write-input-token-count": str(usage.cache_write),
            "x-amzn-bedrock-invocation-latency": str(latency_ms),
        }
        reply = _json_reply(200, payload, headers)
        if answer.broken_body:
            reply.body = reply.body[: len(reply.body) // 2]  # an incomplete body; the usage headers still tell
        return reply

    def _check_request(
        self, record: RecordedRequest, method: str, body: bytes, signature: re.Match[str] | None
    ) -> None:
        """What Bedrock's front door rejects before a model sees the request."""
        if method != "POST" or record.operation not in _OPERATIONS.values():
            raise _Rejection("UnknownOperationException", f"The stand-in does not serve {method} {record.path}", 404)
        if self.require_signature and signature is None:
            raise _Rejection("MissingAuthenticationTokenException", "Missing Authentication Token", 403)
        if signature is not None and signature["service"] != "bedrock":
            message = "Credential should be scoped to correct service: 'bedrock'."
            raise _Rejection("InvalidSignatureException", message, 403)
        if body and record.body is None:
            raise _invalid("Malformed input request: the body is not valid JSON, please reformat your input.")

    def _usage(self, model_id: str, prompt: _Prompt, answer: _Answer) -> _Usage:
        total = estimate_tokens(prompt.text)
        prefix = prompt.cache_prefix
        if not prefix:
            return _Usage(total, answer.output_tokens, 0, 0, prompt.cached_segments is not None)
        cached = min(estimate_tokens(prefix), total)
        key = hashlib.sha256(f"{model_id}\0{prefix}".encode()).hexdigest()
        with self._lock:
            hit = key in self._cache
            self._cache.add(key)
        read, write = (cached, 0) if hit else (0, cached)
        return _Usage(total - cached, answer.output_tokens, read, write, True)

    def _admin(self, method: str, action: str, body: bytes) -> _Reply:
        data: Any = json.loads(body) if body else {}
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "health"): lambda: {"status": "ok", "endpoint_url": self.endpoint_url},
            ("GET", "requests"): lambda: {"requests": [record.to_json() for record in self.requests]},
            ("GET", "faults"): lambda: {
                "pending": [fault.to_json() for fault in self.pending_faults],
                "sticky": self._sticky.to_json() if self._sticky else None,
            },
            ("POST", "faults"): lambda: self._queue_fault(Fault.from_json(data), int(data.get("times", 1))),
            ("POST", "sticky"): lambda: self.set_sticky(
                data.get("error", "ThrottlingException"), message=data.get("message"), status=data.get("status")
            ),
            ("DELETE", "sticky"): self.clear_sticky,
            ("POST", "reset"): self.reset,
        }
        route = routes.get((method, action))
        if route is None:
            return _json_reply(404, {"message": f"no admin action {method} {ADMIN_PREFIX}{action}"})
        result = route()
        return _json_reply(200, result if result is not None else {"ok": True})


# --- driving a stand-in in another process ----------------------------------------------------------------------


class RemoteBedrockStandIn(_FaultControls):
    """The same controls as :class:`BedrockStandIn`, for one running in another process (via ``/_standin/``)."""

    def __init__(self, endpoint_url: str, *, timeout: float = 5.0) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, action: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.endpoint_url}{ADMIN_PREFIX}{action}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Poll the health endpoint until the stand-in answers (raises TimeoutError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._call("GET", "health")
                return
            except (urllib.error.URLError, ConnectionError) as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no Bedrock stand-in at {self.endpoint_url}") from exc
                time.sleep(0.05)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every model request the remote stand-in received, oldest first."""
        return [RecordedRequest.from_json(item) for item in self._call("GET", "requests")["requests"]]

    @property
    def pending_faults(self) -> list[Fault]:
        """Queued faults not yet consumed, next first."""
        return [Fault.from_json(item) for item in self._call("GET", "faults")["pending"]]

    def reset(self) -> None:
        """Forget recorded requests, queued and sticky faults, and the prompt cache."""
        self._call("POST", "reset", {})

    def _queue_fault(self, fault: Fault, times: int) -> None:
        self._call("POST", "faults", {**fault.to_json(), "times": times})

    def _put_sticky(self, fault: Fault | None) -> None:
        if fault is None:
            self._call("DELETE", "sticky")
        else:
            self._call("POST", "sticky", {"error": fault.error, "message": fault.message, "status": fault.status})


@contextlib.contextmanager
def bedrock_standin(**options: Any) -> Iterator[BedrockStandIn]:
    """A running :class:`BedrockStandIn` for the duration of the block (options as for its constructor)."""
    with BedrockStandIn(**options) as standin:
        yield standin


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in until interrupted; the first line of stdout is its URL."""
    parser = argparse.ArgumentParser(prog="python -m loopback.bedrock", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every answer takes (default 0)")
    parser.add_argument("--no-signature-check", action="store_true", help="accept unsigned requests (curl)")
    args = parser.parse_args(argv)
    standin = BedrockStandIn(args.host, args.port, latency=args.latency, require_signature=not args.no_signature_check)
    standin.start()
    print(standin.endpoint_url, flush=True)
    print(f"Bedrock stand-in serving; AWS_ENDPOINT_URL_BEDROCK_RUNTIME={standin.endpoint_url}", file=sys.stderr)
    standin.serve_until_interrupted()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
