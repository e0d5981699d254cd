# Every target builds .venv from scratch when it is missing; torch always comes from
# constraints.txt (the CPU wheel on disk), never a multi-GB CUDA build from the index.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := PIP_CONSTRAINT=constraints.txt $(BIN)/pip install -q -c constraints.txt
STAMP := $(VENV)/.installed
CHROMIUM := /usr/lib/chromium/chromium

export MPLBACKEND := Agg
export KERAS_BACKEND := torch
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER := 0
export RAY_AUTH_MODE := disabled
export RAY_USAGE_STATS_ENABLED := 0
# LSTMLAB_REQUIRE_KERNELS=1 (set by .ci/run, or `make test LSTMLAB_REQUIRE_KERNELS=1`): the C
# kernels must build; LSTMLAB_NATIVE_ARCH=1 opts into -march=native kernels (lstmlab/native.py).
export LSTMLAB_REQUIRE_KERNELS
export LSTMLAB_NATIVE_ARCH

.PHONY: demo test lint bench browser clean results

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lstmlab tour --out report

# Debian's chromium for the browser tests (Playwright's own download cannot work offline).
# In CI (CI=true) a failed install fails here, and the browser tests would fail too: they
# never skip there. Elsewhere they skip, saying why.
browser:
	@test -x $(CHROMIUM) || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; } \
	  || if [ "$$CI" = "true" ]; then \
	    echo "chromium could not be installed, and CI=true needs the browser tests" >&2; exit 1; \
	  else echo "chromium could not be installed: browser tests will be skipped (CI=true fails)"; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# RESULTS.md and results/summary.csv from the trials committed under results/trials/.
results: $(STAMP)
	$(BIN)/lstmlab results

clean:
	rm -rf $(VENV) report .pytest_cache
