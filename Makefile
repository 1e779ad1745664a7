# simarena: `make demo` and `make test` work on a fresh clone (they create .venv first).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
export PYGAME_HIDE_SUPPORT_PROMPT := 1

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# For now the main job is a recorded match; the AlphaZero work turns it into training.
demo: install
	@dir=runs/demo-connect4-$$(date +%Y%m%d-%H%M%S) && mkdir -p $$dir && \
	$(PY) scripts/watch.py --game connect4 --player0 mcts --player1 greedy \
		--simulations 2000 --fps 2 --record $$dir/match.mp4

test: install
	$(PY) -m pytest -n 2 -q

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: install
	$(PY) scripts/bench_board.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
