"""Write an inferred study definition as YAML a person reads and edits.

The layout follows a hand-written ``data_spec/study.yml``: blocks in a fixed order separated by
blank lines, one setting or list entry per line (entries as flow mappings), end-of-line comments
for the choices made from the data and commented-out placeholders where a fact must be filled
in. PyYAML writes every value (:func:`trialreport.spec.yaml_out.flow`), so quoting is always
right; the text is read back and compared with the mapping before it is returned.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from trialreport.spec.yaml_out import comment, flow

if TYPE_CHECKING:
    from trialreport.study.infer import InferredStudy

__all__ = ["BLOCK_ORDER", "write_study_yaml"]

#: Top-level blocks in the order they are written (as in docs/study.md).
BLOCK_ORDER = ("report", "sources", "study", "abbreviations", "datasets", "subject_variable",
               "arms", "populations", "disposition", "baseline", "exposure", "endpoints",
               "time_to_event", "safety", "swimmer", "outputs")
#: Blocks written on one line (a short mapping).
ONE_LINE = frozenset({"datasets"})
HEADER = (
    "Study definition drafted by `trialreport init` from the ADaM datasets in data/.",
    "Keys, defaults and examples: docs/study.md of trialreport (a misspelt key is an error).",
    "Review every entry. Lines marked TODO are what the data do not give: write each fact",
    "from its source (protocol, SAP, registry entry) or leave it out, and the report says",
    "'Not stated in the sources'.",
)


def _line(indent: int, text: str, note: str | None) -> str:
    line = " " * indent + text
    return f"{line}  {comment(note)}" if note else line


def _entry(item: Any) -> str:
    """A list entry on one line; an output number is quoted ("14.1.1") as people write it, so
    that a copied entry renumbered "14.2" stays text."""
    if isinstance(item, dict) and isinstance(item.get("id"), str) and \
            re.fullmatch(r"\d+(\.\d+)*", item["id"]):
        rest = {k: v for k, v in item.items() if k != "id"}
        return f'{{id: "{item["id"]}"' + (f", {flow(rest)[1:]}" if rest else "}")
    return flow(item)


def _block(key: str, value: Any, comments: dict[tuple[Any, ...], str]) -> list[str]:
    if key in ONE_LINE or not isinstance(value, (dict, list)):
        return [_line(0, f"{key}: {flow(value)}", comments.get((key,)))]
    lines = [_line(0, f"{key}:", comments.get((key,)))]
    if isinstance(value, list):
        return lines + [f"  - {_entry(item)}" for item in value] if value else \
            [_line(0, f"{key}: []", comments.get((key,)))]
    for sub, item in value.items():
        note = comments.get((key, sub))
        if isinstance(item, list) and item and all(isinstance(x, dict) for x in item):
            lines.append(_line(2, f"{flow(sub)}:", note))
            lines += [f"    - {flow(x)}" for x in item]
        else:
            lines.append(_line(2, f"{flow(sub)}: {flow(item)}", note))
    return lines


def write_study_yaml(inferred: InferredStudy) -> str:
    """YAML text of ``inferred.mapping`` with its comments and commented placeholders."""
    mapping = inferred.mapping
    unknown = [k for k in mapping if k not in BLOCK_ORDER]
    if unknown:
        raise ValueError(f"no place for block(s) {unknown} in the written definition (a bug)")
    lines = [comment(h) for h in HEADER]
    for key in BLOCK_ORDER:
        extra = inferred.commented.get(key, [])
        if key not in mapping and not extra:
            continue
        lines.append("")
        if key in mapping:
            lines += _block(key, mapping[key], inferred.comments)
            lines += ["  " + x for x in extra]
        else:
            lines += extra
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != mapping:
        raise ValueError("the written study definition does not read back as inferred (a bug)")
    return text
