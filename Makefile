# The two quick-start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv clean bench bench-vector examples docs docs-html mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

YEARS := $(notdir $(wildcard policies/*))
DEMO_OUT ?= demo-output

demo: $(STAMP)
	@for year in $(YEARS); do \
		echo "=== $$year ==="; \
		$(BIN)/planlang check policies/$$year || exit 1; \
		if [ -f examples/$$year.xlsx ]; then $(BIN)/planlang run policies/$$year --data examples/$$year.xlsx || exit 1; fi; \
		echo; \
	done
	@echo "=== 2021/22 ERF worked example (002_0a239ee164b5232a.txt §3) ==="
	$(BIN)/planlang run policies/2021_22 --data examples/erf_worked_example.json
	$(BIN)/planlang explain policies/2021_22 --data examples/erf_worked_example.json \
		--entity EXAMPLE2 --period 2021-05 erf_additional_funding
	@mkdir -p $(DEMO_OUT)
	$(BIN)/planlang run policies/2020_21 --data examples/2020_21.xlsx --output $(DEMO_OUT)/2020_21_results.xlsx \
		--receipt $(DEMO_OUT)/2020_21_receipt.json
	$(BIN)/planlang report policies/2021_22 --data examples/erf_worked_example.json -o $(DEMO_OUT)/erf_report.html
	$(BIN)/planlang report policies/2020_21 --data examples/2020_21.xlsx -o $(DEMO_OUT)/2020_21_report.html
	$(BIN)/planlang verify $(DEMO_OUT)/2020_21_receipt.json
	@echo
	@echo "Audit outputs are in $(abspath $(DEMO_OUT))/:"
	@echo "  2020_21_results.xlsx  every 2020/21 figure with its provenance note (open in Excel)"
	@echo "  2020_21_report.html, erf_report.html  audit reports (open in a browser)"
	@echo "  2020_21_receipt.json  the run's receipt (check it with: planlang verify $(DEMO_OUT)/2020_21_receipt.json)"
	@echo
	@echo "=== What if May's ERF threshold stayed at 70%? (examples/scenarios/2021_22/erf.plan) ==="
	$(BIN)/planlang compare policies/2021_22 --data examples/erf_worked_example.json \
		--scenario examples/scenarios/2021_22/erf.plan:may_at_70 --only erf_additional_funding
	@echo
	@echo "=== How does the ERF bill move as the 120% rate goes from 100% to 150%? (planlang sweep) ==="
	$(BIN)/planlang sweep policies/2021_22 --data examples/erf_worked_example.json \
		--vary 'erf_rate_above_upper = 100% to 150% step 10%' --output erf_additional_funding
	@echo
	@echo "=== The workbench: what-ifs in a browser (docs/workbench.md) ==="
	@echo "  $(BIN)/planlang serve policies/2021_22 --data examples/erf_worked_example.json"
	@echo "  then open the address it prints (http://127.0.0.1:8765/); Ctrl-C stops it"

docs: $(STAMP)
	$(BIN)/python docs/make_policies.py

# Mutation testing of every shipped pack (minutes): policies/<year>/mutation.json, then docs/policies.md
mutation: $(STAMP)
	$(BIN)/python docs/make_policies.py --measure

docs-html: $(STAMP)
	$(BIN)/python docs/make_html.py docs/html

examples: $(STAMP)
	$(BIN)/python examples/make_examples.py

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs examples
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_erf.py

# the bulk-evaluation benchmark: vector backend, hand-written NumPy, the bandwidth floor, OpenFisca,
# and the FRF sweep on Dask (ARGS="1000 10000 --no-frf" picks sizes); its peers are the `bench`
# extra, installed here and never by `make test`
bench-vector: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/bench_vector.py $(ARGS)

clean:
	rm -rf $(VENV) build dist
