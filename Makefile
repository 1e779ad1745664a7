# simarena: `make demo` and `make test` work on a fresh clone (they create .venv first).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
export PYGAME_HIDE_SUPPORT_PROMPT := 1

.PHONY: install engines demo test lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

# The main job: AlphaZero learns Connect Four from scratch for a few minutes, then plays
# (and records) a match against pure MCTS and takes the Pons mistake benchmark.
DEMO_MINUTES ?= 4
SHARED ?= ../shared/data/connect4
demo: install
	@dir=runs/demo-alphazero-connect4-$$(date +%Y%m%d-%H%M%S) && \
	$(PY) scripts/train.py alphazero --minutes $(DEMO_MINUTES) --blocks 3 --channels 32 \
		--min-replay 500 --eval-every-minutes 0 --run-dir $$dir && \
	$(PY) scripts/watch.py --game connect4 --player0 alphazero:$$dir --player1 mcts \
		--az-simulations 200 --simulations 1000 --fps 2 --record $$dir/match.mp4 && \
	if [ -d $(SHARED) ]; then \
		$(PY) scripts/evaluate.py $$dir --positions $(SHARED)/Test_L3_R1 $(SHARED)/Test_L2_R1 \
			--sims 200 --limit 200; \
	else echo "demo: $(SHARED) not found, no mistake benchmark"; fi && \
	echo "demo: everything is in $$dir"

# GNU Go and Stockfish are the engines of the engine-bridge tests; they come from the
# system's packages (tests that need them skip with the reason when they are absent).
engines:
	@command -v gnugo >/dev/null || test -x /usr/games/gnugo || \
	{ test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
	  timeout 180 apt-get install -y -qq --no-install-recommends gnugo stockfish >/dev/null 2>&1; } || \
	echo "engines: gnugo/stockfish not installed; their tests will skip"

test: install engines
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
