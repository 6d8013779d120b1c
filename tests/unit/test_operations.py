"""The twelve operations' handlers, through their real ``lambda_handler`` and their sample events.

Bad arguments must be refused with InvalidInputError naming the field, before anything reaches Bedrock: every
test here fails if a Bedrock client is even created. Good arguments must reach ``invoke_bedrock`` with the user's
text wrapped as data, a bounded ``max_tokens`` and the operation's output model.
"""

import copy
import enum
import importlib
import json
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import BaseModel

import cv_domain
import tracked_bedrock
from cv_domain import DATA_RULES, MAX_CV_JSON_CHARS, GeneratedDocument
from tests.operations import OPERATIONS
from tracked_bedrock import InvalidInputError

ROOT = Path(__file__).resolve().parents[2]
# Nova Micro writes ~150-250 tokens/s: 3,000 tokens stay inside Bedrock's 20 s read timeout and AppSync's 30 s.
MAX_TOKENS_CEILING = 3000
DATA_BLOCK = re.compile(r"<<<(?P<label>[^<>\n]+)>>>\n.*?\n<<<end of (?P=label)>>>", re.DOTALL)
ENUM_VALUES = {
    member.value
    for value in vars(cv_domain).values()
    if isinstance(value, type) and issubclass(value, enum.Enum)
    for member in value
}


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "cv-assistant-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:cv-assistant-test"
    aws_request_id: str = "6f1c2d3e-0000-4000-8000-00000000abcd"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def handler_module(field_name: str) -> types.ModuleType:
    return importlib.import_module(f"functions.{OPERATIONS[field_name]}.app")


