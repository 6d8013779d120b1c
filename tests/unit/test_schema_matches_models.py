"""schema.graphql mirrors the pydantic models field for field, so the API and the handlers can never drift.

For each Query field: its arguments are exactly the fields of the operation's ``Arguments`` model, and its result
type exactly the fields of the model ``run`` returns, recursively, by alias, with the same nullability (a required
field is non-null, an optional one nullable and None by default), the same scalars and the same enum values.
"""

import enum
import importlib
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    build_schema,
)
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[2]
SCALARS: dict[type, str] = {str: "String", int: "Int", float: "Float", bool: "Boolean"}


def snake_case(field_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", field_name).lower()


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))


def query_fields() -> list[str]:
    return sorted(build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8")).query_type.fields)  # type: ignore[union-attr]


def split_optional(annotation: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is accepted)."""
    annotation = strip_annotated(annotation)
    if get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        assert len(members) == 1, f"only `X | None` unions map to GraphQL, not {annotation}"
        return strip_annotated(members[0]), len(members) < len(get_args(annotation))
    return annotation, False


def strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


class Mirror:
    """Walks a model and a GraphQL type side by side, remembering the GraphQL types it has seen."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def check_field(
        self, path: str, info: FieldInfo, gql: GraphQLArgument | GraphQLInputField | GraphQLField, is_input: bool
    ) -> None:
        inner, accepts_none = split_optional(info.annotation)
        required = info.is_required()
        gql_type = gql.type
        non_null = isinstance(gql_type, GraphQLNonNull)
        assert required == non_null, f"{path}: required in pydantic is {required}, non-null in GraphQL is {non_null}"
        if not required:
            # Otherwise GraphQL would let a client send null that pydantic refuses, or omit a field whose
            # pydantic default AppSync knows nothing of.
            assert accepts_none, f"{path}: optional in pydantic, so it must accept None (X | None = None)"
            assert info.default is None, f"{path}: an optional field's default must be None, not {info.default!r}"
        else:
            assert not accepts_none, f"{path}: required fields are never None (make it optional, or drop None)"
        if is_input:
            assert getattr(gql, "default_value", Undefined) is Undefined, f"{path}: AppSync ignores schema defaults"
        self.check_type(path, inner, gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type, is_input)

    def check_type(self, path: str, annotation: Any, gql: Any, is_input: bool) -> None:
        annotation = strip_annotated(annotation)
        if get_origin(annotation) is list:
            assert isinstance(gql, GraphQLList), f"{path}: a list in pydantic, {gql} in GraphQL"
            item, item_accepts_none = split_optional(get_args(annotation)[0])
            item_non_null = isinstance(gql.of_type, GraphQLNonNull)
            assert item_non_null != item_accepts_none, f"{path}: list items' nullability differs"
            self.check_type(f"{path}[]", item, gql.of_type.of_type if item_non_null else gql.of_type, is_input)
        elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            assert isinstance(gql, GraphQLEnumType), f"{path}: enum {annotation.__name__} in pydantic, {gql} in GraphQL"
            assert gql.name == annotation.__name__, f"{path}: enum named {gql.name}, model's is {annotation.__name__}"
            assert all(member.name == member.value for member in annotation), f"{annotation.__name__}: name != value"
            assert set(gql.values) == {member.value for member in annotation}, f"{path}: enum values differ"
            self.seen.add(gql.name)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.check_model(path, annotation, gql, is_input)
        else:
            assert annotation in SCALARS, f"{path}: no GraphQL scalar for {annotation}"
            assert isinstance(gql, GraphQLScalarType), f"{path}: {gql} is not a scalar"
            assert gql.name == SCALARS[annotation], f"{path}: {gql.name} in GraphQL, {annotation.__name__} in pydantic"

    def check_model(self, path: str, model: type[BaseModel], gql: Any, is_input: bool) -> None:
        kind = GraphQLInputObjectType if is_input else GraphQLObjectType
        name = f"{model.__name__}Input" if is_input else model.__name__
        assert isinstance(gql, kind), f"{path}: {model.__name__} should be the GraphQL {kind.__name__} {name}"
        assert gql.name == name, f"{path}: GraphQL type {gql.name}, expected {name}"
        self.seen.add(gql.name)
        by_alias = {info.alias or field: info for field, info in model.model_fields.items()}
        assert set(gql.fields) == set(by_alias), (
            f"{gql.name}: only in GraphQL {sorted(set(gql.fields) - set(by_alias))}, "
            f"only in {model.__name__} {sorted(set(by_alias) - set(gql.fields))}"
        )
        for alias, info in by_alias.items():
            self.check_field(f"{gql.name}.{alias}", info, gql.fields[alias], is_input)


def test_schema_has_the_twelve_queries_and_nothing_else(schema: GraphQLSchema) -> None:
    # GIVEN the function folders WHEN compared with the schema's root types THEN one query per function
    functions = {path.parent.name for path in (ROOT / "functions").glob("*/app.py")}
    assert schema.query_type is not None
    assert {snake_case(name) for name in schema.query_type.fields} == functions
    assert len(functions) == 12
    assert schema.mutation_type is None
    assert schema.subscription_type is None


@pytest.mark.parametrize("field_name", query_fields())
def test_query_field_mirrors_its_operation(schema: GraphQLSchema, field_name: str) -> None:
    # GIVEN the operation's handler module and the schema's field
    module = importlib.import_module(f"functions.{snake_case(field_name)}.app")
    assert schema.query_type is not None
    gql_field = schema.query_type.fields[field_name]
    mirror = Mirror()

    # WHEN the arguments are compared with the Arguments model THEN they match one for one
    arguments: type[BaseModel] = module.Arguments
    by_alias = {info.alias or name: info for name, info in arguments.model_fields.items()}
    assert set(gql_field.args) == set(by_alias), f"{field_name}: arguments differ from {arguments.__name__}"
    for alias, info in by_alias.items():
        mirror.check_field(f"{field_name}({alias})", info, gql_field.args[alias], is_input=True)

    # WHEN the result type is compared with what run() returns THEN it matches, and is non-null
    result = typing.get_type_hints(module.run)["return"]
    assert isinstance(gql_field.type, GraphQLNonNull), f"{field_name}: run() always returns a result"
    mirror.check_type(f"{field_name}()", result, gql_field.type.of_type, is_input=False)


def test_every_schema_type_belongs_to_a_model(schema: GraphQLSchema) -> None:
    # GIVEN every query mirrored WHEN the types met are collected THEN the schema declares no other type
    mirror = Mirror()
    assert schema.query_type is not None
    for field_name, gql_field in schema.query_type.fields.items():
        module = importlib.import_module(f"functions.{snake_case(field_name)}.app")
        for alias, info in {i.alias or n: i for n, i in module.Arguments.model_fields.items()}.items():
            mirror.check_field(alias, info, gql_field.args[alias], is_input=True)
        mirror.check_type(
            field_name, typing.get_type_hints(module.run)["return"], gql_field.type.of_type, is_input=False
        )
    declared = {
        name
        for name, gql_type in schema.type_map.items()
        if not name.startswith("__") and not isinstance(gql_type, GraphQLScalarType) and name != "Query"
    }
    assert declared - mirror.seen == set(), "types in schema.graphql that no model mirrors"
