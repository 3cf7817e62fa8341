# salesmp: two commands on a fresh clone: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
export SALESMP_LANDING ?= $(CURDIR)/data/landing
export SALESMP_WAREHOUSE ?= $(CURDIR)/data/warehouse.duckdb
export SALESMP_SERVING ?= $(CURDIR)/data/serving.duckdb
export SALESMP_SITE ?= $(CURDIR)/data/site
# One planned event per asset for a partition range (see dagster_project/cli.py).
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS ?= 1
# A range's per-partition materializations reach the event log as one batch (dagster_project/event_storage.py).
export DAGSTER_EVENT_BATCH_SIZE ?= 1000
DEMO_ARGS ?= --seed 42 --start 2025-01-01 --days 365 --customers 20000 --orders 300000 --defect-rate 0.001

.PHONY: install browser superset superset-ui demo test lint ui docs bench calibrate clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Headless Chromium and ChromeDriver from Debian, for the tests whose product is a page, and the CJK
# fonts the Chinese reports are drawn with (screenshots show the characters, not boxes).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list :lang=zh | grep -q . || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
	   fonts-noto-cjk fontconfig >/dev/null)

# Apache Superset over the serving database (docs/bi.md, "Superset"), in its own virtual environment
# (its pins differ from ours); its metadata database (SQLite) in SALESMP_SUPERSET_HOME. `superset`
# installs and initialises it and imports the versioned assets of bi/superset/assets/ (the read-only
# serving database, a dataset per mart, the "Channel health" dashboard); it does nothing when they are
# imported already. The admin user is local only: admin / $(SUPERSET_ADMIN_PASSWORD).
SUPERSET_VENV := .superset/venv
export SALESMP_SUPERSET_HOME ?= $(CURDIR)/.superset/home
SUPERSET_ADMIN_PASSWORD ?= admin
SUPERSET_RUN := SUPERSET_CONFIG_PATH=$(CURDIR)/bi/superset/superset_config.py FLASK_APP=superset $(CURDIR)/$(SUPERSET_VENV)/bin
SUPERSET_ASSETS := $(shell find bi/superset models/core models/marts models/semantic -name '*.yaml' -o -name '_*.yml' -o -name '*.py' 2>/dev/null)

$(SUPERSET_VENV)/.installed: bi/superset/requirements.txt
	test -x $(SUPERSET_VENV)/bin/python || $(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bi/superset/requirements.txt
	touch $@

$(SALESMP_SUPERSET_HOME)/.imported: $(SUPERSET_VENV)/.installed $(SUPERSET_ASSETS)
	@mkdir -p $(SALESMP_SUPERSET_HOME); log=$(SALESMP_SUPERSET_HOME)/setup.log; : > $$log; \
	for step in "superset db upgrade" \
	  "superset fab create-admin --username admin --firstname Local --lastname Admin --email admin@salesmp.example --password $(SUPERSET_ADMIN_PASSWORD)" \
	  "superset init" "python bi/superset/setup_superset.py"; do \
	  echo "Superset: $${step%% --*}"; \
	  $(SUPERSET_RUN)/$$step >> $$log 2>&1 || { tail -40 $$log; exit 1; }; done; \
	grep -h -e '^Superset:' $$log
	touch $@

superset: $(SALESMP_SUPERSET_HOME)/.imported

# Superset's web server on http://127.0.0.1:8088 (log in as admin); the dashboard is "Channel health".
superset-ui: superset
	$(SUPERSET_RUN)/superset run -h 127.0.0.1 -p 8088 --with-threads

# The dbt manifest is prepared at build time, never parsed when the Dagster definitions load. The dbt
# project is the repository root (dbt_project.yml); dbt commands run from here with --profiles-dir dbt.
target/manifest.json: $(VENV)/.installed dbt_project.yml $(shell find models seeds dbt -name '*.sql' -o -name '*.yml' -o -name '*.csv' 2>/dev/null)
	$(BIN)/dbt parse --profiles-dir dbt --quiet
	@touch $@

demo: $(VENV)/.installed target/manifest.json
	@if [ ! -f $(SALESMP_LANDING)/_ground_truth.json ]; then \
	  $(BIN)/salesmp generate --out $(SALESMP_LANDING) $(DEMO_ARGS); fi
	$(BIN)/salesmp run --landing $(SALESMP_LANDING)
	@$(BIN)/salesmp marts --rows 3 | cut -c1-160
	@echo
	@echo "Serving database (read-only, for BI): $(SALESMP_SERVING)"
	@echo "Parquet exports of the marts: $(SALESMP_SITE)/parquet/"
	@echo "Data Docs (quality): $(SALESMP_SITE)/data_docs/index.html"
	@echo "dbt lineage docs: $(SALESMP_SITE)/docs/index.html (serve them with: make docs)"
	@echo "Monthly reports: $(SALESMP_SITE)/reports/YYYY-MM/channel_efficiency.html and customer_value.html (Chinese; .en.html in English)"
	@echo
	@echo "Open the Dagster UI with: make ui   (then http://127.0.0.1:3000)"
	@echo "Open Superset (Channel health dashboard) with: make superset-ui   (then http://127.0.0.1:8088, admin / admin)"

lint: $(VENV)/.installed
	$(BIN)/ruff check dagster_project tests benchmarks bi
	@if [ -f .sqlfluff ]; then $(BIN)/sqlfluff lint models dbt/macros --processes 2; fi

# Two workers, one test file each at a time (--dist loadfile): a file's module fixtures stay in one
# process, and the builds of one worker overlap the single-threaded steps (Python, Dagster, GE) of
# the other's. Session fixtures are built once per worker. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: $(VENV)/.installed target/manifest.json lint browser superset
	$(BIN)/python -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

ui: $(VENV)/.installed target/manifest.json
	$(BIN)/python -c "from dagster_project.instance import prepare_dagster_home; prepare_dagster_home()"
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

# The lineage docs are built by the `docs/dbt_docs` asset after each publish; this serves them as they are.
docs: $(VENV)/.installed
	@test -f $(SALESMP_SITE)/docs/index.html || { echo "No docs yet in $(SALESMP_SITE)/docs: run make demo first."; exit 2; }
	@echo "dbt lineage docs on http://127.0.0.1:8080"
	$(BIN)/python -m http.server 8080 --bind 127.0.0.1 --directory $(SALESMP_SITE)/docs

# Benchmarks (not part of make test): 1, 3 and 10 million orders; see benchmarks/README.md.
bench: $(VENV)/.installed target/manifest.json
	$(BIN)/python -m benchmarks.run

# Calibration of the raw-feed gates (not part of make test): false alarms on clean zones, poisoned days
# caught or missed; writes benchmarks/results/calibration.md and .json (see benchmarks/calibrate.py).
calibrate: $(VENV)/.installed
	$(BIN)/python -m benchmarks.calibrate $(CALIBRATE_ARGS)

clean:
	rm -rf data target logs
