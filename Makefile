# Box Office: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# One stamp per set of extras, named after pyproject.toml's checksum: a changed pyproject reinstalls.
HASH := $(shell cksum < pyproject.toml | cut -d' ' -f1)
APP := $(VENV)/.app-$(HASH)
TESTS := $(VENV)/.test-$(HASH)
DEV := $(VENV)/.dev-$(HASH)

.PHONY: run test check bench dist dist-onefile dist-lean clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# `make run` installs only what the app needs; the test and check tools come with their own targets.
$(APP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	rm -f $(VENV)/.app-*
	touch $@

$(TESTS): $(APP)
	$(PY) -m pip install --quiet -e ".[test,postgres]"
	rm -f $(VENV)/.test-*
	touch $@

$(DEV): $(APP)
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.dev-*
	touch $@

run: $(APP)
	$(VENV)/bin/boxoffice run

test: $(TESTS)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(TESTS)
	$(PY) -m bench

# The static checks the project declares in pyproject.toml, with the versions pinned in the dev extra.
check: $(DEV)
	$(VENV)/bin/ruff check boxoffice tests bench
	$(VENV)/bin/mypy boxoffice

# The installer for staff laptops: dist/boxoffice-<version>/ (one folder), checked with its own --self-test.
PYINSTALLER := $(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN

# Size as `du -sh` shows it, and exact (MiB = 2^20 bytes; the packaging test's ceiling is in MiB).
SIZE = du -sh $(1) && du -sb $(1) | awk '{ printf "%.1f MiB (%d bytes)\n", $$1 / 1048576, $$1 }'

dist: $(TESTS)
	rm -rf dist/boxoffice-*
	$(PYINSTALLER) build.spec
	$(call SIZE,dist/boxoffice-*/)
	QT_QPA_PLATFORM=offscreen BOXOFFICE_HOME="$$(mktemp -d)" dist/boxoffice-*/boxoffice --self-test

# Variants: one self-extracting file; a lean folder without the PostgreSQL driver (SQLite only).
dist-onefile: $(TESTS)
	BOXOFFICE_ONEFILE=1 $(PYINSTALLER) build.spec
	$(call SIZE,dist/boxoffice)

dist-lean: $(TESTS)
	rm -rf dist/lean
	BOXOFFICE_LEAN=1 $(PYINSTALLER) --distpath dist/lean build.spec
	$(call SIZE,dist/lean/boxoffice-*/)
	QT_QPA_PLATFORM=offscreen BOXOFFICE_HOME="$$(mktemp -d)" dist/lean/boxoffice-*/boxoffice --self-test

clean:
	rm -rf build dist .pytest_cache
