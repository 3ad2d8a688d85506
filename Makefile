# One entry point for learners, instructors and CI.
#   make lab    set up .venv (if needed) and open the course in JupyterLab
#   make test   set up .venv (if needed) and run the whole test suite
# Everything else is optional: bench, site, test-browser, exercises, clean.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# JupyterLab refuses to run as root without --allow-root; only add it for root.
ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL   = --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
JOBS   ?= 2

.PHONY: setup lab test test-fast test-browser bench site exercises clean

setup: $(STAMP)

# torch is pinned to 2.13.0: that CPU build lies on this machine's disk; any other spec downloads GBs.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

lab: setup
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" notebooks/

test: setup
	$(PY) -m pytest -n $(JOBS) $(NBVAL) tests notebooks solutions

bench: setup
	$(PY) -m bench

exercises: setup
	$(PY) -m course_utils build-exercises

clean:
	rm -rf site screenshots .pytest_cache .hypothesis
