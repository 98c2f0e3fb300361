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
from trialreport.paths import data_dir, project_root, spec_dir
from trialreport.prose import Numbers
from trialreport.study import Study


class Markdown(str):
    """Markdown text that Jupyter displays as ``text/markdown`` (rendered by both engines)."""

    def _repr_markdown_(self) -> str:
        return str(self)


@dataclass
class Book:
    """What a chapter needs: the validated trial data, its ARD and the study definition."""

    root: Path
    data: TrialData
    ard: ARD

    @property
    def study(self) -> Study:
        """The study definition."""
        return self.data.study

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
        for e in (self.study.section("endpoints") or {}).get("binary", []):
            if e["id"] == endpoint_id:
                return str(e.get(field, ""))
        raise KeyError(f"no endpoint {endpoint_id!r} in the study definition")

    # -- outputs --------------------------------------------------------------------------
    def table(self, name: str, title: bool = False) -> Any:
        """Table ``name`` of the study definition (``baseline``, ``efficacy``, ...).

        In the book the chapter's caption carries the numbered title ("Table 5.1: ...
        (Table 14.2.1)"), so by default the table's own header keeps only the population line;
        ``title=True`` keeps the standalone ICH title ("Table 14.2.1 ...") as well.
        """
        from great_tables import loc, style

        from trialreport.tables import CsrTable, build, sae_listing_table

        if name == "sae_listing":
            from trialreport.analysis.safety import sae_listing

            gt = sae_listing_table(sae_listing(self.data), self.study, ard=self.ard)
        else:
            gt = build(name, self.ard, self.study)
        if not title and gt._heading.subtitle:
            gt = gt.tab_header(title=gt._heading.subtitle).tab_style(
                style.text(weight="normal"), loc.title())
        return CsrTable(name, gt)

    def caption(self, name: str) -> str:
        """The in-book caption of output ``name``: "<title> (Table 14.2.1)"."""
        spec = self.study.output(name)
        return f"{spec.title} ({spec.kind.capitalize()} {spec.id})"

    def figure(self, name: str, dpi: int = 200) -> Any:
        """Figure ``name`` (``consort``, ``km_relapse``, ``swimmer``) as a PNG image."""
        import matplotlib.pyplot as plt
        from IPython.display import Image

        from trialreport.figures import consort_figure, km_figure, swimmer_figure

        makers = {"consort": consort_figure, "km_relapse": km_figure,
                  "swimmer": swimmer_figure}
        fig = makers[name](self.data)
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

        return Markdown(specification_markdown(load_specification(spec_dir(self.root)), 2))

    def validation(self) -> Markdown:
        """The validation report of the data folder this report was computed from."""
        from trialreport.methods import validation_markdown

        return Markdown(validation_markdown(self.data))

    def reproducibility(self) -> Markdown:
        """Package versions and data checksums of this render."""
        from trialreport.methods import reproducibility_markdown

        return Markdown(reproducibility_markdown(self.root, self.data))

    def data_checksums(self) -> Markdown:
        """One line per input data file with its SHA-256 (title page)."""
        from trialreport.methods import group_digits
        from trialreport.versioning import data_checksums

        return Markdown("| Data file | SHA-256 |\n|:----|:----------------|\n" + "\n".join(
            f"| `{name}` | {group_digits(digest)} |"
            for name, digest in data_checksums(self.data.data_dir).items()) + "\n")

    def history(self) -> Markdown:
        """The document history table from CHANGELOG.md."""
        from trialreport.history import history_markdown, read_history

        return Markdown(history_markdown(read_history(self.root / "CHANGELOG.md")))

    def synthetic_choices(self) -> Markdown:
        """The reconstruction choices of the synthetic data, as a numbered list."""
        from trialreport.demodata import CHOICES

        return Markdown("\n".join(f"{i}. {c}" for i, c in enumerate(CHOICES, 1)) + "\n")


@lru_cache(maxsize=4)
def _book(root: str, data: str, spec: str) -> Book:
    trial = load_trial(Path(data), Path(spec))
    return Book(root=Path(root), data=trial, ard=build_ard(trial))


def book() -> Book:
    """The report's book context for the current project and data folder (cached)."""
    root = project_root()
    return _book(str(root), str(data_dir(root)), str(spec_dir(root)))
