# casefile — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers for `make test` (auto: one per core); TEST_WORKERS=0 runs in one process
TEST_WORKERS ?= auto

.PHONY: run test venv system-deps postgres lint format bench templates clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

postgres:
	bash scripts/ensure-postgres.sh

## run: install, initialise the embedded store with demo data on first run, serve on :5000
run: venv system-deps
	$(BIN)/casefile init --demo
	@echo
	@echo "登录地址 http://127.0.0.1:5000/ — 演示账户见上方（首次运行时打印）；"
	@echo "演示账户：clerk / adviser / lawyer / head / signatory / inspector，密码 Casefile-demo-2026"
	$(BIN)/casefile run --host 127.0.0.1 --port 5000

## test: install everything the tests need (system packages, PostgreSQL) and run the whole suite
test: venv system-deps postgres
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check app tests bench tools
	$(BIN)/lint-imports
	$(BIN)/ruff format --check app tests bench tools

format: venv
	$(BIN)/ruff format app tests bench tools
	$(BIN)/ruff check --fix app tests bench tools

bench: venv system-deps
	$(BIN)/python bench/issue.py

templates: venv
	$(BIN)/python tools/build_templates.py

clean:
	rm -rf $(VENV) .pytest_cache
