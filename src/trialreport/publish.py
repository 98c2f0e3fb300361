"""One render of the report: version stamp, book, ard.json and figure files, into a folder.

Called by ``trialreport render`` with a staging folder; the caller moves the result into
``report/`` only when everything here succeeded.

The version stamp is computed once per render and shared by the title page (through Quarto
variables in ``_variables.yml``, which both engines read) and ``ard.json``. When nothing but the
clock changed since the last render, the previous stamp is reused, so an unchanged project
re-renders from cache without running a kernel, pandoc or typst; ``SOURCE_DATE_EPOCH``, when
set, is the render time regardless.

The ARD and figure files are computed once per set of inputs into the project's cache, while
the chapters execute (in a thread of this process). Chapter kernels are forked from a kernel
server that has already loaded the validated data and the ARD (:data:`KERNEL_WARMUP`).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from trialreport.ardjson import dumps
from trialreport.versioning import (
    TIMESTAMP_KEY,
    drop_render_timestamp,
    stamp_for_ard,
    version_stamp,
    write_stamp,
)

CACHE = Path(".cache") / "trialreport"
VARIABLES_FILE = "_variables.yml"
INPUT_PATTERN = r"\.(csv|xpt|ya?ml|py)$"
#: Run once in the kernel server before the chapter kernels are forked from it: every chapter
#: then starts with the modules imported and ``book()``'s data and ARD loaded (each chapter is
#: still its own fresh process; a chapter that changes them changes only its own copy).
KERNEL_WARMUP = """\
import great_tables, matplotlib.pyplot
import trialreport.tables, trialreport.figures
from trialreport.book import book
_book = book()
_book.data, _book.ard, _book.n
"""


def inputs_key(root: Path, data_dir: Path) -> str:
    """Fingerprint of everything the numbers depend on: data, specification, the trialreport
    package source and the installed package versions."""
    import trialreport
    from trialreport.render.cache import fingerprint_paths
    from trialreport.versioning import package_versions

    files = fingerprint_paths([data_dir, root / "data_spec", Path(trialreport.__file__).parent],
                              INPUT_PATTERN)
    return _digest([files, package_versions()])


def results_cache(root: Path, key: str) -> Path:
    """Folder holding the ARD and figure files computed for inputs ``key``."""
    return root / CACHE / "results" / key


def _digest(obj: Any) -> str:
    from trialreport.render.cache import hash_text

    return hash_text(json.dumps(obj, sort_keys=True, default=str))


def render_stamp(root: Path, data_dir: Path, engine: str) -> tuple[dict[str, Any], Path]:
    """The stamp of this render, reusing the last one when only the time differs."""
    stamp = version_stamp(root, data_dir, engine=engine)
    path = root / CACHE / "stamp.json"
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no usable previous stamp
        previous = None
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip():
        previous = None  # the given time is the render time, whatever was cached
    if isinstance(previous, dict) and TIMESTAMP_KEY in previous and (
            _digest(drop_render_timestamp(previous)) == _digest(drop_render_timestamp(stamp))):
        stamp[TIMESTAMP_KEY] = previous[TIMESTAMP_KEY]
    write_stamp(stamp, path)
    return stamp, path


def render_env(root: Path, data_dir: Path, packages: dict[str, str] | None = None
               ) -> dict[str, str]:
    """What the chapters' kernels get from a render (data, project, stamp file, software)."""
    from trialreport.versioning import package_versions

    return {
        "TRIALREPORT_DATA": str(data_dir),
        "TRIALREPORT_PROJECT": str(root),
        "TRIALREPORT_VERSION_STAMP": str(root / CACHE / "stamp.json"),
        # Re-execute chapters when the software (not only the code) changed.
        "TRIALREPORT_SOFTWARE": _digest(packages if packages is not None
                                        else package_versions()),
    }


def start_kernels(root: Path, data_dir: Path, engine: str = "auto") -> Any:
    """Start the chapter kernel server now (it loads the data and the ARD while the caller
    validates); pass it to :func:`publish_report` and close it afterwards. None for Quarto."""
    from trialreport.render import start_kernel_server

    if _resolved_engine(engine) != "builtin":
        return None
    return start_kernel_server(root, render_env(root, data_dir), warmup=KERNEL_WARMUP)


