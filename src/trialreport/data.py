"""Load a trial's validated datasets once, by role (adsl, adae, ...), for the analyses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trialreport.paths import data_dir as default_data_dir
from trialreport.paths import spec_dir as default_spec_dir
from trialreport.paths import study_file as default_study_file
from trialreport.spec.model import load_specification
from trialreport.study import Study, load_study
from trialreport.validation import ValidationReport, load_validated


@dataclass
class TrialData:
    """Typed, validated datasets by role, with the study definition and where they came from."""

    study: Study
    frames: dict[str, pd.DataFrame]
    data_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    validation: ValidationReport | None = None

    def __getitem__(self, role: str) -> pd.DataFrame:
        return self.frames[role]

    def __contains__(self, role: str) -> bool:
        return role in self.frames

    @property
    def adsl(self) -> pd.DataFrame:
        """The subject-level dataset."""
        return self.frames["adsl"]


def load_trial(data_dir: Path | None = None, spec_dir: Path | None = None,
               study: Study | Path | None = None) -> TrialData:
    """Validate ``data_dir`` against ``spec_dir`` and return the typed datasets by role.

    Raises :class:`trialreport.validation.DataValidationError` when any rule is broken.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    spec_dir = Path(spec_dir) if spec_dir is not None else default_spec_dir()
    if not isinstance(study, Study):
        study = load_study(Path(study) if study is not None else default_study_file())
    spec = load_specification(spec_dir)
    report = load_validated(data_dir, spec)
    by_stem = {ds.file: name for name, ds in spec.datasets.items()}
    frames, files = {}, {}
    for role, stem in study.raw.get("datasets", {}).items():
        name = by_stem.get(stem, stem.upper())
        if name in report.datasets:
            frames[role] = report.datasets[name]
            files[role] = report.files[name]
    return TrialData(study=study, frames=frames, data_dir=data_dir, files=files,
                     validation=report)


def trial_from_frames(study: Study, frames: dict[str, pd.DataFrame]) -> TrialData:
    """Wrap already-typed frames (e.g. a synthetic trial built in tests) without validation."""
    return TrialData(study=study, frames=dict(frames), data_dir=Path("."))
