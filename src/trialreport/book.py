"""One-line calls for a report's chapters.

Every chapter starts with::

    import trialreport as tr
    b = tr.open_book()      # study definition, validated data, ARD, prose numbers (cached)
    n = b.n                 # numbers for prose: `{python} n.response("RESP6")`

and then shows outputs with ``b.table("baseline")`` / ``b.figure("consort")`` (names from
``outputs:`` in the study definition). Chapters hold no analysis logic: everything here only
looks things up or formats them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from trialreport.ard import ARD, build_ard
from trialreport.data import TrialData, load_trial
from trialreport.paths import data_dir, project_root, spec_dir, study_file
from trialreport.prose import Numbers
from trialreport.study import Study, load_study

__all__ = ["Book", "Markdown", "book", "open_book"]


class Markdown(str):
    """Markdown text that Jupyter displays as ``text/markdown`` (rendered by both engines)."""

    def _repr_markdown_(self) -> str:
        return str(self)


@dataclass
class Book:
    """What a chapter needs, loaded on first use: the study definition, the validated trial
    data and their ARD (a chapter that only shows the specification never loads the data)."""

    root: Path
    data_dir: Path
    spec_dir: Path
    study_path: Path | None = None

    @cached_property
    def study(self) -> Study:
        """The study definition (validated; see docs/study.md)."""
        return load_study(self.study_path or study_file(self.root))

    @cached_property
    def data(self) -> TrialData:
        """The validated trial data (the study definition checked against them)."""
        return load_trial(self.data_dir, self.spec_dir, self.study)

    @cached_property
    def ard(self) -> ARD:
        """The analysis results data of :attr:`data`."""
        return build_ard(self.data)

    @cached_property
    def stamp(self) -> dict[str, Any]:
        """The version stamp of the render in progress (data checksums, package versions)."""
        from trialreport.versioning import current_stamp

        return current_stamp(self.root, self.data_dir, self.spec_dir)

    @cached_property
    def n(self) -> Numbers:
        """Formatted numbers for prose, straight from the ARD."""
        return Numbers(self.ard, self.study)

    @property
    def info(self) -> Any:
        """The ``study:`` block (facts with their sources)."""
        return self.study.info

    def fact(self, name: str, default: str = "") -> str:
        """The text of fact ``study.<name>`` (``default`` when the definition has none)."""
        fact = self.study.fact(name)
        return fact.text if fact is not None else default

    def published(self, result: str) -> str:
        """A result as the publication prints it (``study.published``), e.g. "10/23 (44%)"."""
        for fig in self.study.info.published:
            if fig.result == result:
                return fig.text
        raise KeyError(f"the study definition quotes no published figure for {result!r}")

    def endpoint(self, endpoint_id: str, field: str = "label") -> str:
        """A field (``label``, ``definition``) of a binary endpoint of the study definition."""
        return str(getattr(self.study.endpoint(endpoint_id), field) or "")

    def parameter(self, param: str, field: str = "label") -> str:
        """A field (``label``, ``paramcd``, ``event_label``) of a time-to-event parameter of the
        study definition, by id or PARAMCD."""
        return str(getattr(self.study.tte(param), field) or "")

    def event(self, param: str) -> str:
        """The event of a time-to-event parameter ("disease progression"): ``event_label``,
        else read from its label ("Time to disease progression"); "event" when neither
        names one."""
        from trialreport.families.time_to_event import event_name

        return event_name(self.study.tte(param)) or "event"

    def population_name(self, code: str) -> str:
        """A population's label for running text: its first letter in lower case unless the
        label starts with an abbreviation ("Safety set" -> "safety set", "ITT set" stays)."""
        label = self.study.population(code).label
        return label[:1].lower() + label[1:] if label[1:2].islower() else label

    def origin(self, param: str) -> str:
        """The time origin of a landmark time-to-event analysis ("month 6")."""
        spec = self.study.tte(param)
        if spec.origin is None:
            return "the start of follow-up"
        return spec.origin.label or f"{spec.origin.time:g} {spec.origin.unit}"

    def subset(self, param: str) -> str:
        """Who a time-to-event analysis includes ("responders at month 6")."""
        from trialreport.families.time_to_event import subset_label

        spec = self.study.tte(param)
        return subset_label(self.study, spec) or self.study.population(spec.population).label

    # -- outputs ----------------------------------------------------------------------------
    def output(self, name: str, title: bool = False) -> Any:
        """Output ``name`` of the study definition: a table or listing (great_tables) for
        display, or a figure image."""
        spec = self.study.output(name)
        return self.figure(name) if spec.kind == "figure" else self.table(name, title)

    def table(self, name: str, title: bool = False) -> Any:
        """Table or listing ``name`` of the study definition.

        In the book the chapter's caption carries the numbered title ("Table 5.1: ...
        (Table 14.2.1)"), so by default the table's own header keeps only the population line;
        ``title=True`` keeps the standalone ICH title ("Table 14.2.1 ...") as well.
        """
        from trialreport.tables import CsrTable, build_output

        return CsrTable(name, build_output(self.study, name, self.ard, self.data, title=title))

    def figure(self, name: str) -> Any:
        """Figure ``name`` of the study definition, for display (PNG and SVG)."""
        import matplotlib.pyplot as plt

        from trialreport.figures.save import display_figure
        from trialreport.tables import build_output

        fig = build_output(self.study, name, self.ard, self.data)
        try:
            return display_figure(fig)
        finally:
            plt.close(fig)

    def caption(self, name: str) -> str:
        """The in-book caption of output ``name``: "<title> (Table 14.2.1)"."""
        spec = self.study.output(name)
        return f"{spec.title} ({spec.label})"

    def title(self, name: str) -> str:
        """"Table 14.2.1 Response ..." for output ``name`` (for captions and prose)."""
        return self.study.output(name).caption

    def number(self, name: str) -> str:
        """The ICH E3 number of output ``name`` ("14.2.1")."""
        return self.study.output(name).id

    # -- text blocks ----------------------------------------------------------------------
    def title_page(self) -> Markdown:
        """The ICH E3 title page items as a table: facts from the study definition, dates from
        the data, report version and date, tool version."""
        from trialreport.methods import title_page_markdown

        return Markdown(title_page_markdown(self))

    def synopsis_facts(self) -> Markdown:
        """Sourced facts of the synopsis (design, objectives, treatment, ...) as a table."""
        from trialreport.methods import synopsis_facts_markdown

        return Markdown(synopsis_facts_markdown(self.study))

    def abbreviations(self) -> Markdown:
        """The list of abbreviations: every abbreviation the report's tables define."""
        from trialreport.methods import abbreviations_markdown

        return Markdown(abbreviations_markdown(self))

    def design(self) -> Markdown:
        """Arms, populations and endpoints, written from the study definition."""
        from trialreport.methods import design_markdown

        return Markdown(design_markdown(self.study))

    def statistical_methods(self) -> Markdown:
        """Each analysis with the test or confidence-interval method it uses, from the ARD."""
        from trialreport.methods import statistical_methods_markdown

        return Markdown(statistical_methods_markdown(self.study, self.ard))

    def sources(self) -> Markdown:
        """The sources of the facts the report states, and which facts come from each."""
        from trialreport.methods import sources_markdown

        return Markdown(sources_markdown(self.study))

    def specification(self) -> Markdown:
        """The data specification as readable tables (appendix)."""
        from trialreport.spec import load_specification
        from trialreport.spec.describe import specification_markdown

        return Markdown(specification_markdown(load_specification(self.spec_dir), 2))

    def validation(self) -> Markdown:
        """The validation report of the data folder this report was computed from."""
        from trialreport.methods import validation_markdown

        return Markdown(validation_markdown(self.data))

    def reproducibility(self) -> Markdown:
        """Package versions and data checksums of this render."""
        from trialreport.methods import reproducibility_markdown

        return Markdown(reproducibility_markdown(self.stamp))

    def history(self) -> Markdown:
        """The document history table from the study's CHANGELOG.md."""
        from trialreport.history import history_markdown, read_history

        return Markdown(history_markdown(read_history(self.root / "CHANGELOG.md")))

    def changes(self, report_dir: str | Path | None = None) -> Markdown:
        """The results that changed since the previous report version, output by output, for
        the document history ("No earlier version." when there is none).

        The previous version is the newest other version among ``report/ard.json`` (the last
        published report) and ``report/history/v*/`` (kept by ``trialreport render``);
        ``report_dir`` defaults to the project's ``report/``.
        """
        from trialreport.compare import changes_markdown, changes_since_previous

        folder = Path(report_dir) if report_dir is not None else self.root / "report"
        found = changes_since_previous(self.ard, folder, self.study.report_version)
        return Markdown(changes_markdown(found))

    def reconstruction_choices(self) -> Markdown:
        """Every reconstruction choice: the facts the definition marks as reconstruction and
        the choices recorded beside synthetic data (``reconstruction.yml``), numbered."""
        from trialreport.methods import reconstruction_markdown

        return Markdown(reconstruction_markdown(self.study, self.data_dir))

    synthetic_choices = reconstruction_choices


@lru_cache(maxsize=4)
def _book(root: str, data: str, spec: str, study: str) -> Book:
    return Book(root=Path(root), data_dir=Path(data), spec_dir=Path(spec),
                study_path=Path(study))


def open_book(project: str | Path | None = None) -> Book:
    """The book of the study project ``project`` (default: the one around the current folder,
    or ``$TRIALREPORT_PROJECT``); cached, so every cell of a chapter shares one."""
    root = Path(project).resolve() if project is not None else project_root()
    return _book(str(root), str(data_dir(root)), str(spec_dir(root)), str(study_file(root)))


def book() -> Book:
    """The report's book context for the current project (same as :func:`open_book`)."""
    return open_book()
