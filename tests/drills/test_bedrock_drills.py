"""Failure drills on the Bedrock side, through the real handlers and the GraphQL schema.

Bedrock throttles, fails with 5xx, answers slowly, answers malformed or cut off: every time the caller gets either
a valid result or one clear, typed GraphQL error (never a crash, never a partial object), and PostHog gets one
``$ai_generation`` event per Bedrock call that says what happened.
"""

from __future__ import annotations

from typing import Any

import pytest

from loopback.bedrock import BedrockStandIn, MalformedStyle
from loopback.context import LambdaContext
from loopback.posthog import PostHogSink
from tests.drills.drill_support import (
    SAMPLE_EVENTS,
    TEXT_FIELDS,
    graphql,
    graphql_error,
    invoke,
    result_model,
    sample_event,
    timed,
)
from tracked_bedrock import BedrockCallError, StructuredOutputError

STRUCTURED = "parseCvText"
DOCUMENT = "generateCoverLetter"
CORRECTIVE = "did not match the required schema"


def _events(sink: PostHogSink, field: str, count: int) -> list[dict[str, Any]]:
    """The invocation's events, in call order; delivery happens before the handler returns, so all are there."""
    events = sink.events
    assert len(events) == count, [e["properties"].get("$ai_error") for e in events]
    assert {e["properties"]["operation"] for e in events} == {field}
    assert {e["distinct_id"] for e in events} == {SAMPLE_EVENTS[field]["identity"]["sub"]}
    assert len({e["properties"]["$ai_trace_id"] for e in events}) == 1
    assert len({e["uuid"] for e in events}) == count
    return sorted(events, key=lambda e: e["timestamp"])


