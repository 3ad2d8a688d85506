# One entry point for learners, instructors and CI.
#   make lab    set up .venv (if needed) and open the course in JupyterLab
#   make test   set up .venv (if needed) and run the whole test suite (lint and types included)
#   make check  the edit-test loop (under a minute): lint, types, the unit tests without notebooks or slow tests
# Everything else is optional: bench, site, test-browser, test-nbgrader, exercises, clean.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# JupyterLab refuses to run as root without --allow-root; only add it for root.
ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL   = --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
JOBS   ?= 2
# JupyterLab's defaults for the course's server (no news prompt, no update check), read from the venv only.
LAB_OVERRIDES = $(VENV)/share/jupyter/lab/settings/overrides.d/course.json5

.PHONY: setup lab lint types check test test-fast test-browser test-nbgrader bench site exercises clean bubblewrap bench-grading bench-training

setup: $(STAMP) $(LAB_OVERRIDES)

# torch is pinned to 2.13.0: that CPU build lies on this machine's disk; any other spec downloads GBs.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(LAB_OVERRIDES): jupyter/overrides.json5 $(STAMP)
	install -D -m 644 $< $@

# Serves the whole course folder (lessons, exercises, solutions) and opens lesson 00, in the course's own
# JupyterLab: its configuration, settings and workspaces live in LAB_CONFIG (inside .venv), so a learner's
# ~/.jupyter is neither read nor changed; the venv's data folder comes first, so the notebooks' `python3`
# kernel is the venv's even where the learner has a `python3` kernel of their own (~/.local/share/jupyter,
# JUPYTER_PATH). The tests pass LAB_ROOT, LAB_CONFIG and LAB_ARGS (port, token, --no-browser).
LAB_ROOT   ?= $(CURDIR)
LAB_CONFIG ?= $(abspath $(VENV))/etc/course-jupyter
LAB_ARGS   ?=
LAB_ENV     = JUPYTER_CONFIG_DIR="$(LAB_CONFIG)" JUPYTER_CONFIG_PATH= \
  JUPYTERLAB_SETTINGS_DIR="$(LAB_CONFIG)/lab/user-settings" JUPYTERLAB_WORKSPACES_DIR="$(LAB_CONFIG)/lab/workspaces" \
  JUPYTER_PREFER_ENV_PATH=1 JUPYTER_PATH="$(abspath $(VENV))/share/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH}"
lab: setup
	$(LAB_ENV) $(VENV)/bin/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir="$(LAB_ROOT)" \
	  --LabApp.default_url=/lab/tree/notebooks/00_multichannel_conv.ipynb $(LAB_ARGS)

# ruff: the rule set and the formatter's settings live in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy --strict with the named relaxations in pyproject.toml ([tool.mypy]), over course_utils and bench.
types: setup
	$(VENV)/bin/mypy

# Fast: no notebooks, no kernels, nothing marked slow (`-m` here replaces pyproject's "not browser").
check: setup lint types
	$(PY) -m pytest -q -n $(JOBS) -m "not slow and not browser" tests

# --dist loadscope keeps each notebook's cells on one worker, in order, in one kernel (nbval's advice for xdist);
# --no-loadscope-reorder keeps the order tests/conftest.py gives the files (LONG_FIRST: the long ones first).
# Lint and types run as tests here (tests/test_lint_and_types.py), beside the others rather than before them.
test: setup bubblewrap
	$(PY) -m pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder $(NBVAL) tests notebooks solutions

# The grader runs every submission inside bubblewrap (bwrap): installed like Chromium below (root + apt-get);
# elsewhere a clear message, and the sandbox tests skip (they fail under CI, where this must have worked).
bubblewrap:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y bubblewrap) \
	      || echo "make: could not install bubblewrap; the grading sandbox tests will skip (fail with CI set)"; \
	  else echo "make: bwrap not found and not root to apt-get it: install bubblewrap (the grader refuses to run without it)"; fi; }

# What the grading sandbox costs: submissions per minute at --jobs 2, with and without it.
bench-grading: setup bubblewrap
	$(PY) -m bench.grading $(BENCH_ARGS)

# A static HTML site of every lesson, exercise and solution with stored outputs (open site/index.html).
site: setup
	$(PY) -m course_utils.site --out site

# End to end: `make lab` driven in Debian's headless Chromium through Playwright, every lesson and exercise
# notebook run through the UI (tests/browser; about 3½ minutes on 2 idle cores, lesson 09 the longest: see the README).
# Installs Chromium (root only; the emoji font shows the checks' ✅ in screenshots) and Playwright when missing;
# the tests skip, saying why, where it cannot.
test-browser: setup
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-noto-color-emoji) \
	      || echo "test-browser: could not install Chromium; the browser tests will skip"; \
	  else echo "test-browser: no /usr/bin/chromium and not root to apt-get it; the browser tests will skip"; fi; \
	fi
	@$(PY) -c "import playwright" 2>/dev/null || $(PY) -m pip install --quiet -e ".[browser]" \
	  || echo "test-browser: could not install Playwright; the browser tests will skip"
	$(PY) -m pytest -m browser -p no:cacheprovider -rs tests/browser

# nbgrader 0.9.6 as shipped (the optional extra .[nbgrader], installed into .venv when missing): in a temporary
# course folder, generate_assignment, autograde (a solution and a stub of two lessons) and export (~2 minutes).
test-nbgrader: setup bubblewrap
	@$(PY) -c "import nbgrader" 2>/dev/null || $(PY) -m pip install --quiet -e ".[nbgrader]"
	$(PY) -m pytest -m nbgrader -p no:cacheprovider -rs tests/test_nbgrader.py

# What lesson 09's training costs: train.fit against the naive loop, and its grid one by one against run_all.
bench-training: setup
	$(PY) -m bench.training $(BENCH_ARGS)

# Speed goals live here, not in timed tests. On a busy machine pass BENCH_ARGS="--threads 1".
bench: setup
	$(PY) -m bench $(BENCH_ARGS)

exercises: setup
	$(PY) -m course_utils build-exercises

clean:
	rm -rf site screenshots .pytest_cache .hypothesis .mypy_cache .ruff_cache
