"""JSON Schema → a plausible instance that satisfies it: what the Bedrock stand-in answers to a forced tool.

Covers the subset that tool schemas use in practice (pydantic v2 output included): objects, arrays, strings (length,
``enum``, ``const``, ``pattern``, common ``format`` values), integers and numbers (bounds, exclusive bounds,
``multipleOf``), booleans, null, ``anyOf``/``oneOf`` (first non-null branch), ``allOf`` and local ``$ref``.
Everything is derived from a seed, so the same schema and seed always give the same instance.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Mapping

# re's parser is private but stable; it turns a ``pattern`` into a tree we can walk to build a matching string.
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Final, Literal, Protocol

__all__ = ["SchemaInstanceError", "ViolationStyle", "schema_instance", "seed_from", "violating_instance"]

ViolationStyle = Literal["missing_required", "wrong_type"]

# Deep enough for real tool schemas; recursive schemas fall back to their minimal form long before this.
_MAX_DEPTH: Final = 16
# A recursive $ref may be expanded this many times on one path before only required members are produced.
_MAX_REF_VISITS: Final = 2
_FILLER: Final = ("described", "in", "more", "detail", "with", "a", "clear", "and", "concrete", "example")
_INFERRED_TYPES: Final = (
    ("object", ("properties", "required", "additionalProperties", "minProperties", "maxProperties")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)


class _Handler(Protocol):
    def __call__(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> Any: ...


class SchemaInstanceError(ValueError):
    """The schema cannot be satisfied by this generator (contradictory, unsupported or unresolvable)."""


def seed_from(*parts: Any) -> int:
    """A stable 64-bit seed from JSON-serialisable parts (dict key order does not matter)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(canonical.encode()).digest()[:8], "big")


def schema_instance(schema: Mapping[str, Any] | bool, *, seed: int = 0, name: str = "value") -> Any:
    """Build a JSON value that satisfies ``schema``.

    Args:
        schema: a JSON Schema (draft 2020-12 or draft 7 style; ``$ref`` must point inside the schema).
        seed: the same seed gives the same instance.
        name: what the root value is called; strings read like ``"Sample <name> 1"``.

    Raises:
        SchemaInstanceError: the schema is contradictory (e.g. ``minimum`` above ``maximum``) or uses a ``$ref``
            this generator cannot resolve.
    """
    root = schema if isinstance(schema, Mapping) else {}
    return _Generator(root, seed).value(schema, name=name, depth=0, minimal=False)


def violating_instance(schema: Mapping[str, Any], instance: Any, style: ViolationStyle = "missing_required") -> Any:
    """A copy of ``instance`` that breaks ``schema`` the way a confused model would.

    ``missing_required`` drops the first required property of the root object (falling back to ``wrong_type`` when
    nothing is required); ``wrong_type`` gives the first property (or the root) a value of another JSON type.
    """
    resolved = _Generator(schema, 0).resolve(schema)
    broken = copy.deepcopy(instance)
    if style == "missing_required" and isinstance(broken, dict):
        for key in resolved.get("required", []):
            if key in broken:
                del broken[key]
                return broken
    if isinstance(broken, dict) and broken:
        key = next(iter(broken))
        broken[key] = _other_type(broken[key])
        return broken
    return _other_type(broken)


def _other_type(value: Any) -> Any:
    if isinstance(value, str):
        return 42
    if isinstance(value, bool | int | float):
        return "not a number"
    if isinstance(value, list):
        return "not a list"
    if isinstance(value, dict):
        return "not an object"
    return 0


