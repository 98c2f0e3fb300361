"""Write a first data specification from the data a sponsor ships (and its define.xml).

:func:`infer_dataset_spec` turns one dataset (read as text, with its file metadata) into the
mapping a ``data_spec/<dataset>.yml`` holds; :func:`write_specifications` does it for every
dataset of a folder and adds ``rules.yml`` with a foreign key from every other dataset to ADSL
on USUBJID. What define.xml says (labels, types, lengths, codelists, keys, mandatory) wins over
what the data suggest; without it:

* type: from the SAS storage type and format (a date format makes a ``date``; numbers are
  ``integer`` when every value is whole, else ``number``); for CSV from the text (ISO dates,
  integers without leading zeros, numbers; anything else is ``string``);
* required: no value is missing;
* codelist: a character variable with at most 20 distinct values, each seen at least twice
  on average (so identifiers never become codelists); one holding only Y and N (a flag)
  gets ``[Y, N]``;
* keys: the first of USUBJID; USUBJID with a ``*SEQ`` variable; USUBJID, PARAMCD; USUBJID,
  PARAMCD, AVISITN; USUBJID, PARAMCD, AVISITN, ADT that is complete and unique.

Every inferred choice is written as a comment beside the variable so that a person reviews it.
The result validates the same data clean (ranges and patterns are not inferred; the values
seen are noted instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.io.define_xml import CodeList, Define, ItemDef, ItemRef, read_define
from trialreport.io.meta import TableMeta, VariableMeta
from trialreport.io.readers import SUFFIXES, read_table_with_meta
from trialreport.io.xpt import format_kind
from trialreport.spec.model import NOT_DATASET_FILES
from trialreport.spec.yaml_out import document, write_all

__all__ = ["MAX_CODES", "infer_dataset_spec", "write_specifications"]

MAX_CODES = 20
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER_TEXT = re.compile(r"^-?(0|[1-9]\d*)$")
NUMBER_TEXT = re.compile(r"^-?((0|[1-9]\d*)(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")  # no leading 0s
KEY_CANDIDATES = (("USUBJID",), ("USUBJID", "*SEQ"), ("USUBJID", "PARAMCD"),
                  ("USUBJID", "PARAMCD", "AVISITN"), ("USUBJID", "PARAMCD", "AVISITN", "ADT"))
# Define-XML DataType -> specification type (datetime, time and partial dates stay text:
# the validator's date type is a full ISO date).
DEFINE_TYPES = {"text": "string", "integer": "integer", "float": "number", "date": "date"}
DEFINE_FILE = "define.xml"


@dataclass
class _Inferred:
    """One dataset's specification mapping, the comments for its variables and its header."""

    spec: dict[str, Any]
    notes: dict[int, list[str]] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)


def _present(values: pd.Series) -> pd.Series:
    return values[values.notna()].astype(str)


def _text_type(values: pd.Series) -> str:
    """Type of a column with no storage type (CSV) from its text values."""
    present = _present(values)
    if present.empty:
        return "string"
    if present.str.match(DATE_TEXT).all() and pd.to_datetime(
            present, format="%Y-%m-%d", errors="coerce").notna().all():
        return "date"
    if present.str.match(INTEGER_TEXT).all():
        return "integer"
    if present.str.match(NUMBER_TEXT).all():
        return "number"
    return "string"


def _data_type(values: pd.Series, var: VariableMeta) -> tuple[str, str | None]:
    """(type, note) from the file's storage type and format, else from the text."""
    if var.kind == "date":
        return "date", None
    if var.kind in ("datetime", "time"):
        return "string", f"{var.kind} values (ISO text; the validator has no {var.kind} type)"
    if var.type == "character":
        return "string", None
    if var.type == "numeric":
        present = _present(values)
        if present.empty:
            return "number", "type: no value present, numeric storage"
        if present.str.match(INTEGER_TEXT).all():
            return "integer", "integer: every value is whole"
        return "number", None
    return _text_type(values), None  # no storage type (CSV): the header says so


def _define_type(item: ItemDef) -> str:
    kind = format_kind(item.display_format)
    if kind == "date":
        return "date"
    if kind in ("datetime", "time"):
        return "string"
    return DEFINE_TYPES.get(item.data_type, "string")


