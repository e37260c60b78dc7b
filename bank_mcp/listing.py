"""What ``tools/list`` shows of each tool: lean schemas, since an agent pays for every byte of
the listing in its context on every session.

The argument models and the answer models stay as they are (they validate the calls and
the answers); only what is published is trimmed. Arguments keep every constraint (types,
bounds, patterns, enums, required) and their short descriptions, without pydantic's titles,
examples, null defaults, ``anyOf`` with null, or ``$defs`` to follow. Answers are outlined:
each top-level field with its JSON type; the whole shape, field by field, is the REST
answer's schema in ``/openapi.json``.
"""

from typing import Any

_NOISE = frozenset({"title", "examples"})
_DEFS = "#/$defs/"
_NULL = {"type": "null"}


def lean_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The arguments' schema with every constraint and no noise; ``$defs`` inlined."""
    definitions: dict[str, Any] = schema.get("$defs", {})

    def inlined(
        node: dict[str, Any], seen: tuple[str, ...]
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        reference = node.get("$ref")
        if not (isinstance(reference, str) and reference.startswith(_DEFS)):
            return node, seen
        name = reference.removeprefix(_DEFS)
        if name in seen:
            raise ValueError(f"recursive argument schema {name}: it cannot be inlined")
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**definitions[name], **siblings}, (*seen, name)

    def clean(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [clean(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        node, seen = inlined(node, seen)
        lean: dict[str, Any] = {}
        for key, value in node.items():
            if key in _NOISE or (key == "default" and value is None) or key == "$defs":
                continue
            if key == "properties":
                lean[key] = {name: clean(field, seen) for name, field in value.items()}
            else:
                lean[key] = clean(value, seen)
        options = lean.get("anyOf")
        if isinstance(options, list) and _NULL in options:
            # An optional argument is left out, not sent as null: one schema says it plainly.
            rest = [option for option in options if option != _NULL]
            del lean["anyOf"]
            lean = {**rest[0], **lean} if len(rest) == 1 else {"anyOf": rest, **lean}
        return lean

    lean: dict[str, Any] = clean(schema, ())
    return lean


def outline_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Each top-level field of the answer and its JSON type (with null where it may be null),
    and which are always there: what a client checks the structured content against."""
    definitions: dict[str, Any] = schema.get("$defs", {})

    def types(node: dict[str, Any]) -> list[str]:
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith(_DEFS):
            return types(definitions[reference.removeprefix(_DEFS)])
        for combined in ("anyOf", "oneOf"):
            if combined in node:
                found = [kind for option in node[combined] for kind in types(option)]
                return list(dict.fromkeys(found))
        given = node.get("type")
        if isinstance(given, str):
            return [given]
        if isinstance(given, list):
            return [str(kind) for kind in given]
        if "enum" in node:
            return list(dict.fromkeys(_json_type(value) for value in node["enum"]))
        return []

    properties = {}
    for name, field in schema.get("properties", {}).items():
        kinds = types(field)
        properties[name] = {} if not kinds else {"type": kinds[0] if len(kinds) == 1 else kinds}
    outline: dict[str, Any] = {"type": "object", "properties": properties}
    if schema.get("required"):
        outline["required"] = list(schema["required"])
    return outline


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"
