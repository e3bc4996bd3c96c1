# Two commands set everything up: `make demo` and `make test`. Each (re)creates .venv when it is
# missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export VOUCH_DATA_DIR ?= $(CURDIR)/data
export MLFLOW_DISABLE_TELEMETRY := true
export DAGSTER_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

DEMO_USERS ?= 3000
DEMO_DAYS ?= 35

.PHONY: env demo test lint typecheck chromium ui notebooks bench clean

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	rm -rf $(VOUCH_DATA_DIR)/landing $(VOUCH_DATA_DIR)/ground_truth
	$(BIN)/vouch simulate --users $(DEMO_USERS) --days $(DEMO_DAYS) --seed 7 --faults 0.0005
	$(BIN)/vouch ingest
	$(BIN)/vouch report
	$(BIN)/vouch features
	$(BIN)/vouch models
	$(BIN)/vouch publish
	$(BIN)/vouch check payout --examples
	$(BIN)/vouch feed --build
	$(BIN)/vouch feed --example --page 10
	$(BIN)/vouch seed-core --no-staff
	$(BIN)/vouch queue --sync --top 10
	@echo "Review console: run \`.venv/bin/vouch api\`, open http://127.0.0.1:8000/review and sign in as:"
	$(BIN)/vouch seed-core --staff-only
	@echo "A ban asks for a one-time code: \`.venv/bin/vouch codes analyst@vouch.example\` prints it."
	@echo ""
	@echo "Done: simulated, ingested, featured, trained, scored and published through Dagster. Where to look:"
	@echo "  make ui         Dagster UI (assets, runs, checks, automation) + MLflow UI (training runs, models)"
	@echo "  vouch api       then http://127.0.0.1:8000/review (analyst console) and /docs (the API)"
	@echo "  notebooks/      Jupyter notebooks over $(VOUCH_DATA_DIR)/warehouse.duckdb"

test: $(STAMP) lint typecheck chromium
	$(BIN)/python -m pytest -q

# The console's browser tests drive Debian's chromium by its path (Playwright downloads nothing).
# Installed once, as root (CI is); elsewhere say how, and the browser tests skip with a reason.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests skip)"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# What it checks is the `packages` list in pyproject.toml's [tool.mypy].
typecheck: $(STAMP)
	$(BIN)/mypy

# The Dagster UI and the MLflow UI together (cli/ui.py): ports printed, one Ctrl-C stops both.
ui: $(STAMP)
	$(BIN)/vouch ui

# JupyterLab on notebooks/ (after `make demo`); the notebooks read $(VOUCH_DATA_DIR). Jupyter
# refuses root unless told: these machines (and CI) run as root.
notebooks: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root)

bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.trust
	$(BIN)/python -m bench.features
	$(BIN)/python -m bench.platform_trust
	$(BIN)/python -m bench.feed
	$(BIN)/python -m bench.serving.publish
	$(BIN)/python -m bench.serving.decide
	$(BIN)/python -m bench.review_queue
	$(BIN)/python -m bench.serving.feed
	$(BIN)/python -m bench.hot_paths
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.dagster_backfill
	$(BIN)/python -m bench.celery_shards

clean:
	rm -rf $(VOUCH_DATA_DIR) $(VENV)
