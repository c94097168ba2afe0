# The two commands of the README: `make serve` and `make test`. Both install from the lock files in
# requirements/ into the active virtual environment ($VIRTUAL_ENV), else the project-local .venv
# (made if missing), so a newcomer, a developer and CI run exactly the same versions. `make lock` regenerates the locks (README).
PYTHON ?= python3
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY := $(VENV)/bin/python
# ruff skips .venv by itself; an activated environment inside the checkout (./.v) it would lint
RUFF_EXCLUDE := --extend-exclude "$(abspath $(VENV))"
COMPILE := $(PY) -m piptools compile -q --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links --no-emit-trusted-host

.PHONY: venv install install-dev browser serve test lint format lock bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"

venv: $(PY)

# Runtime only (what `serve` needs): requirements/serve.txt, then the project without dependencies.
install: $(PY)
	$(PY) -m pip install -q -r requirements/serve.txt
	$(PY) -m pip install -q --no-deps -e .

# Everything the tests use: dev, postgres, embeddings (torch 2.13.0 CPU), spark.
install-dev: $(PY)
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps -e .

serve: install
	$(VENV)/bin/lapor-triage serve

# Debian's chromium and chromedriver for the console's browser tests (apt-get, as root); where that
# cannot be done the browser tests skip with a message and the same flows run over plain HTTP.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
		|| echo "make: chromium could not be installed: the browser tests will skip"; \
	else echo "make: no chromium (apt-get install chromium chromium-driver): the browser tests will skip"; fi

test: install-dev browser
	$(PY) -m ruff check . $(RUFF_EXCLUDE)
	$(PY) -m ruff format --check . $(RUFF_EXCLUDE)
	$(PY) -m pytest -q

lint: install-dev
	$(PY) -m ruff check . $(RUFF_EXCLUDE)
	$(PY) -m ruff format --check . $(RUFF_EXCLUDE)

format: install-dev
	$(PY) -m ruff format . $(RUFF_EXCLUDE)
	$(PY) -m ruff check --fix . $(RUFF_EXCLUDE)

# After a change to the dependencies in pyproject.toml, or to take newer releases on purpose.
lock: $(PY)
	$(PY) -m pip install -q "pip-tools>=7.4"
	$(COMPILE) --extra dev --extra postgres --extra embeddings --extra spark \
		-o requirements/dev.txt pyproject.toml
	$(COMPILE) --extra postgres -c requirements/dev.txt -o requirements/serve.txt pyproject.toml

bench: install
	$(PY) -m lapor_triage.evaluation.benchmark_speed
