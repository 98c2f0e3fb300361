"""The registry of output types: each family of analyses registers the outputs it makes.

A family is one module of :mod:`trialreport.families` (population, disposition, baseline,
exposure, binary endpoints, time to event, adverse events, listings, patient profiles). It
registers each output type it offers with :func:`register`: the options its study-definition entry
may carry (a strict pydantic model), the ARD rows it computes and how it builds its table, figure
or listing. The study definition selects outputs by ``type:``; this registry finds the family, so
adding a family is adding one module and touches no other.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import pandas as pd

    from trialreport.data import TrialData
    from trialreport.study import OutputSpec, Study

__all__ = ["NoOptions", "OutputContext", "OutputType", "output_type", "output_types",
           "register"]

Kind = Literal["table", "figure", "listing"]


class NoOptions(BaseModel):
    """An output type without options of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class OutputContext:
    """What a builder gets: the output, the study, the ARD and (for listings and figures drawn
    from records) the trial data; ``title`` keeps the standalone numbered title in the table."""

    spec: OutputSpec
    study: Study
    ard: Any
    data: TrialData | None = None
    title: bool = True


@dataclass(frozen=True)
class OutputType:
    """A registered output type.

    ``compute(data, spec)`` returns the output's ARD rows (``None`` when it has none);
    ``build(context)`` returns a ``great_tables.GT`` (tables, listings) or a matplotlib figure;
    ``datasets(study, spec)`` names the dataset roles it reads (for its source line and the
    checks against the data); ``check(study, spec)`` returns problems with the definition;
    ``subset(study, spec)`` names the part of the population a figure shows ("responders at
    month 6"; ``None``: all of it), for its population line.
    """

    name: str
    kind: Kind
    options: type[BaseModel]
    build: Callable[[OutputContext], Any]
    compute: Callable[[TrialData, OutputSpec], pd.DataFrame] | None = None
    datasets: Callable[[Study, OutputSpec], list[str]] | None = None
    check: Callable[[Study, OutputSpec], list[str]] | None = None
    subset: Callable[[Study, OutputSpec], str | None] | None = None
    family: str = ""
    description: str = ""


_REGISTRY: dict[str, OutputType] = {}
_DISCOVERED = False


def register(name: str, kind: Kind, *, options: type[BaseModel] = NoOptions,
             compute: Callable[..., Any] | None = None,
             datasets: Callable[..., list[str]] | None = None,
             check: Callable[..., list[str]] | None = None,
             subset: Callable[..., str | None] | None = None,
             description: str = "") -> Callable[[Callable[[OutputContext], Any]],
                                                 Callable[[OutputContext], Any]]:
    """Decorator registering ``build`` as the builder of output type ``name``."""

    def decorate(build: Callable[[OutputContext], Any]) -> Callable[[OutputContext], Any]:
        if name in _REGISTRY and _REGISTRY[name].build is not build:
            raise ValueError(f"output type {name!r} is registered twice "
                             f"({_REGISTRY[name].family} and {build.__module__})")
        _REGISTRY[name] = OutputType(name=name, kind=kind, options=options, build=build,
                                     compute=compute, datasets=datasets, check=check,
                                     subset=subset,
                                     family=build.__module__.rsplit(".", 1)[-1],
                                     description=description or (build.__doc__ or "")
                                     .strip().splitlines()[0])
        return build

    return decorate


def _discover() -> None:
    """Import every module of :mod:`trialreport.families` (each registers its types)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import trialreport.families as families

    for info in sorted(pkgutil.iter_modules(families.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{families.__name__}.{info.name}")
    _DISCOVERED = True


def output_types() -> dict[str, OutputType]:
    """Every registered output type by name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def output_type(name: str) -> OutputType:
    """The output type called ``name`` (``KeyError`` naming the nearest types)."""
    types = output_types()
    try:
        return types[name]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(name, list(types), n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise KeyError(f"unknown output type {name!r}{hint} (types: {', '.join(types)})") \
            from None