def write_variables(root: Path, stamp: dict[str, Any]) -> Path:
    """Write the stamp as Quarto variables (``{{< var stamp.version >}}``) for the title page."""
    git = stamp.get("git") or {}
    engine = stamp.get("engine") or {}
    engine_text = engine.get("name", "")
    if engine.get("pandoc"):
        engine_text += f" (pandoc {engine['pandoc']})"
    elif engine.get("version"):
        engine_text += f" {engine['version']}"
    when = str(stamp.get(TIMESTAMP_KEY, "")).replace("T", " ").replace("Z", " UTC")
    data_short = " · ".join(f"{Path(name).stem} {digest[:12]}"
                            for name, digest in (stamp.get("data") or {}).items())
    software = " · ".join(f"{name} {version}"
                          for name, version in (stamp.get("packages") or {}).items())
    variables = {"stamp": {
        "data": data_short,
        "software": software,
        "version": str(stamp.get("version", "")),
        "rendered": when,
        "date": when[:10],
        "commit": str(git.get("describe") or git.get("short") or "not a git checkout"),
        "engine": engine_text,
    }}
    path = root / VARIABLES_FILE
    text = ("# Generated by `trialreport render` for the title page; do not edit (git-ignored).\n"
            + yaml.safe_dump(variables, sort_keys=True, allow_unicode=True))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        from trialreport.render.cache import atomic_write_text

        atomic_write_text(path, text)
    return path


def _resolved_engine(engine: str) -> str:
    """The engine ``auto`` stands for (the same choice :func:`render_book` makes)."""
    from trialreport.render.quarto import quarto_path

    if engine != "auto":
        return engine
    return "quarto" if quarto_path() else "builtin"


def write_figures(data: Any, ard: Any, out_dir: Path) -> list[Path]:
    """Save every numbered figure as SVG, PNG and PDF (``fig-14.1.1-consort.svg`` ...)."""
    import matplotlib.pyplot as plt

    from trialreport.figures import save_figure
    from trialreport.tables import build_output

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for spec in data.study.figures():
        fig = build_output(data.study, spec.name, ard, data)
        written += list(save_figure(fig, out_dir / f"fig-{spec.id}-{spec.name}").values())
        plt.close(fig)
    return written


def compute_results(root: Path, data_dir: Path, cached: Path, data: Any = None,
                    ard: Any = None) -> None:
    """Write ``ard.json`` and the figure files for the current inputs into ``cached`` (a
    cache folder), all or nothing: built in a staging folder, then renamed into place.
    ``data`` and ``ard`` are the loaded trial and its ARD when already at hand."""
    from trialreport.ard import build_ard
    from trialreport.data import load_trial
    from trialreport.paths import study_file
    from trialreport.render.staging import make_staging_dir, remove_stale

    cached.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(cached.parent)
    if data is None:
        data = load_trial(data_dir, root / "data_spec", study_file(root))
    staging = make_staging_dir(cached.parent)
    try:
        ard = ard if ard is not None else build_ard(data)
        ard.to_json(staging / "ard.json")
        written = write_figures(data, ard, staging / "figures")
        from trialreport.tlf import write_tlf_package

        written += write_tlf_package(data, ard, staging / "tlf")  # each output as an RTF file
        empty = [p.name for p in [staging / "ard.json", *written] if p.stat().st_size == 0]
        if empty:  # never publish a figure that is not there
            raise RuntimeError(f"empty output file(s): {', '.join(empty)}")
        old = cached.with_name(cached.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if cached.exists():
            cached.rename(old)
        staging.rename(cached)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for stale in cached.parent.iterdir():  # keep only the results of the current inputs
        if stale != cached and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)


def compute_results_in_kernel_server(root: str, data_dir: str, cached: str) -> None:
    """:func:`compute_results` in a process forked from the kernel server, whose warm-up
    (:data:`KERNEL_WARMUP`) already loaded this data folder and its ARD."""
    import matplotlib

    from trialreport.book import book

    matplotlib.use("Agg")  # the server's kernels use the inline backend; files need none
    warm = book()
    data = ard = None
    if (Path(getattr(warm, "data_dir", "")) == Path(data_dir)
            and Path(getattr(warm, "spec_dir", "")) == Path(root) / "data_spec"):
        data, ard = getattr(warm, "data", None), getattr(warm, "ard", None)
    compute_results(Path(root), Path(data_dir), Path(cached), data, ard)


