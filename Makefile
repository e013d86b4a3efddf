# Kimera: two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# The interpreter the venv is built on: the distribution's CPython 3.11 when the machine has it (Debian builds
# it with PGO + LTO and links libpython statically: the pure-Python hot paths run ~20% faster than on a plain
# --enable-shared source build such as pyenv's; see README, "Interpreter"), else `python3`. `make PY=...` overrides.
PY ?= $(shell /usr/bin/python3.11 -c 'import ensurepip' 2>/dev/null && echo /usr/bin/python3.11 || echo python3)
PYREAL := $(shell $(PY) -c 'import sys; print(sys.executable)')
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml; echo $(PYREAL)) | sha1sum | cut -c1-12)
TORCH_WHEEL := $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl)

.PHONY: venv demo test bench lint clean

$(STAMP): pyproject.toml
	# a venv built on another interpreter is rebuilt from scratch
	test "$$($(BIN)/python -c 'import sys; print(sys._base_executable)' 2>/dev/null)" = "$(PYREAL)" \
		|| $(PY) -m venv --clear $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch==2.13.0 exactly: the local CPU wheel when the machine has it (else PyPI's CPU index).
	if [ -n "$(TORCH_WHEEL)" ]; then $(BIN)/pip install -q "$(TORCH_WHEEL)"; \
	else $(BIN)/pip install -q torch==2.13.0; fi
	$(BIN)/pip install -q -e '.[test]'
	# headless Chromium renders the HTML report in a test (Debian package; the test skips without it)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the report render test will skip"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/kimera demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/kimera bench

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
