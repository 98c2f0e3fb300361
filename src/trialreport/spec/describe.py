"""The data specification as text a person reads (the report's appendix).

Produces Markdown (pipe tables), which every output format turns into real tables. Data values
never reach this text, only the specification files do, and every text taken from them goes
through :func:`trialreport.render.escape.markdown_text` (shown literally: no links, markup,
math, raw blocks or shortcodes).
"""

from __future__ import annotations

from trialreport.render.escape import markdown_code, markdown_text
from trialreport.spec.model import DatasetSpec, Specification, VariableSpec


def _cell(text: object) -> str:
    """A value from the specification as literal Markdown (a pipe-table cell or a phrase)."""
    return markdown_text(text)


def allowed_values(var: VariableSpec) -> str:
    """Codelist, range or pattern of a variable in words."""
    if var.codelist:
        items = [code if code == decode else f"{code} = {decode}"
                 for code, decode in var.codelist.items()]
        return "; ".join(items)
    if var.range is not None:
        lo, hi = var.range
        return f"{lo:g} to {hi:g}"
    if var.pattern:
        return f"pattern {var.pattern}"
    if var.type == "date":
        return "ISO 8601 date (YYYY-MM-DD)"
    return ""


def sas_metadata(var: VariableSpec) -> str:
    """SAS length and format of a variable in words (empty when neither is declared)."""
    parts = []
    if var.length is not None:
        parts.append(f"length {var.length}")
    if var.format is not None:
        parts.append(f"format {var.format}")
    return "; ".join(parts)


def missing_spellings(ds: DatasetSpec) -> str:
    """The declared missing-value spellings besides the empty field, quoted (or empty)."""
    extra = [m for m in ds.missing_values if m]
    return ", ".join(f'"{_cell(m)}"' for m in extra)


def dataset_markdown(ds: DatasetSpec, heading_level: int = 2) -> str:
    """One dataset: purpose, structure, keys, a variable table and its row rules."""
    hashes = "#" * heading_level
    sas = any(v.length is not None or v.format is not None for v in ds.variables)
    missing = missing_spellings(ds)
    lines = [f"{hashes} {_cell(ds.name)}: {_cell(ds.label)} {{.unnumbered}}", "",
             f"File {markdown_code(ds.file)} (.csv, .xpt or .parquet); "
             f"{_cell(ds.structure.lower()) or 'records'}; "
             f"key: {', '.join(ds.keys) or 'none'}."
             + (f" Missing values: an empty field or {missing}." if missing else ""), "",
             "| Variable | Label | Type | Unit | Required | Allowed values |"
             + (" SAS |" if sas else ""),
             "|:-------|:--------------|:-----|:-----|:--------|:----------------------|"
             + (":------|" if sas else "")]
    for v in ds.variables:
        lines.append(f"| {_cell(v.name)} | {_cell(v.label)} | {v.type} | {_cell(v.unit or '')} | "
                     f"{'yes' if v.required else 'no'} | {_cell(allowed_values(v))} |"
                     + (f" {_cell(sas_metadata(v))} |" if sas else ""))
    rules = [(r.id, r.description) for r in ds.rules]
    if ds.windows is not None:
        spans = "; ".join(f"{k}: day {a} to {b}" for k, (a, b) in ds.windows.limits.items())
        rules.append(("window", f"{ds.windows.column} lies in the window of its "
                                f"{ds.windows.by} ({spans})"))
    if rules:
        lines += ["", "Rules for every record:", ""]
        lines += [f"- **{_cell(rid)}** {_cell(text)}" for rid, text in rules]
    return "\n".join(lines) + "\n"


def specification_markdown(spec: Specification, heading_level: int = 2) -> str:
    """Every dataset of the specification, then the cross-dataset rules."""
    parts = [dataset_markdown(ds, heading_level) for ds in spec.datasets.values()]
    if spec.cross_rules:
        hashes = "#" * heading_level
        rows = ["| Rule | Dataset | Checks | Description |",
                "|:----|:--------|:--------|:------------------------------|"]
        for r in spec.cross_rules:
            other = r.reference or (r.join.dataset if r.join else None) or r.count_of or ""
            rows.append(f"| {_cell(r.id)} | {_cell(r.dataset)} | {_cell(other)} | "
                        f"{_cell(r.description)} |")
        parts.append(f"{hashes} Cross-dataset rules {{.unnumbered}}\n\n" + "\n".join(rows)
                     + "\n")
    return "\n".join(parts)