class _Background(threading.Thread):
    """Compute the ARD and figure files beside the render: in a process forked from the kernel
    server when one with the same settings is at hand (it has the data and ARD loaded), else
    in this thread. :meth:`result` re-raises its error."""

    def __init__(self, root: Path, data_dir: Path, cached: Path, server: Any,
                 use_server: bool) -> None:
        super().__init__(name="trialreport-results", daemon=True)
        self._args = (root, data_dir, cached)
        self._server = server if use_server else None
        self._job: Any = None
        self._error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        start = time.perf_counter()
        root, data_dir, cached = self._args
        try:
            if self._server is not None:
                from trialreport.render.staging import make_staging_dir

                cached.parent.mkdir(parents=True, exist_ok=True)
                folder = make_staging_dir(cached.parent)
                try:
                    self._job = self._server.call(
                        "trialreport.publish:compute_results_in_kernel_server",
                        [str(root), str(data_dir), str(cached)], folder / "report.txt")
                    self._job.wait()
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
            else:
                compute_results(root, data_dir, cached)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error = exc
        self.seconds = time.perf_counter() - start

    def cancel(self) -> None:
        """Stop a job running in the kernel server (the render failed or was interrupted)."""
        if self._job is not None:
            self._job.kill()

    def result(self) -> None:
        self.join()
        if self._error is not None:
            from trialreport.render.result import RenderError

            raise RenderError(f"the ARD and figure files could not be written: "
                              f"{self._error}") from self._error


def publish_report(root: Path, data_dir: Path, out_dir: Path, formats: Sequence[str],
                   engine: str = "auto", refresh: bool = False,
                   key: str | None = None, wait: float | None = None,
                   timings: dict[str, float] | None = None,
                   kernel_server: Any = None) -> dict[str, Path]:
    """Render the book and write ``ard.json`` and figure files into ``out_dir``.

    ``key`` is :func:`inputs_key` when the caller already computed it; ``wait`` is how long
    to wait for another render of the project (default: the render lock's default);
    ``timings`` receives the seconds per phase; ``kernel_server`` comes from
    :func:`start_kernels`.
    """
    from trialreport.render import DEFAULT_WAIT, render_book
    from trialreport.render.lock import render_lock

    wait = DEFAULT_WAIT if wait is None else wait
    with render_lock(root, out_dir, wait):  # the stamp, _variables.yml and the cache are shared
        engine = _resolved_engine(engine)
        stamp, stamp_path = render_stamp(root, data_dir, engine)
        write_variables(root, stamp)
        env = render_env(root, data_dir, stamp.get("packages"))
        env["TRIALREPORT_VERSION_STAMP"] = str(stamp_path)
        cached = results_cache(root, key or inputs_key(root, data_dir))
        background: _Background | None = None
        if refresh or not (cached / "ard.json").is_file():
            background = _Background(root, data_dir, cached, kernel_server,
                                     kernel_server is not None and kernel_server.settings == env)
            background.start()
        try:
            result = render_book(root, output_dir=out_dir, formats=list(formats), engine=engine,
                                 refresh=refresh, env=env, wait=wait,
                                 kernel_warmup=KERNEL_WARMUP, kernel_server=kernel_server)
        except BaseException:
            if background is not None:
                background.cancel()
            raise
        finally:
            if background is not None:
                background.join()
        if background is not None:
            background.result()
        if timings is not None:
            timings.update(result.phases)
            if background is not None:
                timings["ARD and figure files (beside the chapters)"] = background.seconds
        outputs = dict(result.outputs)
        ard = json.loads((cached / "ard.json").read_text(encoding="utf-8"))
        ard["metadata"]["stamp"] = stamp_for_ard(stamp)
        outputs["ard"] = out_dir / "ard.json"
        outputs["ard"].write_text(dumps(ard), encoding="utf-8", newline="\n")
        shutil.copytree(cached / "figures", out_dir / "figures")
        outputs.update({p.name: p for p in sorted((out_dir / "figures").iterdir())})
        shutil.copytree(cached / "tlf", out_dir / "tlf")
        outputs.update({f"tlf/{p.name}": p for p in sorted((out_dir / "tlf").iterdir())})
        return outputs
