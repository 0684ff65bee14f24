# Openbook. `make demo` runs the platform with demo data; `make test` runs the tests.
# Every target installs what it needs first (make install), on a machine with only
# Python 3.11+, make and Node/npm.

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
UV := .tools/bin/uv
BIN := $(VENV)/bin
STATIC_OUT := openbook/static/build
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

# Settings for lint's `check --deploy`: production settings, a throwaway secret.
DEPLOY_ENV := DEBUG=0 SECURE=1 SECRET_KEY=check-deploy-$$(date +%s)-not-a-real-secret-but-long-enough-for-django

.PHONY: install demo serve test test-fast lint format static clean

install: $(STAMP) $(STATIC_OUT)/.built

# uv, in a virtualenv of its own unless the machine already has it.
$(UV):
	@if command -v uv >/dev/null 2>&1; then \
		mkdir -p .tools/bin && ln -sf "$$(command -v uv)" $(UV); \
	else \
		$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv; \
	fi

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Front-end build: NHS.UK frontend compiled with our own settings, its script and images.
$(STATIC_OUT)/.built: $(NPM_STAMP) $(wildcard openbook/static_src/*) Makefile
	mkdir -p $(STATIC_OUT)/assets
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
		--load-path=node_modules openbook/static_src/openbook.scss $(STATIC_OUT)/openbook.css
	cp node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js $(STATIC_OUT)/
	cp openbook/static_src/openbook.mjs openbook/static_src/charts.mjs openbook/static_src/grid.mjs $(STATIC_OUT)/
	# The source map too: the script names it, and the production static storage refuses a
	# file that points at one missing.
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map $(STATIC_OUT)/
	cp -r node_modules/nhsuk-frontend/dist/nhsuk/assets/images $(STATIC_OUT)/assets/
	@touch $@

static: $(STATIC_OUT)/.built

demo: install
	$(BIN)/openbook demo --port $(PORT)

serve: install
	$(BIN)/openbook serve --port $(PORT)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEPLOY_ENV) $(BIN)/mypy
	$(DEPLOY_ENV) $(BIN)/openbook makemigrations --check --dry-run
	$(DEPLOY_ENV) $(BIN)/openbook check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .tools node_modules $(STATIC_OUT) staticfiles
