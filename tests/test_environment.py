"""requirements.lock, environment.yml and pyproject.toml agree; the runtime dependencies are
what the package imports and the test-only ones sit in the ``test`` extra; the README opens with
the two commands."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

import yaml

from conftest import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def test_lock_pins_exact_versions() -> None:
    lines = [x for x in (ROOT / "requirements.lock").read_text().splitlines()
             if x.strip() and not x.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", x) for x in lines)


def test_environment_yml_pins_the_same_packages_plus_quarto() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "quarto" in conda and any(d.startswith("python") for d in conda)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {_norm(p.split("==")[0]): p.split("==")[1] for p in pip} == _lock()


def test_every_declared_dependency_is_locked() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    locked = _lock()
    for requirement in declared:
        name = _norm(re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0])
        assert name in locked, f"{name} is declared in pyproject.toml but not in requirements.lock"


#: Declared but never imported, and why.
NOT_IMPORTED = {
    "ipykernel": "the Jupyter kernel that the builtin engine starts (its IPython runs the cells)",
    "ruff": "the linter, run as a command by make test",
}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0]) for r in requirements}


def _imports(*folders: str) -> dict[str, tuple[set[str], str]]:
    """Every module imported by the Python files under ``folders`` that is neither the
    standard library nor ours: its installed distributions (normalised names; pypandoc has
    two) and one file that imports it."""
    installed = packages_distributions()
    files = [path for folder in folders for path in (ROOT / folder).rglob("*.py")]
    local = {path.stem for path in files}
    found: dict[str, tuple[set[str], str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in {m.split(".")[0] for m in modules}:
                if module in sys.stdlib_module_names or module == "trialreport" \
                        or module in local or module in found:
                    continue
                where = str(path.relative_to(ROOT))
                assert module in installed, f"{where} imports {module}, which is not installed"
                found[module] = ({_norm(d) for d in installed[module]}, where)
    return found


def test_runtime_dependencies_are_what_the_package_imports() -> None:
    declared = _names(_project()["dependencies"])
    imported = _imports("src")
    undeclared = {m: where for m, (dists, where) in imported.items() if not dists & declared}
    assert undeclared == {}, "imported by src/ but not in [project] dependencies"
    used = set().union(*(dists for dists, _ in imported.values()))
    assert declared - used - set(NOT_IMPORTED) == set(), \
        "in [project] dependencies but never imported by src/"


def test_test_only_dependencies_are_in_the_test_extra() -> None:
    runtime = _names(_project()["dependencies"])
    extra = _names(_project()["optional-dependencies"]["test"])
    assert extra & runtime == set(), "declared twice"
    imported = _imports("tests", "bench", "tools")
    undeclared = {m: where for m, (dists, where) in imported.items()
                  if not dists & (runtime | extra)}
    assert undeclared == {}, "imported by tests/, bench/ or tools/ but declared nowhere"
    used = set().union(*(dists for dists, _ in imported.values()))
    assert extra - used - set(NOT_IMPORTED) == set(), \
        "in the test extra but never imported by tests/, bench/ or tools/"


def test_readme_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```")[1]
    assert [x.strip() for x in first_block.strip().splitlines()[1:]] == ["make report",
                                                                        "make test"]