def _valid(answer: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in answer, answer.get("errors")
    data: dict[str, Any] = answer["data"][field]
    result_model(field).model_validate(data)
    return data


# ------------------------------------------------------------------------------------------------ throttling


@pytest.mark.parametrize(("field", "attempts"), [(STRUCTURED, 1), (STRUCTURED, 2), (DOCUMENT, 2)])
def test_throttling_storm_is_one_typed_error_and_one_error_event(
    field: str, attempts: int, bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Bedrock answering every request 429 and the client allowed `attempts` attempts in all
    monkeypatch.setenv("BEDROCK_MAX_ATTEMPTS", str(attempts))
    bedrock.set_sticky("ThrottlingException")
    # WHEN the operation is resolved through GraphQL
    answer, elapsed = timed(lambda: graphql(field))
    # THEN the caller gets one typed error saying that retrying later may help, and no data
    message = graphql_error(answer, field)
    assert message.startswith("BedrockCallError:")
    assert "ThrottlingException (HTTP 429)" in message
    assert f"after {attempts} attempt" in message
    assert message.endswith("retrying later may help")
    # and botocore made exactly the configured number of HTTP requests (its backoff: under 1 s per retry)
    assert len(bedrock.requests) == attempts
    assert {r.fault for r in bedrock.requests} == {"ThrottlingException"}
    assert elapsed < (attempts - 1) * 1.0 + 3.0
    # and PostHog got one event for the one logical call, saying it failed after attempts-1 retries
    (event,) = _events(posthog, field, 1)
    props = event["properties"]
    assert props["$ai_is_error"] is True
    assert props["$ai_http_status"] == 429
    assert props["bedrock_retry_attempts"] == attempts - 1
    assert props["bedrock_error_code"] == "ThrottlingException"
    assert props["bedrock_error_retryable"] is True
    assert props["$ai_output_tokens"] == 0
    assert props["$ai_error"] in message


# ------------------------------------------------------------------------------------------------ 5xx


@pytest.mark.parametrize(
    ("field", "code", "status"),
    [(STRUCTURED, "InternalServerException", 500), (DOCUMENT, "ServiceUnavailableException", 503)],
)
def test_5xx_once_is_retried_and_the_event_counts_the_retry(
    field: str, code: str, status: int, bedrock: BedrockStandIn, posthog: PostHogSink, quick_retries: int
) -> None:
    # GIVEN Bedrock failing the first request with a 5xx, then recovering
    bedrock.inject(code, times=1)
    # WHEN the operation runs
    answer = graphql(field)
    # THEN botocore's retry got a valid result, and the event says one retry was needed
    _valid(answer, field)
    assert [r.status for r in bedrock.requests] == [status, 200]
    (event,) = _events(posthog, field, 1)
    props = event["properties"]
    assert props["$ai_is_error"] is False
    assert props["$ai_http_status"] == 200
    assert props["bedrock_retry_attempts"] == 1
    assert props["$ai_output_tokens"] > 0


@pytest.mark.parametrize(
    ("field", "code", "status"),
    [(STRUCTURED, "ServiceUnavailableException", 503), (DOCUMENT, "InternalServerException", 500)],
)
def test_5xx_storm_is_a_typed_retryable_error(
    field: str, code: str, status: int, bedrock: BedrockStandIn, posthog: PostHogSink, quick_retries: int
) -> None:
    # GIVEN Bedrock failing every request with a 5xx
    bedrock.set_sticky(code)
    # WHEN the operation runs
    message = graphql_error(graphql(field), field)
    # THEN a typed error after every configured attempt, and an error event with the status
    assert message.startswith("BedrockCallError:")
    assert f"{code} (HTTP {status}) after {quick_retries} attempts" in message
    assert "retrying later may help" in message
    assert len(bedrock.requests) == quick_retries
    (event,) = _events(posthog, field, 1)
    assert event["properties"]["$ai_http_status"] == status
    assert event["properties"]["$ai_is_error"] is True
    assert event["properties"]["bedrock_retry_attempts"] == quick_retries - 1


def test_5xx_twice_then_recovering_within_three_attempts(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the default three attempts and Bedrock failing twice (500 then 503) before recovering
    monkeypatch.setenv("BEDROCK_MAX_ATTEMPTS", "3")
    bedrock.inject("InternalServerException")
    bedrock.inject("ServiceUnavailableException")
    # WHEN the structured operation runs
    _valid(graphql(STRUCTURED), STRUCTURED)
    # THEN the third request answered, and the one event says two retries
    assert [r.status for r in bedrock.requests] == [500, 503, 200]
    (event,) = _events(posthog, STRUCTURED, 1)
    assert event["properties"]["bedrock_retry_attempts"] == 2
    assert event["properties"]["$ai_is_error"] is False


# ------------------------------------------------------------------------------------------------ slow answers


def test_an_answer_just_inside_the_read_timeout_succeeds_and_its_latency_is_measured(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a 1 s read timeout and a model that takes 0.6 s
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT", "1")
    bedrock.inject_delay(0.6)
    # WHEN the structured operation runs
    _valid(graphql(STRUCTURED), STRUCTURED)
    # THEN one request, no retry, and the event's latency covers the wait
    assert len(bedrock.requests) == 1
    (event,) = _events(posthog, STRUCTURED, 1)
    props = event["properties"]
    assert 0.6 <= props["$ai_latency"] < 0.6 + 1.0
    assert props["bedrock_retry_attempts"] == 0


def test_one_answer_slower_than_the_read_timeout_is_retried(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch, quick_retries: int
) -> None:
    # GIVEN a 1 s read timeout and a first answer that would take 1.5 s
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT", "1")
    bedrock.inject_delay(1.5)
    # WHEN the document operation runs
    _valid(graphql(DOCUMENT), DOCUMENT)
    # THEN botocore gave up on the first request at the timeout and the retry answered; the event says so
    assert len(bedrock.requests) == 2
    (event,) = _events(posthog, DOCUMENT, 1)
    props = event["properties"]
    assert props["bedrock_retry_attempts"] == 1
    assert props["$ai_is_error"] is False
    assert props["$ai_latency"] >= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("field", [STRUCTURED, DOCUMENT])
def test_every_answer_slower_than_the_read_timeout_is_a_typed_408(
    field: str, bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch, quick_retries: int
) -> None:
    # GIVEN a 1 s read timeout and a model taking 1.5 s on every attempt
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT", "1")
    bedrock.inject_delay(1.5, times=quick_retries)
    # WHEN the operation runs
    answer, elapsed = timed(lambda: graphql(field))
    # THEN a typed, retryable timeout error after both attempts, reported as HTTP 408
    message = graphql_error(answer, field)
    assert message.startswith("BedrockCallError:")
    assert "ReadTimeoutError (HTTP 408) after 2 attempts" in message
    assert "retrying later may help" in message
    assert len(bedrock.requests) == quick_retries
    # each attempt waited the 1 s timeout, not the 1.5 s answer; backoff under 1 s; slack for a loaded machine
    assert quick_retries * 1.0 <= elapsed < quick_retries * 1.0 + 1.0 + 2.0
    (event,) = _events(posthog, field, 1)
    props = event["properties"]
    assert props["$ai_http_status"] == 408
    assert props["$ai_is_error"] is True
    assert props["bedrock_retry_attempts"] == 1
    assert props["bedrock_error_retryable"] is True


@pytest.mark.parametrize("field", [STRUCTURED, DOCUMENT])
def test_a_retry_that_would_outlive_the_lambda_timeout_is_not_sent(
    field: str, bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a 1 s read timeout, three attempts, a 0.2 s delivery budget (reserve 1.2 s), and a 2 s Lambda timeout
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT", "1")
    monkeypatch.setenv("POSTHOG_DELIVERY_TIMEOUT", "0.2")
    bedrock.inject_delay(3.0)
    context = LambdaContext(function_name=field, timeout_s=2.0)
    # WHEN the first attempt times out with 1 s left
    outcome, elapsed = timed(lambda: invoke(field, sample_event(field), context))
    # THEN no retry is sent: the handler fails with DeadlineExceeded before Lambda would have killed it
    assert isinstance(outcome, BedrockCallError), outcome
    assert outcome.code == "DeadlineExceeded"
    assert outcome.retryable
    assert str(outcome).startswith("BedrockCallError:")
    assert elapsed < context.timeout_s
    assert len(bedrock.requests) == 1
    # and its event was delivered in time, as a 504
    (event,) = _events(posthog, field, 1)
    props = event["properties"]
    assert props["$ai_http_status"] == 504
    assert props["bedrock_error_code"] == "DeadlineExceeded"
    assert props["bedrock_retry_attempts"] == 0


@pytest.mark.slow
def test_a_retry_that_cannot_finish_before_the_lambda_timeout_is_not_sent(
    bedrock: BedrockStandIn, posthog: PostHogSink, monkeypatch: pytest.MonkeyPatch, quick_retries: int
) -> None:
    # GIVEN production's proportions scaled down: 3 s reads in a 5.5 s Lambda (20 s in 25 s), a 0.2 s delivery
    # budget, and a model slower than the read timeout on every attempt
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT", "3")
    monkeypatch.setenv("POSTHOG_DELIVERY_TIMEOUT", "0.2")
    bedrock.inject_delay(5.0, times=quick_retries)
    context = LambdaContext(function_name=DOCUMENT, timeout_s=5.5)
    # WHEN the first attempt times out after 3 s, leaving 1.5-2.5 s (after botocore's backoff) for a 3 s retry
    outcome, elapsed = timed(lambda: invoke(DOCUMENT, sample_event(DOCUMENT), context))
    # THEN the retry, which cannot finish in time, is not sent: a typed DeadlineExceeded before Lambda's timeout
    # (sent, Lambda would kill the invocation mid-call: no typed error, no event)
    assert isinstance(outcome, BedrockCallError), outcome
    assert len(bedrock.requests) == 1, "the retry was sent"
    assert outcome.code == "DeadlineExceeded", outcome.code
    assert elapsed < context.timeout_s, f"returned after {elapsed:.1f} s, past the {context.timeout_s} s timeout"


def test_no_corrective_attempt_without_time_for_it(bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    # GIVEN a malformed first answer and 10 s left: a parseCvText answer may need 20 s (2,500 tokens, read timeout)
    bedrock.inject_malformed()
    context = LambdaContext(function_name=STRUCTURED, timeout_s=10.0)
    # WHEN the structured operation runs
    with pytest.raises(StructuredOutputError) as caught:
        invoke(STRUCTURED, sample_event(STRUCTURED), context)
    # THEN the corrective call is not made, the error says why, and the one call has its event
    assert len(bedrock.requests) == 1
    assert "no time left in the invocation for a corrective attempt" in caught.value.validation_errors
    (event,) = _events(posthog, STRUCTURED, 1)
    assert "output_validation_error" in event["properties"]


def test_the_structured_error_counts_the_attempts_really_made(bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    # GIVEN a malformed first answer and too little time for a corrective call
    bedrock.inject_malformed()
    context = LambdaContext(function_name=STRUCTURED, timeout_s=10.0)
    # WHEN the structured operation fails
    with pytest.raises(StructuredOutputError) as caught:
        invoke(STRUCTURED, sample_event(STRUCTURED), context)
    # THEN its message tells the caller how many calls were made: one
    assert len(bedrock.requests) == 1
    assert "after 1 attempt" in str(caught.value)


# ------------------------------------------------------------------------------------------------ malformed output

STYLES: tuple[MalformedStyle, ...] = ("missing_required", "wrong_type", "text")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("field", [STRUCTURED, "parseJobDescription"])
def test_one_malformed_answer_is_corrected_by_the_second_call(
    field: str, style: MalformedStyle, bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    # GIVEN the model's first answer breaks the schema
    bedrock.inject_malformed(style=style)
    # WHEN the structured operation runs
    _valid(graphql(field), field)
    # THEN the corrective call carried the validation errors, and each call has its event in one trace
    first, second = bedrock.requests
    assert CORRECTIVE not in first.prompt_text
    assert CORRECTIVE in second.prompt_text
    rejected, accepted = _events(posthog, field, 2)
    assert rejected["properties"]["structured_output_attempt"] == 1
    assert rejected["properties"]["output_validation_error"]
    assert accepted["properties"]["structured_output_attempt"] == 2
    assert "output_validation_error" not in accepted["properties"]
    assert not rejected["properties"]["$ai_is_error"]
    assert not accepted["properties"]["$ai_is_error"]


@pytest.mark.parametrize("style", STYLES)
def test_two_malformed_answers_are_a_typed_error_never_a_partial_object(
    style: MalformedStyle, bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    # GIVEN both answers break the schema
    bedrock.inject_malformed(times=2, style=style)
    # WHEN the structured operation runs
    message = graphql_error(graphql(STRUCTURED), STRUCTURED)
    # THEN one typed error naming the model, no data, two calls and two events that say why
    assert message.startswith("StructuredOutputError:")
    assert "did not match ParsedCv after 2 attempts" in message
    assert len(bedrock.requests) == 2
    events = _events(posthog, STRUCTURED, 2)
    assert all(e["properties"]["output_validation_error"] for e in events)
    assert [e["properties"]["structured_output_attempt"] for e in events] == [1, 2]


@pytest.mark.parametrize("field", sorted(TEXT_FIELDS))
def test_a_malformed_text_answer_is_an_incomplete_output_error(
    field: str, bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    # GIVEN Converse reporting a broken generation (stopReason malformed_model_output, no content)
    bedrock.inject_malformed()
    # WHEN a document operation runs
    message = graphql_error(graphql(field), field)
    # THEN a typed IncompleteOutput error, not an empty document, and the event has the stop reason
    assert message.startswith("IncompleteOutput: stopped with malformed_model_output")
    assert len(bedrock.requests) == 1
    (event,) = _events(posthog, field, 1)
    assert event["properties"]["$ai_stop_reason"] == "malformed_model_output"


# ------------------------------------------------------------------------------------------------ max_tokens


def test_a_structured_answer_cut_off_once_is_corrected(bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    # GIVEN the first structured answer cut off by the token limit (half its properties)
    bedrock.inject_max_tokens()
    # WHEN the structured operation runs
    _valid(graphql(STRUCTURED), STRUCTURED)
    # THEN the corrective call asked for a more concise answer, and the first event says it was cut off
    first, second = bedrock.requests
    assert "cut off by the token limit" in second.prompt_text
    assert "cut off" not in first.prompt_text
    cut, whole = _events(posthog, STRUCTURED, 2)
    assert cut["properties"]["$ai_stop_reason"] == "max_tokens"
    assert cut["properties"]["output_validation_error"]
    assert whole["properties"]["$ai_stop_reason"] == "tool_use"


def test_a_structured_answer_cut_off_twice_is_a_typed_error(bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    # GIVEN both structured answers cut off
    bedrock.inject_max_tokens(times=2)
    # WHEN the structured operation runs
    message = graphql_error(graphql(STRUCTURED), STRUCTURED)
    # THEN a typed error and no partial profile
    assert message.startswith("StructuredOutputError:")
    events = _events(posthog, STRUCTURED, 2)
    assert [e["properties"]["$ai_stop_reason"] for e in events] == ["max_tokens", "max_tokens"]


@pytest.mark.parametrize("field", sorted(TEXT_FIELDS))
def test_a_document_cut_off_is_an_incomplete_output_error_not_a_truncated_document(
    field: str, bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    # GIVEN the model's text answer cut off by the token limit
    bedrock.inject_max_tokens()
    # WHEN a document operation runs
    message = graphql_error(graphql(field), field)
    # THEN a typed error naming the limit, one call (retrying would be cut off the same way)
    assert message.startswith("IncompleteOutput: stopped with max_tokens: the answer hit the token limit (")
    assert len(bedrock.requests) == 1
    (event,) = _events(posthog, field, 1)
    assert event["properties"]["$ai_stop_reason"] == "max_tokens"
    assert event["properties"]["$ai_output_tokens"] > 0
