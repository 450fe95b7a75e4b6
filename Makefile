# Two commands on a fresh machine (Python 3.11+ and make):
#   make demo   - set up .venv and run the main job on the bundled sample data into reports/
#   make test   - set up .venv, lint (ruff) and run the whole suite (unit tests, doctests,
#                 notebooks)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2

.PHONY: demo test install bench sample lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(BIN)/loyaltylab report --out reports

# --dist loadfile: a notebook's cells share one kernel, so they must run on one worker
test: $(STAMP)
	$(BIN)/ruff check loyaltylab tests benchmarks
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q --durations=25

sample: $(STAMP)
	$(BIN)/python -m loyaltylab.datasets.build_sample

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Re-pin every dependency to the versions installed now.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) reports .pytest_cache
