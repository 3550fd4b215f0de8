# spikefab set-up and entry points. Every target installs what is missing first, so a fresh
# Debian/Ubuntu machine with Python 3.11 needs nothing but `make demo` or `make test`.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# System tools the flow runs (../shared/TOOLCHAIN.md): simulator, synthesis, timing, the OSU liberties.
APT_PACKAGES := iverilog yosys opensta qflow-tech-osu018 qflow-tech-osu035 qflow-tech-osu050 \
                dataset-fashion-mnist g++ make

# torch on 2-core machines: the default OpenMP spin-wait makes 2-thread runs erratic.
export OMP_WAIT_POLICY := PASSIVE

# Norse (a test and bench dependency: its networks come in through NIR) declares torchvision, which it
# imports only for its data sets and tasks; PyPI's torchvision wheel is built for CUDA torch and fails
# to load beside the CPU build. Its neurons and NIR export need only torch, nir and nirtorch (ours).
NORSE := norse==1.1.0

APT_STAMP := $(VENV)/.apt-installed
PIP_STAMP := $(VENV)/.pip-installed

.PHONY: setup demo test test-all bench clean

setup: $(APT_STAMP) $(PIP_STAMP)

$(APT_STAMP):
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@mkdir -p $(VENV) && touch $@

$(PIP_STAMP): pyproject.toml Makefile
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(NORSE)
	@touch $@

demo: setup
	$(BIN)/spikefab run --dataset digits --verify-images all --out runs/demo

# hw/ and sim/ must run without torch (the contract of ../shared/DESIGN.md): their tests run in a process
# where torch cannot be imported (tests/torch_blocked), the rest in another.
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadgroup
TORCH_FREE_TESTS := tests/hw tests/sim
define run_tests
	PYTHONPATH=tests/torch_blocked $(PYTEST) $(1) $(TORCH_FREE_TESTS)
	$(PYTEST) $(1) tests $(addprefix --ignore=,$(TORCH_FREE_TESTS))
endef

test: setup
	$(call run_tests,-m "not slow")

test-all: setup
	$(call run_tests,)

bench: setup
	$(BIN)/python -m flows.benchmarks.bench --out bench

clean:
	rm -rf runs bench/run-* bench/framework-* build .pytest_cache
