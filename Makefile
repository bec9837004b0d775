# Every target creates what it needs, so each is one command on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SRC := pyproject.toml

.PHONY: run test test-all test-upstream bench lint typecheck docs clean

$(STAMP): $(SRC)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,downstream,docs]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m gevent.pywsgi --host 127.0.0.1 --port 8000 examples.hello:application

# Two workers, one test file each at a time (module fixtures such as the redis and PostgreSQL
# servers start once per file): most of the suite waits on sockets, subprocesses and timers,
# so two workers halve the wall time on two cores. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -q tests -n $(TEST_WORKERS) --dist loadfile

# The suite on every Python from 3.10 to 3.14 that pyenv has here.
test-all:
	@set -e; for v in 3.10 3.11 3.12 3.13 3.14; do \
	  py=$$(ls -d $$HOME/.pyenv/versions/$$v.*/bin/python 2>/dev/null | tail -n 1); \
	  if [ -z "$$py" ]; then echo "== Python $$v: not installed, skipped"; continue; fi; \
	  echo "== Python $$v ($$py)"; \
	  $(MAKE) --no-print-directory test PYTHON=$$py VENV=.venv-$$v; \
	done

# gevent 26.9.0's own test files run against src/gevent (../shared/upstream, see its README);
# the reference virtualenv is the one `make bench` uses. Not part of `make test`: it needs the
# real gevent. Cases that may fail here are listed, with a reason each, in
# tests/upstream_expected.txt.
REF_VENV := .bench/ref
UPSTREAM := ../shared/upstream

$(REF_VENV)/bin/python:
	$(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install -q gevent==26.9.0

test-upstream: $(REF_VENV)/bin/python
	@test -x $(UPSTREAM)/run_upstream.sh || { echo "test-upstream: $(UPSTREAM) not found"; exit 2; }
	rm -rf .bench/upstream
	UPSTREAM_OUT=$(abspath .bench/upstream) ANCHOR_PY=$(abspath $(REF_VENV))/bin/python \
	  $(UPSTREAM)/run_upstream.sh src/gevent | tail -n 12
	$(REF_VENV)/bin/python tests/upstream_check.py .bench/upstream \
	  $(UPSTREAM)/baseline/cases.tsv tests/upstream_expected.txt

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/mypy

typecheck: lint

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) .venv-* .bench build site
