"""pyproject.toml (pip) and environment.yml (conda/Binder) must declare the same dependencies."""

import re
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    """PEP 503-normalised project name of a requirement string such as 'scikit-learn>=1.3'."""
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]).lower()


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_name(r): r.replace(" ", "") for r in reqs}


def _environment_pip_requirements() -> tuple[dict[str, str], list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip: section"
    reqs = [r for r in pip_sections[0] if not r.startswith("-")]
    options = [r for r in pip_sections[0] if r.startswith("-")]
    return {_name(r): r.replace(" ", "") for r in reqs}, options


def test_environment_names_the_same_packages_as_pyproject():
    pip_reqs, _ = _environment_pip_requirements()
    py_reqs = _pyproject_requirements()
    assert sorted(pip_reqs) == sorted(py_reqs), (
        f"only in pyproject.toml: {sorted(set(py_reqs) - set(pip_reqs))}; "
        f"only in environment.yml: {sorted(set(pip_reqs) - set(py_reqs))}"
    )


def test_environment_pins_the_same_versions_as_pyproject():
    pip_reqs, _ = _environment_pip_requirements()
    mismatched = {n: (r, pip_reqs[n]) for n, r in _pyproject_requirements().items() if pip_reqs.get(n) != r}
    assert not mismatched, f"version specifiers differ (pyproject, environment.yml): {mismatched}"


def test_torch_is_pinned_to_the_cpu_build_on_disk():
    assert _pyproject_requirements()["torch"] == "torch==2.13.0"


def test_environment_installs_the_course_package_and_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("python=3.") for d in conda) and "pip" in conda
    _, options = _environment_pip_requirements()
    assert "-e ." in options, "environment.yml must install course_utils itself (pip: - -e .) for Binder"


def test_runtime_dependencies_are_the_documented_set():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {_name(r) for r in project["dependencies"]} == {
        "numpy",
        "torch",
        "matplotlib",
        "jupyterlab",
        "ipywidgets",
        "scikit-learn",
        "threadpoolctl",  # bench.py pins BLAS threads so NumPy and torch are timed alike
        "tqdm",  # notebook-aware progress bars for the training loops (course_utils.train)
        "jsonschema",  # an upper bound only: 4.25 made every `import nbformat` cost seconds (pyproject.toml)
    }
