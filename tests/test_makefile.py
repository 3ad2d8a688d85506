"""The README's two commands: what `make lab` and `make test` would run (dry run, nothing executed)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(target: str) -> str:
    """The commands ``make TARGET`` would run, continuation lines joined."""
    # Run from inside `make test`, a child make would inherit its flags and print "make[1]: ..." lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", target], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    return out.replace("\\\n", " ")


def test_lab_serves_the_whole_course_and_opens_lesson_00():
    command = dry_run("lab").strip().splitlines()[-1]
    assert "jupyter lab" in command
    assert f'--ServerApp.root_dir="{ROOT}"' in command, (
        "the file browser must show notebooks/, exercises/ and solutions/"
    )
    opened = re.search(r"--LabApp.default_url=/lab/tree/(\S+)", command).group(1)
    assert (ROOT / opened).is_file(), f"make lab opens {opened}, which does not exist"


def test_lab_passes_allow_root_only_to_root():
    assert ("--allow-root" in dry_run("lab")) == (os.getuid() == 0)


def test_test_target_runs_unit_tests_and_every_notebook_folder_with_nbval():
    command = dry_run("test").strip().splitlines()[-1]
    assert "pytest" in command and "--nbval" in command and "--nbval-current-env" in command
    if " -n " in command:  # with xdist, a notebook's cells must stay on one worker, in order, in one kernel
        assert "--dist loadscope" in command
    assert command.split()[-3:] == ["tests", "notebooks", "solutions"]


def test_ci_runs_make_test():
    assert "make test\n" in (ROOT / ".ci" / "run").read_text()


def test_test_and_check_run_lint_and_types_and_check_skips_notebooks_and_slow_tests():
    commands = dry_run("check")
    assert "ruff check ." in commands and "ruff format --check ." in commands, "make check skips lint"
    assert "/mypy\n" in commands, "make check skips mypy"
    # make test runs them as tests (slow: make check, which runs them itself, skips them)
    lint_and_types = (ROOT / "tests" / "test_lint_and_types.py").read_text()
    assert all(
        c in lint_and_types for c in ('["ruff", "check", "."]', '["ruff", "format", "--check", "."]', '["mypy"]')
    )
    assert "pytestmark = pytest.mark.slow" in lint_and_types
    assert dry_run("test").strip().splitlines()[-1].split()[-3:] == ["tests", "notebooks", "solutions"]
    check = dry_run("check").strip().splitlines()[-1]
    assert "pytest" in check and "--nbval" not in check and '-m "not slow and not browser"' in check
    assert check.split()[-1] == "tests"


def test_lab_keeps_its_jupyter_configuration_in_the_venv_and_prefers_the_venvs_kernel():
    """`make lab` reads and writes no ~/.jupyter, and puts the venv's data folder (its python3 kernel) first.

    The browser suite (tests/browser) checks the effect in JupyterLab; this checks the command, in a second.
    """
    command = dry_run("lab").strip().splitlines()[-1]
    venv = ROOT / ".venv"
    settings = {name: value.strip('"') for name, value in re.findall(r"\b(JUPYTER\w*)=(\"[^\"]*\"|\S*)", command)}
    assert settings["JUPYTER_CONFIG_DIR"].startswith(f"{venv}/"), settings
    for name in ("JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        assert settings[name].startswith(settings["JUPYTER_CONFIG_DIR"] + "/"), (name, settings)
    assert settings["JUPYTER_CONFIG_PATH"] == "", "a learner's JUPYTER_CONFIG_PATH would add their config"
    assert settings["JUPYTER_PREFER_ENV_PATH"] == "1"
    assert settings["JUPYTER_PATH"].startswith(f"{venv}/share/jupyter"), settings


def test_setup_installs_the_course_jupyterlab_overrides_into_the_venv():
    target = ".venv/share/jupyter/lab/settings/overrides.d/course.json5"
    commands = dry_run_always(target)
    assert f"jupyter/overrides.json5 {target}" in commands, commands[-500:]
    assert target in dry_run_always("setup")


def dry_run_always(target: str) -> str:
    """Like ``dry_run``, as if every file were out of date (``make -n -B``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    return subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
