"""The tracked client end to end: real boto3 to the Bedrock stand-in, real posthog transport to the sink."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from loopback.bedrock import BedrockStandIn
from loopback.context import LambdaContext
from loopback.posthog import PostHogSink
from tests.conftest import undelivered_from_logs
from tracked_bedrock import (
    BedrockCallError,
    IncompleteOutputError,
    StructuredOutputError,
    invoke_bedrock,
    tracked_invocation,
)

ROOT = Path(__file__).resolve().parents[2]
NOVA = "eu.amazon.nova-micro-v1:0"
CLAUDE = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"


class Skill(BaseModel):
    """A skill and how well the candidate masters it."""

    name: str = Field(min_length=1)
    level: int = Field(ge=1, le=5)


class SkillSheet(BaseModel):
    """The skills found in a CV."""

    candidate: str
    skills: list[Skill] = Field(min_length=1, max_length=5)


def _one_event(sink: PostHogSink) -> dict[str, Any]:
    events = sink.wait_for(1, timeout=5)
    assert len(events) == 1
    return events[0]


def _call(**kwargs: Any) -> Any:
    with tracked_invocation("parseCvText"):
        return invoke_bedrock(system_prompt="You read CVs.", user_content="Jane Doe, Python, 8 years", **kwargs)


@pytest.mark.parametrize("model_id", [NOVA, CLAUDE])
def test_converse_text_call_sends_one_complete_event(
    model_id: str, bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a model id and analytics enabled
    monkeypatch.setenv("MODEL_ID", model_id)
    # WHEN one text call runs in an invocation
    text = _call(max_tokens=300, temperature=0.3)
    # THEN the text comes back and exactly one $ai_generation event describes the call
    assert isinstance(text, str)
    assert text
    event = _one_event(posthog)
    props = event["properties"]
    assert event["event"] == "$ai_generation"
    assert event["distinct_id"] == "backend-ai-operations"
    assert props["$process_person_profile"] is False
    assert props["$ai_model"] == model_id
    assert props["$ai_provider"] == "bedrock"
    assert props["model_vendor"] == model_id.split(".")[1]
    assert props["operation"] == props["$ai_span_name"] == "parseCvText"
    assert props["bedrock_api"] == "converse"
    assert props["$ai_input"][1] == {"role": "user", "content": "Jane Doe, Python, 8 years"}
    assert props["$ai_output_choices"] == [{"role": "assistant", "content": text}]
    assert props["$ai_input_tokens"] > 0
    assert props["$ai_output_tokens"] > 0
    assert isinstance(props["$ai_latency"], float)
    assert 0 < props["$ai_latency"] < 5
    assert props["$ai_http_status"] == 200
    assert props["$ai_is_error"] is False
    assert props["$ai_stop_reason"] == "end_turn"
    assert props["$ai_model_parameters"] == {"max_tokens": 300, "temperature": 0.3}
    assert props["$ai_temperature"] == 0.3
    assert props["$ai_max_tokens"] == 300
    assert props["$ai_total_cost_usd"] == pytest.approx(props["$ai_input_cost_usd"] + props["$ai_output_cost_usd"])
    assert props["$ai_input_cost_usd"] > 0
    assert props["$ai_output_cost_usd"] > 0
    assert props["bedrock_retry_attempts"] == 0
    assert props["$ai_base_url"] == bedrock.endpoint_url
    # and the request Bedrock received is the Converse call we meant
    (request,) = bedrock.requests
    assert request.operation == "Converse"
    assert request.body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.3}
    assert request.body["system"] == [{"text": "You read CVs."}]


def test_structured_call_returns_a_validated_model_and_reports_the_tool_call(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    sheet = _call(output_model=SkillSheet, max_tokens=500)
    assert isinstance(sheet, SkillSheet)
    (request,) = bedrock.requests
    tool = request.body["toolConfig"]["tools"][0]["toolSpec"]
    assert request.body["toolConfig"]["toolChoice"] == {"tool": {"name": tool["name"]}}
    assert "$defs" not in str(tool["inputSchema"]["json"])  # refs inlined for the model
    props = _one_event(posthog)["properties"]
    (choice,) = props["$ai_output_choices"]
    (block,) = choice["content"]
    assert block["type"] == "function"
    assert block["function"]["name"] == tool["name"]
    assert SkillSheet.model_validate(block["function"]["arguments"]) == sheet
    assert props["$ai_tools"] == [tool]
    assert props["$ai_stop_reason"] == "tool_use"
    assert props["structured_output_attempt"] == 1


def test_malformed_structured_answer_is_retried_once_with_the_errors(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    bedrock.inject_malformed(times=1)
    sheet = _call(output_model=SkillSheet)
    assert isinstance(sheet, SkillSheet)
    first, second = bedrock.requests
    assert "did not match the required schema" in second.prompt_text
    assert "did not match" not in first.prompt_text
    events = sorted(posthog.wait_for(2, timeout=5), key=lambda e: e["properties"]["structured_output_attempt"])
    assert "output_validation_error" in events[0]["properties"]
    assert "output_validation_error" not in events[1]["properties"]
    assert events[0]["properties"]["$ai_trace_id"] == events[1]["properties"]["$ai_trace_id"]


def test_structured_answer_still_invalid_raises_a_typed_error(bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    bedrock.inject_malformed(times=2, style="wrong_type")
    with pytest.raises(StructuredOutputError) as caught:
        _call(output_model=SkillSheet)
    assert caught.value.validation_errors
    assert "SkillSheet" in str(caught.value)
    assert len(bedrock.requests) == 2
    assert len(posthog.wait_for(2, timeout=5)) == 2


def test_text_instead_of_tool_call_is_parsed_as_json_when_it_can_be(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    bedrock.inject_malformed(times=1, style="text")
    # The prose answer carries no JSON: the corrective retry gets a real tool call.
    assert isinstance(_call(output_model=SkillSheet), SkillSheet)
    assert len(bedrock.requests) == 2


@pytest.mark.parametrize(("model_id", "vendor"), [(NOVA, "amazon"), (CLAUDE, "anthropic")])
def test_invoke_model_native_bodies(
    model_id: str, vendor: str, bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_ID", model_id)
    text = _call(api="invoke_model", max_tokens=200, temperature=0.1)
    assert text
    (request,) = bedrock.requests
    assert request.operation == "InvokeModel"
    if vendor == "amazon":
        assert request.body["schemaVersion"] == "messages-v1"
        assert request.body["inferenceConfig"]["maxTokens"] == 200
    else:
        assert request.body["anthropic_version"] == "bedrock-2023-05-31"
        assert request.body["max_tokens"] == 200
    props = _one_event(posthog)["properties"]
    assert props["bedrock_api"] == "invoke_model"
    assert props["model_vendor"] == vendor
    assert props["$ai_input_tokens"] > 0
    assert props["$ai_output_tokens"] > 0
    assert props["$ai_output_choices"] == [{"role": "assistant", "content": text}]


def test_invoke_model_reads_usage_from_headers_when_the_body_is_incomplete(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    bedrock.inject_malformed(times=1)  # InvokeModel: truncated body, usage headers intact
    with pytest.raises(IncompleteOutputError, match="empty answer"):
        _call(api="invoke_model")
    props = _one_event(posthog)["properties"]
    assert props["$ai_input_tokens"] > 0
    assert props["$ai_output_tokens"] > 0


@pytest.mark.parametrize(
    ("model_id", "input_price", "output_price"),
    [(NOVA, 0.035, 0.14), ("amazon.nova-lite-v1:0", 0.06, 0.24), ("mistral.mistral-large-2402-v1:0", 0.10, 0.40)],
)
def test_cost_of_the_original_designs_price_rows(
    model_id: str,
    input_price: float,
    output_price: float,
    bedrock: BedrockStandIn,
    posthog: PostHogSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODEL_ID", model_id)
    _call()
    props = _one_event(posthog)["properties"]
    assert props["$ai_input_cost_usd"] == pytest.approx(props["$ai_input_tokens"] * input_price / 1e6)
    assert props["$ai_output_cost_usd"] == pytest.approx(props["$ai_output_tokens"] * output_price / 1e6)


def test_price_override_from_the_environment(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_PRICES", '{"amazon.nova-micro-v1:0": {"input": 1.0, "output": 2.0}}')
    _call()
    props = _one_event(posthog)["properties"]
    assert props["price_source"] == "override"
    assert props["$ai_input_cost_usd"] == pytest.approx(props["$ai_input_tokens"] / 1e6)


def test_throttled_then_succeeded_counts_the_retries(bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    bedrock.inject("ThrottlingException", times=2)
    assert _call()
    props = _one_event(posthog)["properties"]
    assert props["bedrock_retry_attempts"] == 2
    assert props["$ai_is_error"] is False
    assert len(bedrock.requests) == 3


def test_throttled_to_failure_sends_an_error_event_and_raises_a_typed_error(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    bedrock.set_sticky("ThrottlingException")
    with pytest.raises(BedrockCallError) as caught:
        _call()
    error = caught.value
    assert (error.code, error.http_status, error.retryable, error.retry_attempts) == (
        "ThrottlingException",
        429,
        True,
        2,
    )
    assert "retrying later may help" in str(error)
    props = _one_event(posthog)["properties"]
    assert props["$ai_is_error"] is True
    assert props["$ai_http_status"] == 429
    assert props["bedrock_retry_attempts"] == 2
    assert "ThrottlingException" in props["$ai_error"]
    assert props["$ai_output_tokens"] == 0


@pytest.mark.parametrize(
    ("code", "status"), [("ValidationException", 400), ("AccessDeniedException", 403), ("ModelTimeoutException", 408)]
)
def test_non_retried_errors_fail_at_once(code: str, status: int, bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    bedrock.inject(code)
    with pytest.raises(BedrockCallError) as caught:
        _call()
    assert caught.value.http_status == status
    assert caught.value.retry_attempts == 0
    assert len(bedrock.requests) == 1
    props = _one_event(posthog)["properties"]
    assert props["$ai_http_status"] == status
    assert props["bedrock_error_code"] == code


def test_read_timeout_is_a_typed_retryable_error(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT", "0.3")
    monkeypatch.setenv("BEDROCK_MAX_ATTEMPTS", "2")
    bedrock.inject_delay(1.0, times=2)
    with pytest.raises(BedrockCallError) as caught:
        _call()
    assert caught.value.http_status == 408
    assert caught.value.retryable
    assert caught.value.retry_attempts == 1
    assert _one_event(posthog)["properties"]["bedrock_retry_attempts"] == 1


def test_text_cut_off_by_max_tokens_is_an_incomplete_output_error(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    bedrock.inject_max_tokens()
    with pytest.raises(IncompleteOutputError, match="token limit"):
        _call(max_tokens=50)
    assert _one_event(posthog)["properties"]["$ai_stop_reason"] == "max_tokens"


def test_calls_of_one_invocation_share_a_trace_and_the_user_is_the_distinct_id(
    bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    with tracked_invocation("generateCv", user_id="user-sub-1") as first:
        invoke_bedrock(system_prompt="s", user_content="one")
        invoke_bedrock(system_prompt="s", user_content="two")
    with tracked_invocation("generateCv") as second:
        invoke_bedrock(system_prompt="s", user_content="three")
    events = posthog.wait_for(3, timeout=5)
    traces = {e["properties"]["$ai_trace_id"] for e in events if e["distinct_id"] == "user-sub-1"}
    assert traces == {first.trace_id}
    assert {e["properties"]["$ai_trace_id"] for e in events} == {first.trace_id, second.trace_id}
    assert len({e["properties"]["$ai_span_id"] for e in events}) == 3
    user_events = [e for e in events if e["distinct_id"] == "user-sub-1"]
    assert all("$process_person_profile" not in e["properties"] for e in user_events)


def test_disabled_analytics_sends_nothing(bedrock: BedrockStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    with PostHogSink() as sink:
        monkeypatch.setenv("POSTHOG_HOST", sink.host)  # but no POSTHOG_API_KEY
        with tracked_invocation("parseCvText") as invocation:
            assert invoke_bedrock(system_prompt="s", user_content="text")
        assert invocation.calls == 1
        assert invocation.events == []
        time.sleep(0.2)
        assert sink.requests == []


def test_privacy_mode_sends_figures_but_no_text(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTHOG_PRIVACY_MODE", "true")
    sheet = _call(output_model=SkillSheet)
    event = _one_event(posthog)
    raw = str(event)
    assert "Jane Doe" not in raw
    assert "You read CVs" not in raw
    assert sheet.candidate not in raw
    assert "$ai_input" not in event["properties"]
    assert event["properties"]["$ai_input_tokens"] > 0
    assert event["properties"]["privacy_mode"] is True


@pytest.mark.parametrize("mode", ["error", "refuse", "hang"])
def test_failing_posthog_leaves_the_result_intact_bounded_and_logged(
    mode: str,
    bedrock: BedrockStandIn,
    posthog: PostHogSink,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN PostHog failing and a 0.5 s delivery budget
    monkeypatch.setenv("POSTHOG_DELIVERY_TIMEOUT", "0.5")
    posthog.set_mode(mode)  # type: ignore[arg-type]
    # WHEN an invocation makes a structured call
    started = time.monotonic()
    with tracked_invocation("parseCvText") as invocation:
        sheet = invoke_bedrock(system_prompt="s", user_content="Jane", output_model=SkillSheet)
    elapsed = time.monotonic() - started
    # THEN the result is intact, the delivery stopped at the budget, and the event is in the log
    assert isinstance(sheet, SkillSheet)
    assert elapsed < 0.5 + 1.0  # the budget, plus the call itself on a loaded machine
    (logged,) = undelivered_from_logs(caplog)
    assert logged == invocation.events[0]
    assert logged["properties"]["$ai_trace_id"] == invocation.trace_id


def test_no_call_starts_when_the_lambda_deadline_is_too_close(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTHOG_DELIVERY_TIMEOUT", "0.5")  # reserve: 0.5 s + 1 s
    with pytest.raises(BedrockCallError) as caught:  # noqa: SIM117
        with tracked_invocation("generateCv", context=LambdaContext(timeout_s=1.2)):
            invoke_bedrock(system_prompt="s", user_content="u")
    assert caught.value.code == "DeadlineExceeded"
    assert caught.value.retryable
    assert bedrock.requests == []
    assert _one_event(posthog)["properties"]["$ai_http_status"] == 504


def test_a_retry_that_would_outlive_the_lambda_timeout_is_not_sent(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a 1 s read timeout, 3 attempts, and 2.2 s left in the invocation
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT", "1")
    monkeypatch.setenv("POSTHOG_DELIVERY_TIMEOUT", "0.2")
    bedrock.inject_delay(3.0)
    # WHEN the first attempt times out
    with pytest.raises(BedrockCallError) as caught:  # noqa: SIM117
        with tracked_invocation("generateCv", context=LambdaContext(timeout_s=2.2)):
            invoke_bedrock(system_prompt="s", user_content="u")
    # THEN botocore's retry is stopped before it is sent, and the event still goes out in time
    assert caught.value.code == "DeadlineExceeded"
    assert len(bedrock.requests) == 1
    props = _one_event(posthog)["properties"]
    assert props["bedrock_retry_attempts"] == 0
    assert props["$ai_is_error"] is True


def test_disabled_analytics_never_imports_posthog(bedrock: BedrockStandIn, tmp_path: Path) -> None:
    # GIVEN a fresh interpreter with no POSTHOG_API_KEY (as a cold Lambda would be)
    script = (
        "import sys\n"
        "from tracked_bedrock import invoke_bedrock, tracked_invocation\n"
        "with tracked_invocation('parseCvText'):\n"
        "    assert invoke_bedrock(system_prompt='s', user_content='u')\n"
        "print('posthog' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "POSTHOG_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layer", "domain"))
    # WHEN it makes a tracked call
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    # THEN the posthog package was never even imported
    assert done.stdout.strip().splitlines()[-1] == "False"
