# One command to run it, one to test it. Everything else is a step of those two.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= prod
# checkov in a venv of its own: its dependencies clash with the project's pins.
CHECKOV_VENV := .venv-checkov
# Bytecode, pytest's rewritten test modules included, cached in build/ and not in the tree (which the
# package copies as it is): some machines set PYTHONDONTWRITEBYTECODE, and each test process then
# compiled every module it imports again, ~4 s of each xdist worker's start (docs/performance.md).
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(CURDIR)/build/pycache

# Browser tests: Chromium with its French words, axe-core.
CHROMIUM := /usr/lib/chromium/locales/fr.pak
AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: run test check lint package security fuzz bench clean browser-tools

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet "pip>=24,<26.3"  # chalice 1.34 requires pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV) || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

run: $(VENV)/.installed  ## moto + infra/ + chalice local at http://127.0.0.1:8000, the portal at :3000
	$(PY) -m devstack run

# On every core (pytest-xdist), each file on one worker (tests/conftest.py says why).
XDIST := -n auto --dist loadfile

test: $(VENV)/.installed browser-tools  ## the whole suite, the browser one included, and its 15 slowest tests
	$(PY) -m pytest $(XDIST) --durations=15

check: $(VENV)/.installed  ## the inner loop: unit and integration tests, no browser, no local stack, no fuzzing, no volume
	MES_EXAMPLES=quick $(PY) -m pytest $(XDIST) -m "not devstack and not volume" --ignore=tests/browser

browser-tools: $(CHROMIUM) $(AXE)  ## what tests/browser needs besides Python packages

$(CHROMIUM):  # Debian's chromium and chromium-l10n (never `playwright install`: it downloads browsers)
	apt-get update && apt-get install -y chromium chromium-l10n

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	command -v npm >/dev/null || (apt-get update && apt-get install -y npm)
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

# cfn-lint on the rendered template only: the source names the modules' tables infra/render.py adds.
lint: $(VENV)/.installed  ## ruff (lint, format) and mypy (pyproject.toml), cfn-lint on the rendered template
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m infra.render --out build/infra.json
	$(VENV)/bin/cfn-lint build/infra.json

package: $(VENV)/.installed  ## deployable SAM template + Lambda zip in build/package
	$(PY) -m infra.package --stage $(STAGE) --out build/package
	$(VENV)/bin/cfn-lint build/package/sam.json

security: $(CHECKOV_VENV)/.installed  ## checkov on the packaged template: no failed check (skips carry a reason)
	test -f build/package/sam.json || $(MAKE) package
	$(CHECKOV_VENV)/bin/checkov --file build/package/sam.json --framework cloudformation --skip-download \
		--compact --quiet --output cli --output json --output-file-path console,build/package/checkov.json

fuzz: $(VENV)/.installed  ## schemathesis against a locally served API
	$(PY) -m devstack.fuzz

bench: $(VENV)/.installed  ## print the figures (cold start, AWS calls per request, ...)
	$(PY) -m bench

clean:
	rm -rf build .pytest_cache .hypothesis
