"""Structured output: a typed model becomes a forced tool, and the model's answer becomes a validated object."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    # Some Bedrock models (Nova among them) handle plain nested schemas better than $ref/$defs.
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            merged = {**defs[ref.removeprefix("#/$defs/")], **{k: v for k, v in node.items() if k != "$ref"}}
            return _inline_refs(merged, defs)
        return {key: _inline_refs(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    return node


def tool_spec(model: type[BaseModel]) -> dict[str, Any]:
    """The Converse ``toolSpec`` whose input schema is generated from ``model`` (by alias, refs inlined)."""
    schema = model.model_json_schema(by_alias=True)
    description = (model.__doc__ or f"Return a {model.__name__}.").strip().splitlines()[0]
    return {
        "name": f"emit_{re.sub(r'(?<!^)(?=[A-Z])', '_', model.__name__).lower()}",
        "description": description,
        "inputSchema": {"json": _inline_refs(schema, schema.get("$defs", {}))},
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
