# The two commands of the README: `make serve` and `make test`.
PYTHON ?= python3

.PHONY: install serve test lint bench

install:
	$(PYTHON) -m pip install -q -e ".[dev]"

serve: install
	lapor-triage serve

test: install
	$(PYTHON) -m ruff check .
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

bench: install
	$(PYTHON) -m evaluation.benchmark_speed