def _words(name: str) -> str:
    """``jobTitle`` / ``job_title`` / ``job-title`` → ``job title``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    words = re.sub(r"[_\-\s.]+", " ", spaced).strip().lower()
    return words or "value"


def _singular(name: str) -> str:
    if name.endswith("ies") and len(name) > 4:
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss") and len(name) > 3:
        return name[:-1]
    return name


class _Generator:
    """One generation run: the root (for ``$ref``), a seeded RNG and per-name counters."""

    def __init__(self, root: Mapping[str, Any], seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.counters: dict[str, int] = {}
        self.ref_visits: dict[str, int] = {}

    # --- schema plumbing -------------------------------------------------------------------------------------

    def lookup(self, ref: str) -> Mapping[str, Any] | bool:
        if not ref.startswith("#"):
            raise SchemaInstanceError(f"only local $ref is supported, got {ref!r}")
        node: Any = self.root
        for raw in ref.removeprefix("#").strip("/").split("/") if ref != "#" else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaInstanceError(f"unresolvable $ref {ref!r}")
        if not isinstance(node, Mapping | bool):
            raise SchemaInstanceError(f"$ref {ref!r} does not point at a schema")
        return node

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``$ref`` and fold ``allOf`` into one schema (enough to read ``required`` and ``properties``)."""
        seen: set[str] = set()
        while "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen:
                break
            seen.add(ref)
            target = self.lookup(ref)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**(target if isinstance(target, Mapping) else {}), **siblings}
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for sub in schema["allOf"]:
                if isinstance(sub, Mapping):
                    merged = _merge(merged, self.resolve(sub))
            return merged
        return schema

    # --- dispatch --------------------------------------------------------------------------------------------

    def value(self, schema: Mapping[str, Any] | bool, *, name: str, depth: int, minimal: bool) -> Any:
        """An instance of ``schema``; ``minimal`` asks for required members only (used to end recursion)."""
        if schema is False:
            raise SchemaInstanceError(f"{name!r}: the schema `false` admits no value")
        if depth > _MAX_DEPTH:
            raise SchemaInstanceError(f"{name!r}: schema nests deeper than {_MAX_DEPTH} levels")
        if schema is True or not schema:
            schema = {"type": "string"}
        assert isinstance(schema, Mapping)
        # Keywords that decide the value on their own come first, in the order a validator would let them win.
        handlers: tuple[tuple[str, _Handler], ...] = (
            ("$ref", self.ref),
            ("allOf", self.all_of),
            ("const", self.const),
            ("enum", self.enum),
            ("anyOf", self.any_of),
            ("oneOf", self.one_of),
        )
        handler = next((h for key, h in handlers if key in schema), None)
        if handler is None:
            kind = self.kind(schema, minimal=minimal)
            typed: dict[str, _Handler] = {
                "object": self.object,
                "array": self.array,
                "string": self.string,
                "integer": self.integer,
                "number": self.number,
                "boolean": self.boolean,
                "null": self.null,
            }
            if kind not in typed:
                raise SchemaInstanceError(f"{name!r}: unknown type {kind!r}")
            handler = typed[kind]
        return handler(schema, name=name, depth=depth, minimal=minimal)

    def kind(self, schema: Mapping[str, Any], *, minimal: bool) -> str:
        """The JSON type to produce: the declared one (first non-null of a list) or one inferred from keywords."""
        declared = schema.get("type")
        if isinstance(declared, list):
            if not declared:
                raise SchemaInstanceError("empty type list")
            declared = "null" if minimal and "null" in declared else next((t for t in declared if t != "null"), "null")
        if isinstance(declared, str):
            return declared
        # No type: infer it from the keywords present, as a validator would apply them.
        return next((kind for kind, keys in _INFERRED_TYPES if any(k in schema for k in keys)), "string")

    def all_of(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> Any:
        return self.value(self.resolve(schema), name=name, depth=depth + 1, minimal=minimal)

    def const(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> Any:
        return copy.deepcopy(schema["const"])

    def enum(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> Any:
        choices = [choice for choice in schema["enum"] if choice is not None] or list(schema["enum"])
        if not choices:
            raise SchemaInstanceError(f"{name!r}: empty enum")
        return copy.deepcopy(self.rng.choice(choices))

    def any_of(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> Any:
        return self.branch(schema, "anyOf", name=name, depth=depth, minimal=minimal)

    def one_of(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> Any:
        return self.branch(schema, "oneOf", name=name, depth=depth, minimal=minimal)

    def boolean(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> bool:
        return self.rng.random() < 0.5

    def null(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> None:
        return None

    def ref(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> Any:
        ref = schema["$ref"]
        target = self.lookup(ref)
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        merged: Mapping[str, Any] | bool = {**target, **siblings} if isinstance(target, Mapping) else target
        visits = self.ref_visits.get(ref, 0)
        self.ref_visits[ref] = visits + 1
        try:
            # Recursive models (a node with child nodes) stop growing once the same $ref repeats on the path.
            return self.value(merged, name=name, depth=depth + 1, minimal=minimal or visits >= _MAX_REF_VISITS)
        finally:
            self.ref_visits[ref] = visits

    def branch(self, schema: Mapping[str, Any], key: str, *, name: str, depth: int, minimal: bool) -> Any:
        branches = [b for b in schema[key] if b is not False]
        if not branches:
            raise SchemaInstanceError(f"{name!r}: {key} has no satisfiable branch")
        rest = {k: v for k, v in schema.items() if k != key}

        def is_null(branch: Any) -> bool:
            return isinstance(branch, Mapping) and (branch.get("type") == "null" or branch.get("const", 0) is None)

        nulls = [b for b in branches if is_null(b)]
        if minimal and nulls:
            return None
        chosen = next((b for b in branches if not is_null(b)), branches[0])
        merged = _merge(rest, chosen) if isinstance(chosen, Mapping) else chosen
        return self.value(merged, name=name, depth=depth + 1, minimal=minimal)

    # --- structures ------------------------------------------------------------------------------------------

    def object(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> dict[str, Any]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        required: list[str] = list(dict.fromkeys(schema.get("required", [])))
        optional = [key for key in properties if key not in required]
        keys = required if minimal else [*required, *optional]
        max_props = schema.get("maxProperties")
        if max_props is not None:
            if len(required) > max_props:
                raise SchemaInstanceError(f"{name!r}: more required properties than maxProperties")
            keys = keys[:max_props]
        # Keep the schema's own order, which is how a model would write the object.
        order = {key: index for index, key in enumerate(dict.fromkeys([*properties, *required]))}
        keys.sort(key=order.__getitem__)
        result = {
            key: self.value(properties.get(key, True), name=key, depth=depth + 1, minimal=minimal) for key in keys
        }

        extra_schema = schema.get("additionalProperties", True)
        min_props = schema.get("minProperties", 0)
        spare = [key for key in optional if key not in result]
        while len(result) < min_props and spare:
            key = spare.pop(0)
            result[key] = self.value(properties[key], name=key, depth=depth + 1, minimal=minimal)
        # A free-form mapping (``dict[str, X]``) reads better with one entry than empty.
        wanted_extra = max(min_props - len(result), 0)
        if not properties and isinstance(extra_schema, Mapping) and not minimal and "propertyNames" not in schema:
            wanted_extra = max(wanted_extra, 1 if max_props is None or max_props > len(result) else 0)
        if wanted_extra and extra_schema is False:
            raise SchemaInstanceError(f"{name!r}: minProperties cannot be met without additional properties")
        for index in range(1, wanted_extra + 1):
            key = f"{_singular(name)}_{index}"
            result[key] = self.value(extra_schema, name=key, depth=depth + 1, minimal=minimal)
        return result

    def array(self, schema: Mapping[str, Any], *, name: str, depth: int, minimal: bool) -> list[Any]:
        prefix = schema.get("prefixItems")
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 7 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        prefix = list(prefix or [])
        low = schema.get("minItems", 0)
        high = schema.get("maxItems", math.inf)
        if items is False:
            high = min(high, len(prefix))
        if low > high:
            raise SchemaInstanceError(f"{name!r}: needs {low} items but at most {high} are allowed")
        count = low if minimal else min(max(self.rng.randint(1, 3), low, min(len(prefix), high)), high)
        unique = bool(schema.get("uniqueItems"))
        item_name = _singular(name)
        result: list[Any] = []
        seen: set[str] = set()
        index = 0
        attempts = 0
        while len(result) < count:
            item_schema = prefix[index] if index < len(prefix) else items
            item = self.value(item_schema, name=item_name, depth=depth + 1, minimal=minimal)
            key = json.dumps(item, sort_keys=True)
            if unique and key in seen:
                attempts += 1
                if attempts < 20:
                    continue
                if len(result) >= low:
                    break  # e.g. a two-value enum cannot fill three unique slots; fewer is still valid
                raise SchemaInstanceError(f"{name!r}: cannot produce {low} unique items")
            seen.add(key)
            result.append(item)
            index += 1
        return result

    # --- scalars ---------------------------------------------------------------------------------------------

    def next_number(self, name: str) -> int:
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    def string(self, schema: Mapping[str, Any], *, name: str, depth: int = 0, minimal: bool = False) -> str:
        low: int = schema.get("minLength", 0)
        high: float = schema.get("maxLength", math.inf)
        if low > high:
            raise SchemaInstanceError(f"{name!r}: minLength {low} > maxLength {high}")
        number = self.next_number(name)
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            matched = self.from_pattern(pattern, low, high)
            if matched is not None:
                return matched
        formatted = self.formatted(schema.get("format"), name, number)
        if formatted is not None and low <= len(formatted) <= high:
            return formatted
        words = _words(name)
        # Shorter forms keep the distinguishing number when maxLength is tight.
        forms = (
            [formatted] if formatted else [f"Sample {words} {number}", f"{words.capitalize()} {number}", str(number)]
        )
        text = next((form for form in forms if len(form) <= high), forms[-1])
        return _fit(text, low, high)

    def formatted(self, fmt: Any, name: str, number: int) -> str | None:
        """A value for a ``format`` that validators check (None for unknown formats: any string will do)."""
        slug = re.sub(r"[^a-z0-9]+", "-", _words(name)).strip("-") or "item"
        day = dt.date(2024, 1, 1) + dt.timedelta(days=self.rng.randint(0, 730))
        hour = 9 + number % 8
        makers: dict[str, Callable[[], str]] = {
            "date": day.isoformat,
            "date-time": lambda: f"{day.isoformat()}T{hour:02d}:30:00Z",
            "time": lambda: f"{hour:02d}:30:00Z",
            "duration": lambda: f"P{self.rng.randint(1, 30)}D",
            "email": lambda: f"{slug.replace('-', '.')}{number}@example.com",
            "uri": lambda: f"https://example.com/{slug}/{number}",
            "hostname": lambda: f"{slug}-{number}.example.com",
            "ipv4": lambda: f"192.0.2.{number % 254 + 1}",
            "ipv6": lambda: f"2001:db8::{number:x}",
            "uuid": lambda: str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "byte": lambda: "U2FtcGxlIGRhdGE=",
            "json-pointer": lambda: f"/{slug}/{number}",
            "regex": lambda: f"^{slug}$",
        }
        aliases = {"idn-email": "email", "url": "uri", "iri": "uri", "uri-reference": "uri", "iri-reference": "uri"}
        aliases |= {"idn-hostname": "hostname", "base64": "byte"}
        maker = makers.get(aliases.get(fmt, fmt)) if isinstance(fmt, str) else None
        return maker() if maker else None

    def from_pattern(self, pattern: str, low: int, high: float) -> str | None:
        try:
            compiled = re.compile(pattern)
            tree = sre_parse.parse(pattern)
        except (re.error, RecursionError):
            return None
        for _ in range(12):
            try:
                candidate = _RegexWriter(self.rng).write(tree.data)
            except _Unsupported:
                return None
            if compiled.search(candidate) and low <= len(candidate) <= high:
                return candidate
        return None

    def integer(self, schema: Mapping[str, Any], *, name: str, depth: int = 0, minimal: bool = False) -> int:
        low, high = _bounds(schema)
        # Exclusive and fractional bounds narrow to the integers inside them.
        lo = None if low is None else (math.floor(low[0]) + 1 if low[1] or low[0] != int(low[0]) else int(low[0]))
        hi = None if high is None else (math.ceil(high[0]) - 1 if high[1] or high[0] != int(high[0]) else int(high[0]))
        if lo is not None and hi is not None and lo > hi:
            raise SchemaInstanceError(f"{name!r}: no integer between {lo} and {hi}")
        a, b = _window(lo, hi, width=9, default_low=1)
        step = schema.get("multipleOf", 1)
        if step == 1:
            return self.rng.randint(int(a), int(b))
        inclusive = (None if lo is None else (lo, False), None if hi is None else (hi, False))
        return int(self.multiple_in(step, a, b, *inclusive, name=name))

    def number(self, schema: Mapping[str, Any], *, name: str, depth: int = 0, minimal: bool = False) -> float:
        low, high = _bounds(schema)
        if low is not None and high is not None and (low[0] > high[0] or (low[0] == high[0] and (low[1] or high[1]))):
            raise SchemaInstanceError(f"{name!r}: no number between {low[0]} and {high[0]}")
        step = schema.get("multipleOf")
        if step is not None:
            a, b = _window(
                None if low is None else low[0],
                None if high is None else high[0],
                width=max(10 * step, 10),
                default_low=step,
            )
            # Floating multiples carry noise (7 * 0.01 = 0.07000000000000001); validators allow a tolerance.
            return round(self.multiple_in(step, a, b, low, high, name=name), 10)
        if low is not None and high is not None:
            if low[0] == high[0]:
                return low[0]
            raw = low[0] + (high[0] - low[0]) * self.rng.uniform(0.25, 0.75)
        elif low is not None:
            raw = low[0] + self.rng.uniform(0.5, 10)
        elif high is not None:
            raw = high[0] - self.rng.uniform(0.5, 10)
        else:
            raw = self.rng.uniform(1, 100)
        for digits in (2, 4, 8):
            rounded = round(raw, digits)
            if _within(rounded, low, high):
                return rounded
        return raw

    def multiple_in(
        self,
        step: float,
        a: float,
        b: float,
        low: tuple[float, bool] | None,
        high: tuple[float, bool] | None,
        *,
        name: str,
    ) -> float:
        """A multiple of ``step`` inside the bounds, preferably inside the plausible window ``[a, b]``."""
        if step <= 0:
            raise SchemaInstanceError(f"{name!r}: multipleOf must be positive")
        inside = [k * step for k in range(math.ceil(a / step), math.floor(b / step) + 1)]
        # The window may hold no multiple (multipleOf 100 near 1..10): take the nearest ones beside it.
        beside = [math.floor(a / step) * step, math.ceil(b / step) * step]
        for candidates in (inside, beside):
            valid = [c for c in candidates if _within(c, low, high)]
            if valid:
                return self.rng.choice(valid)
        raise SchemaInstanceError(f"{name!r}: no multiple of {step} within the bounds")


def _bounds(schema: Mapping[str, Any]) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """(value, exclusive) for each side; handles both draft 2020 numeric and draft 4 boolean exclusivity."""
    low: tuple[float, bool] | None = None
    high: tuple[float, bool] | None = None
    ex_min, ex_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if "minimum" in schema:
        low = (schema["minimum"], ex_min is True)
    if isinstance(ex_min, int | float) and not isinstance(ex_min, bool) and (low is None or ex_min >= low[0]):
        low = (ex_min, True)
    if "maximum" in schema:
        high = (schema["maximum"], ex_max is True)
    if isinstance(ex_max, int | float) and not isinstance(ex_max, bool) and (high is None or ex_max <= high[0]):
        high = (ex_max, True)
    return low, high


def _within(value: float, low: tuple[float, bool] | None, high: tuple[float, bool] | None) -> bool:
    if low is not None and (value < low[0] or (low[1] and value == low[0])):
        return False
    return not (high is not None and (value > high[0] or (high[1] and value == high[0])))


def _window(lo: float | None, hi: float | None, *, width: float, default_low: float) -> tuple[float, float]:
    """A small range of plausible values inside the bounds (1-10 when unbounded)."""
    if lo is None and hi is None:
        return default_low, default_low + width
    if lo is None:
        assert hi is not None
        return (default_low, default_low + width) if hi >= default_low + width else (hi - width, hi)
    if hi is None:
        return lo, lo + width
    return lo, (min(hi, lo + width) if hi - lo > 100 * width else hi)


def _fit(text: str, low: int, high: float) -> str:
    """Pad with filler words to minLength, cut to maxLength, without a dangling space."""
    filler = iter(_FILLER * (low // 10 + 2))
    while len(text) < low:
        text = f"{text} {next(filler)}"
    if len(text) > high:
        text = text[: int(high)]
        if text.endswith(" "):
            text = text[:-1] + "."
    return text


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Combine two schemas that must both hold (``allOf``), well enough for generation."""
    merged = dict(base)
    for key, value in extra.items():
        if key == "properties" and key in merged:
            merged[key] = {**merged[key], **value}
        elif key == "required" and key in merged:
            merged[key] = list(dict.fromkeys([*merged[key], *value]))
        elif key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties") and key in merged:
            merged[key] = max(merged[key], value)
        elif key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties") and key in merged:
            merged[key] = min(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Unsupported(Exception):
    """A regex construct the writer does not handle (the caller falls back to a plain sample)."""


_CATEGORY_SAMPLES: Final = {
    sre.CATEGORY_DIGIT: "0123456789",
    sre.CATEGORY_NOT_DIGIT: "abcxyz",
    sre.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyz",
    sre.CATEGORY_NOT_WORD: "-. ",
    sre.CATEGORY_SPACE: " ",
    sre.CATEGORY_NOT_SPACE: "abcxyz",
}
_PRINTABLE: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:/@"


class _RegexWriter:
    """Walks a parsed regex and writes one string it matches (verified by the caller)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.groups: dict[int, str] = {}

    def write(self, items: list[tuple[Any, Any]]) -> str:
        return "".join(self.item(op, arg) for op, arg in items)

    def item(self, op: Any, arg: Any) -> str:
        handlers: dict[Any, Callable[[Any], str]] = {
            sre.LITERAL: chr,
            sre.NOT_LITERAL: lambda code: next(c for c in _PRINTABLE if ord(c) != code),
            sre.ANY: lambda _: self.rng.choice("abcxyz"),
            sre.IN: self.char_in,
            sre.MAX_REPEAT: self.repeat,
            sre.MIN_REPEAT: self.repeat,
            sre.POSSESSIVE_REPEAT: self.repeat,
            sre.SUBPATTERN: self.group,
            sre.ATOMIC_GROUP: lambda sub: self.write(sub.data),
            sre.BRANCH: lambda branch: self.write(self.rng.choice(branch[1]).data),
            sre.GROUPREF: lambda group: self.groups.get(group, ""),
            # Anchors, boundaries and lookarounds write nothing: the caller checks the whole string still matches.
            sre.AT: lambda _: "",
            sre.ASSERT: lambda _: "",
            sre.ASSERT_NOT: lambda _: "",
            sre.CATEGORY: lambda category: self.rng.choice(_CATEGORY_SAMPLES.get(category, "a")),
        }
        if op not in handlers:
            raise _Unsupported(str(op))
        return handlers[op](arg)

    def repeat(self, arg: tuple[int, int, Any]) -> str:
        low, high, sub = arg
        high = low + 3 if high == sre.MAXREPEAT else min(high, low + 3)
        count = self.rng.randint(max(low, min(1, high)), high)
        return "".join(self.write(sub.data) for _ in range(count))

    def group(self, arg: tuple[int | None, int, int, Any]) -> str:
        group, _add_flags, _del_flags, sub = arg
        text = self.write(sub.data)
        if group is not None:
            self.groups[group] = text
        return text

    def char_in(self, members: list[tuple[Any, Any]]) -> str:
        if members and members[0][0] == sre.NEGATE:
            rest = members[1:]
            allowed = [c for c in _PRINTABLE if not _in_class(c, rest)]
            if not allowed:
                raise _Unsupported("negated class excludes every sample character")
            return self.rng.choice(allowed)
        options: list[str] = []
        for op, arg in members:
            if op == sre.LITERAL:
                options.append(chr(arg))
            elif op == sre.RANGE:
                lo, hi = arg
                options.append(chr(self.rng.randint(lo, min(hi, lo + 25))))
            elif op == sre.CATEGORY:
                options.append(self.rng.choice(_CATEGORY_SAMPLES.get(arg, "a")))
            else:
                raise _Unsupported(str(op))
        if not options:
            raise _Unsupported("empty class")
        return self.rng.choice(options)


def _in_class(char: str, members: list[tuple[Any, Any]]) -> bool:
    for op, arg in members:
        if op == sre.LITERAL and ord(char) == arg:
            return True
        if op == sre.RANGE and arg[0] <= ord(char) <= arg[1]:
            return True
        if op == sre.CATEGORY:
            probe = {
                sre.CATEGORY_DIGIT: r"\d",
                sre.CATEGORY_NOT_DIGIT: r"\D",
                sre.CATEGORY_WORD: r"\w",
                sre.CATEGORY_NOT_WORD: r"\W",
                sre.CATEGORY_SPACE: r"\s",
                sre.CATEGORY_NOT_SPACE: r"\S",
            }.get(arg)
            if probe and re.fullmatch(probe, char):
                return True
    return False
