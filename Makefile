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

dist: $(STAMP)
	rm -rf dist/boxoffice-*
	$(PYINSTALLER) build.spec
	du -sh dist/boxoffice-*/
	QT_QPA_PLATFORM=offscreen BOXOFFICE_HOME="$$(mktemp -d)" dist/boxoffice-*/boxoffice --self-test

# Variants: one self-extracting file; a lean folder without PostgreSQL and the Linux Secret Service keychain.
dist-onefile: $(STAMP)
	BOXOFFICE_ONEFILE=1 $(PYINSTALLER) build.spec
	du -sh dist/boxoffice

dist-lean: $(STAMP)
	BOXOFFICE_LEAN=1 $(PYINSTALLER) --distpath dist/lean build.spec
	du -sh dist/lean/boxoffice-*/

clean:
	rm -rf build dist .pytest_cache
