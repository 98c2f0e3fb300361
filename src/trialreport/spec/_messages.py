"""pydantic's validation errors as messages a person can act on.

Each error's location (``("variables", 3, "codelsit")``) is mapped to the line of the YAML file
and to the entry it names; an unknown key gets the nearest valid key of the model it sits in,
a value outside a fixed set the nearest allowed value.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from trialreport.spec.yamlsource import Location, YamlSource, nearest


def _candidates(annotation: Any) -> list[Any]:
    """The member types of ``X | None`` / ``Annotated[X, ...]``, else ``[annotation]``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _candidates(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [c for a in typing.get_args(annotation) for c in _candidates(a)
                if c is not type(None)]
    return [annotation]


def _model_at(model: type[BaseModel], location: Location) -> type[BaseModel] | None:
    """The model class whose mapping sits at ``location`` inside ``model``'s data."""
    current: Any = model
    for step in location:
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or n: f for n, f in current.model_fields.items()}
            if step not in fields:
                return None
            current = fields[step].annotation
            continue
        container = next((c for c in _candidates(current)
                          if typing.get_origin(c) in (tuple, list, dict)), None)
        if container is None:
            return None
        args = typing.get_args(container)
        current = args[-1] if typing.get_origin(container) is dict else args[0]
    models = [c for c in _candidates(current) if isinstance(c, type)
              and issubclass(c, BaseModel)]
    return models[0] if models else None


def _keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _message(error: dict[str, Any], root: type[BaseModel]) -> tuple[Location, str, Location]:
    """(location of the line, message, entry named) for one pydantic error."""
    loc = tuple(step for step in error["loc"] if step != "[key]")
    kind, given = error["type"], error.get("input")
    shown = repr(given) if not isinstance(given, dict | list) else type(given).__name__
    if kind == "extra_forbidden":
        valid = _keys(_model_at(root, loc[:-1]))
        hint = nearest(loc[-1], valid) or (f" (valid keys: {', '.join(valid)})" if valid else "")
        return loc, f"unknown key {loc[-1]!r}{hint}", loc[:-1]
    if kind == "missing":
        return loc[:-1], f"required key {loc[-1]!r} is missing", loc[:-1]
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        return loc, (f"{shown} is not one of {', '.join(expected)}"
                     f"{nearest(given, expected)}"), loc
    messages = {
        "bool_type": f"must be true or false, not {shown}",
        "string_type": f"must be text, not {shown}",
        "int_type": f"must be a whole number, not {shown}",
        "float_type": f"must be a number, not {shown}",
        "tuple_type": f"must be a list, not {shown}",
        "list_type": f"must be a list, not {shown}",
        "dict_type": f"must be a mapping (key: value), not {shown}",
        "model_type": f"must be a mapping (key: value), not {shown}",
        "model_attributes_type": f"must be a mapping (key: value), not {shown}",
        "string_pattern_mismatch": f"{shown} is not allowed here (expected the form "
                                   f"{error.get('ctx', {}).get('pattern', '')})",
        "string_too_short": "must not be empty",
    }
    if kind in messages:
        return loc, messages[kind], loc
    text = str(error.get("msg", kind))
    return loc, text.removeprefix("Value error, "), loc


def validate_located(model: type[BaseModel], source: YamlSource) -> Any:
    """``model`` built from the source's data, or every problem recorded on ``source``."""
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            at, message, entry = _message(error, model)
            source.add(at, message, entry)
        source.raise_problems()
    raise AssertionError("unreachable")  # pragma: no cover
