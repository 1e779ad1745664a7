"""Connect Four strength: the mistake rate on a Pons-format position file.

A file holds one position per line, ``MOVES SCORE``: the columns played from the empty
board as digits 1..7, then the exact score for the side to move (see
``../shared/data/connect4/README.md``).  For each position the player picks a column.

**Mistake** (as in AlphaZero.jl's Pons benchmark): the outcome class of a move is the
sign of its exact value for the mover under perfect play afterwards: win (+1), draw (0)
or loss (-1).  A move is a mistake when its class is below the best legal move's class:
a win thrown away to a draw or a loss, or a draw thrown away to a loss.  Winning more
slowly than possible, or losing sooner than necessary, is not a mistake.  Values come
from :func:`sim.board.connect4_solver.analyze` in its weak (sign only) mode, and the
best class must agree with the sign of the file's SCORE (else the line is rejected).

The rate is ``mistakes / positions`` with a Wilson 95% interval.  :func:`mistake_rate`
asks a player for each move; :func:`read_positions` and :func:`count_mistakes` split that
up for callers that choose the moves themselves (say, one batched network forward).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from selfplay.match import wilson_interval
from selfplay.player import Player, as_player, is_batched, reset_player
from sim.board import BoardGame, make_game
from sim.board.base import is_int


@dataclass(frozen=True)
class Position:
    """One line of a position file: its 1-based ``line`` number, the ``moves`` in Pons'
    notation, the file's exact ``score`` and the connect4 ``state`` after the moves."""

    line: int
    moves: str
    score: int
    state: np.ndarray


@dataclass(frozen=True)
class MistakeReport:
    """Mistakes of ``player`` on the positions of ``path`` (see the module docstring).

    ``mistake_lines`` are the 1-based line numbers of the positions it got wrong.
    """

    player: str
    path: str
    positions: int
    mistakes: int
    mistake_lines: tuple[int, ...]

    @property
    def rate(self) -> float:
        return self.mistakes / self.positions

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.mistakes, self.positions)

    def to_dict(self) -> dict[str, Any]:
        """The numbers as a JSON-ready dict."""
        lo, hi = self.interval
        return {
            "player": self.player,
            "positions_file": self.path,
            "positions": self.positions,
            "mistakes": self.mistakes,
            "mistake_rate": self.rate,
            "interval": [lo, hi],
            "mistake_lines": list(self.mistake_lines),
        }

    def __str__(self) -> str:
        lo, hi = self.interval
        return (
            f"{self.player}: {self.mistakes} mistakes in {self.positions} positions of "
            f"{os.path.basename(self.path)}: {100 * self.rate:.2f}% "
            f"(95% CI {100 * lo:.2f}..{100 * hi:.2f}%)"
        )


