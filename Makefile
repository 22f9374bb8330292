# The two commands: `make demo` (install, then the main job) and `make test` (install, then the tests).
# Both create or reuse .venv. torch is pinned to the 2.13.0 CPU wheel first, so nothing pulls a CUDA build.
# The hota extra (TrackEval) is installed too, so the tests that compare it with our scores run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-slow lint bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e '.[test,hota]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hste demo

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/perm.py

clean:
	rm -rf $(VENV) build *.egg-info
