"""What a supplement may hold: the study's files, the rendered report, the pinned tool.

``bundle`` ships only these, and ``verify`` reports anything else (a ``src/`` folder, a Python
file or ``.pth`` file outside the wheel): verify never runs such files, but a supplement built
by trialreport never holds them, so their presence means it was altered or is not one.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

# Top-level files of a supplement (besides the TOP_LEVEL_PATTERNS ones).
TOP_LEVEL_FILES = frozenset({"README.md", "MANIFEST", "VERSION_STAMP.json", "requirements.lock",
                             "CHANGELOG.md"})
# The book's top-level files: chapters, bibliography, styles, Quarto configuration.
TOP_LEVEL_PATTERNS = ("*.qmd", "*.bib", "*.csl", "*.css", "*.scss", "*.lua", "_quarto*.yml",
                      "_quarto*.yaml")
REQUIRED_STUDY_DIRS = ("chapters", "data", "data_spec")
OPTIONAL_STUDY_DIRS = ("_extensions", "assets", "images", "figures", "styles")
REPORT_DIR = "report"
WHEEL_DIR = "wheels"
# Files that an interpreter or a shell may run or load: never outside the wheel.
CODE_SUFFIXES = (".py", ".pyw", ".pyc", ".pyo", ".pth", ".so", ".pyd", ".dll", ".dylib",
                 ".exe", ".sh", ".bash", ".bat", ".cmd", ".ps1", ".egg", ".whl")


def layout_problem(path: str) -> str | None:
    """Why the member ``path`` (POSIX, relative) does not belong in a supplement, or None."""
    top, _, rest = path.partition("/")
    name = path.rsplit("/", 1)[-1]
    if top == WHEEL_DIR:
        if "/" in rest or not (rest.startswith("trialreport-") and rest.endswith(".whl")):
            return "only the trialreport wheel belongs in wheels/"
        return None
    if name.lower().endswith(CODE_SUFFIXES):
        return "a code file (a supplement holds no code outside its wheel)"
    if not rest:  # a top-level file
        if top in TOP_LEVEL_FILES or any(fnmatchcase(top, p) for p in TOP_LEVEL_PATTERNS):
            return None
        return "not a file a supplement holds"
    if top in (*REQUIRED_STUDY_DIRS, *OPTIONAL_STUDY_DIRS, REPORT_DIR):
        return None
    return f"{top}/ is not a folder a supplement holds"


def layout_problems(paths: list[str]) -> list[str]:
    """``path: reason`` for every member that does not belong in a supplement."""
    found = []
    for path in paths:
        reason = layout_problem(path)
        if reason is not None:
            found.append(f"{path}: {reason}")
    return found
