"""The Bedrock Runtime stand-in, driven by real boto3: serialisation, signing, parsing, errors and retries."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import BaseModel, Field, ValidationError

from loopback.bedrock import (
    ERROR_STATUS,
    RETRIED_BY_BOTOCORE,
    BedrockStandIn,
    RemoteBedrockStandIn,
    estimate_tokens,
)
from tracked_bedrock.structured import tool_spec

REGION = "eu-west-1"
NOVA = "eu.amazon.nova-micro-v1:0"
CLAUDE = "eu.anthropic.claude-3-haiku-20240307-v1:0"
REPO = Path(__file__).resolve().parents[2]

type ClientFactory = Callable[..., Any]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials and region; nothing from the developer's AWS configuration leaks in."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def bedrock(aws_env: None) -> Iterator[BedrockStandIn]:
    with BedrockStandIn() as standin:
        yield standin


@pytest.fixture
def make_client(bedrock: BedrockStandIn) -> Iterator[ClientFactory]:
    """Real boto3 clients aimed at the stand-in; ``attempts`` is botocore's total_max_attempts (standard mode)."""
    clients: list[Any] = []

    def make(attempts: int = 3, mode: str = "standard", **config: Any) -> Any:
        client = boto3.client(
            "bedrock-runtime",
            endpoint_url=bedrock.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": mode, "total_max_attempts": attempts}, **config),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> Any:
    return make_client()


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def tool_config(name: str, schema: dict[str, Any], choice: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "tools": [{"toolSpec": {"name": name, "description": "Emit the result.", "inputSchema": {"json": schema}}}],
        "toolChoice": choice if choice is not None else {"tool": {"name": name}},
    }


# --- Converse -----------------------------------------------------------------------------------------------------


def test_converse_text(bedrock: BedrockStandIn, client: Any) -> None:
    system, prompt = "You are a concise assistant.", "Summarise the history of the Eiffel tower in Paris"
    response = client.converse(
        modelId=NOVA,
        system=[{"text": system}],
        messages=user(prompt),
        inferenceConfig={"maxTokens": 500, "temperature": 0.2},
    )
    text = response["output"]["message"]["content"][0]["text"]
    assert response["output"]["message"]["role"] == "assistant"
    assert "Summarise the history of the Eiffel tower in" in text
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["inputTokens"] == math.ceil(len(system + prompt) / 4)
    assert usage["outputTokens"] == estimate_tokens(text)
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert "cacheReadInputTokens" not in usage
    assert response["metrics"]["latencyMs"] >= 1

    (request,) = bedrock.requests
    assert request.operation == "Converse"
    assert request.model_id == NOVA
    assert request.path == "/model/eu.amazon.nova-micro-v1%3A0/converse"
    assert request.body["inferenceConfig"] == {"maxTokens": 500, "temperature": 0.2}
    assert request.prompt_text == system + prompt
    assert request.region == REGION
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert request.status == 200
    assert request.request_id == response["ResponseMetadata"]["RequestId"]
    uuid.UUID(request.request_id)


def test_answers_are_deterministic(client: Any) -> None:
    def ask(prompt: str) -> str:
        response = client.converse(modelId=NOVA, messages=user(prompt))
        return str(response["output"]["message"]["content"][0]["text"])

    assert ask("Write a haiku about autumn") == ask("Write a haiku about autumn")
    assert ask("Write a haiku about autumn") != ask("Write a limerick about spring")


def test_max_tokens_cuts_text_off(client: Any) -> None:
    response = client.converse(modelId=NOVA, messages=user("Explain Bedrock"), inferenceConfig={"maxTokens": 5})
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] <= 5
    assert len(response["output"]["message"]["content"][0]["text"]) <= 20


def test_stop_sequences_end_the_text(client: Any) -> None:
    response = client.converse(
        modelId=NOVA, messages=user("Tell me something"), inferenceConfig={"stopSequences": ["Tell"]}
    )
    assert response["stopReason"] == "stop_sequence"
    assert response["output"]["message"]["content"][0]["text"] == 'Here is a response to "'


