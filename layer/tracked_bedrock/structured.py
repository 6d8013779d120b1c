"""Structured output: a typed model becomes a forced tool, and the model's answer becomes a validated object."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


_SUBSCHEMA_KEYS = ("items", "additionalProperties", "not")
_SUBSCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")


def compact_schema(node: Any, defs: dict[str, Any]) -> Any:
    """The schema the model sees: ``$ref`` inlined (Nova handles plain nested schemas better), ``title`` dropped
    and ``anyOf [T, null]`` reduced to T (fewer input tokens on every call; validation still accepts null)."""
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return compact_schema({**defs[ref.removeprefix("#/$defs/")], **rest}, defs)
    options = node.get("anyOf")
    if isinstance(options, list):
        not_null = [option for option in options if option != {"type": "null"}]
        if len(not_null) == 1 and len(options) == 2:
            rest = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
            return compact_schema({**not_null[0], **rest}, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: compact_schema(sub, defs) for name, sub in value.items()}
        elif key in _SUBSCHEMA_KEYS:
            out[key] = compact_schema(value, defs)
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [compact_schema(sub, defs) for sub in value]
        else:
            out[key] = value
    return out


@lru_cache(maxsize=64)
def tool_spec(model: type[BaseModel]) -> dict[str, Any]:
    """The Converse ``toolSpec`` whose input schema is generated from ``model`` (by alias, refs inlined)."""
    schema = model.model_json_schema(by_alias=True)
    description = (model.__doc__ or f"Return a {model.__name__}.").strip().splitlines()[0]
    return {
        "name": f"emit_{re.sub(r'(?<!^)(?=[A-Z])', '_', model.__name__).lower()}",
        "description": description,
        "inputSchema": {"json": compact_schema(schema, schema.get("$defs", {}))},
    }


def json_from_text(text: str) -> Any:
    """Best effort: the JSON object in a text answer (whole text, a fenced block, or the outermost braces)."""
    candidates = [text, *_FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    return None


def describe_errors(exc: ValidationError) -> list[str]:
    """One line per validation error, naming the field by its path."""
    return [f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()]
