# Box Office: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test bench dist dist-onefile dist-lean clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[test,postgres]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/boxoffice run

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench

# The installer for staff laptops: dist/boxoffice-<version>/ (one folder), checked with its own --self-test.
PYINSTALLER := $(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN

# Size as `du -sh` shows it, and exact (MiB = 2^20 bytes; the packaging test's ceiling is in MiB).
SIZE = du -sh $(1) && du -sb $(1) | awk '{ printf "%.1f MiB (%d bytes)\n", $$1 / 1048576, $$1 }'

dist: $(STAMP)
	rm -rf dist/boxoffice-*
	$(PYINSTALLER) build.spec
	$(call SIZE,dist/boxoffice-*/)
	QT_QPA_PLATFORM=offscreen BOXOFFICE_HOME="$$(mktemp -d)" dist/boxoffice-*/boxoffice --self-test

# Variants: one self-extracting file; a lean folder without the PostgreSQL driver (SQLite only).
dist-onefile: $(STAMP)
	BOXOFFICE_ONEFILE=1 $(PYINSTALLER) build.spec
	$(call SIZE,dist/boxoffice)

dist-lean: $(STAMP)
	rm -rf dist/lean
	BOXOFFICE_LEAN=1 $(PYINSTALLER) --distpath dist/lean build.spec
	$(call SIZE,dist/lean/boxoffice-*/)
	QT_QPA_PLATFORM=offscreen BOXOFFICE_HOME="$$(mktemp -d)" dist/lean/boxoffice-*/boxoffice --self-test

clean:
	rm -rf build dist .pytest_cache