class Level(StrEnum):
    JUNIOR = "junior"
    MID = "mid"
    SENIOR = "senior"


class Skill(BaseModel):
    name: str = Field(min_length=2, max_length=30)
    level: Level
    years: int = Field(ge=0, le=40)


class Role(BaseModel):
    title: str
    company: str
    start_year: int = Field(ge=1970, le=2030)
    end_year: int | None = Field(default=None, ge=1970, le=2030)
    highlights: list[Annotated[str, Field(min_length=20, max_length=200)]] = Field(min_length=1, max_length=4)


class CvSummary(BaseModel):
    """A structured summary of a CV."""

    headline: str = Field(max_length=80)
    summary: str = Field(min_length=50, max_length=400)
    seniority: Literal["junior", "mid", "senior", "principal"]
    skills: list[Skill] = Field(min_length=3, max_length=8)
    roles: list[Role]
    languages: list[str] = []
    match_score: float = Field(ge=0, le=1)
    notes: str | None = None


@pytest.mark.parametrize("inline_refs", [False, True], ids=["defs", "inlined"])
def test_forced_tool_input_satisfies_the_pydantic_schema(
    bedrock: BedrockStandIn, client: Any, inline_refs: bool
) -> None:
    spec = tool_spec(CvSummary)
    schema = spec["inputSchema"]["json"] if inline_refs else CvSummary.model_json_schema()
    assert ("$defs" in schema) is not inline_refs
    response = client.converse(
        modelId=CLAUDE,
        system=[{"text": "Extract the CV."}],
        messages=user("Jane Doe, ten years of Python at Example Corp."),
        toolConfig=tool_config(spec["name"], schema),
    )
    assert response["stopReason"] == "tool_use"
    (block,) = response["output"]["message"]["content"]
    tool_use = block["toolUse"]
    assert tool_use["name"] == "emit_cv_summary"
    assert tool_use["toolUseId"].startswith("tooluse_")
    cv = CvSummary.model_validate(tool_use["input"])
    assert 3 <= len(cv.skills) <= 8
    assert cv.headline.startswith("Sample headline")
    assert response["usage"]["outputTokens"] == estimate_tokens(json.dumps(tool_use["input"], separators=(",", ":")))
    assert bedrock.requests[0].body["toolConfig"]["toolChoice"] == {"tool": {"name": "emit_cv_summary"}}


def test_any_with_one_tool_is_forced_and_auto_answers_text_unless_the_tool_is_named(client: Any) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    forced = client.converse(
        modelId=NOVA, messages=user("Weather?"), toolConfig=tool_config("get_weather", schema, {"any": {}})
    )
    assert forced["stopReason"] == "tool_use"
    assert forced["output"]["message"]["content"][0]["toolUse"]["input"]["city"]

    auto = tool_config("get_weather", schema, {"auto": {}})
    plain = client.converse(modelId=NOVA, messages=user("Tell me a joke"), toolConfig=auto)
    assert plain["stopReason"] == "end_turn"
    assert "text" in plain["output"]["message"]["content"][0]
    named = client.converse(modelId=NOVA, messages=user("Use get_weather for Paris"), toolConfig=auto)
    assert named["stopReason"] == "tool_use"


def test_a_tool_choice_naming_an_unknown_tool_is_a_validation_error(client: Any) -> None:
    config = tool_config("emit", {"type": "object"}, {"tool": {"name": "other"}})
    with pytest.raises(ClientError) as caught:
        client.converse(modelId=NOVA, messages=user("x"), toolConfig=config)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "other" in caught.value.response["Error"]["Message"]


