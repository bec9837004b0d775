# Every target creates what it needs, so each is one command on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SRC := pyproject.toml

.PHONY: run test test-all bench lint typecheck docs clean

$(STAMP): $(SRC)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,downstream,docs]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m gevent.pywsgi --host 127.0.0.1 --port 8000 examples.hello:application

test: $(STAMP)
	$(PY) -m pytest -q tests

# The suite on every Python from 3.10 to 3.14 that pyenv has here.
test-all:
	@set -e; for v in 3.10 3.11 3.12 3.13 3.14; do \
	  py=$$(ls -d $$HOME/.pyenv/versions/$$v.*/bin/python 2>/dev/null | tail -n 1); \
	  if [ -z "$$py" ]; then echo "== Python $$v: not installed, skipped"; continue; fi; \
	  echo "== Python $$v ($$py)"; \
	  $(MAKE) --no-print-directory test PYTHON=$$py VENV=.venv-$$v; \
	done

bench: $(STAMP)
	$(PY) bench/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/mypy

typecheck: lint

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) .venv-* .bench build site
