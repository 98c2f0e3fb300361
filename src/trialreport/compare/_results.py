"""Compare the results of two ARDs by key: added, removed and changed values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trialreport.compare._model import Changes, OutputChanges, ResultChange, ResultKey
from trialreport.supplement.compare import REL_TOL, values_equal

KEY_FIELDS = ResultKey._fields
POPULATION = "population"
POPULATION_LABEL = "Population sizes (N per arm)"

Record = tuple[float, str]  # value (NaN = not estimable), method


class ARDReadError(ValueError):
    """An ``ard.json`` does not have the shape of the ARD contract (names the record)."""


def _as_dict(ard: Any) -> Mapping[str, Any]:
    if hasattr(ard, "to_dict") and hasattr(ard, "frame"):  # trialreport.ard.ARD
        return ard.to_dict()
    if not isinstance(ard, Mapping):
        raise ARDReadError("not an ARD: expected an object with 'metadata' and 'results'")
    return ard


def _value(raw: Any, where: str) -> float:
    if raw is None:
        return math.nan
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ARDReadError(f"{where}: 'value' must be a number or null, got {raw!r}")
    return float(raw)


def parse_results(ard: Any, label: str = "ARD") -> tuple[dict[ResultKey, Record],
                                                          dict[str, Any]]:
    """The results of ``ard`` (an :class:`~trialreport.ard.ARD` or the ``ard.json`` object)
    by key, in their order, and its metadata.

    Strict: every record must be an object whose key fields and ``method`` are text and whose
    ``value`` is a number or null, and no key may occur twice; otherwise
    :class:`ARDReadError` names the record.
    """
    obj = _as_dict(ard)
    metadata = obj.get("metadata", {})
    results = obj.get("results")
    if not isinstance(metadata, Mapping):
        raise ARDReadError(f"{label}: 'metadata' is not an object")
    if not isinstance(results, list):
        raise ARDReadError(f"{label}: no 'results' list")
    index: dict[ResultKey, Record] = {}
    for number, record in enumerate(results, start=1):
        where = f"{label}: result {number}"
        if not isinstance(record, Mapping):
            raise ARDReadError(f"{where} is not an object")
        fields = []
        for name in KEY_FIELDS:
            value = record.get(name)
            if not isinstance(value, str):
                raise ARDReadError(f"{where}: {name!r} must be text, got {value!r}")
            fields.append(value)
        method = record.get("method", "")
        if not isinstance(method, str):
            raise ARDReadError(f"{where}: 'method' must be text, got {method!r}")
        key = ResultKey(*fields)
        if key in index:
            raise ARDReadError(f"{where} repeats the key {' / '.join(key)}")
        index[key] = (_value(record.get("value"), where), method)
    return index, dict(metadata)


def output_label(name: str, info: Mapping[str, Any] | None) -> str:
    """"Table 14.3.1 Overview of ..." from the metadata entry of output ``name``."""
    if name == POPULATION:
        return POPULATION_LABEL
    if not info:
        return f"Output {name}"
    kind = str(info.get("kind") or "output").capitalize()
    number = str(info.get("number") or "").strip()
    title = str(info.get("title") or name).strip()
    return " ".join(part for part in (kind, number, title) if part)


def report_version(metadata: Mapping[str, Any]) -> str:
    """The report version of an ARD: its render stamp's, else ``report_version``."""
    stamp = metadata.get("stamp")
    if isinstance(stamp, Mapping) and stamp.get("version"):
        return str(stamp["version"])
    return str(metadata.get("report_version") or "unknown")


def _outputs(metadata: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    outputs = metadata.get("outputs")
    if not isinstance(outputs, Mapping):
        return {}
    return {str(k): v for k, v in outputs.items() if isinstance(v, Mapping)}


def _metadata_notes(old: Mapping[str, Mapping[str, Any]],
                    new: Mapping[str, Mapping[str, Any]]) -> list[str]:
    notes = []
    for name, info in new.items():
        if name not in old:
            notes.append(f"new output: {output_label(name, info)}")
            continue
        for field in ("number", "kind", "title", "population"):
            before, after = old[name].get(field), info.get(field)
            if before != after:
                notes.append(f"{output_label(name, info)}: {field} changed from {before!r} "
                             f"to {after!r}")
    notes += [f"output no longer in the report: {output_label(name, info)}"
              for name, info in old.items() if name not in new]
    return notes


def _same(a: Record, b: Record, rel_tol: float) -> bool:
    return values_equal(a[0], b[0], rel_tol) and a[1] == b[1]


def compare_ards(old: Any, new: Any, rel_tol: float = REL_TOL) -> Changes:
    """The results added, removed and changed from ``old`` to ``new``, grouped by output.

    ``old`` and ``new`` are :class:`~trialreport.ard.ARD` objects or ``ard.json`` objects.
    Results are matched by key (analysis, population, group, variable, category, statistic);
    a value counts as changed when it differs by more than ``rel_tol`` relative (1e-9: float
    noise is not a change; NaN equals NaN) or when its method name differs. Outputs are listed
    in the new version's order (the population counts first), each change with both values at
    full precision. Raises :class:`ARDReadError` for a malformed ARD.
    """
    old_rows, old_meta = parse_results(old, "old ARD")
    new_rows, new_meta = parse_results(new, "new ARD")
    old_outputs, new_outputs = _outputs(old_meta), _outputs(new_meta)
    by_output: dict[str, list[ResultChange]] = {}
    compared = 0
    for key, record in new_rows.items():
        before = old_rows.get(key)
        if before is None:
            change = ResultChange("added", key, None, record[0], None, record[1])
        else:
            compared += 1
            if _same(before, record, rel_tol):
                continue
            change = ResultChange("changed", key, before[0], record[0], before[1], record[1])
        by_output.setdefault(key.analysis, []).append(change)
    for key, record in old_rows.items():
        if key not in new_rows:
            by_output.setdefault(key.analysis, []).append(
                ResultChange("removed", key, record[0], None, record[1], None))
    order = [POPULATION, *new_outputs, *old_outputs]
    order += sorted(set(by_output) - set(order))
    outputs = []
    for name in dict.fromkeys(order):
        if name in by_output:
            info = new_outputs.get(name) or old_outputs.get(name)
            outputs.append(OutputChanges(name, output_label(name, info), by_output[name]))
    return Changes(old_version=report_version(old_meta), new_version=report_version(new_meta),
                   outputs=outputs, compared=compared,
                   notes=_metadata_notes(old_outputs, new_outputs))
