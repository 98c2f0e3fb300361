"""Load a study definition: strict YAML, the typed model, then every cross-reference in it.

Checks made here, before any data are read (:mod:`trialreport.study._check` checks the data):

* every key is known (nearest valid key named), every value has its type;
* every fact names a defined source; a quote must occur in the source's text file when the source
  has one;
* populations, endpoints, time-to-event parameters and output names referred to exist; output
  names are unique, and each output's own keys fit its registered type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trialreport.study._errors import StudyDefinitionError, describe_errors
from trialreport.study._model import (
    Fact,
    OutputEntry,
    PublishedFigure,
    Registration,
    StudyDefinition,
)
from trialreport.study._study import OutputSpec, Study
from trialreport.study._yaml import LocatedYaml, YamlError, load_located

__all__ = ["load_study", "study_from_mapping"]


def _facts(model: StudyDefinition) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every sourced statement with its key path."""
    info = model.study
    for name in type(info).model_fields:
        value = getattr(info, name)
        if isinstance(value, Fact):
            yield ("study", name), value
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, (Registration, PublishedFigure)):
                    yield ("study", name, i), item


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip().lower()


def _check_sources(model: StudyDefinition, where: Any, folder: Path | None) -> list[str]:
    problems = []
    texts: dict[str, str] = {}
    for key, source in model.sources.items():
        if source.file is None:
            continue
        path = Path(source.file)
        if not path.is_absolute() and folder is not None:
            path = folder / path
        try:
            texts[key] = _normalise(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{where('sources', key, 'file')}: cannot read {path}: {exc}")
    if model.study.publication is not None and model.study.publication not in model.sources:
        problems.append(f"{where('study', 'publication')}: {model.study.publication!r} is not a "
                        f"key of sources ({', '.join(model.sources) or 'none defined'})")
    for loc, fact in _facts(model):
        if fact.source not in model.sources:
            problems.append(f"{where(*loc, 'source')}: source {fact.source!r} is not defined "
                            f"under sources ({', '.join(model.sources) or 'none defined'})")
            continue
        if fact.source in texts:
            if not fact.quote:
                problems.append(f"{where(*loc)}: source {fact.source!r} has a text file, so "
                                "give the words of the source that support this ('quote:')")
            elif _normalise(fact.quote) not in texts[fact.source]:
                problems.append(f"{where(*loc, 'quote')}: the quote is not in the text of "
                                f"source {fact.source!r}: {fact.quote!r}")
    return problems


def _check_references(model: StudyDefinition, where: Any) -> list[str]:
    problems = []
    pops = set(model.populations)

    def need_population(code: str | None, *loc: Any) -> None:
        if code is not None and code not in pops:
            problems.append(f"{where(*loc)}: population {code!r} is not defined under "
                            f"populations ({', '.join(sorted(pops))})")

    if model.baseline:
        need_population(model.baseline.population, "baseline", "population")
    if model.exposure:
        need_population(model.exposure.population, "exposure", "population")
    if model.safety:
        need_population(model.safety.population, "safety", "population")
    if model.swimmer:
        need_population(model.swimmer.population, "swimmer", "population")
    endpoints = {e.id for e in model.endpoints.binary}
    seen_ids: set[str] = set()
    for i, ep in enumerate(model.endpoints.binary):
        need_population(ep.population, "endpoints", "binary", i, "population")
        if ep.id in seen_ids:
            problems.append(f"{where('endpoints', 'binary', i, 'id')}: endpoint id {ep.id!r} "
                            "is used twice")
        seen_ids.add(ep.id)
    tte_ids: set[str] = set()
    for i, tte in enumerate(model.time_to_event):
        need_population(tte.population, "time_to_event", i, "population")
        if tte.id in tte_ids:
            problems.append(f"{where('time_to_event', i, 'id')}: parameter id {tte.id!r} is "
                            "used twice")
        tte_ids.add(tte.id)
        if tte.subset is not None and tte.subset not in endpoints:
            problems.append(f"{where('time_to_event', i, 'subset')}: {tte.subset!r} is not a "
                            f"binary endpoint id ({', '.join(sorted(endpoints)) or 'none'})")
    seen: set[str] = set()
    for i, fig in enumerate(model.study.published):
        if fig.result in seen:
            problems.append(f"{where('study', 'published', i, 'result')}: {fig.result!r} is "
                            "quoted twice")
        seen.add(fig.result)
    for i, entry in enumerate(model.outputs):
        need_population(entry.population, "outputs", i, "population")
    return problems


def _output_specs(model: StudyDefinition, source: LocatedYaml | None, path: Path | None,
                  where: Any) -> tuple[list[OutputSpec], list[str]]:
    """Validate each output's own keys against its registered type."""
    from trialreport.outputs import output_type

    problems: list[str] = []
    specs: list[OutputSpec] = []
    names: dict[str, int] = {}
    numbers: dict[tuple[str, str], int] = {}
    common = set(OutputEntry.model_fields)
    for i, entry in enumerate(model.outputs):
        if entry.name in names:
            problems.append(f"{where('outputs', i, 'name')}: output name {entry.name!r} is also "
                            f"used by outputs[{names[entry.name]}]")
        names.setdefault(entry.name, i)
        try:
            otype = output_type(entry.type)
        except KeyError as exc:
            problems.append(f"{where('outputs', i, 'type')}: {exc.args[0]}")
            continue
        number_key = (otype.kind, entry.id)
        if number_key in numbers:
            problems.append(f"{where('outputs', i, 'id')}: {otype.kind} number {entry.id} is "
                            f"also used by outputs[{numbers[number_key]}]")
        numbers.setdefault(number_key, i)
        own = {k: v for k, v in (entry.model_extra or {}).items() if k not in common}
        try:
            options = otype.options.model_validate(own)
        except ValidationError as exc:
            problems += describe_errors(exc, otype.options, source, path, ("outputs", i))
            continue
        spec = OutputSpec(entry=entry, kind=otype.kind, options=options, index=i)
        specs.append(spec)
    return specs, problems


def study_from_mapping(raw: Any, path: Path | None = None,
                       source: LocatedYaml | None = None) -> Study:
    """Validate a parsed study definition (``raw``) and return the :class:`Study`.

    Raises :class:`StudyDefinitionError` listing every problem (file, line, key).
    """
    where_file = str(path) if path is not None else "study definition"

    def where(*loc: Any) -> str:
        from trialreport.study._errors import key_path

        line = source.line(loc) if source is not None else None
        return f"{where_file}:{line}: {key_path(loc)}" if line else \
            f"{where_file}: {key_path(loc)}"

    if not isinstance(raw, dict):
        raise StudyDefinitionError(f"{where_file}: expected a mapping of blocks (report, study, "
                                   "arms, populations, ...), got "
                                   f"{type(raw).__name__}")
    try:
        model = StudyDefinition.model_validate(raw)
    except ValidationError as exc:
        raise StudyDefinitionError(describe_errors(exc, StudyDefinition, source, path)) \
            from None
    folder = path.parent if path is not None else None
    problems = _check_sources(model, where, folder) + _check_references(model, where)
    specs, output_problems = _output_specs(model, source, path, where)
    problems += output_problems
    study = Study(model=model, path=path, source=source, output_specs=tuple(specs))
    if not output_problems:
        from trialreport.outputs import output_type

        for spec in specs:
            check = output_type(spec.type).check
            if check is not None:
                problems += [f"{where('outputs', spec.index)}: {p}" for p in check(study, spec)]
    if problems:
        raise StudyDefinitionError(problems)
    return study


def load_study(path: Path | str) -> Study:
    """Read and validate a study definition file (``data_spec/study.yml``).

    Raises :class:`StudyDefinitionError` with every problem, each naming file, line and key.
    """
    path = Path(path)
    try:
        located = load_located(path)
    except YamlError as exc:
        raise StudyDefinitionError(str(exc)) from None
    return study_from_mapping(located.value, path, located)
