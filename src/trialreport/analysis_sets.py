"""Analysis sets: which subjects, in which arm, and the big N of every column.

A population is the ADSL records whose population flag (``populations.<code>.flag``) equals its
``flag_value`` ("Y"); each subject is placed in the arm given by the population's
``arm_variable`` (planned arm for efficacy sets, actual arm for the safety set). The study
definition is checked against the data first (:func:`trialreport.study.check_against_data`), so
every subject of a population is in a declared arm; :func:`population_adsl` still refuses a
stray one rather than drop it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialreport.data import TrialData

__all__ = ["ARM", "YES", "as_text", "big_n", "flag_set", "population_adsl"]

ARM = "_ARM"  # column added by population_adsl: the subject's arm (categorical, study order)
YES = "Y"


def as_text(values: pd.Series) -> pd.Series:
    """Codes as stripped text ("1" not "1.0"), missing or blank as ``None`` (object dtype).

    Converts each distinct value once (``pd.factorize``, or a categorical's own codes), so it
    is fast on 10^6 records.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):  # coded columns: no pass over records
        codes = values.cat.codes.to_numpy()
        uniques = np.asarray(values.cat.categories, dtype=object)
    else:
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
    return as_text(values).to_numpy(dtype=object) == yes


def population_adsl(data: TrialData, population: str) -> pd.DataFrame:
    """ADSL records of one population with its arm in column :data:`ARM`.

    Returns the population's ADSL rows (original order) plus :data:`ARM`, a categorical whose
    categories are all study arms in display order (so empty arms stay visible in
    ``groupby(..., observed=False)``); the frame is shared by every output of a build, so
    callers select from it and never modify it. Raises ``ValueError`` when a subject of the
    population is in no declared arm (the definition check reports this first, with file and
    line).
    """
    cached = data.cache.get(("population", population))
    if cached is not None:
        return cached
    study = data.study
    pop = study.population(population)
    adsl = data.adsl
    arms = study.arm_codes
    arm = as_text(adsl[pop.arm_variable])
    inside = flag_set(adsl[pop.flag], pop.flag_value)
    stray = inside & ~arm.isin(arms).to_numpy(dtype=bool)
    if stray.any():
        values = sorted(set(arm[stray].fillna("(missing)")))
        raise ValueError(f"population {population}: {int(stray.sum())} subject(s) with "
                         f"{pop.arm_variable} not among the arms: {values}")
    out = adsl.loc[inside].copy()
    out[ARM] = pd.Categorical(arm[inside], categories=arms)
    data.cache[("population", population)] = out  # shared by the outputs: never modify it
    return out


def big_n(data: TrialData, population: str) -> dict[str, int]:
    """Subjects per arm and in total (the column headers' N), in display order."""
    pop = population_adsl(data, population)
    counts = pop[ARM].value_counts(sort=False).reindex(data.study.arm_codes, fill_value=0)
    out = {code: int(n) for code, n in counts.items()}
    out[data.study.total_label] = int(counts.sum())
    return out
