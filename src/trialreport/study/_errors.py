"""Turn pydantic validation errors into messages a person can act on: file, line, key path,
what is wrong and, for an unknown key, the nearest valid one."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from trialreport.study._yaml import LocatedYaml

__all__ = ["StudyDefinitionError", "describe_errors", "key_path", "valid_keys"]


class StudyDefinitionError(ValueError):
    """The study definition is malformed or does not fit the data (every problem, each naming
    the file, line and key)."""

    def __init__(self, problems: Sequence[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        head = "the study definition has 1 problem" if len(self.problems) == 1 else \
            f"the study definition has {len(self.problems)} problems"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


def key_path(loc: Iterable[Any]) -> str:
    """``outputs[3].filter`` from ``("outputs", 3, "filter")``."""
    text = ""
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models an annotation may hold (through Optional, list, dict, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _step(models: list[type[BaseModel]], part: Any) -> list[type[BaseModel]]:
    """The models one ``loc`` step further down."""
    nxt: list[type[BaseModel]] = []
    for model in models:
        field = model.model_fields.get(str(part))
        if field is None:
            continue
        annotation = field.annotation
        origin = typing.get_origin(annotation)
        if origin in (list, dict) or (origin in (typing.Union, types.UnionType) and any(
                typing.get_origin(a) in (list, dict) for a in typing.get_args(annotation))):
            # containers: the next loc part is an index or a key; models are one level down
            nxt += [_Container(m) for m in _models_in(annotation)]  # type: ignore[misc]
        else:
            nxt += _models_in(annotation)
    return nxt


class _Container:
    """Marks a list/dict of models: the next loc part (index or key) is skipped."""

    def __init__(self, model: type[BaseModel]):
        self.model = model


def valid_keys(root: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Keys allowed in the mapping at ``loc`` (the parent of an unknown key)."""
    current: list[Any] = [root]
    for part in loc:
        resolved: list[type[BaseModel]] = []
        for item in current:
            if isinstance(item, _Container):
                resolved.append(item.model)  # this part is the index / key
            else:
                resolved += _step([item], part)
        current = resolved
        if not current:
            return []
    keys: list[str] = []
    for item in current:
        if isinstance(item, _Container):
            continue
        keys += [k for k in item.model_fields if k not in keys]
    return keys


def _where(source: LocatedYaml | None, file: Path | str | None, loc: Sequence[Any]) -> str:
    name = str(file) if file is not None else "study definition"
    line = source.line(tuple(loc)) if source is not None else None
    return f"{name}:{line}" if line is not None else name


def describe_errors(exc: ValidationError, root: type[BaseModel], source: LocatedYaml | None,
                    file: Path | str | None, prefix: Sequence[Any] = ()) -> list[str]:
    """One message per pydantic error: ``file:line: key.path: problem``."""
    messages: list[str] = []
    for err in exc.errors(include_url=False):
        loc = (*prefix, *err["loc"])
        where = _where(source, file, loc)
        path = key_path(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            keys = valid_keys(root, err["loc"][:-1])
            near = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            allowed = f" (allowed here: {', '.join(keys)})" if keys and not near else ""
            messages.append(f"{where}: {path}: unknown key {key!r}{hint}{allowed}")
        elif kind == "missing":
            messages.append(f"{where}: {path}: required key is missing")
        elif kind == "literal_error":
            value = err.get("input")
            expected = err.get("ctx", {}).get("expected", "")
            options = [o.strip().strip("'") for o in str(expected).replace(" or ", ",").split(",")]
            near = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            messages.append(f"{where}: {path}: {value!r} is not one of {expected}{hint}")
        else:
            text = err["msg"]
            if text.startswith("Value error, "):
                text = text[len("Value error, "):]
            value = err.get("input")
            shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
            messages.append(f"{where}: {path}: {text}{shown}")
    return messages
