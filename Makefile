# One command sets up and runs the demo; one sets up and runs the tests (see README).
PYTHON ?= python3
VENV ?= .venv
LOCK_HASH := $(shell sha256sum requirements-lock.txt | cut -c1-16)
STAMP := $(VENV)/.lock-$(LOCK_HASH)
BIN := $(VENV)/bin

.PHONY: venv demo test services-up services-down bench-vision bench-watchlist bench-live bench-gpu soak eval clean

# The venv is rebuilt only when the lock changes; the project itself is installed editable each time
# (cheap) so a venv shared between clones always points at this checkout.
$(STAMP): requirements-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-lock.txt
	touch $@

venv: $(STAMP)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null || $(BIN)/pip install --quiet --no-deps -e .

demo: venv
	$(BIN)/lfr demo

test: venv
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

services-up: venv
	$(BIN)/lfr services up

services-down: venv
	$(BIN)/lfr services down

eval: venv
	$(BIN)/lfr eval --manifest ../shared/data/faces/manifest.csv

bench-vision: venv
	$(BIN)/python bench/vision.py

bench-watchlist: venv
	$(BIN)/python bench/watchlist.py

bench-live: venv
	$(BIN)/python bench/live.py

bench-gpu: venv
	$(BIN)/python bench/gpu.py

soak: venv
	$(BIN)/python bench/soak.py

clean:
	-$(BIN)/lfr services down
	rm -rf .lfr