def test_conversation_must_start_with_user_and_alternate(client: Any) -> None:
    for messages in ([{"role": "assistant", "content": [{"text": "hi"}]}], [*user("a"), *user("b")]):
        with pytest.raises(ClientError) as caught:
            client.converse(modelId=NOVA, messages=messages)
        assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_prompt_cache_points_write_then_read(client: Any) -> None:
    system = [{"text": "A long, shared instruction block. " * 20}, {"cachePoint": {"type": "default"}}]
    first = client.converse(modelId=NOVA, system=system, messages=user("First question"))["usage"]
    second = client.converse(modelId=NOVA, system=system, messages=user("Second question"))["usage"]
    cached = estimate_tokens(system[0]["text"])
    assert (first["cacheWriteInputTokens"], first["cacheReadInputTokens"]) == (cached, 0)
    assert (second["cacheWriteInputTokens"], second["cacheReadInputTokens"]) == (0, cached)
    assert second["inputTokens"] == estimate_tokens(system[0]["text"] + "Second question") - cached
    assert second["totalTokens"] == second["inputTokens"] + second["outputTokens"] + cached


def test_count_tokens(client: Any) -> None:
    converse = client.count_tokens(modelId=NOVA, input={"converse": {"messages": user("Count these words")}})
    assert converse["inputTokens"] == estimate_tokens("Count these words")
    native = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "abcd" * 5}],
    }
    counted = client.count_tokens(modelId=CLAUDE, input={"invokeModel": {"body": json.dumps(native).encode()}})
    assert counted["inputTokens"] == 5


# --- InvokeModel --------------------------------------------------------------------------------------------------


def test_invoke_model_nova(bedrock: BedrockStandIn, client: Any) -> None:
    body = {
        "schemaVersion": "messages-v1",
        "system": [{"text": "Answer briefly."}],
        "messages": [{"role": "user", "content": [{"text": "Name three rivers in France"}]}],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.5, "topP": 0.9, "topK": 20},
    }
    response = client.invoke_model(
        modelId=NOVA, body=json.dumps(body), contentType="application/json", accept="application/json"
    )
    assert response["contentType"] == "application/json"
    payload = json.loads(response["body"].read())
    text = payload["output"]["message"]["content"][0]["text"]
    assert payload["output"]["message"]["role"] == "assistant"
    assert "Name three rivers in France" in text
    assert payload["stopReason"] == "end_turn"
    usage = payload["usage"]
    assert usage["inputTokens"] == estimate_tokens("Answer briefly.Name three rivers in France")
    assert usage["outputTokens"] == estimate_tokens(text)
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert usage["cacheReadInputTokenCount"] == usage["cacheWriteInputTokenCount"] == 0
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-input-token-count"] == str(usage["inputTokens"])
    assert headers["x-amzn-bedrock-output-token-count"] == str(usage["outputTokens"])
    assert int(headers["x-amzn-bedrock-invocation-latency"]) >= 1
    assert headers["x-amzn-bedrock-content-type"] == "application/json"
    assert bedrock.requests[0].operation == "InvokeModel"
    assert bedrock.requests[0].body == body


def test_invoke_model_nova_accepts_max_new_tokens(client: Any) -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "Go on"}]}], "inferenceConfig": {"max_new_tokens": 3}}
    payload = json.loads(client.invoke_model(modelId=NOVA, body=json.dumps(body))["body"].read())
    assert payload["stopReason"] == "max_tokens"
    assert payload["usage"]["outputTokens"] == 3


def test_invoke_model_claude(client: Any) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 400,
        "system": "You are helpful.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Describe a good code review"}]}],
        "temperature": 0.3,
    }
    response = client.invoke_model(modelId=CLAUDE, body=json.dumps(body))
    payload = json.loads(response["body"].read())
    assert payload["type"] == "message"
    assert payload["role"] == "assistant"
    assert payload["id"].startswith("msg_bdrk_")
    assert payload["model"] == "claude-3-haiku-20240307"
    assert payload["stop_reason"] == "end_turn"
    (block,) = payload["content"]
    assert block["type"] == "text"
    assert "Describe a good code review" in block["text"]
    usage = payload["usage"]
    assert usage["input_tokens"] == estimate_tokens("You are helpful.Describe a good code review")
    assert usage["output_tokens"] == estimate_tokens(block["text"])
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-input-token-count"] == str(usage["input_tokens"])
    assert headers["x-amzn-bedrock-output-token-count"] == str(usage["output_tokens"])
    assert "x-amzn-bedrock-invocation-latency" in headers


