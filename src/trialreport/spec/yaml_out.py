"""Write specification YAML the way people write it: one variable or rule per line, comments.

PyYAML writes the values (so quoting is always right: ``'NO'``, ``'001'``, ``'null'``); the
lines and comments are laid out here because PyYAML cannot write comments. Every text is read
back and compared with the mapping it came from before anything is written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def flow(value: Any) -> str:
    """``value`` as one line of flow-style YAML (no document end marker)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True,
                          sort_keys=False)
    lines = [line for line in text.splitlines() if line != "..."]
    if len(lines) != 1:
        raise ValueError(f"cannot write {value!r} on one YAML line")
    return lines[0]


def comment(text: str) -> str:
    """A comment fragment: one line, starting ``# ``."""
    return "# " + " ".join(str(text).split())


def document(header: list[str], mapping: dict[str, Any], list_key: str,
             notes: dict[int, list[str]] | None = None) -> str:
    """YAML text of ``mapping``: header comments, scalar and short-list keys one per line,
    then ``list_key`` as a block list with one flow mapping per line and its notes as an
    end-of-line comment (``notes[i]`` for item ``i``)."""
    notes = notes or {}
    lines = [comment(h) for h in header]
    for key, value in mapping.items():
        if key == list_key:
            continue
        lines.append(f"{flow(key)}: {flow(value)}")
    lines.append(f"{list_key}:")
    for i, item in enumerate(mapping.get(list_key, [])):
        line = f"  - {flow(item)}"
        if notes.get(i):
            line += "  " + comment("; ".join(notes[i]))
        lines.append(line)
    if not mapping.get(list_key):
        lines[-1] = f"{list_key}: []"
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != mapping:
        raise ValueError("the YAML text does not read back as the specification (a bug)")
    return text


def write_all(texts: dict[Path, str], overwrite: bool = False) -> list[Path]:
    """Write every text or none: refuses to replace an existing file unless ``overwrite``;
    each file is written to a temporary name first and then renamed into place."""
    if not overwrite:
        existing = [p for p in texts if p.exists()]
        if existing:
            raise FileExistsError(f"{existing[0]} exists (pass overwrite=True to replace "
                                  "the specification)")
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return list(texts)
