"""Build the ARD of a trial: the big N of every population, then each output's own rows.

Each output of the study definition computes its rows through its registered type
(:mod:`trialreport.outputs`); its ``analysis`` key is the output's name, so every numbered
output is reproducible on its own from its rows. Provenance (input checksums, package versions)
goes into the metadata.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.analysis_sets import big_n
from trialreport.ard._frame import concat_frames, stack_statistics
from trialreport.ard._table import ARD, POPULATION
from trialreport.checksums import sha256_file
from trialreport.data import TrialData

__all__ = ["ARD_SCHEMA_VERSION", "ard_metadata", "build_ard", "build_ard_from_paths",
           "output_rows", "population_rows"]

ARD_SCHEMA_VERSION = "2.0"
_PACKAGES = ("trialreport", "pandas", "numpy", "scipy", "statsmodels", "pingouin", "lifelines")


def _version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def population_rows(data: TrialData) -> pd.DataFrame:
    """ARD rows ``analysis="population"``: variable ``N``, statistic ``n`` per population, arm
    and total."""
    frames = []
    for code in data.study.populations:
        ns = big_n(data, code)
        wide = pd.DataFrame({"group": list(ns), "n": [float(v) for v in ns.values()]})
        frames.append(stack_statistics(wide, ["n"], analysis=POPULATION, population=code,
                                       variable="N"))
    return concat_frames(frames)


def output_rows(data: TrialData) -> list[pd.DataFrame]:
    """Each output's ARD rows, in study-definition order (outputs without rows add none)."""
    from trialreport.outputs import output_type

    frames = []
    for spec in data.study.output_specs:
        compute = output_type(spec.type).compute
        if compute is not None:
            frames.append(compute(data, spec))
    return frames


def ard_metadata(data: TrialData) -> dict[str, Any]:
    """Provenance of an ARD: study, outputs, inputs with SHA-256, package versions."""
    study = data.study
    inputs = {}
    for role in sorted(data.frames):
        path = data.files.get(role)
        if path is not None and Path(path).is_file():
            inputs[role] = {"file": Path(path).name, "sha256": sha256_file(Path(path))}
        else:  # frames built in memory (tests, benchmarks): no file to checksum
            frame = data.frames[role]
            inputs[role] = {"file": "", "sha256": "", "records": int(len(frame)),
                            "columns": [str(c) for c in frame.columns],
                            "hashed": "not hashed: an in-memory frame, not a file"}
    if study.path is not None and Path(study.path).is_file():
        study_sha = sha256_file(Path(study.path))
    else:
        study_sha = hashlib.sha256(json.dumps(study.model.model_dump(mode="json"),
                                              sort_keys=True).encode()).hexdigest()
    combined = hashlib.sha256(
        (study_sha + "".join(f"{r}:{v['sha256']}" for r, v in inputs.items())).encode()
    ).hexdigest()
    versions = {name: _version(name) for name in _PACKAGES}
    return {
        "ard_schema": ARD_SCHEMA_VERSION,
        "study_id": study.id,
        "report_version": study.report_version,
        "study_definition": {"file": Path(study.path).name if study.path is not None else "",
                             "sha256": study_sha},
        "inputs": inputs,
        "arms": [{"code": a.code, "label": a.display} for a in study.arms],
        "total_label": study.total_label,
        "populations": {c: p.label for c, p in study.populations.items()},
        "outputs": {o.name: {"number": o.id, "type": o.type, "kind": o.kind, "title": o.title,
                             "population": o.population or ""} for o in study.output_specs},
        "packages": versions,
        "version_stamp": f"{study.id} ARD {ARD_SCHEMA_VERSION} / trialreport "
                         f"{versions['trialreport']} / inputs {combined[:12]}",
    }


def build_ard(data: TrialData) -> ARD:
    """Every result the study definition asks for, computed from ``data``.

    Deterministic: two builds from the same inputs are identical (rows, values, metadata).
    Raises :class:`trialreport.ard.ARDError` if the table breaks the contract (a bug).
    """
    frame = concat_frames([population_rows(data), *output_rows(data)])
    return ARD(frame=frame, metadata=ard_metadata(data)).validate()


def build_ard_from_paths(data_dir: str | Path, spec_dir: str | Path,
                         study_file: str | Path) -> ARD:
    """Validate the data folder, load and check the study definition, build the ARD.

    Raises :class:`trialreport.validation.DataValidationError` (data break the specification)
    or :class:`trialreport.study.StudyDefinitionError` (the definition is malformed or names
    what the data lack).
    """
    from trialreport.data import load_trial

    return build_ard(load_trial(Path(data_dir), Path(spec_dir), Path(study_file)))