def sample_event(field_name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{OPERATIONS[field_name]}.json").read_text("utf-8"))
    return event


def result_model(field_name: str) -> type[BaseModel]:
    result: type[BaseModel] = typing.get_type_hints(handler_module(field_name).run)["return"]
    return result


def fail(*_: Any, **__: Any) -> Any:
    pytest.fail("a Bedrock client was requested: these tests must never reach Bedrock")


@pytest.fixture(autouse=True)
def no_bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test may reach Bedrock or PostHog: the client factory fails the test if it is ever called."""
    monkeypatch.delenv("POSTHOG_API_KEY", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)
    tracked_bedrock.settings.get_settings.cache_clear()
    monkeypatch.setattr(tracked_bedrock.clients, "bedrock_client", fail)
    yield
    tracked_bedrock.settings.get_settings.cache_clear()


def strip_type(annotation: Any) -> Any:
    """The model or scalar inside Annotated[...], X | None and list[...]."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (typing.Union, types.UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        elif get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        else:
            return annotation


def minimal(model: type[BaseModel]) -> BaseModel:
    """The smallest valid instance of ``model``: what a fake model answer returns."""

    def value(annotation: Any) -> Any:
        while get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        if get_origin(annotation) is list:
            return []
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return next(iter(annotation))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return minimal(annotation)
        return {str: "x", int: 0, float: 0.0, bool: False}[annotation]

    return model.model_validate(
        {name: value(info.annotation) for name, info in model.model_fields.items() if info.is_required()}
    )


def fake_invoke_bedrock(calls: list[dict[str, Any]]) -> Callable[..., Any]:
    """Record the call; answer with a valid instance of the output model, or Markdown on the text path."""

    def invoke(**kwargs: Any) -> Any:
        calls.append(kwargs)
        output_model = kwargs.get("output_model")
        return minimal(output_model) if output_model is not None else "# Maya Lindqvist\n\nA short document."

    return invoke


def string_leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from string_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from string_leaves(item)


# ---------------------------------------------------------------- the sample events


def test_every_operation_has_a_handler_and_a_sample_event() -> None:
    assert {path.parent.name for path in (ROOT / "functions").glob("*/app.py")} == set(OPERATIONS.values())
    assert {path.stem for path in (ROOT / "events").glob("*.json")} == set(OPERATIONS.values())


@pytest.mark.parametrize("field_name", OPERATIONS)
def test_sample_event_arguments_validate(field_name: str) -> None:
    # GIVEN the operation's sample event
    event = sample_event(field_name)
    assert event["info"]["fieldName"] == field_name
    assert event["info"]["parentTypeName"] == "Query"
    # WHEN its Arguments model validates the arguments THEN they pass
    handler_module(field_name).Arguments.model_validate(event["arguments"])


@pytest.mark.parametrize("field_name", OPERATIONS)
def test_sample_event_selection_set_names_fields_of_the_result(field_name: str) -> None:
    # GIVEN the event's selection set WHEN each path is walked through the result model THEN every field exists
    for path in sample_event(field_name)["info"]["selectionSetList"]:
        model: Any = result_model(field_name)
        for part in path.split("/"):
            aliases = {info.alias or name: info for name, info in model.model_fields.items()}
            assert part in aliases, f"{path}: {model.__name__} has no field {part}"
            model = strip_type(aliases[part].annotation)


@pytest.mark.parametrize("field_name", OPERATIONS)
def test_handler_resolves_the_sample_event(monkeypatch: pytest.MonkeyPatch, field_name: str) -> None:
    # GIVEN a model that answers validly
    module = handler_module(field_name)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(module, "invoke_bedrock", fake_invoke_bedrock(calls))
    # WHEN the real handler gets the sample event
    result = module.lambda_handler(sample_event(field_name), FakeLambdaContext())
    # THEN it made one call and returned the result model as JSON by alias
    assert len(calls) == 1
    assert isinstance(result, dict)
    result_model(field_name).model_validate(result)
    assert all("_" not in key for key in result), "keys are camelCase aliases"


@pytest.mark.parametrize("field_name", OPERATIONS)
def test_run_sends_user_text_as_data_with_bounded_output(monkeypatch: pytest.MonkeyPatch, field_name: str) -> None:
    # GIVEN the sample event's arguments
    module = handler_module(field_name)
    arguments = sample_event(field_name)["arguments"]
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(module, "invoke_bedrock", fake_invoke_bedrock(calls))

    # WHEN run builds the call
    result = module.run(module.Arguments.model_validate(arguments))
    (call,) = calls

    # THEN the system prompt is the module's, and it says the delimited text is data
    assert call["system_prompt"] == module.SYSTEM_PROMPT
    assert DATA_RULES in module.SYSTEM_PROMPT
    # AND the answer is bounded and typed: structured output, or Markdown wrapped into a document
    assert 0 < call["max_tokens"] <= MAX_TOKENS_CEILING
    assert 0.0 <= call["temperature"] <= 1.0
    expected = result_model(field_name)
    if call.get("output_model") is None:
        assert issubclass(expected, GeneratedDocument), f"{field_name} uses the text path for a non-document"
    else:
        assert call["output_model"] is expected
    assert isinstance(result, expected)

    # AND every piece of the user's text is inside an as_data block, and none outside
    content: str = call["user_content"]
    blocks = "\n".join(match.group(0) for match in DATA_BLOCK.finditer(content))
    outside = DATA_BLOCK.sub("", content)
    assert blocks, "no <<<label>>> data block in the user content"
    for text in {leaf.strip() for leaf in string_leaves(arguments)} - ENUM_VALUES:
        assert text in blocks or json.dumps(text, ensure_ascii=False)[1:-1] in blocks, f"not sent as data: {text!r}"
        if len(text) >= 8:
            assert text not in outside, f"user text outside the data blocks: {text!r}"


# ---------------------------------------------------------------- bad arguments never reach Bedrock


def bad_argument_cases() -> Iterator[Any]:
    """(operation, arguments, the field the error must name) for every kind of bad input, from the samples."""
    for field_name in OPERATIONS:
        arguments = sample_event(field_name)["arguments"]
        fields = handler_module(field_name).Arguments.model_fields
        for name, info in fields.items():
            alias = info.alias or name
            case_id = f"{field_name}.{alias}"
            kind = strip_type(info.annotation)
            if info.is_required():
                yield pytest.param(
                    field_name, {k: v for k, v in arguments.items() if k != alias}, alias, id=f"{case_id}-missing"
                )
                yield pytest.param(field_name, {**arguments, alias: None}, alias, id=f"{case_id}-null")
            if kind is str and info.is_required():
                yield pytest.param(field_name, {**arguments, alias: ""}, alias, id=f"{case_id}-empty")
                yield pytest.param(field_name, {**arguments, alias: " \n\t "}, alias, id=f"{case_id}-whitespace")
            if kind is str:
                max_length = next(m.max_length for m in info.metadata if getattr(m, "max_length", None))
                yield pytest.param(
                    field_name, {**arguments, alias: "x" * (max_length + 1)}, alias, id=f"{case_id}-oversize"
                )
            wrong: Any = {str: 12345, int: "ninety seconds"}.get(kind, "not an object")
            if isinstance(kind, type) and issubclass(kind, enum.Enum):
                wrong = "KLINGON"
            yield pytest.param(field_name, {**arguments, alias: wrong}, alias, id=f"{case_id}-wrong-type")
        yield pytest.param(field_name, {**arguments, "temperature": 2}, "temperature", id=f"{field_name}-unknown-field")


def nested_cases() -> Iterator[Any]:
    """Constraints inside the structured arguments hold too, and are named by their path."""
    cv = sample_event("generateCv")["arguments"]
    experience = sample_event("generateStarStory")["arguments"]
    huge_position = {**cv["cv"]["experiences"][0], "responsibilities": ["x" * 590] * 12}
    huge_cv = {**cv["cv"], "experiences": [huge_position] * 20}
    assert len(json.dumps(huge_cv)) > MAX_CV_JSON_CHARS
    yield pytest.param("generateCv", {**cv, "cv": huge_cv}, "cv", id="cv-larger-than-MAX_CV_JSON_CHARS")
    nicknamed = copy.deepcopy(cv)
    nicknamed["cv"]["profile"]["nickname"] = "Maya"
    yield pytest.param("generateCv", nicknamed, "cv.profile.nickname", id="cv-unknown-nested-field")
    undated = copy.deepcopy(experience)
    undated["experience"]["startDate"] = "March 2021"
    yield pytest.param("generateStarStory", undated, "experience.startDate", id="experience-date-not-yyyy-mm")
    too_many = copy.deepcopy(cv)
    too_many["cv"]["skills"] = [f"skill {i}" for i in range(61)]
    yield pytest.param("generateCv", too_many, "cv.skills", id="cv-too-many-skills")
    unnamed = copy.deepcopy(sample_event("generateMatchingSummary")["arguments"])
    unnamed["job"]["title"] = "   "
    yield pytest.param("generateMatchingSummary", unnamed, "job.title", id="job-blank-title")


@pytest.mark.parametrize(("field_name", "arguments", "named"), [*bad_argument_cases(), *nested_cases()])
def test_bad_arguments_are_refused_before_bedrock(
    monkeypatch: pytest.MonkeyPatch, field_name: str, arguments: dict[str, Any], named: str
) -> None:
    # GIVEN the sample event with bad arguments, and a model that fails the test if it is called
    module = handler_module(field_name)
    monkeypatch.setattr(module, "invoke_bedrock", fail)
    event = {**sample_event(field_name), "arguments": arguments}
    # WHEN the real handler runs THEN InvalidInputError names the field
    with pytest.raises(InvalidInputError) as error:
        module.lambda_handler(event, FakeLambdaContext())
    assert named in error.value.fields
    assert named in str(error.value)
    assert str(error.value).startswith("InvalidInput: ")


def test_missing_arguments_are_all_named_at_once() -> None:
    # GIVEN no arguments at all WHEN generateCoverLetter's handler runs THEN every required argument is named
    event = {**sample_event("generateCoverLetter"), "arguments": None}
    with pytest.raises(InvalidInputError) as error:
        handler_module("generateCoverLetter").lambda_handler(event, FakeLambdaContext())
    assert set(error.value.fields) == {"cv", "job", "language", "tone"}


@pytest.mark.parametrize(
    ("field_name", "argument"), [("generateStarStory", "focus"), ("analyzeCompanyInfo", "companyName")]
)
def test_blank_optional_text_counts_as_absent(monkeypatch: pytest.MonkeyPatch, field_name: str, argument: str) -> None:
    # GIVEN an optional text argument sent blank (as form-based clients do)
    module = handler_module(field_name)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(module, "invoke_bedrock", fake_invoke_bedrock(calls))
    event = sample_event(field_name)
    event["arguments"][argument] = "  "
    # WHEN the handler runs THEN it is treated as not given: no empty data block is sent
    module.lambda_handler(event, FakeLambdaContext())
    assert "<<<end of focus>>>" not in calls[0]["user_content"]
    assert "<<<end of company name>>>" not in calls[0]["user_content"]
