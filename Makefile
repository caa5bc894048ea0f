# The two quick-start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/planlang check policies/2021_22
	$(BIN)/planlang run policies/2021_22 --data examples/erf_worked_example.json
	$(BIN)/planlang explain policies/2021_22 --data examples/erf_worked_example.json \
		--entity EXAMPLE2 --period 2021-05 erf_additional_funding

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_erf.py

clean:
	rm -rf $(VENV) build dist
