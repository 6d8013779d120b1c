"""The $ai_generation event built from one call: contract, privacy mode, size limit, identity."""

import json

from tracked_bedrock.analytics import MAX_EVENT_BYTES, Generation, generation_event
from tracked_bedrock.pricing import PriceBook
from tracked_bedrock.settings import Settings

SETTINGS = Settings.from_env({"POSTHOG_API_KEY": "phc_test"})


def _generation(**overrides: object) -> Generation:
    gen = Generation(
        operation="generateCv",
        trace_id="5f1c1a6e-0000-4000-8000-000000000001",
        model_id="eu.amazon.nova-micro-v1:0",
        vendor="amazon",
        api="converse",
        system_prompt="You are a CV expert",
        user_content="Parse this CV",
        max_tokens=800,
        temperature=0.2,
    )
    gen.output_text = "Jane Doe, engineer"
    gen.stop_reason = "end_turn"
    gen.input_tokens, gen.output_tokens = 120, 40
    gen.latency_s = 0.4321
    gen.cost = PriceBook().cost(gen.model_id, input_tokens=120, output_tokens=40)
    for key, value in overrides.items():
        setattr(gen, key, value)
    return gen


def test_text_call_event_has_the_documented_properties_and_types() -> None:
    event = generation_event(_generation(), SETTINGS, user_id=None)
    props = event["properties"]
    assert event["event"] == "$ai_generation"
    assert event["distinct_id"] == "backend-ai-operations"
    assert props["$process_person_profile"] is False
    assert props["$ai_trace_id"] == "5f1c1a6e-0000-4000-8000-000000000001"
    assert isinstance(props["$ai_span_id"], str)
    assert props["$ai_span_name"] == props["operation"] == "generateCv"
    assert props["$ai_model"] == "eu.amazon.nova-micro-v1:0"
    assert props["$ai_provider"] == "bedrock"
    assert props["$ai_input"] == [
        {"role": "system", "content": "You are a CV expert"},
        {"role": "user", "content": "Parse this CV"},
    ]
    assert props["$ai_output_choices"] == [{"role": "assistant", "content": "Jane Doe, engineer"}]
    assert (props["$ai_input_tokens"], props["$ai_output_tokens"]) == (120, 40)
    assert props["$ai_latency"] == 0.4321
    assert props["$ai_http_status"] == 200
    assert props["$ai_is_error"] is False
    assert props["$ai_stop_reason"] == "end_turn"
    assert props["$ai_model_parameters"] == {"max_tokens": 800, "temperature": 0.2}
    assert (props["$ai_temperature"], props["$ai_max_tokens"]) == (0.2, 800)
    assert props["$ai_total_cost_usd"] == props["$ai_input_cost_usd"] + props["$ai_output_cost_usd"] > 0
    assert props["bedrock_retry_attempts"] == 0
    assert "$ai_cache_read_input_tokens" not in props


def test_tool_call_is_a_function_block_and_cache_tokens_are_reported() -> None:
    tool = {"name": "emit_parsed_cv", "description": "A CV", "inputSchema": {"json": {"type": "object"}}}
    gen = _generation(
        tool=tool, tool_input={"name": "Jane"}, output_text=None, cache_read_tokens=7, cache_write_tokens=3
    )
    props = generation_event(gen, SETTINGS, user_id=None)["properties"]
    assert props["$ai_output_choices"] == [
        {
            "role": "assistant",
            "content": [{"type": "function", "function": {"name": "emit_parsed_cv", "arguments": {"name": "Jane"}}}],
        }
    ]
    assert props["$ai_tools"] == [tool]
    assert (props["$ai_cache_read_input_tokens"], props["$ai_cache_creation_input_tokens"]) == (7, 3)


def test_user_id_replaces_the_backend_distinct_id() -> None:
    event = generation_event(_generation(), SETTINGS, user_id="0b7c4a3e-user")
    assert event["distinct_id"] == "0b7c4a3e-user"
    assert "$process_person_profile" not in event["properties"]


def test_privacy_mode_keeps_figures_and_drops_text() -> None:
    private = Settings.from_env({"POSTHOG_API_KEY": "phc_test", "POSTHOG_PRIVACY_MODE": "true"})
    event = generation_event(_generation(), private, user_id=None)
    props = event["properties"]
    assert "$ai_input" not in props
    assert "$ai_output_choices" not in props
    assert props["$ai_input_tokens"] == 120
    assert props["$ai_total_cost_usd"] > 0
    assert "Parse this CV" not in json.dumps(event)
    assert "Jane Doe" not in json.dumps(event)


def test_huge_content_is_truncated_under_posthogs_limit_with_a_marker() -> None:
    huge = "x" * (2 * 1024 * 1024)
    event = generation_event(_generation(user_content=huge, output_text=huge), SETTINGS, user_id=None)
    size = len(json.dumps(event).encode())
    props = event["properties"]
    assert size <= MAX_EVENT_BYTES
    assert props["content_truncated"] is True
    assert props["content_original_bytes"] > 4 * 1024 * 1024
    assert "truncated" in props["$ai_input"][1]["content"]
    assert props["$ai_input_tokens"] == 120  # the figures survive


def test_error_event_says_what_went_wrong() -> None:
    gen = _generation(error="throttled", error_code="ThrottlingException", http_status=429, retry_attempts=2)
    props = generation_event(gen, SETTINGS, user_id=None)["properties"]
    assert props["$ai_is_error"] is True
    assert props["$ai_error"] == "throttled"
    assert props["$ai_http_status"] == 429
    assert props["bedrock_retry_attempts"] == 2
    assert props["bedrock_error_code"] == "ThrottlingException"
