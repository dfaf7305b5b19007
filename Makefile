# One command sets up and runs the demo; one sets up and runs the tests (see README).
PYTHON ?= python3
VENV ?= .venv
LOCK_HASH := $(shell sha256sum requirements-lock.txt | cut -c1-16)
STAMP := $(VENV)/.lock-$(LOCK_HASH)
BIN := $(VENV)/bin

.PHONY: venv demo test test-fast services-up services-down bench-vision bench-watchlist bench-live bench-gpu soak eval clean

# The venv is rebuilt only when the lock changes; the project itself is installed editable each time
# (cheap) so a venv shared between clones always points at this checkout.
$(STAMP): requirements-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-lock.txt
	touch $@

# checkov pins boto3 and packaging below what the platform needs, so it gets a venv of its own, from its
# own lock, used by the infrastructure tests (tests/infra/test_checkov.py).
CHECKOV_LOCK := infra/requirements-checkov-lock.txt
CHECKOV_VENV := $(VENV)/tools/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.lock-$(shell sha256sum $(CHECKOV_LOCK) | cut -c1-16)

$(CHECKOV_STAMP): $(CHECKOV_LOCK) $(STAMP)
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r $(CHECKOV_LOCK)
	touch $@

venv: $(STAMP)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . 2>/dev/null || $(BIN)/pip install --quiet --no-deps -e .

demo: venv
	$(BIN)/lfr demo

# The browser tests need Chromium, the live camera tests GStreamer's RTSP server: each installed here when
# missing (as root), else one line says what to run.
test: venv $(CHECKOV_STAMP)
	.ci/ensure-chromium
	.ci/ensure-gstreamer
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast layer: every test that needs no service (tests/conftest.py marks the others `services`), no browser and is not
# slow (seconds each without a service: the vision and gpu benches' --quick runs, checkov, a torch model build).
test-fast: venv $(CHECKOV_STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -m "not services and not slow and not browser" $(PYTEST_ARGS)

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