def _typed_code(code: str, vtype: str) -> Any:
    if vtype == "integer":
        return int(code)
    if vtype == "number":
        number = float(code)
        return int(number) if number.is_integer() else number
    return code


def _define_codelist(codelist: CodeList, vtype: str) -> tuple[Any, str | None]:
    """(codelist for the YAML or None, note)."""
    if not codelist.items:
        what = codelist.dictionary or "an external dictionary"
        return None, f"coded with {what} in define.xml (values not listed)"
    try:
        codes = [_typed_code(item.code, vtype) for item in codelist.items]
    except ValueError:
        return None, f"define.xml codelist {codelist.oid} has codes that are not {vtype}s"
    if codelist.has_decodes:
        return {code: item.decode for code, item in zip(codes, codelist.items,
                                                        strict=True)}, None
    return codes, None


def _data_codelist(name: str, values: pd.Series, vtype: str) -> tuple[Any, str | None]:
    if vtype != "string":
        return None, None
    present = _present(values)
    distinct = sorted(set(present))
    if distinct and set(distinct) <= {"Y", "N"}:
        return ["Y", "N"], "codelist: Y/N"
    if 1 <= len(distinct) <= MAX_CODES and len(distinct) <= max(1, len(present) // 2):
        return distinct, f"codelist: the {len(distinct)} value(s) found in the data"
    return None, None


def _observed(values: pd.Series, vtype: str) -> str | None:
    present = _present(values)
    if present.empty or vtype not in ("integer", "number", "date"):
        return None
    if vtype == "date":
        return f"dates {present.min()} to {present.max()}"
    numbers = pd.to_numeric(present, errors="coerce").dropna()
    return f"values {numbers.min():g} to {numbers.max():g}" if len(numbers) else None


def _special(var: VariableMeta) -> str | None:
    if not var.special_missing:
        return None
    counts: dict[str, int] = {}
    for code in var.special_missing.values():
        counts[code] = counts.get(code, 0) + 1
    listed = ", ".join(f".{code} ({n})" for code, n in sorted(counts.items()))
    return f"special missing {listed}"


def _keys(frame: pd.DataFrame, stated: tuple[str, ...]) -> tuple[list[str], str | None]:
    """(keys, note): define.xml's when it states any, else the first unique candidate."""
    if stated:
        absent = [k for k in stated if k not in frame]
        if absent:
            return [k for k in stated if k in frame], (
                f"define.xml keys {', '.join(absent)} are not in the data")
        duplicates = int(frame.duplicated(list(stated)).sum())
        note = (f"define.xml keys are not unique in the data ({duplicates} duplicate "
                "record(s))") if duplicates else None
        return list(stated), note
    seq = [c for c in frame.columns if str(c).upper().endswith("SEQ")]
    for candidate in KEY_CANDIDATES:
        names = [seq[0] if c == "*SEQ" and seq else c for c in candidate]
        if all(c in frame for c in names) and frame[names].notna().all().all() and \
                not frame.duplicated(names).any():
            return names, "keys: unique and complete in the data"
    return [], "keys: no unique combination of USUBJID, *SEQ, PARAMCD, AVISITN, ADT found"


def _structure(keys: list[str]) -> str:
    rest = [k for k in keys if k not in ("STUDYID", "USUBJID")]
    if "USUBJID" in keys and not rest:
        return "One record per subject"
    if "USUBJID" in keys:
        return f"One record per subject per {' per '.join(rest)}"
    return f"One record per {' per '.join(keys)}" if keys else ""


def _match_define(define: Define | None, name: str, meta: TableMeta) -> str | None:
    if define is None:
        return None
    file_name = Path(meta.file).name.lower()
    for candidate in (name, meta.name or ""):
        if candidate and define.dataset(candidate) is not None:
            return candidate.upper()
    for ds in define.datasets.values():
        if ds.file and Path(ds.file).name.lower() == file_name:
            return ds.name
    return None


def _variable(name: str, values: pd.Series, var: VariableMeta,
              defined: tuple[ItemRef, ItemDef] | None, define: Define | None,
              sas_attributes: bool) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    data_type, type_note = _data_type(values, var)
    missing = int(values.isna().sum())
    entry: dict[str, Any] = {"name": name}
    if defined is not None and define is not None:
        ref, item = defined
        vtype = _define_type(item)
        if vtype != data_type and values.notna().any() and not (
                vtype == "number" and data_type == "integer"):
            notes.append(f"define.xml says {item.data_type}; the data look {data_type}")
        entry["label"] = item.label or var.label or name
        entry["type"] = vtype
        entry["required"] = ref.mandatory
        if ref.mandatory and missing:
            notes.append(f"define.xml: mandatory, but {missing} value(s) are missing")
        codelist, code_note = (None, None)
        if item.codelist_oid:
            codelist, code_note = _define_codelist(define.codelists[item.codelist_oid], vtype)
        length = item.length if vtype == "string" else None
        sas_format = item.display_format or var.format
    else:
        vtype = data_type
        if type_note:
            notes.append(type_note)
        entry["label"] = var.label or name
        if not var.label and var.type is not None:
            notes.append("label: none in the file (the name)")
        entry["type"] = vtype
        entry["required"] = bool(len(values)) and missing == 0
        codelist, code_note = _data_codelist(name, values, vtype)
        length = var.length if vtype == "string" else None
        sas_format = var.format
    if code_note:
        notes.append(code_note)
    if codelist is not None:
        entry["codelist"] = codelist
    if sas_attributes and length:
        entry["length"] = int(length)
    if sas_attributes and sas_format:
        entry["format"] = sas_format
    for extra in (_observed(values, vtype), _special(var)):
        if extra:
            notes.append(extra)
    return entry, notes


def _infer(frame: pd.DataFrame, meta: TableMeta, define: Define | None, name: str,
           file: str, order: int, sas_attributes: bool) -> _Inferred:
    matched = _match_define(define, name, meta)
    ds_def = define.dataset(matched) if define is not None and matched else None
    defined: dict[str, tuple[ItemRef, ItemDef]] = {}
    header = []
    if define is not None and ds_def is not None:
        defined = {item.name: (ref, item) for ref, item in define.variables(ds_def.name)}
        header.append(f"Labels, types, codelists, keys and mandatory variables from "
                      f"{Path(define.file).name} (Define-XML {define.version}), dataset "
                      f"{ds_def.name}.")
        absent = [v for v in defined if v not in frame.columns]
        if absent:
            header.append(f"define.xml lists {', '.join(absent)}, which the data file lacks "
                          "(left out).")
    elif define is not None:
        header.append(f"{Path(define.file).name} does not describe this dataset: "
                      "everything below is inferred from the data.")
    if len(defined) < len(frame.columns):
        header.append("Inferred from the data: required where no value is missing; a codelist "
                      f"where text takes at most {MAX_CODES} values; comments mark each "
                      "inferred choice.")
    if meta.file_format == "csv" and not defined:
        header.append("A CSV file has no labels or storage types: labels are the variable "
                      "names and types come from the values.")
    keys, key_note = _keys(frame, define.keys(ds_def.name) if ds_def and define else ())
    if key_note:
        header.append(key_note[0].upper() + key_note[1:] + ".")
    label = (ds_def.label if ds_def else None) or meta.label
    structure = (ds_def.structure if ds_def else None) or _structure(keys)
    spec: dict[str, Any] = {"dataset": name, "file": file, "order": order,
                            "label": label or "", "structure": structure, "keys": keys,
                            "variables": []}
    notes: dict[int, list[str]] = {}
    for i, column in enumerate(frame.columns):
        var = next((v for v in meta.variables if v.name == column), VariableMeta(str(column)))
        entry, var_notes = _variable(str(column), frame[column], var, defined.get(column),
                                     define, sas_attributes)
        if ds_def is not None and column not in defined:
            var_notes.insert(0, "not in define.xml: inferred from the data")
        spec["variables"].append(entry)
        if var_notes:
            notes[i] = var_notes
    return _Inferred(spec=spec, notes=notes, header=header)


def infer_dataset_spec(frame: pd.DataFrame, meta: TableMeta, define: Define | None = None,
                       *, name: str | None = None, order: int = 99,
                       sas_attributes: bool = True) -> dict[str, Any]:
    """The specification mapping (as ``data_spec/<dataset>.yml`` holds it) of one dataset read
    as text (:func:`trialreport.io.readers.read_table_with_meta`).

    ``name`` defaults to the file's stem in upper case; with ``sas_attributes`` each variable
    also gets ``length`` (text variables) and ``format`` (SAS format) where known.
    """
    stem = Path(meta.file).stem
    return _infer(frame, meta, define, name or stem.upper(), stem, order, sas_attributes).spec


def _data_files(adam_dir: Path) -> list[Path]:
    """One data file per dataset, chosen like the validator chooses (CSV, XPT, Parquet)."""
    by_stem: dict[str, list[Path]] = {}
    for path in sorted(adam_dir.iterdir()):
        if path.is_file() and path.suffix.lower() in SUFFIXES and not path.name.startswith("."):
            by_stem.setdefault(path.stem.lower(), []).append(path)
    rank = {suffix: i for i, suffix in enumerate(SUFFIXES)}
    return [sorted(paths, key=lambda p: rank[p.suffix.lower()])[0]
            for _, paths in sorted(by_stem.items())]


def _rules(names: list[str], with_subject: set[str], subject_missing: set[str] = frozenset()
           ) -> str:
    header = ["Cross-dataset rules inferred by trialreport: every record of a dataset other "
              "than ADSL belongs to a subject in ADSL.",
              "Add expression and count rules by hand (see the trialreport documentation)."]
    rules = []
    if "ADSL" in with_subject:
        for name in names:
            if name != "ADSL" and name in with_subject:
                rule = {"id": f"X-{len(rules) + 1:02d}",
                        "description": f"Every {name} record belongs to a subject in ADSL",
                        "type": "foreign_key", "dataset": name, "columns": ["USUBJID"],
                        "reference": "ADSL"}
                if name in subject_missing:  # records without a subject (a screening log)
                    rule["description"] = (f"Every {name} record with a subject identifier "
                                           "belongs to a subject in ADSL")
                    rule["optional"] = True
                rules.append(rule)
    else:
        header.append("No ADSL with USUBJID was found, so there are no rules.")
    return document(header, {"rules": rules}, "rules")


def write_specifications(adam_dir: Path, out_dir: Path, define_path: Path | None = None,
                         *, overwrite: bool = False, sas_attributes: bool = True) -> list[Path]:
    """Write ``<dataset>.yml`` for every data file in ``adam_dir`` and ``rules.yml`` into
    ``out_dir``; returns the written paths (rules.yml last).

    ``define_path`` defaults to ``adam_dir/define.xml`` when that file exists. Specifications
    of datasets no longer in ``adam_dir`` are not removed. Nothing is written when any file
    cannot be read (:class:`~trialreport.io.readers.DataReadError`,
    :class:`~trialreport.io.define_xml.DefineXmlError`) or when a target exists and
    ``overwrite`` is false (:class:`FileExistsError`).
    """
    adam_dir, out_dir = Path(adam_dir), Path(out_dir)
    if not adam_dir.is_dir():
        raise FileNotFoundError(f"data folder not found: {adam_dir}")
    if define_path is None and (adam_dir / DEFINE_FILE).is_file():
        define_path = adam_dir / DEFINE_FILE
    define = read_define(define_path) if define_path is not None else None
    files = _data_files(adam_dir)
    if not files:
        raise FileNotFoundError(f"no data files ({', '.join(SUFFIXES)}) in {adam_dir}")
    names = [p.stem.upper() for p in files]
    order = sorted(names, key=lambda n: (n != "ADSL", n))
    texts: dict[Path, str] = {}
    with_subject: set[str] = set()
    subject_missing: set[str] = set()
    for path, name in zip(files, names, strict=True):
        frame, meta = read_table_with_meta(path)
        inferred = _infer(frame, meta, define, name, path.stem, order.index(name) + 1,
                          sas_attributes)
        if "USUBJID" in frame.columns:
            with_subject.add(name)
            if frame["USUBJID"].isna().any():
                subject_missing.add(name)
        header = [f"Specification of {name} inferred by trialreport from {path.name}: review "
                  "every line before relying on it.", *inferred.header]
        target = out_dir / f"{path.stem.lower()}.yml"
        if target.name in NOT_DATASET_FILES:
            target = out_dir / f"{path.stem.lower()}_dataset.yml"
        texts[target] = document(header, inferred.spec, "variables", inferred.notes)
    texts[out_dir / "rules.yml"] = _rules(order, with_subject, subject_missing)
    return write_all(texts, overwrite=overwrite)
