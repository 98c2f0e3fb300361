"""Analysis populations: which subjects, in which arm, and the big N of every column.

A population is the ADSL records whose population flag (``populations.<code>.flag``) is "Y";
each subject is placed in the arm given by the population's ``arm_variable`` (planned arm for
efficacy sets, actual arm for the safety set). Subjects whose arm is not one of the study's
arms are left out, so the total is always the sum of the arms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialreport.analysis.ard import concat_frames, stack_statistics
from trialreport.data import TrialData
from trialreport.study import Study, StudyDefinitionError

__all__ = ["ARM", "YES", "arm_codes", "as_text", "big_n", "flag_set",
           "population_adsl", "population_ard", "subject_variable"]

ARM = "_ARM"  # column added by population_adsl: the subject's arm (categorical, study order)
YES = "Y"


def as_text(values: pd.Series) -> pd.Series:
    """Codes as stripped text ("1" not "1.0"), missing or blank as ``None`` (object dtype).

    Converts each distinct value once (``pd.factorize``), so it is fast on 10^6 records.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniq = np.asarray(uniques, dtype=object)
    texts = np.empty(len(uniq) + 1, dtype=object)
    for i, u in enumerate(uniq):
        if isinstance(u, float) and u.is_integer():
            u = int(u)
        t = u.strip() if isinstance(u, str) else str(u)
        texts[i] = t or None
    texts[-1] = None  # code -1 (missing) picks the last slot
    return pd.Series(texts[codes], index=values.index, dtype=object)


def flag_set(values: pd.Series, yes: str = YES) -> np.ndarray:
    """Boolean array: the flag equals ``yes``."""
    return (as_text(values).to_numpy(dtype=object) == yes)


def subject_variable(study: Study) -> str:
    """Subject identifier variable (``subject_variable`` in the definition, else USUBJID)."""
    return str(study.raw.get("subject_variable", "USUBJID"))


def arm_codes(study: Study) -> list[str]:
    """Arm codes in display order."""
    return [a.code for a in study.arms]


def population_adsl(data: TrialData, population: str) -> pd.DataFrame:
    """ADSL records of one population with its arm in column :data:`ARM`.

    Parameters
    ----------
    data : TrialData
        Loaded trial.
    population : str
        Population code from the study definition (e.g. ``FAS``).

    Returns
    -------
    DataFrame
        The population's ADSL rows (original order) plus :data:`ARM`, a categorical whose
        categories are all study arms in display order (so empty arms stay visible in
        ``groupby(..., observed=False)``).
    """
    study = data.study
    try:
        pop = study.populations[population]
    except KeyError:
        raise StudyDefinitionError(f"{study.path}: no population {population!r}") from None
    adsl = data.adsl
    arms = arm_codes(study)
    arm = as_text(adsl[pop.arm_variable])
    keep = flag_set(adsl[pop.flag]) & arm.isin(arms).to_numpy(dtype=bool)
    out = adsl.loc[keep].copy()
    out[ARM] = pd.Categorical(arm[keep], categories=arms)
    return out


def big_n(data: TrialData, population: str) -> dict[str, int]:
    """Subjects per arm and in total (the column headers' N), in display order."""
    pop = population_adsl(data, population)
    counts = pop[ARM].value_counts(sort=False).reindex(arm_codes(data.study), fill_value=0)
    out = {code: int(n) for code, n in counts.items()}
    out[data.study.total_label] = int(counts.sum())
    return out


def population_ard(data: TrialData) -> pd.DataFrame:
    """ARD rows ``analysis="population"``: variable ``N``, statistic ``n`` per population,
    arm and total."""
    frames = []
    for code in data.study.populations:
        ns = big_n(data, code)
        wide = pd.DataFrame({"group": list(ns), "n": [float(v) for v in ns.values()]})
        frames.append(stack_statistics(wide, ["n"], analysis="population", population=code,
                                       variable="N"))
    return concat_frames(frames)