def test_invoke_model_claude_forced_tool(client: Any) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 1000,
        "messages": [{"role": "user", "content": "Summarise this CV"}],
        "tools": [{"name": "emit", "description": "Emit", "input_schema": CvSummary.model_json_schema()}],
        "tool_choice": {"type": "tool", "name": "emit"},
    }
    payload = json.loads(client.invoke_model(modelId=CLAUDE, body=json.dumps(body))["body"].read())
    assert payload["stop_reason"] == "tool_use"
    (block,) = payload["content"]
    assert block["type"] == "tool_use"
    assert block["id"].startswith("toolu_bdrk_")
    CvSummary.model_validate(block["input"])


@pytest.mark.parametrize(
    ("model_id", "body", "missing"),
    [
        (NOVA, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": []}, "extraneous key"),
        (CLAUDE, {"messages": [{"role": "user", "content": "x"}], "max_tokens": 5}, "anthropic_version"),
        (
            CLAUDE,
            {"anthropic_version": "bedrock-2023-05-31", "messages": [{"role": "user", "content": "x"}]},
            "max_tokens",
        ),
        ("meta.llama3-8b-instruct-v1:0", {"prompt": "x"}, "Nova and Anthropic Claude only"),
    ],
)
def test_invoke_model_rejects_bodies_the_model_would_reject(
    client: Any, model_id: str, body: dict[str, Any], missing: str
) -> None:
    with pytest.raises(ClientError) as caught:
        client.invoke_model(modelId=model_id, body=json.dumps(body))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert missing in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "model_id",
    [
        "amazon.nova-lite-v1:0",
        "eu.amazon.nova-micro-v1:0",
        "global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0",
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0",
    ],
)
def test_model_ids_with_prefixes_and_arns(bedrock: BedrockStandIn, client: Any, model_id: str) -> None:
    client.converse(modelId=model_id, messages=user("hello"))
    if "nova" in model_id:
        body = {"messages": [{"role": "user", "content": [{"text": "hello"}]}]}
    else:
        body = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "hello"}],
        }
    client.invoke_model(modelId=model_id, body=json.dumps(body))
    converse, invoke = bedrock.requests
    assert converse.model_id == invoke.model_id == model_id
    assert ":" not in converse.path.split("/")[2]  # percent-encoded on the wire, as botocore sends it
    assert converse.path.count("/") == 3


def test_endpoint_from_the_environment(bedrock: BedrockStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.endpoint_url)
    client = boto3.client("bedrock-runtime")
    try:
        assert client.meta.endpoint_url == bedrock.endpoint_url
        client.converse(modelId=NOVA, messages=user("via the environment"))
    finally:
        client.close()
    assert bedrock.requests[0].region == REGION


# --- errors and retries -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(ERROR_STATUS))
def test_errors_parse_to_the_bare_code_and_status(
    bedrock: BedrockStandIn, make_client: ClientFactory, code: str
) -> None:
    bedrock.inject(code, message=f"injected {code}")
    with pytest.raises(ClientError) as caught:
        make_client(attempts=1).converse(modelId=NOVA, messages=user("x"))
    response = caught.value.response
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"] == f"injected {code}"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == ERROR_STATUS[code]
    assert response["ResponseMetadata"]["RequestId"] == bedrock.requests[0].request_id
    assert bedrock.requests[0].fault == code
    assert not bedrock.pending_faults


@pytest.mark.parametrize("code", sorted(ERROR_STATUS))
def test_botocore_retries_exactly_the_retryable_errors(
    bedrock: BedrockStandIn, make_client: ClientFactory, code: str
) -> None:
    bedrock.set_sticky(code)
    with pytest.raises(ClientError) as caught:
        make_client(attempts=2).invoke_model(modelId=NOVA, body=json.dumps({"messages": user("x")}))
    metadata = caught.value.response["ResponseMetadata"]
    retried = code in RETRIED_BY_BOTOCORE
    assert len(bedrock.requests) == (2 if retried else 1)
    assert metadata["RetryAttempts"] == (1 if retried else 0)
    assert metadata.get("MaxAttemptsReached", False) is retried


