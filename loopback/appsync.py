"""AppSync, offline: executes ``schema.graphql`` with graphql-core and resolves each field the way an AppSync
direct Lambda resolver does, by building the resolver event and calling the real handler.

No PyPI package emulates AppSync; this covers what the project depends on: the event's shape (arguments,
identity, source, request, info with the selection set, prev, stash), the handler's return value as the
field's value, and an exception becoming a GraphQL error with ``errorType: "Lambda:Unhandled"``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    SelectionSetNode,
    build_schema,
    get_named_type,
    graphql_sync,
    print_ast,
)

from .context import LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]

# A Cognito user pool caller, as AppSync passes it (REFERENCE.md §4). Fake ids only.
DEMO_IDENTITY: dict[str, Any] = {
    "sub": "7d3f2a9c-5b1e-4c8a-9f00-2b6d1e4a7c11",
    "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EXAMPLE",
    "username": "demo-user",
    "claims": {"sub": "7d3f2a9c-5b1e-4c8a-9f00-2b6d1e4a7c11", "token_use": "access"},
    "sourceIp": ["127.0.0.1"],
    "defaultAuthStrategy": "ALLOW",
    "groups": None,
}


def _selection_paths(selection_set: SelectionSetNode | None, prefix: str = "") -> list[str]:
    paths: list[str] = []
    for selection in selection_set.selections if selection_set else []:
        if isinstance(selection, FieldNode) and not selection.name.value.startswith("__"):
            path = prefix + selection.name.value
            paths.append(path)
            paths.extend(_selection_paths(selection.selection_set, path + "/"))
    return paths


def resolver_event(
    info: GraphQLResolveInfo[Any], arguments: Mapping[str, Any], identity: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The event AppSync sends a direct Lambda resolver (no mapping templates) for this field."""
    node = info.field_nodes[0]
    return {
        "arguments": dict(arguments),
        "identity": dict(identity) if identity is not None else None,
        "source": None,
        "request": {
            "headers": {"content-type": "application/json", "x-amzn-requestid": str(uuid.uuid4())},
            "domainName": None,
        },
        "info": {
            "fieldName": info.field_name,
            "parentTypeName": info.parent_type.name,
            # graphql-core 3.3 keeps the coerced values apart from their sources.
            "variables": dict(info.variable_values.coerced),
            "selectionSetList": _selection_paths(node.selection_set),
            "selectionSetGraphQL": print_ast(node.selection_set) if node.selection_set else "",
        },
        "prev": None,
        "stash": {},
    }


def _selection(output_type: GraphQLOutputType) -> str:
    named = get_named_type(output_type)
    if not isinstance(named, GraphQLObjectType):
        return ""
    return "{ " + " ".join(f"{name} {_selection(field.type)}".strip() for name, field in named.fields.items()) + " }"


def query_for(schema: GraphQLSchema, field_name: str, arguments: Mapping[str, Any]) -> str:
    """A query document selecting every field of ``field_name``'s result, with ``arguments`` as variables."""
    query = schema.query_type
    assert query is not None
    gql_field = query.fields[field_name]
    names = [name for name in gql_field.args if name in arguments]
    declared = ", ".join(f"${name}: {gql_field.args[name].type}" for name in names)
    passed = ", ".join(f"{name}: ${name}" for name in names)
    header = f"query Run{field_name[0].upper()}{field_name[1:]}" + (f"({declared})" if names else "")
    return f"{header} {{ {field_name}" + (f"({passed})" if names else "") + f" {_selection(gql_field.type)} }}"


@dataclass
class AppSyncOffline:
    """The GraphQL API with each ``Query`` field resolved by its Lambda handler, in-process."""

    schema_path: Path
    handlers: Mapping[str, Handler]
    identity: Mapping[str, Any] | None = field(default_factory=lambda: dict(DEMO_IDENTITY))
    events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.schema = build_schema(self.schema_path.read_text(encoding="utf-8"))
        query = self.schema.query_type
        assert query is not None
        unknown = set(self.handlers) - set(query.fields)
        if unknown:
            raise ValueError(f"no such Query fields in the schema: {sorted(unknown)}")
        for name, gql_field in query.fields.items():
            if name in self.handlers:
                gql_field.resolve = self._resolver(self.handlers[name])

    def _resolver(self, handler: Handler) -> Callable[..., Any]:
        def resolve(_source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
            event = resolver_event(info, arguments, self.identity)
            self.events.append(event)
            return handler(event, LambdaContext(function_name=info.field_name))

        return resolve

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a GraphQL document; the answer has AppSync's shape (``data``, and ``errors`` with errorType)."""
        result = graphql_sync(self.schema, query, variable_values=dict(variables or {}))
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [
                {
                    "path": error.path,
                    "data": None,
                    "errorType": "Lambda:Unhandled" if error.original_error is not None else "ValidationError",
                    "errorInfo": None,
                    "locations": [{"line": loc.line, "column": loc.column} for loc in error.locations or []],
                    "message": error.message,
                }
                for error in result.errors
            ]
        return answer
