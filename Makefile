# EClips: `make serve` to run it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/eclips serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup -q
	@if [ -f sdk/typescript/package.json ]; then \
		cd sdk/typescript && npm ci --silent --no-audit --no-fund && npm test; \
	fi

bench: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m bench

clean:
	rm -rf $(VENV) eclips.db eclips.db-wal eclips.db-shm
