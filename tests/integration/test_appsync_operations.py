"""All twelve operations through the real GraphQL schema, as AppSync resolves them.

graphql-core executes ``schema.graphql``; each field's resolver builds the direct-resolver event AppSync would send
and calls the real handler (loaded the Lambda way), which calls the Bedrock stand-in through real boto3 and
delivers to the PostHog sink through the real posthog transport.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from loopback.appsync import AppSyncOffline, query_for
from loopback.bedrock import BedrockStandIn
from loopback.posthog import PostHogSink
from loopback.runner import load_handler, load_module, read_functions, snake_case

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema.graphql"
EVENTS = {path.stem: json.loads(path.read_text()) for path in sorted((ROOT / "events").glob("*.json"))}
FIELDS = sorted(event["info"]["fieldName"] for event in EVENTS.values())
SPECS = read_functions()


def _api() -> AppSyncOffline:
    return AppSyncOffline(SCHEMA, {field: load_handler(SPECS[snake_case(field)]) for field in FIELDS})


def _result_model(field: str) -> type[BaseModel]:
    run = load_module(SPECS[snake_case(field)]).run
    model: type[BaseModel] = typing.get_type_hints(run)["return"]
    return model


def test_every_query_field_has_a_function_and_a_sample_event() -> None:
    api = _api()
    assert api.schema.query_type is not None
    assert sorted(api.schema.query_type.fields) == FIELDS
    assert len(FIELDS) == 12


@pytest.mark.parametrize("field", FIELDS)
def test_operation_through_graphql(field: str, bedrock: BedrockStandIn, posthog: PostHogSink) -> None:
    # GIVEN the sample event's arguments and caller, sent as a GraphQL query
    event = EVENTS[snake_case(field)]
    api = _api()
    api.identity = event["identity"]
    # WHEN AppSync resolves the field
    answer = api.execute(query_for(api.schema, field, event["arguments"]), event["arguments"])
    # THEN the result is a valid instance of the operation's model, with every selected field
    assert "errors" not in answer, answer.get("errors")
    data: dict[str, Any] = answer["data"][field]
    _result_model(field).model_validate(data)
    # and the resolver got the event AppSync sends
    (sent,) = api.events
    assert sent["info"]["fieldName"] == field
    assert sent["info"]["parentTypeName"] == "Query"
    assert sent["info"]["selectionSetList"]
    # and Bedrock got the prompts, the user's text wrapped as data
    assert bedrock.requests
    assert "<<<" in bedrock.requests[0].prompt_text
    # and PostHog got one $ai_generation per call, attributed to the operation and the caller
    events = posthog.wait_for(len(bedrock.requests), timeout=5)
    assert len(events) == len(bedrock.requests)
    for generation in events:
        props = generation["properties"]
        assert generation["event"] == "$ai_generation"
        assert generation["distinct_id"] == event["identity"]["sub"]
        assert props["operation"] == field
        assert props["$ai_is_error"] is False
        assert props["$ai_input_tokens"] > 0
        assert props["$ai_total_cost_usd"] > 0
    assert len({g["properties"]["$ai_trace_id"] for g in events}) == 1


@pytest.mark.parametrize(
    ("field", "arguments", "message"),
    [
        ("parseCvText", {"cvText": "   "}, "cvText"),
        ("parseCvText", {"cvText": "x" * 50_001}, "cvText"),
        ("parseJobDescription", {"jobText": ""}, "jobText"),
        ("analyzeCompanyInfo", {"companyText": "", "companyName": "Acme"}, "companyText"),
    ],
)
def test_bad_input_is_a_graphql_error_naming_the_field_and_never_reaches_bedrock(
    field: str, arguments: dict[str, Any], message: str, bedrock: BedrockStandIn, posthog: PostHogSink
) -> None:
    api = _api()
    answer = api.execute(query_for(api.schema, field, arguments), arguments)
    (error,) = answer["errors"]
    assert error["errorType"] == "Lambda:Unhandled"
    assert error["message"].startswith("InvalidInput:")
    assert message in error["message"]
    assert bedrock.requests == []
    assert posthog.events == []


def test_wrong_types_are_refused_by_the_schema_before_any_handler(bedrock: BedrockStandIn) -> None:
    api = _api()
    answer = api.execute("query { parseCvText(cvText: 42) { profile { fullName } } }")
    assert answer["errors"]
    assert api.events == []
    assert bedrock.requests == []
