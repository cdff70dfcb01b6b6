# The two commands of the README: `make run` and `make test`.
VENV   := .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: install, migrate, seed the demo bank and serve on http://127.0.0.1:8000/
run: install
	CHATBOT_ENV=$${CHATBOT_ENV:-sandbox} $(BIN)/chatbot db upgrade
	CHATBOT_ENV=$${CHATBOT_ENV:-sandbox} $(BIN)/chatbot seed
	CHATBOT_ENV=$${CHATBOT_ENV:-sandbox} $(BIN)/chatbot serve --host $(HOST) --port $(PORT)

## make test: throwaway PostgreSQL and Redis, a real Chromium, then pytest on every core
## (pytest-xdist; each test file stays on one worker, so its module fixtures are built once)
PYTEST_ARGS ?= -n auto --maxprocesses 4 --dist loadfile
test: install-test
	scripts/with-test-services.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/load.py --workers 1 2

clean:
	rm -rf $(VENV) var/test-*
