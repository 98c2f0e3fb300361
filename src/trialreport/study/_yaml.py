"""YAML read strictly, with the line of every key, so that a schema error can name its line.

PyYAML's safe loader builds the values; a walk over the composed node tree records where each
mapping key and sequence item starts (1-based lines), keyed by the path of keys and indexes that
pydantic reports in an error's ``loc``. Duplicate keys are refused (PyYAML keeps the last one
silently).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["LocatedYaml", "YamlError", "load_located"]

PathKey = tuple[str, ...]


class YamlError(ValueError):
    """The file is not valid YAML (names the file and line)."""


@dataclass
class LocatedYaml:
    """The parsed value and the 1-based line of every key path (``("arms", "levels", "0")``)."""

    value: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    path: Path | None = None

    def line(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest prefix of ``loc`` that the file has (``None`` when empty)."""
        keys = tuple(str(k) for k in loc)
        for end in range(len(keys), -1, -1):
            if keys[:end] in self.lines:
                return self.lines[keys[:end]]
        return None


def _walk(node: yaml.Node, prefix: PathKey, lines: dict[PathKey, int], where: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlError(f"{where}:{line}: key {key!r} appears twice (first on line "
                                f"{seen[key]}); each key may appear once")
            seen[key] = line
            lines[(*prefix, key)] = line
            _walk(value_node, (*prefix, key), lines, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*prefix, str(i))] = item.start_mark.line + 1
            _walk(item, (*prefix, str(i)), lines, where)


def load_located(path: Path, text: str | None = None) -> LocatedYaml:
    """Parse ``path`` (or ``text``) with the safe loader and record the line of every key."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise YamlError(f"{path}: file not found") from None
        except UnicodeDecodeError as exc:
            raise YamlError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
                from None
        except OSError as exc:
            raise YamlError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise YamlError(f"{path}{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{path}: not valid YAML: {exc}") from None
    lines: dict[PathKey, int] = {}
    if node is not None:
        _walk(node, (), lines, str(path))
    return LocatedYaml(value=value, lines=lines, path=path)