def test_throttled_twice_then_success(bedrock: BedrockStandIn, make_client: ClientFactory) -> None:
    bedrock.inject("ThrottlingException", times=2)
    started = time.monotonic()
    response = make_client(attempts=3).converse(modelId=NOVA, messages=user("x"))
    elapsed = time.monotonic() - started
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert [r.status for r in bedrock.requests] == [429, 429, 200]
    assert [r.fault for r in bedrock.requests] == ["ThrottlingException", "ThrottlingException", None]
    # botocore's standard mode waits rand(0, 1) * 2**n seconds before throttling retry n+1: at most 1 + 2.
    assert elapsed < 3.5


def test_sticky_storm_until_cleared(bedrock: BedrockStandIn, make_client: ClientFactory) -> None:
    client = make_client(attempts=1)
    bedrock.set_sticky("ServiceUnavailableException")
    for _ in range(3):
        with pytest.raises(ClientError, match="ServiceUnavailableException"):
            client.converse(modelId=NOVA, messages=user("x"))
    bedrock.clear_sticky()
    assert client.converse(modelId=NOVA, messages=user("x"))["stopReason"] == "end_turn"
    assert [r.status for r in bedrock.requests] == [503, 503, 503, 200]


def test_a_slow_answer_times_out_and_botocore_retries(bedrock: BedrockStandIn, make_client: ClientFactory) -> None:
    bedrock.inject_delay(2.0)
    client = make_client(attempts=2, read_timeout=0.3, connect_timeout=1)
    response = client.converse(modelId=NOVA, messages=user("x"))
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    first, second = bedrock.requests
    assert first.fault == "delay"
    assert first.status is None  # still held when the client gave up
    assert second.status == 200


def test_unsigned_requests_are_rejected(bedrock: BedrockStandIn) -> None:
    request = urllib.request.Request(
        f"{bedrock.endpoint_url}/model/{NOVA}/converse",
        data=json.dumps({"messages": user("x")}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 403
    assert caught.value.headers["x-amzn-ErrorType"].startswith("MissingAuthenticationTokenException:")


def test_a_stopped_stand_in_refuses_connections(bedrock: BedrockStandIn, make_client: ClientFactory) -> None:
    client = make_client(attempts=1)
    client.converse(modelId=NOVA, messages=user("x"))  # leaves a kept-alive connection behind
    bedrock.stop()
    with pytest.raises(EndpointConnectionError):
        client.converse(modelId=NOVA, messages=user("x"))


# --- broken answers -----------------------------------------------------------------------------------------------


def test_malformed_tool_answers(bedrock: BedrockStandIn, client: Any) -> None:
    schema = CvSummary.model_json_schema()
    request = {"modelId": NOVA, "messages": user("CV please"), "toolConfig": tool_config("emit", schema)}
    bedrock.inject_malformed()
    bedrock.inject_malformed(style="wrong_type")
    bedrock.inject_malformed(style="text")

    missing = client.converse(**request)["output"]["message"]["content"][0]["toolUse"]["input"]
    with pytest.raises(ValidationError, match="headline"):
        CvSummary.model_validate(missing)
    wrong = client.converse(**request)["output"]["message"]["content"][0]["toolUse"]["input"]
    with pytest.raises(ValidationError):
        CvSummary.model_validate(wrong)
    prose = client.converse(**request)
    assert prose["stopReason"] == "end_turn"
    assert "toolUse" not in prose["output"]["message"]["content"][0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(prose["output"]["message"]["content"][0]["text"])
    healthy = client.converse(**request)["output"]["message"]["content"][0]["toolUse"]["input"]
    CvSummary.model_validate(healthy)
    assert [r.fault for r in bedrock.requests] == ["malformed", "malformed", "malformed", None]


def test_malformed_text_answers(bedrock: BedrockStandIn, client: Any) -> None:
    bedrock.inject_malformed(times=2)
    converse = client.converse(modelId=NOVA, messages=user("x"))
    assert converse["stopReason"] == "malformed_model_output"
    assert converse["output"]["message"]["content"] == []
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "x"}],
    }
    response = client.invoke_model(modelId=CLAUDE, body=json.dumps(body))
    raw = response["body"].read()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-output-token-count"]) > 0  # the fallback a consumer can still use


