"""A specification file read as YAML with its line numbers, for errors that point at a line.

PyYAML composes the text into nodes that remember where they start; a location such as
``("variables", 3, "codelsit")`` (from pydantic or from our own checks) is followed through the
nodes to the line of that key or value. Duplicate keys (which YAML would silently collapse to the
last one) and anchors/aliases (which can expand a small file into a huge one) are refused here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_SPEC_BYTES = 5 * 1024 * 1024
Location = Sequence[str | int]


class SpecificationError(ValueError):
    """The specification itself is malformed (names the YAML file, line and entry)."""


@dataclass
class YamlSource:
    """One YAML file: its path, the composed node tree and the plain data it holds."""

    path: Path
    node: yaml.Node | None
    data: Any
    problems: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> YamlSource:
        """Read and compose ``path``; raises :class:`SpecificationError` for bad YAML."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SpecificationError(f"{path}: cannot be read ({exc.strerror})") from None
        if len(raw) > MAX_SPEC_BYTES:
            raise SpecificationError(f"{path}: {len(raw):,} bytes is too large for a "
                                     f"specification file (limit {MAX_SPEC_BYTES:,})")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise SpecificationError(f"{path}: line {line}: byte 0x{raw[exc.start]:02X} is not "
                                     "valid UTF-8 (save the file as UTF-8)") from None
        loader = None
        try:
            loader = yaml.SafeLoader(text)
            node = loader.get_single_node()
            if node is not None:
                _refuse_aliases_and_duplicates(node, path)
            data = loader.construct_document(node) if node is not None else None
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, max(exc.position, 0)) + 1
            raise SpecificationError(f"{path}: line {line}: not valid YAML: character "
                                     f"#x{exc.character:04x} is not allowed") from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
            raise SpecificationError(f"{path}: {where}not valid YAML: {problem}") from None
        except yaml.YAMLError as exc:
            raise SpecificationError(f"{path}: not valid YAML: {exc}") from None
        except RecursionError:
            raise SpecificationError(f"{path}: the YAML is nested too deeply") from None
        finally:
            if loader is not None:
                loader.dispose()
        return cls(path, node, data)

    def line(self, location: Location) -> int | None:
        """The 1-based line of the key or value at ``location`` (deepest one found)."""
        node, key_node = self.node, None
        line = node.start_mark.line + 1 if node is not None else None
        for step in location:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value
                              if isinstance(k, yaml.ScalarNode) and k.value == str(step)), None)
                if match is None:
                    break
                key_node, node = match
                line = key_node.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                    and 0 <= step < len(node.value):
                node, key_node = node.value[step], None
                line = node.start_mark.line + 1
            else:
                break
        return line

    def add(self, location: Location, message: str, entry: Location | None = None) -> None:
        """Record one problem at the line of ``location``, naming ``entry`` (default: the same).
        """
        line = self.line(location)
        where = f"line {line}: " if line is not None else ""
        named = describe_location(location if entry is None else entry, self.data)
        self.problems.append(f"{where}{named}{message}")

    def raise_problems(self) -> None:
        """Raise one :class:`SpecificationError` listing every recorded problem."""
        if self.problems:
            first, *rest = self.problems
            lines = [f"{self.path}: {first}"] + [f"{self.path}: {p}" for p in rest]
            raise SpecificationError("\n".join(lines))


def _refuse_aliases_and_duplicates(node: yaml.Node, path: Path) -> None:
    """Walk the node tree once; a node met twice is an alias, a repeated key a duplicate."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            raise SpecificationError(f"{path}: line {current.start_mark.line + 1}: anchors and "
                                     "aliases (&name, *name) are not supported; write it out")
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: dict[str, int] = {}
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value == "<<":
                        raise SpecificationError(f"{path}: line {line}: merge keys (<<) are not "
                                                 "supported; write the entries out")
                    if key.value in keys:
                        raise SpecificationError(
                            f"{path}: line {line}: duplicate key {key.value!r} (first on line "
                            f"{keys[key.value]}); YAML would silently keep only the last")
                    keys[key.value] = line
                stack += [key, value]
        elif isinstance(current, yaml.SequenceNode):
            stack += current.value


def describe_location(location: Location, data: Any) -> str:
    """``variables[3] (AGE): `` style prefix naming the entry, from the data it points into."""
    parts: list[str] = []
    current = data
    for step in location:
        if isinstance(step, int):
            label = f"[{step}]"
            item = current[step] if isinstance(current, list) and 0 <= step < len(current) \
                else None
            name = None
            if isinstance(item, dict):
                name = item.get("name", item.get("id"))
            if isinstance(name, str | int):
                label += f" ({name})"
            parts.append(label)
            current = item
        else:
            parts.append(f".{step}" if parts else str(step))
            current = current.get(step) if isinstance(current, dict) else None
    text = "".join(parts)
    return f"{text}: " if text else ""


def nearest(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    if not isinstance(word, str):
        return ""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
