PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test browser lint train evaluate pools embeddings data bench fuzz clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

run: $(STAMP)  ## start the dashboard on the bundled data and checkpoints
	$(BIN)/streamlit run app.py

lint: $(STAMP)  ## ruff over the repository, mypy over sc_core (settings in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP)  ## the whole test suite, two workers (one BLAS/OpenMP thread each: faster on 2 cores)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist worksteal

browser: $(STAMP)  ## end-to-end tests in Debian's Chromium (/usr/bin/chromium; apt-get install chromium)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest tests/browser

embeddings: $(STAMP)  ## store every model's t-SNE maps and predicted-superconductor shares (Element embeddings page)
	$(BIN)/python -m sc_core.embeddings

data: $(STAMP)  ## rebuild data/ from ../shared/data (maintainers only)
	$(BIN)/python -m sc_core.data build --source ../shared/data

train: $(STAMP)  ## retrain every committed checkpoint on this CPU, then evaluate each and store its pool predictions
	$(BIN)/python -m sc_core.train all
	$(BIN)/sc pools

evaluate: $(STAMP)  ## recompute benchmarks/results/*.json from the checkpoints
	$(BIN)/sc evaluate --model all

pools: $(STAMP)  ## store every trained model's predictions on the bundled pools (checkpoints/<model>/pools/)
	$(BIN)/sc pools

bench: $(STAMP)  ## throughput and latency figures
	$(BIN)/python benchmarks/throughput.py

fuzz: $(STAMP)  ## hostile input: 100,000 formulas, CIF/POSCAR mutations and zips, each in a worker (2 s, 500 MB)
	$(BIN)/python benchmarks/fuzz.py --cases 100000

clean:
	rm -rf $(VENV) .pytest_cache
