"""Reads Avro schema JSON into an :class:`~eventscope.schemas.avro.model.AvroSchema`.

The rules are the Avro specification's as the Java library (which Confluent Schema
Registry runs) applies them: names are resolved against the enclosing namespace,
a named type may be used before or after its definition and by itself (recursion),
unions may not nest or repeat a type, and defaults must fit their field's type.
Every error names where it is — ``line L, column C`` for text that is not JSON, a
JSON path such as ``$.fields[2].type`` for JSON that is not a valid schema — because
an error without a location is a scavenger hunt in a 300-line schema.

Defaults are checked by fastavro (``fastavro.schema.parse_schema``) one field at a
time, so its verdict is used while the location stays ours; verdicts are remembered per
(type, default) shape, because a long history repeats a few shapes thousands of times.
For the same reason simple types (bare primitives, and unions, arrays and maps of them)
are one shared node per parse: a 1,000-field schema is mostly ``["null", "string"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fastavro.schema import SchemaParseException
from fastavro.schema import parse_schema as fastavro_parse

from eventscope.schemas.avro.model import (
    NO_DEFAULT,
    NO_PROPS,
    PRIMITIVES,
    AvroSchema,
    AvroType,
    Field,
    type_to_json,
)
from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.nesting import check_text_nesting, check_value_nesting

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FULL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_REFERENCE = "<reference>"
_ORDERS = frozenset({"ascending", "descending", "ignore"})
_RESERVED = {
    "record": frozenset({"type", "name", "namespace", "aliases", "fields"}),
    "error": frozenset({"type", "name", "namespace", "aliases", "fields"}),
    "enum": frozenset({"type", "name", "namespace", "aliases", "symbols", "default"}),
    "fixed": frozenset({"type", "name", "namespace", "aliases", "size"}),
    "array": frozenset({"type", "items"}),
    "map": frozenset({"type", "values"}),
    "primitive": frozenset({"type"}),
}
_FIELD_RESERVED = frozenset({"name", "type", "aliases", "default"})


def parse_avro(schema: Any, references: Mapping[str, str] | None = None) -> AvroSchema:
    """Parse ``schema`` (text or parsed JSON) with ``references`` as extra named types."""
    parser = _Parser()
    for ref_name, text in (references or {}).items():
        source = f"reference {ref_name!r}"
        parser.add_document(load_json(text, source), source)
    root = parser.add_document(load_json(schema, None), None)
    return parser.finish(root)


def load_json(schema: Any, source: str | None) -> Any:
    """JSON text → JSON value; a bare type name (``string``, ``com.acme.Order``) is one too."""
    if not isinstance(schema, str | bytes | bytearray):
        check_value_nesting(schema, source)
        return schema
    text = schema.decode() if isinstance(schema, bytes | bytearray) else schema
    if _FULL_NAME.fullmatch(text.strip()):
        return text.strip()  # "null" is the Avro type here, not JSON's null
    check_text_nesting(text, source)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaParseError(
            f"not valid JSON: {exc.msg}",
            location=f"line {exc.lineno}, column {exc.colno}",
            source=source,
        ) from None


@dataclass(frozen=True)
class _Where:
    """Where a node came from, for errors raised after the whole schema is read."""

    path: str
    source: str | None

    def error(self, reason: str, suffix: str = "") -> SchemaParseError:
        return SchemaParseError(reason, location=self.path + suffix, source=self.source)


class _Parser:
    """One registry of named types shared by the references and the schema itself."""

    def __init__(self) -> None:
        self.named: dict[str, AvroType] = {}
        #: Simple types shared within this parse (see _share), by a hashable key that
        #: determines their JSON exactly, and that key by id(node) (see _default_problem).
        self._shared: dict[Any, AvroType] = {}
        self._shared_props: dict[tuple[tuple[str, type, Any], ...], Mapping[str, Any]] = {}
        self._json_keys: dict[int, Any] = {}
        self._source: str | None = None
        self._pending: dict[int, tuple[tuple[str, ...], _Where]] = {}
        self._unions: dict[int, _Where] = {}
        self._defaults: list[tuple[Field, str, str | None]] = []

    # -- reading -------------------------------------------------------------------

    def add_document(self, value: Any, source: str | None) -> AvroType:
        self._source = source
        return self._type(value, "$", "")

    def _where(self, path: str) -> _Where:
        return _Where(path, self._source)

    def _fail(self, reason: str, path: str) -> SchemaParseError:
        return self._where(path).error(reason)

    def _type(self, value: Any, path: str, namespace: str) -> AvroType:
        # Exact JSON types first: the ABC checks below cost more than the rest of a field.
        kind = type(value)
        if kind is str:
            return self._name_use(value, path, namespace)
        if kind is dict:
            return self._object(value, path, namespace)
        if kind is list:
            return self._union(value, path, namespace)
        if isinstance(value, str):
            return self._name_use(value, path, namespace)
        if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
            return self._union(value, path, namespace)
        if isinstance(value, Mapping):
            return self._object(value, path, namespace)
        raise self._fail(
            f"a schema must be a type name, an object or a union array, not {value!r}", path
        )

    def _name_use(self, name: str, path: str, namespace: str) -> AvroType:
        if name in PRIMITIVES:
            shared = self._shared.get(name)
            return shared if shared is not None else self._share(name, AvroType(kind=name))
        candidates = (name,) if "." in name or not namespace else (f"{namespace}.{name}", name)
        defined = self.named.get(candidates[0])
        if defined is not None:
            return defined  # the preferred reading is taken: no later definition can win
        if not _FULL_NAME.fullmatch(name):
            raise self._fail(f"{name!r} is neither a primitive type nor a valid type name", path)
        placeholder = AvroType(kind=_REFERENCE, name=candidates[0])
        self._pending[id(placeholder)] = (candidates, self._where(path))
        return placeholder

    def _union(self, value: Sequence[Any], path: str, namespace: str) -> AvroType:
        try:  # ["null", "string"], the usual optional field, was most likely seen before
            shared = self._shared.get(("union", *value))
        except TypeError:  # an object among the branches: not hashable, not simple
            shared = None
        if shared is not None:
            return shared
        branches = []
        for i, item in enumerate(value):
            branch = self._type(item, f"{path}[{i}]", namespace)
            if branch.kind == "union":
                raise self._fail("a union may not directly contain another union", f"{path}[{i}]")
            branches.append(branch)
        keys = [self._json_keys.get(id(b)) for b in branches]
        key = None if None in keys else ("union", *keys)
        shared = self._shared.get(key)
        if shared is not None:
            return shared
        node = AvroType(kind="union", branches=tuple(branches))
        if any(b.kind == _REFERENCE for b in branches):
            self._unions[id(node)] = self._where(path)  # checked once names are resolved
        elif len({b.name or b.kind for b in branches}) != len(branches):
            self._check_union(node, self._where(path))
        return node if key is None else self._share(key, node)

    def _share(self, key: Any, node: AvroType) -> AvroType:
        """One node per parse for each simple type ``key`` stands for.

        Bare primitives and unions, arrays and maps built only of them
        (``["null", "string"]``, ``{"type": "map", "values": "string"}``) hold nothing
        of their own and cannot recurse, and optional fields repeat them in every
        version of a schema: sharing them keeps a long history small and lets the
        checker fingerprint each once.  (It memoises only pairs with a named type by
        identity, so a problem in a shared type is still reported at each field.)
        """
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = node
            self._json_keys[id(node)] = key
        return shared

    def _object(self, value: Mapping[str, Any], path: str, namespace: str) -> AvroType:
        kind = value.get("type")
        if not isinstance(kind, str):
            reason = "missing 'type'" if kind is None else "'type' must be a string here"
            raise self._fail(reason, path if kind is None else f"{path}.type")
        if kind in PRIMITIVES:
            if len(value) == 1:
                return self._name_use(kind, path, namespace)
            return AvroType(
                kind=kind, logical_type=_logical(value), props=_props(value, _RESERVED["primitive"])
            )
        if kind in ("record", "error"):
            return self._record(value, path, namespace)
        if kind == "enum":
            return self._enum(value, path, namespace)
        if kind == "fixed":
            return self._fixed(value, path, namespace)
        if kind in ("array", "map"):
            key = "items" if kind == "array" else "values"
            if key not in value:
                raise self._fail(f"an {kind} needs '{key}'", path)
            element = self._type(value[key], f"{path}.{key}", namespace)
            element_key = self._json_keys.get(id(element))
            simple = None if element_key is None or len(value) != 2 else (kind, element_key)
            shared = self._shared.get(simple)
            if shared is not None:
                return shared
            node = AvroType(
                kind=kind,
                element=element,
                logical_type=_logical(value),
                props=_props(value, _RESERVED[kind]),
            )
            return node if simple is None else self._share(simple, node)
        # {"type": "com.acme.Currency"}: a use of a named type, which the registry accepts.
        return self._name_use(kind, f"{path}.type", namespace)

    def _declare(self, value: Mapping[str, Any], path: str, namespace: str, kind: str) -> AvroType:
        """Create and register a named type before its body, so the body may recurse."""
        name = value.get("name")
        if not isinstance(name, str):
            raise self._fail(f"a {kind} needs a string 'name'", path)
        space = value.get("namespace", namespace)
        if space is None:
            space = ""
        if not isinstance(space, str) or (space and not _FULL_NAME.fullmatch(space)):
            raise self._fail(f"invalid namespace {space!r}", f"{path}.namespace")
        full = name if "." in name or not space else f"{space}.{name}"
        if not _FULL_NAME.fullmatch(full):
            raise self._fail(f"invalid name {name!r}", f"{path}.name")
        if full in PRIMITIVES:
            raise self._fail(f"a named type may not be called {full!r}", f"{path}.name")
        if full in self.named:
            raise self._fail(f"redefinition of named type {full!r}", f"{path}.name")
        node = AvroType(
            kind="record" if kind == "error" else kind,
            name=full,
            aliases=frozenset(self._aliases(value, path, full.rpartition(".")[0])),
            logical_type=_logical(value),
            props=_props(value, _RESERVED[kind]),
        )
        self.named[full] = node
        return node

    def _aliases(self, value: Mapping[str, Any], path: str, space: str) -> list[str]:
        aliases = value.get("aliases", [])
        if not aliases and isinstance(aliases, list):
            return []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise self._fail("'aliases' must be a list of strings", f"{path}.aliases")
        full = [a if "." in a or not space else f"{space}.{a}" for a in aliases]
        for i, alias in enumerate(full):
            if not _FULL_NAME.fullmatch(alias):
                raise self._fail(f"invalid alias {alias!r}", f"{path}.aliases[{i}]")
        return full

    def _record(self, value: Mapping[str, Any], path: str, namespace: str) -> AvroType:
        node = self._declare(value, path, namespace, value["type"])
        fields = value.get("fields")
        if not isinstance(fields, list):
            raise self._fail("a record needs a 'fields' list", f"{path}.fields")
        space = node.namespace
        parsed = tuple(
            [self._field(raw, f"{path}.fields[{i}]", space) for i, raw in enumerate(fields)]
        )
        if len({field.name for field in parsed}) != len(parsed):
            seen: set[str] = set()
            for i, field in enumerate(parsed):
                if field.name in seen:
                    raise self._fail(
                        f"duplicate field name {field.name!r}", f"{path}.fields[{i}].name"
                    )
                seen.add(field.name)
        node.fields = parsed
        return node

    def _field(self, raw: Any, path: str, namespace: str) -> Field:
        if type(raw) is not dict and not isinstance(raw, Mapping):
            raise self._fail("a field must be an object", path)
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise self._fail(f"invalid field name {name!r}", f"{path}.name")
        if "type" not in raw:
            raise self._fail(f"field {name!r} has no 'type'", path)
        aliases = raw.get("aliases", ())
        if aliases and (
            not isinstance(aliases, list)
            or not all(isinstance(a, str) and _NAME.fullmatch(a) for a in aliases)
        ):
            raise self._fail("'aliases' must be a list of field names", f"{path}.aliases")
        if "order" in raw and raw["order"] not in _ORDERS:
            raise self._fail(f"'order' must be one of {sorted(_ORDERS)}", f"{path}.order")
        field = Field(
            name,
            self._type(raw["type"], f"{path}.type", namespace),
            tuple(aliases),
            raw.get("default", NO_DEFAULT),
            self._props(raw, _FIELD_RESERVED),
        )
        if field.default is not NO_DEFAULT:
            json_key = self._json_keys.get(id(field.type))
            if json_key is None:  # may name types defined later: checked in finish()
                self._defaults.append((field, path, self._source))
            else:
                self._check_default(field, json_key, path, self._source)
        return field

    def _enum(self, value: Mapping[str, Any], path: str, namespace: str) -> AvroType:
        node = self._declare(value, path, namespace, "enum")
        symbols = value.get("symbols")
        if not isinstance(symbols, list):
            raise self._fail("an enum needs a 'symbols' list", f"{path}.symbols")
        seen: set[str] = set()  # a set, not symbols[:i]: 400,000 symbols stay linear
        for i, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.fullmatch(symbol):
                raise self._fail(f"invalid enum symbol {symbol!r}", f"{path}.symbols[{i}]")
            if symbol in seen:
                raise self._fail(f"duplicate enum symbol {symbol!r}", f"{path}.symbols[{i}]")
            seen.add(symbol)
        node.symbols = tuple(symbols)
        default = value.get("default")
        if default is not None and default not in node.symbols:
            raise self._fail(
                f"enum default {default!r} is not one of its symbols", f"{path}.default"
            )
        node.enum_default = default
        return node

    def _fixed(self, value: Mapping[str, Any], path: str, namespace: str) -> AvroType:
        node = self._declare(value, path, namespace, "fixed")
        size = value.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise self._fail("a fixed needs a non-negative integer 'size'", f"{path}.size")
        node.size = size
        return node

    # -- after reading: resolve names, then check what needs the whole picture ------

    def finish(self, root: AvroType) -> AvroSchema:
        root = self._target(root)
        if self._pending:
            self._resolve_trees([root, *self.named.values()])
        for field, path, source in self._defaults:
            self._check_default(field, None, path, source)
        return AvroSchema(root=root, named=dict(self.named))

    def _target(self, node: AvroType) -> AvroType:
        if node.kind != _REFERENCE:
            return node
        candidates, where = self._pending[id(node)]
        for name in candidates:
            if name in self.named:
                return self.named[name]
        raise where.error(f"unknown type {candidates[0]!r}")

    def _resolve_trees(self, roots: list[AvroType]) -> None:
        """Swap every name use for the type it names (iteratively: schemas can be deep).

        Only needed when some name was used before its definition; one walk from all
        roots visits each node once.
        """
        stack = list(roots)
        seen = {id(node) for node in stack}
        while stack:
            node = stack.pop()
            children: list[AvroType] = []
            if node.fields:
                for field in node.fields:
                    if field.type.kind == _REFERENCE:
                        field.type = self._target(field.type)
                    children.append(field.type)
            elif node.element is not None:
                if node.element.kind == _REFERENCE:
                    node.element = self._target(node.element)
                children.append(node.element)
            elif node.branches:
                if id(node) in self._unions:
                    node.branches = tuple(self._target(b) for b in node.branches)
                    self._check_union(node, self._unions[id(node)])
                children = node.branches
            for child in children:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)

    def _props(self, value: Mapping[str, Any], reserved: frozenset[str]) -> Mapping[str, Any]:
        """A field's extra attributes (``doc``, ``order``, ...), shared when they repeat.

        Generated and long-lived schemas repeat the same few (``{"doc": ""}``) on most
        fields; one read-only mapping per distinct set keeps a history small.
        """
        props = _props(value, reserved)
        if props is NO_PROPS:
            return props
        try:  # the value's type is part of the key: True == 1 == 1.0 in Python
            key = tuple((k, type(v), v) for k, v in props.items())
            shared = self._shared_props.get(key)
        except TypeError:  # a list or object value: kept as it is
            return props
        if shared is None:
            shared = self._shared_props[key] = MappingProxyType(props)
        return shared

    def _check_union(self, node: AvroType, where: _Where) -> None:
        keys: set[str] = set()
        for i, branch in enumerate(node.branches):
            key = branch.name or branch.kind
            if key in keys:
                raise where.error(f"the union already has a {key!r}", f"[{i}]")
            keys.add(key)

    def _check_default(self, field: Field, json_key: Any, path: str, source: str | None) -> None:
        problem = _default_problem(field.type, json_key, field.default)
        if problem is not None:
            raise _Where(path, source).error(
                f"default {field.default!r} of field {field.name!r} does not fit its type "
                f"({problem})",
                ".default",
            )


#: fastavro's verdict per (type, default): a schema's history repeats the same few
#: optional-field shapes (``["null", "string"]`` with ``null``) thousands of times.
#: Emptied when full.
_DEFAULT_VERDICTS: dict[tuple[Any, Any], str | None] = {}
_DEFAULT_VERDICTS_LIMIT = 4096


def clear_default_verdicts() -> None:
    _DEFAULT_VERDICTS.clear()


def _default_problem(node: AvroType, json_key: Any, default: Any) -> str | None:
    """fastavro's objection to ``default`` for a field of type ``node``, or ``None``.

    ``json_key`` stands for a simple type's JSON (``("union", "null", "string")``)
    without serialising it; other types are keyed by their JSON text.
    """
    try:
        type_key = json_key or json.dumps(type_to_json(node, set()))
        if default is None or type(default) in (bool, int, float, str):
            key = (type_key, (type(default), default))
        else:
            key = (type_key, json.dumps(default))
    except (TypeError, ValueError):  # parsed-JSON input holding values JSON cannot hold
        return _probe(type_to_json(node, set()), default)
    if key in _DEFAULT_VERDICTS:
        return _DEFAULT_VERDICTS[key]
    if len(_DEFAULT_VERDICTS) >= _DEFAULT_VERDICTS_LIMIT:
        _DEFAULT_VERDICTS.clear()
    problem = _DEFAULT_VERDICTS[key] = _probe(type_to_json(node, set()), default)
    return problem


def _probe(type_json: Any, default: Any) -> str | None:
    probe = {
        "type": "record",
        "name": "eventscope_default_probe",
        "fields": [{"name": "value", "type": type_json, "default": default}],
    }
    try:
        fastavro_parse(probe, named_schemas={})
    except SchemaParseException as exc:
        return str(exc)
    return None


def _logical(value: Mapping[str, Any]) -> str | None:
    logical = value.get("logicalType")
    return logical if isinstance(logical, str) else None


def _props(value: Mapping[str, Any], reserved: frozenset[str]) -> Mapping[str, Any]:
    if value.keys() <= reserved:
        return NO_PROPS
    return {k: v for k, v in value.items() if k not in reserved and k != "logicalType"} or NO_PROPS
