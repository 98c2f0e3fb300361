"""Load a trial's validated datasets once, by role (adsl, adae, ...), for the analyses.

A dataset's *role* is the name the study definition uses for it (``safety.dataset: adae``);
``datasets:`` in the definition maps a role to a file stem when they differ, otherwise the role
is the file stem. Before anything is analysed, the study definition is checked against the data
(:func:`trialreport.study.check_against_data`): every arm, flag, variable and code it names must
exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trialreport.spec.model import load_specification
from trialreport.study import Study, check_against_data, dataset_roles, load_study
from trialreport.validation import ValidationReport, load_validated

__all__ = ["TrialData", "as_loaded", "load_trial", "trial_from_frames"]


@dataclass
class TrialData:
    """Typed, validated datasets by role, with the study definition and where they came from."""

    study: Study
    frames: dict[str, pd.DataFrame]
    data_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    validation: ValidationReport | None = None
    #: Codes of ``(role, variable)`` from the specification's codelists.
    codelists: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: Derived frames shared by the outputs of one build (e.g. the adverse events in analysis
    #: terms); the datasets never change after loading, so they never go stale.
    cache: dict[object, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, role: str) -> pd.DataFrame:
        try:
            return self.frames[role]
        except KeyError:
            raise KeyError(f"no dataset {role!r} in {self.data_dir} (datasets: "
                           f"{', '.join(sorted(self.frames))})") from None

    def __contains__(self, role: str) -> bool:
        return role in self.frames

    @property
    def adsl(self) -> pd.DataFrame:
        """The subject-level dataset."""
        return self["adsl"]


def load_trial(data_dir: Path, spec_dir: Path, study: Study | Path) -> TrialData:
    """Validate ``data_dir`` against ``spec_dir``, check the study definition against the data
    and return the typed datasets by role.

    Raises :class:`trialreport.validation.DataValidationError` when the data break the
    specification and :class:`trialreport.study.StudyDefinitionError` when the definition names
    something the data do not have.
    """
    data_dir, spec_dir = Path(data_dir), Path(spec_dir)
    if not isinstance(study, Study):
        study = load_study(Path(study))
    spec = load_specification(spec_dir)
    report = load_validated(data_dir, spec)
    by_stem = {ds.file.lower(): name for name, ds in spec.datasets.items()}
    roles = {name.lower(): name for name in report.datasets}  # every dataset by its own name
    for role in dataset_roles(study):
        stem = study.dataset_stem(role).lower()
        name = by_stem.get(stem, stem.upper())
        if name in report.datasets:
            roles[role] = name
        else:  # a role mapped (``datasets:``) to a file the folder lacks is missing, not guessed
            roles.pop(role, None)
    frames = {role: report.datasets[name] for role, name in roles.items()}
    files = {role: report.files[name] for role, name in roles.items() if name in report.files}
    codelists = {}
    for role, name in roles.items():
        for var in spec.datasets[name].variables:
            if var.codelist:
                codelists[(role, var.name)] = list(var.codelist)
    check_against_data(study, frames, files, codelists)
    return TrialData(study=study, frames=frames, data_dir=data_dir, files=files,
                     validation=report, codelists=codelists)


def as_loaded(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns as the validator returns them: pandas categoricals of
    the distinct texts (a few bytes per record; group-bys use the codes). Other columns are
    kept as they are."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and column.map(lambda v: v is None or isinstance(v, str)).all():
            column = column.astype("category")
        out[name] = column
    return pd.DataFrame(out, index=frame.index)


def trial_from_frames(study: Study, frames: dict[str, pd.DataFrame], check: bool = True,
                      codelists: dict[tuple[str, str], list[str]] | None = None) -> TrialData:
    """Wrap already-typed frames (e.g. a synthetic trial built in tests) without validation,
    text columns held as the loader holds them (:func:`as_loaded`); the study definition is
    still checked against them (and the ``codelists`` of the specification) unless ``check``
    is false."""
    frames = {role: as_loaded(frame) for role, frame in frames.items()}
    if check:
        check_against_data(study, frames, codelists=codelists)
    return TrialData(study=study, frames=frames, data_dir=Path("."),
                     codelists=dict(codelists or {}))