def read_positions(
    path: str | os.PathLike[str], limit: int | None = None, game: BoardGame | None = None
) -> list[Position]:
    """The positions of a Pons-format file, the first ``limit`` of them if given.

    Blank lines are skipped.  Raises FileNotFoundError naming a missing file, and
    ValueError naming the line number of a malformed line (not two fields, a bad or
    illegal column, a non-integer score, a finished game).
    """
    if limit is not None and (not is_int(limit) or limit < 1):
        raise ValueError(f"read_positions: limit must be an int >= 1 or None, got {limit!r}")
    game = game if game is not None else make_game("connect4")
    if game.name != "connect4":
        raise ValueError(f"read_positions: position files are for connect4, not {game.name}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"position file not found: {path}")
    positions: list[Position] = []
    with open(path, encoding="ascii", errors="replace") as f:
        for number, text in enumerate(f, start=1):
            if limit is not None and len(positions) >= limit:
                break
            if not text.strip():
                continue
            positions.append(_parse_line(game, path, number, text))
    if not positions:
        raise ValueError(f"{path}: no positions in the file")
    return positions


def _parse_line(game: BoardGame, path: str, number: int, text: str) -> Position:
    where = f"{path}, line {number}"
    fields = text.split()
    if len(fields) != 2:
        raise ValueError(f"{where}: expected 'MOVES SCORE', got {text.strip()!r}")
    moves, score_text = fields
    try:
        score = int(score_text)
    except ValueError:
        raise ValueError(f"{where}: the score {score_text!r} is not an integer") from None
    if not moves.isdigit():
        raise ValueError(f"{where}: moves must be digits 1..7, got {moves!r}")
    try:
        state = game.from_moves(moves)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    if game.is_terminal(state):
        raise ValueError(f"{where}: the game is already over after {moves!r}")
    return Position(line=number, moves=moves, score=score, state=state)


def move_classes(state: np.ndarray) -> np.ndarray:
    """int64[7]: each column's outcome class for the mover (1 win, 0 draw, -1 loss),
    ``INVALID`` for a full column; from the solver's weak analysis."""
    from sim.board.connect4_solver import analyze

    return analyze(state, weak=True)


def count_mistakes(
    positions: Sequence[Position],
    actions: Sequence[int],
    player: str = "player",
    path: str = "",
) -> MistakeReport:
    """Score ``actions[i]`` chosen in ``positions[i]``; ValueError for an illegal move or
    a file score whose sign the solver contradicts (both name the line)."""
    from sim.board.connect4_solver import INVALID

    if len(positions) != len(actions):
        raise ValueError(f"count_mistakes: {len(positions)} positions but {len(actions)} actions")
    if not positions:
        raise ValueError("count_mistakes: no positions")
    wrong: list[int] = []
    for pos, action in zip(positions, actions, strict=True):
        where = f"{path or 'positions'}, line {pos.line}"
        classes = move_classes(pos.state)
        best = int(classes[classes != INVALID].max())
        if best != int(np.sign(pos.score)):
            raise ValueError(
                f"{where}: the file's score {pos.score} disagrees with the solver "
                f"(best outcome {best:+d} for the side to move)"
            )
        if not is_int(action) or not 0 <= int(action) < len(classes):
            raise ValueError(f"{where}: {player!r} chose {action!r}, not a column 0..6")
        if classes[int(action)] == INVALID:
            raise ValueError(f"{where}: {player!r} chose full column {int(action) + 1}")
        if classes[int(action)] < best:
            wrong.append(pos.line)
    return MistakeReport(
        player=player,
        path=path,
        positions=len(positions),
        mistakes=len(wrong),
        mistake_lines=tuple(wrong),
    )


def mistake_rate(
    player_or_policy: Player | Callable[[np.ndarray, np.random.Generator], int],
    positions_file: str | os.PathLike[str],
    limit: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> MistakeReport:
    """The mistake rate of a player (or ``fn(state, rng) -> column``) on a position file.

    For each of the first ``limit`` positions (all by default) the player is reset and
    asked for a move with ``rng`` (a generator, or a seed; seed 0 by default, so the
    report is reproducible); a batched player gets all positions in one ``act_batch``.
    See the module docstring for what counts as a mistake.
    """
    player = as_player(player_or_policy)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
    positions = read_positions(positions_file, limit)
    if is_batched(player):
        reset_player(player)
        actions = list(player.act_batch(np.stack([p.state for p in positions]), generator))
    else:
        actions = []
        for pos in positions:
            reset_player(player)
            actions.append(player.act(pos.state.copy(), generator))
    return count_mistakes(positions, actions, player=player.name, path=os.fspath(positions_file))


# ---- making position files --------------------------------------------------------------
def plies_left(plies: int, score: int) -> int:
    """Plies still to be played under perfect play from a position after ``plies`` plies
    whose exact score for the side to move is ``score`` (Pons' convention)."""
    if score == 0:
        return 42 - plies
    stones = 22 - abs(score)  # the winner's stones when the game ends
    mover_first = plies % 2 == 0
    winner_first = mover_first if score > 0 else not mover_first
    return (2 * stones - 1 if winner_first else 2 * stones) - plies


def make_positions(
    count: int,
    plies: tuple[int, int] = (15, 28),
    max_left: int = 14,
    seed: int = 0,
    exclude: Sequence[str] = (),
) -> list[str]:
    """``count`` lines ``MOVES SCORE`` in Pons' format: positions reached by uniformly
    random play after ``plies[0]..plies[1]`` plies, that perfect play ends within
    ``max_left`` more plies, with no immediate win for the side to move, none twice and
    none in ``exclude`` (the defaults draw sets like Pons' middle-game ``Test_L2_R1``).
    Scores are exact (our solver). Deterministic in ``seed``."""
    from sim.board.connect4_solver import solve

    lo, hi = plies
    if count < 1 or not 0 <= lo <= hi <= 41 or max_left < 1:
        raise ValueError(
            f"make_positions: need count >= 1, 0 <= plies[0] <= plies[1] <= 41 and "
            f"max_left >= 1; got {count}, {plies}, {max_left}"
        )
    game = make_game("connect4")
    rng = np.random.default_rng(seed)
    seen = set(exclude)
    out: list[str] = []
    tries = 0
    while len(out) < count:
        tries += 1
        if tries > 1000 * count:
            raise ValueError(f"make_positions: found only {len(out)} of {count} positions")
        n = int(rng.integers(lo, hi + 1))
        state, moves = game.initial_state(), ""
        for _ in range(n):
            column = int(rng.choice(np.flatnonzero(game.legal_mask(state))))
            game.rules.play(state, column)
            moves += str(column + 1)
            if game.is_terminal(state):
                break
        if game.is_terminal(state) or moves in seen:
            continue
        score = solve(moves)
        if score == (43 - n) // 2 or plies_left(n, score) > max_left:
            continue  # an immediate win, or too long a game
        seen.add(moves)
        out.append(f"{moves} {score}")
    return out
