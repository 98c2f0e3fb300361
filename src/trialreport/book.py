"""One-line calls for the report's chapters.

Every chapter starts with::

    from trialreport.book import book
    b = book()          # validated data, ARD, study definition, prose numbers (cached)
    n = b.n             # numbers for prose: `{python} n.response("RESP6")`

and then shows outputs with ``b.table("efficacy")`` / ``b.figure("consort")``. Chapters hold no
analysis logic: everything here only looks things up or formats them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from trialreport.analysis.ard import ARD, build_ard
from trialreport.data import TrialData, load_trial
from trialreport.paths import data_dir, project_root, spec_dir, study_file
from trialreport.prose import Numbers
from trialreport.study import Study, load_study


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

    @cached_property
    def study(self) -> Study:
        """The study definition."""
        return load_study(study_file(self.root))

    @cached_property
    def data(self) -> TrialData:
        """The validated trial data."""
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
    def info(self) -> dict[str, Any]:
        """The ``study:`` block of the study definition (title, registration, reference)."""
        return self.study.info

    def endpoint(self, endpoint_id: str, field: str = "label") -> str:
        """A field (``label``, ``definition``) of a binary endpoint of the study definition."""
        from trialreport.analysis.efficacy import endpoint

        return str(endpoint(self.data, endpoint_id).get(field, ""))

    # -- outputs --------------------------------------------------------------------------
    def table(self, name: str, title: bool = False) -> Any:
        """Table ``name`` of the study definition (``baseline``, ``efficacy``, ...).

        In the book the chapter's caption carries the numbered title ("Table 5.1: ...
        (Table 14.2.1)"), so by default the table's own header keeps only the population line;
        ``title=True`` keeps the standalone ICH title ("Table 14.2.1 ...") as well.
        """
        from trialreport.tables import CsrTable, build

        return CsrTable(name, build(name, self.ard, self.study, data=self.data, title=title))

    def caption(self, name: str) -> str:
        """The in-book caption of output ``name``: "<title> (Table 14.2.1)"."""
        spec = self.study.output(name)
        return f"{spec.title} ({spec.kind.capitalize()} {spec.id})"

    def figure(self, name: str, dpi: int = 200) -> Any:
        """Figure ``name`` of the study definition (``consort``, ...) as a PNG image."""
        import matplotlib.pyplot as plt
        from IPython.display import Image

        from trialreport.figures import build_figure

        fig = build_figure(self.data, name)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        plt.close(fig)
        return Image(data=buffer.getvalue(), format="png")

    def title(self, name: str) -> str:
        """"Table 14.2.1 Response ..." for output ``name`` (for captions and prose)."""
        return self.study.output(name).caption

    def number(self, name: str) -> str:
        """The ICH E3 number of output ``name`` ("14.2.1")."""
        return self.study.output(name).id

    # -- text blocks ----------------------------------------------------------------------
    def design(self) -> Markdown:
        """Arms, dosing, populations and endpoints, written from the study definition."""
        from trialreport.methods import design_markdown

        return Markdown(design_markdown(self.study))

    def statistical_methods(self) -> Markdown:
        """Each analysis with the test or confidence-interval method it uses, from the ARD."""
        from trialreport.methods import statistical_methods_markdown

        return Markdown(statistical_methods_markdown(self.study, self.ard))

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

    def data_checksums(self) -> Markdown:
        """One line per input data file with its SHA-256 (title page), from the stamp."""
        from trialreport.methods import checksum_table

        return Markdown(checksum_table(self.stamp["data"], prefix=""))

    def history(self) -> Markdown:
        """The document history table from CHANGELOG.md."""
        from trialreport.history import history_markdown, read_history

        return Markdown(history_markdown(read_history(self.root / "CHANGELOG.md")))

    def synthetic_choices(self) -> Markdown:
        """The reconstruction choices recorded beside synthetic data (``reconstruction.yml`` in
        the data folder), as a numbered list."""
        import html

        import yaml

        from trialreport.demodata import RECONSTRUCTION_FILE

        path = self.data_dir / RECONSTRUCTION_FILE
        if not path.is_file():
            return Markdown(f"The data folder records no reconstruction (no "
                            f"`{RECONSTRUCTION_FILE}`).\n")
        choices = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("choices", [])
        return Markdown("\n".join(f"{i}. {html.escape(str(c), quote=False)}"
                                  for i, c in enumerate(choices, 1)) + "\n")


@lru_cache(maxsize=4)
def _book(root: str, data: str, spec: str) -> Book:
    return Book(root=Path(root), data_dir=Path(data), spec_dir=Path(spec))


def book() -> Book:
    """The report's book context for the current project and data folder (cached)."""
    root = project_root()
    return _book(str(root), str(data_dir(root)), str(spec_dir(root)))