def test_injected_cut_off(bedrock: BedrockStandIn, client: Any) -> None:
    bedrock.inject_max_tokens(times=2)
    schema = CvSummary.model_json_schema()
    cut = client.converse(modelId=NOVA, messages=user("CV"), toolConfig=tool_config("emit", schema))
    assert cut["stopReason"] == "max_tokens"
    partial = cut["output"]["message"]["content"][0]["toolUse"]["input"]
    assert 0 < len(partial) < len(schema["properties"])
    text = client.converse(modelId=NOVA, messages=user("Explain"))
    assert text["stopReason"] == "max_tokens"
    full = client.converse(modelId=NOVA, messages=user("Explain"))
    assert full["stopReason"] == "end_turn"
    cut_text, full_text = (r["output"]["message"]["content"][0]["text"] for r in (text, full))
    assert full_text.startswith(cut_text)
    assert len(cut_text) < len(full_text)


def test_a_small_max_tokens_cuts_a_tool_answer(client: Any) -> None:
    schema = CvSummary.model_json_schema()
    response = client.converse(
        modelId=NOVA, messages=user("CV"), toolConfig=tool_config("emit", schema), inferenceConfig={"maxTokens": 30}
    )
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 30


# --- control from elsewhere ---------------------------------------------------------------------------------------


def test_remote_control_through_the_admin_endpoint(bedrock: BedrockStandIn, make_client: ClientFactory) -> None:
    remote = RemoteBedrockStandIn(bedrock.endpoint_url)
    remote.inject("ModelErrorException", times=1)
    remote.inject_delay(0.01)
    assert [fault.label for fault in remote.pending_faults] == ["ModelErrorException", "delay"]
    client = make_client(attempts=1)
    with pytest.raises(ClientError, match="ModelErrorException"):
        client.converse(modelId=NOVA, messages=user("remote"))
    client.converse(modelId=NOVA, messages=user("remote"))
    records = remote.requests
    assert [(r.status, r.fault) for r in records] == [(424, "ModelErrorException"), (200, "delay")]
    assert records[0].prompt_text == "remote"
    remote.set_sticky("AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        client.converse(modelId=NOVA, messages=user("remote"))
    remote.clear_sticky()
    remote.reset()
    assert remote.requests == []


def test_standalone_process(aws_env: None) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "loopback.bedrock", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        remote = RemoteBedrockStandIn(url)
        remote.wait_ready()
        remote.inject("ThrottlingException")
        client = boto3.client(
            "bedrock-runtime", endpoint_url=url, config=Config(retries={"mode": "standard", "total_max_attempts": 1})
        )
        try:
            with pytest.raises(ClientError, match="ThrottlingException"):
                client.converse(modelId=NOVA, messages=user("x"))
            assert client.converse(modelId=NOVA, messages=user("x"))["stopReason"] == "end_turn"
        finally:
            client.close()
        assert [r.status for r in remote.requests] == [429, 200]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_count_tokens_base64_body_is_decoded(bedrock: BedrockStandIn, client: Any) -> None:
    native = {"messages": [{"role": "user", "content": [{"text": "12345678"}]}]}
    assert client.count_tokens(modelId=NOVA, input={"invokeModel": {"body": json.dumps(native)}})["inputTokens"] == 2
    sent = bedrock.requests[0].body["input"]["invokeModel"]["body"]
    assert json.loads(base64.b64decode(sent)) == native
