"""Validate a data folder against the specification: every violation in one pass."""

from __future__ import annotations

from pathlib import Path

from trialreport.io.readers import DataReadError, find_data_file, read_table
from trialreport.spec.model import Specification, load_specification
from trialreport.validation.cross import Checked, check_cross_rules
from trialreport.validation.dataset import check_dataset
from trialreport.validation.violations import ValidationReport, Violation, violation_frame

__all__ = ["DataValidationError", "ValidationReport", "Violation", "load_validated",
           "validate_folder", "violation_frame"]

SHOWN_IN_ERROR = 20


class DataValidationError(Exception):
    """Raised by :func:`load_validated` when the data break the specification."""

    def __init__(self, report: ValidationReport):
        self.report = report
        first = "\n".join(f"  {v}" for v in report.first(SHOWN_IN_ERROR))
        more = report.n_errors - SHOWN_IN_ERROR
        super().__init__(f"{report.n_errors} violation(s) in {report.data_dir}:\n{first}"
                         + (f"\n  ... and {more} more" if more > 0 else ""))


def validate_folder(data_dir: Path, spec: Specification | Path) -> ValidationReport:
    """Check every dataset of the specification in ``data_dir``; collects all violations.

    Raises :class:`trialreport.spec.SpecificationError` when the specification is malformed
    or one of its rules cannot be evaluated on the data.
    """
    data_dir = Path(data_dir)
    if not isinstance(spec, Specification):
        spec = load_specification(Path(spec))
    report = ValidationReport(data_dir=data_dir)
    checked: dict[str, Checked] = {}
    for name, ds in spec.datasets.items():
        path = find_data_file(data_dir, ds.file)
        if path is None:
            report.add(violation_frame(
                dataset=name, file=str(data_dir / f"{ds.file}.csv"), rule="file",
                message=f"file missing: expected {ds.file}.csv or {ds.file}.xpt"))
            continue
        report.files[name] = path
        try:
            text = read_table(path)
        except DataReadError as exc:
            report.add(violation_frame(dataset=name, file=exc.file, rule="file",
                                       message=exc.message, rows=exc.row,
                                       variable=exc.column))
            continue
        report.records[name] = len(text)
        result, batches = check_dataset(text, ds, path)
        for batch in batches:
            report.add(batch)
        if result is not None:
            checked[name] = result
            report.datasets[name] = result.typed
    for batch in check_cross_rules(spec.cross_rules, checked):
        report.add(batch)
    return report


def load_validated(data_dir: Path, spec: Specification | Path) -> ValidationReport:
    """Validate and return the report; raise :class:`DataValidationError` on any error."""
    report = validate_folder(data_dir, spec)
    if not report.ok:
        raise DataValidationError(report)
    return report
