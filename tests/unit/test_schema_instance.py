"""The JSON Schema → instance generator behind the Bedrock stand-in's forced-tool answers."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from loopback._schema_instance import SchemaInstanceError, schema_instance, seed_from, violating_instance

# --- scalars ------------------------------------------------------------------------------------------------------


def test_strings_read_like_their_property_name_and_count_up() -> None:
    schema = {
        "type": "object",
        "properties": {"jobTitle": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["jobTitle", "tags"],
    }
    instance = schema_instance(schema, seed=1)
    assert instance["jobTitle"] == "Sample job title 1"
    assert instance["tags"] == [f"Sample tag {n}" for n in range(1, len(instance["tags"]) + 1)]


@pytest.mark.parametrize(("low", "high"), [(0, 3), (1, 1), (5, 8), (40, 60), (0, 12), (200, 200)])
def test_string_length_bounds(low: int, high: int) -> None:
    for seed in range(5):
        value = schema_instance({"type": "string", "minLength": low, "maxLength": high}, seed=seed, name="summary")
        assert low <= len(value) <= high
        assert not value.endswith(" ")


def test_tight_max_length_keeps_the_distinguishing_number() -> None:
    schema = {"type": "array", "minItems": 3, "maxItems": 3, "items": {"type": "string", "maxLength": 8}}
    values = schema_instance(schema, name="names")
    assert len(set(values)) == 3
    assert all(len(v) <= 8 for v in values)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[A-Z]{3}-\d{4}$",
        r"^\+?[0-9 ]{7,15}$",
        r"^(draft|final|archived)$",
        r"^[a-z][a-z0-9_]*$",
        r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
        r"^v\d+\.\d+(\.\d+)?$",
        r"ab+c",
        r"^(\w+)-\1$",
    ],
)
def test_pattern_is_matched(pattern: str) -> None:
    for seed in range(10):
        value = schema_instance({"type": "string", "pattern": pattern}, seed=seed)
        assert re.search(pattern, value), value


def test_pattern_and_length_together() -> None:
    schema = {"type": "string", "pattern": r"^[a-z]+$", "minLength": 2, "maxLength": 4}
    for seed in range(10):
        value = schema_instance(schema, seed=seed)
        assert re.fullmatch(r"[a-z]{2,4}", value)


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("date", dt.date.fromisoformat),
        ("date-time", dt.datetime.fromisoformat),
        ("time", dt.time.fromisoformat),
        ("uuid", uuid.UUID),
        ("email", lambda v: re.fullmatch(r"[a-z0-9.]+@example\.com", v)),
        ("uri", lambda v: v.startswith("https://example.com/")),
        ("ipv4", lambda v: all(0 <= int(part) <= 255 for part in v.split("."))),
    ],
)
def test_formats(fmt: str, check: Any) -> None:
    value = schema_instance({"type": "string", "format": fmt}, name="contact")
    assert check(value), value


def test_enum_const_and_null() -> None:
    assert schema_instance({"enum": ["red", "green"]}) in ("red", "green")
    assert schema_instance({"enum": [None, 3]}) == 3  # a value says more than null
    assert schema_instance({"const": {"a": [1]}}) == {"a": [1]}
    assert schema_instance({"type": "null"}) is None
    assert isinstance(schema_instance({"type": "boolean"}), bool)


@pytest.mark.parametrize(
    ("schema", "check"),
    [
        ({"type": "integer", "minimum": 3, "maximum": 3}, lambda v: v == 3),
        ({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2}, lambda v: v == 1),
        ({"type": "integer", "minimum": 5, "exclusiveMinimum": True, "maximum": 6}, lambda v: v == 6),  # draft 4
        ({"type": "integer", "maximum": -50}, lambda v: v <= -50),
        ({"type": "integer", "minimum": 1_000_000}, lambda v: v >= 1_000_000),
        ({"type": "integer", "multipleOf": 7}, lambda v: v % 7 == 0),
        ({"type": "integer", "multipleOf": 100, "minimum": 1}, lambda v: v % 100 == 0 and v >= 1),
        ({"type": "integer", "minimum": 0.5, "maximum": 1.5}, lambda v: v == 1),
        ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, lambda v: 0 < v < 1),
        ({"type": "number", "minimum": 2.5, "maximum": 2.5}, lambda v: v == 2.5),
        ({"type": "number", "multipleOf": 0.25, "minimum": 1}, lambda v: v >= 1 and (v / 0.25).is_integer()),
        ({"type": "number", "maximum": 0}, lambda v: v <= 0),
        ({"minimum": 10}, lambda v: v >= 10),  # no type: inferred from the keywords
    ],
)
def test_numbers(schema: dict[str, Any], check: Any) -> None:
    for seed in range(10):
        value = schema_instance(schema, seed=seed)
        assert not isinstance(value, bool)
        assert check(value), (schema, value)
        if schema.get("type") == "integer":
            assert isinstance(value, int)


@settings(max_examples=200, deadline=None)
@given(
    low=st.one_of(st.none(), st.integers(-1000, 1000)),
    span=st.integers(0, 2000),
    exclusive=st.booleans(),
    number=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_numeric_bounds_hold(low: int | None, span: int, exclusive: bool, number: bool, seed: int) -> None:
    high = None if low is None else low + span + (2 if exclusive else 0)
    schema: dict[str, Any] = {"type": "number" if number else "integer"}
    if low is not None:
        schema["exclusiveMinimum" if exclusive else "minimum"] = low
        schema["exclusiveMaximum" if exclusive else "maximum"] = high
    value = schema_instance(schema, seed=seed)
    if low is not None and high is not None:
        assert (low < value < high) if exclusive else (low <= value <= high)


@settings(max_examples=200, deadline=None)
@given(
    min_length=st.integers(0, 50),
    extra=st.integers(0, 50),
    min_items=st.integers(0, 5),
    extra_items=st.integers(0, 5),
    seed=st.integers(0, 2**32),
)
def test_length_and_item_bounds_hold(min_length: int, extra: int, min_items: int, extra_items: int, seed: int) -> None:
    schema = {
        "type": "array",
        "minItems": min_items,
        "maxItems": min_items + extra_items,
        "items": {"type": "string", "minLength": min_length, "maxLength": min_length + extra},
    }
    values = schema_instance(schema, seed=seed, name="lines")
    assert min_items <= len(values) <= min_items + extra_items
    assert all(min_length <= len(v) <= min_length + extra for v in values)


# --- structures ---------------------------------------------------------------------------------------------------


def test_arrays_default_to_one_to_three_items() -> None:
    sizes = {len(schema_instance({"type": "array", "items": {"type": "integer"}}, seed=seed)) for seed in range(30)}
    assert sizes == {1, 2, 3}


def test_unique_items_and_small_enums() -> None:
    schema = {"type": "array", "uniqueItems": True, "minItems": 2, "maxItems": 5, "items": {"enum": ["a", "b"]}}
    for seed in range(10):
        values = schema_instance(schema, seed=seed)
        assert sorted(values) == ["a", "b"]
    impossible = {"type": "array", "uniqueItems": True, "minItems": 3, "items": {"enum": ["a", "b"]}}
    with pytest.raises(SchemaInstanceError):
        schema_instance(impossible)


def test_tuples_with_prefix_items() -> None:
    schema = {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "integer"}],
        "items": False,
        "minItems": 2,
    }
    first, second = schema_instance(schema)
    assert isinstance(first, str)
    assert isinstance(second, int)


def test_objects_keep_schema_order_and_honour_property_counts() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "boolean"}},
        "required": ["c"],
    }
    assert list(schema_instance(schema)) == ["a", "b", "c"]
    assert list(schema_instance({**schema, "maxProperties": 1})) == ["c"]
    mapping = {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 2}
    values = schema_instance(mapping, name="scores")
    assert len(values) == 2
    assert all(isinstance(v, int) for v in values.values())


def test_any_of_takes_the_first_non_null_branch_and_all_of_merges() -> None:
    assert isinstance(schema_instance({"anyOf": [{"type": "null"}, {"type": "integer"}]}), int)
    assert isinstance(schema_instance({"oneOf": [{"type": "string"}, {"type": "integer"}]}), str)
    assert isinstance(schema_instance({"type": ["null", "number"]}), float)
    merged = schema_instance(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"type": "integer", "minimum": 3}}, "required": ["b"]},
            ]
        }
    )
    assert set(merged) == {"a", "b"}
    assert merged["b"] >= 3


def test_refs_and_recursion() -> None:
    schema = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
                "required": ["label"],
            }
        },
    }

    def depth(node: Any) -> int:
        if not isinstance(node, dict):
            return 0
        children = [*node.get("children", []), node.get("parent")]
        return 1 + max((depth(child) for child in children), default=0)

    tree = schema_instance(schema)
    assert tree["label"].startswith("Sample label")
    assert 2 <= depth(tree) <= 4
    legacy = {"definitions": {"X": {"type": "integer", "minimum": 9}}, "properties": {"x": {"$ref": "#/definitions/X"}}}
    assert schema_instance(legacy)["x"] >= 9
    with pytest.raises(SchemaInstanceError, match="unresolvable"):
        schema_instance({"$ref": "#/$defs/Missing"})
    with pytest.raises(SchemaInstanceError, match="local"):
        schema_instance({"$ref": "https://example.com/schema.json"})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 5, "maximum": 4},
        {"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2},
        {"type": "number", "exclusiveMinimum": 1, "maximum": 1},
        {"type": "string", "minLength": 5, "maxLength": 4},
        {"type": "array", "minItems": 3, "maxItems": 2},
        {"type": "object", "properties": {"a": False}, "required": ["a"]},
        {"enum": []},
    ],
)
def test_contradictions_raise(schema: dict[str, Any]) -> None:
    with pytest.raises(SchemaInstanceError):
        schema_instance(schema)


def test_same_seed_same_instance_other_seed_other_instance() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 1000}, "d": {"format": "date"}}}
    assert schema_instance(schema, seed=5) == schema_instance(schema, seed=5)
    assert len({str(schema_instance(schema, seed=seed)) for seed in range(10)}) > 1
    assert seed_from({"a": 1, "b": 2}) == seed_from({"b": 2, "a": 1})
    assert seed_from("x") != seed_from("y")


# --- pydantic v2 models -------------------------------------------------------------------------------------------


class Level(StrEnum):
    JUNIOR = "junior"
    SENIOR = "senior"
    LEAD = "lead"


class Skill(BaseModel):
    name: str = Field(min_length=2, max_length=12)
    level: Level
    years: int = Field(ge=0, le=50)


class Link(BaseModel):
    url: HttpUrl
    label: str | None = None


class Section(BaseModel):
    heading: str
    bullets: list[Annotated[str, Field(min_length=10, max_length=120)]] = Field(min_length=1, max_length=4)
    links: list[Link] = []


class Profile(BaseModel):
    """A CV profile, the kind of structure the project asks Bedrock for."""

    model_config = ConfigDict(populate_by_name=True)

    full_name: str = Field(alias="fullName")
    summary: str = Field(min_length=60, max_length=280)
    skills: list[Skill] = Field(min_length=2, max_length=5)
    sections: list[Section]
    confidence: float = Field(gt=0, lt=1)
    seniority: Literal["junior", "mid", "senior"]
    start: dt.date
    updated: dt.datetime | None = None
    code: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    ratio: float = Field(multiple_of=0.25, ge=1)
    salary_band: int = Field(multiple_of=5000, gt=20000, le=200000)
    scores: dict[str, Annotated[int, Field(ge=0, le=10)]]
    pair: tuple[str, int]
    id: uuid.UUID
    tags: set[str] = set()


class Tree(BaseModel):
    label: str
    children: list[Tree] = []


@pytest.mark.parametrize("model", [Profile, Skill, Section, Tree])
def test_pydantic_models_validate_their_own_instances(model: type[BaseModel]) -> None:
    schema = model.model_json_schema(by_alias=True)
    for seed in range(50):
        model.model_validate(schema_instance(schema, seed=seed))


def test_pydantic_instance_reads_plausibly() -> None:
    instance = schema_instance(Profile.model_json_schema(by_alias=True), seed=3)
    assert instance["fullName"] == "Sample full name 1"
    assert instance["summary"].startswith("Sample summary 1 ")
    assert {skill["level"] for skill in instance["skills"]} <= {"junior", "senior", "lead"}
    assert 60 <= len(instance["summary"]) <= 280


@pytest.mark.parametrize("style", ["missing_required", "wrong_type"])
def test_violating_instance_breaks_validation(style: Literal["missing_required", "wrong_type"]) -> None:
    schema = Profile.model_json_schema(by_alias=True)
    good = schema_instance(schema, seed=2)
    bad = violating_instance(schema, good, style)
    with pytest.raises(ValidationError):
        Profile.model_validate(bad)
    Profile.model_validate(good)  # the original is untouched
    if style == "missing_required":
        assert set(good) - set(bad) == {"fullName"}


def test_violating_instance_without_required_properties_changes_a_type() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert violating_instance(schema, {"n": 3}) == {"n": "not a number"}
    assert violating_instance({"type": "string"}, "text") == 42
