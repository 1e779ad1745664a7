"""External engines as players: GTP (Go: GNU Go) and UCI (chess: Stockfish) over pipes.

:class:`GTPEngine` and :class:`UCIEngine` run an engine program as a subprocess and follow
the player protocol of :mod:`selfplay.player` (``act``, ``reset``, ``observe``), so they
play in :func:`selfplay.match.play_game` (and :func:`engine_ladder`) like any other
player.  :func:`gnugo` and :func:`stockfish` build the usual opponents: GNU Go at its
levels 1..10 on Go, Stockfish at its skill levels 0..20 with a node limit on chess.

An engine learns the game through ``observe`` (both sides' moves) and sends the moves it
has not seen before each ``genmove`` / ``go``; when its picture and the game's disagree
it is set up again from scratch (GTP: ``clear_board`` and every move; UCI: the moves
from the start, or the FEN when there is no move list, e.g. in the lockstep runner).

Failures are :class:`EngineError` s that name the engine and what went wrong:

* a binary that is not installed: :class:`EngineNotFound` when the player is built;
* no answer within ``move_timeout`` (or ``start_timeout`` for the handshake):
  :class:`EngineTimeout`; the engine is killed and started again at the next game;
* an engine that exits: :class:`EngineCrashed`, with its exit code and last stderr lines;
* an answer that is not the protocol's, or a command the engine refuses:
  :class:`EngineProtocolError`;
* a move that is not legal in the game: :class:`EngineIllegalMove`;
* GTP ``resign``: :class:`EngineResigned`.

All are :class:`selfplay.match.PlayerFailure`: in :func:`selfplay.match.play_match` a
game where an engine fails is lost by that engine's **forfeit** (the record's
``forfeit`` says why; :func:`selfplay.match.forfeits` lists them) and the match goes on.
Engines stop cleanly on :meth:`close` (``quit``, then terminate, then kill), at the end
of a ``with`` block, or when garbage collected.
An engine pickles as its settings (for process pools) and starts again on the other side.
"""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import subprocess
import threading
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay.match import MatchResult, PlayerFailure, play_match
from selfplay.player import Player, PlayerBase
from sim.board import BoardGame
from sim.board.base import is_int

# Folders searched after PATH: Debian installs games (gnugo, stockfish) in /usr/games.
ENGINE_DIRS = ("/usr/games", "/usr/local/games")
GNUGO_LEVELS = range(1, 11)
STOCKFISH_SKILLS = range(0, 21)


# ---- errors -----------------------------------------------------------------------------
class EngineError(PlayerFailure):
    """An engine failed; ``engine`` is its name (in a match: a forfeit, see
    :class:`selfplay.match.PlayerFailure`)."""

    def __init__(self, engine: str, message: str) -> None:
        super().__init__(f"engine {engine!r}: {message}")
        self.engine = engine


class EngineNotFound(EngineError, ValueError):
    """The engine's program is not installed (or not executable)."""


class EngineTimeout(EngineError):
    """The engine did not answer in time."""


class EngineCrashed(EngineError):
    """The engine's process exited (or closed its output)."""


class EngineProtocolError(EngineError):
    """The engine answered something that is not the protocol, or refused a command."""


class EngineIllegalMove(EngineError):
    """The engine chose a move that is not legal in the game."""


class EngineResigned(EngineError):
    """The engine resigned (GTP ``resign``): it loses the game."""


def find_engine(program: str) -> str | None:
    """The path of ``program`` on PATH or in /usr/games, or None if it is not installed."""
    if os.sep in program:
        return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
    return shutil.which(program) or shutil.which(program, path=os.pathsep.join(ENGINE_DIRS))


def _resolve_argv(argv: Sequence[str] | str, name: str) -> list[str]:
    args = shlex.split(argv) if isinstance(argv, str) else [str(a) for a in argv]
    if not args:
        raise ValueError(f"engine {name!r}: empty command line")
    path = find_engine(args[0])
    if path is None:
        raise EngineNotFound(
            name,
            f"program {args[0]!r} not found on PATH or in {', '.join(ENGINE_DIRS)} "
            "(Debian/Ubuntu: apt-get install gnugo stockfish)",
        )
    return [path, *args[1:]]


# ---- the process --------------------------------------------------------------------------
_EOF = object()


class EngineProcess:
    """A line-based subprocess: ``send`` a line, ``readline(timeout)`` the answers.

    Reader threads move stdout lines into a queue (so reads can time out) and keep the
    last stderr lines for crash reports.
    """

    def __init__(self, argv: list[str], name: str) -> None:
        self.name = name
        self.argv = argv
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
        except OSError as e:
            raise EngineNotFound(name, f"cannot start {argv[0]!r}: {e}") from None
        self.lines: queue.Queue = queue.Queue()
        self.stderr: deque[str] = deque(maxlen=20)
        threading.Thread(target=self._pump, args=(self.proc.stdout, True), daemon=True).start()
        self._stderr_pump = threading.Thread(
            target=self._pump, args=(self.proc.stderr, False), daemon=True
        )
        self._stderr_pump.start()

    def _pump(self, stream, stdout: bool) -> None:
        try:
            for line in stream:
                if stdout:
                    self.lines.put(line.rstrip("\r\n"))
                else:
                    self.stderr.append(line.rstrip("\r\n"))
        except (OSError, ValueError):
            pass
        if stdout:
            self.lines.put(_EOF)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _crashed(self) -> EngineCrashed:
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:  # the process is gone: let its last stderr lines arrive
            self._stderr_pump.join(timeout=1.0)
        tail = " | ".join(self.stderr)
        return EngineCrashed(
            self.name,
            f"the process exited (code {code})" + (f"; stderr: {tail}" if tail else ""),
        )

    def send(self, line: str) -> None:
        if not self.alive:
            raise self._crashed()
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._crashed() from None

    def readline(self, timeout: float, waiting_for: str) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise EngineTimeout(
                self.name, f"no answer to {waiting_for!r} within {timeout:g} s (killed)"
            ) from None
        if line is _EOF:
            self.lines.put(_EOF)  # later reads see the end too
            raise self._crashed()
        return line

    def close(self, quit_command: str | None, grace: float = 2.0) -> None:
        """Ask the engine to quit, then terminate, then kill; reap the process."""
        if self.alive and quit_command:
            try:
                self.proc.stdin.write(quit_command + "\n")
                self.proc.stdin.flush()
            except (OSError, ValueError):
                pass
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def kill(self) -> None:
        if self.alive:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass


def _close_process(proc: EngineProcess, quit_command: str) -> None:
    proc.close(quit_command)


# ---- a player over a process ----------------------------------------------------------------
class EnginePlayer(PlayerBase):
    """What GTP and UCI engines share: settings, lazy start, move history, shutdown."""

    quit_command = "quit"
    game_names: tuple[str, ...] = ()
    follows_moves = True  # play_match keeps engines out of the lockstep runner

    def __init__(
        self,
        argv: Sequence[str] | str,
        game: BoardGame,
        name: str | None = None,
        move_timeout: float = 30.0,
        start_timeout: float = 10.0,
    ) -> None:
        if game.name not in self.game_names:
            raise ValueError(
                f"{type(self).__name__} plays {', '.join(self.game_names)}, not {game.name}"
            )
        for what, value in (("move_timeout", move_timeout), ("start_timeout", start_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{what} must be a number of seconds > 0, got {value!r}")
        self.name = str(name) if name is not None else os.path.basename(str(_first(argv)))
        self.argv = _resolve_argv(argv, self.name)
        self.game = game
        self.move_timeout = float(move_timeout)
        self.start_timeout = float(start_timeout)
        self._proc: EngineProcess | None = None
        self._finalizer: weakref.finalize | None = None
        self.history: list[int] = []  # the game's moves so far, from observe
        self._synced: list[int] = []  # the moves the engine has (its own included)

    # ---- lifetime ------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.alive

    def start(self) -> None:
        """Start the engine (again, if it died) and run the protocol's handshake."""
        if self.running:
            return
        self._drop()
        self._proc = EngineProcess(self.argv, self.name)
        self._finalizer = weakref.finalize(self, _close_process, self._proc, self.quit_command)
        self._synced = []
        try:
            self._handshake()
        except BaseException:
            self._drop()
            raise

    def close(self) -> None:
        """Stop the engine: quit, terminate, kill (safe to call twice)."""
        if self._finalizer is not None:
            self._finalizer()  # runs _close_process once
        self._proc = None
        self._finalizer = None

    def _drop(self) -> None:
        if self._proc is not None and self._finalizer is not None:
            self._finalizer.detach()
            self._proc.kill()
            self._proc.close(None, grace=0.5)
        self._proc = None
        self._finalizer = None

    def __enter__(self) -> EnginePlayer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.update(_proc=None, _finalizer=None, history=[], _synced=[])
        return data

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)

    # ---- player hooks ----------------------------------------------------------
    def reset(self) -> None:
        self.start()
        self.history = []
        self._new_game()
        self._synced = []

    def observe(self, state: np.ndarray, action: int) -> None:
        self.history.append(int(action))

    def act(self, state: np.ndarray, rng: np.random.Generator) -> int:
        self.start()
        if self.game.is_terminal(state):
            raise ValueError(f"engine {self.name!r}: asked to move in a finished game")
        action = self._choose(np.asarray(state))
        try:
            return self.game.check_action(state, action)
        except ValueError as e:
            raise EngineIllegalMove(self.name, str(e)) from None

    def _history_matches(self, state: np.ndarray) -> bool:
        return len(self.history) == self.game.ply(state)

    # ---- protocol (subclasses) ---------------------------------------------------
    def _handshake(self) -> None:
        raise NotImplementedError

    def _new_game(self) -> None:
        raise NotImplementedError

    def _choose(self, state: np.ndarray) -> int:
        raise NotImplementedError


def _first(argv: Sequence[str] | str) -> str:
    args = shlex.split(argv) if isinstance(argv, str) else list(argv)
    return args[0] if args else "engine"


# ---- GTP ------------------------------------------------------------------------------------
class GTPEngine(EnginePlayer):
    """A Go engine that speaks GTP version 2 (GNU Go, KataGo, our ``scripts/gtp.py``).

    ``argv`` is the command line (a list, or a string split like a shell would);
    ``game`` a :class:`sim.board.go.Go` whose size and komi the engine is told at each
    new game (``boardsize``, ``komi``, ``clear_board``). Moves are GTP vertices (``D4``,
    ``pass``); ``resign`` raises :class:`EngineResigned`. Our game's rules (positional
    superko, Tromp-Taylor area scoring) decide legality and the result; an engine that
    plays under other rules (simple ko) may in rare positions choose a move that ours
    forbids, which is then an :class:`EngineIllegalMove`.
    """

    game_names = ("go",)

    def command(self, text: str, timeout: float | None = None) -> str:
        """Send one GTP command; its answer without the ``=``, or an EngineError."""
        if self._proc is None:
            self.start()
        assert self._proc is not None
        proc = self._proc
        proc.send(text)
        wait = self.move_timeout if timeout is None else timeout
        first = proc.readline(wait, text)
        while first == "":  # blank lines between answers are harmless
            first = proc.readline(wait, text)
        if not first.startswith(("=", "?")):
            self._drop()
            raise EngineProtocolError(
                self.name, f"answered {first!r} to {text!r} (a GTP answer starts with '=' or '?')"
            )
        lines = [first[1:].strip()]
        while True:
            line = proc.readline(wait, text)
            if line == "":
                break
            lines.append(line)
        body = "\n".join(lines).strip()
        if first.startswith("?"):
            raise EngineProtocolError(self.name, f"refused {text!r}: {body or 'no reason given'}")
        return body

    def _handshake(self) -> None:
        version = self.command("protocol_version", self.start_timeout)
        if version.strip() != "2":
            raise EngineProtocolError(self.name, f"speaks GTP version {version!r}, not 2")

    def _new_game(self) -> None:
        self.command(f"boardsize {self.game.size}", self.start_timeout)
        self.command(f"komi {self.game.komi:g}", self.start_timeout)
        self.command("clear_board", self.start_timeout)

    def _color(self, player: int) -> str:
        return "b" if player == 0 else "w"

    def _choose(self, state: np.ndarray) -> int:
        if not self._history_matches(state):
            raise ValueError(
                f"engine {self.name!r} has seen {len(self.history)} moves of a game at ply "
                f"{self.game.ply(state)}: a GTP engine learns the moves through observe(), "
                "which play_game and play_match call (the lockstep runner does not)"
            )
        if self._synced != self.history[: len(self._synced)]:
            self.command("clear_board")
            self._synced = []
        for i in range(len(self._synced), len(self.history)):
            vertex = self.game.action_to_str(self.history[i])
            self.command(f"play {self._color(i % 2)} {vertex}")
            self._synced.append(self.history[i])
        mover = self.game.to_play(state)
        answer = self.command(f"genmove {self._color(mover)}")
        if answer.lower() == "resign":
            raise EngineResigned(self.name, f"resigned at ply {self.game.ply(state)}")
        try:
            action = self.game.str_to_action(answer)
        except ValueError:
            raise EngineProtocolError(
                self.name, f"answered {answer!r} to genmove (not a vertex, pass or resign)"
            ) from None
        self._synced.append(action)
        return action


def gnugo(
    game: BoardGame,
    level: int = 1,
    program: str = "gnugo",
    name: str | None = None,
    move_timeout: float = 60.0,
) -> GTPEngine:
    """GNU Go at ``level`` (1..10) on ``game`` (Go), with Chinese (area) rules and
    ``--capture-all-dead`` so that it removes dead stones before passing, as
    Tromp-Taylor scoring needs."""
    if not is_int(level) or level not in GNUGO_LEVELS:
        raise ValueError(f"gnugo: level must be an int from 1 to 10, got {level!r}")
    argv = [program, "--mode", "gtp", "--level", str(level), "--chinese-rules"]
    argv.append("--capture-all-dead")
    return GTPEngine(argv, game, name=name or f"gnugo-{level}", move_timeout=move_timeout)


# ---- UCI ------------------------------------------------------------------------------------
class UCIEngine(EnginePlayer):
    """A chess engine that speaks UCI (Stockfish, our ``scripts/uci.py``).

    ``options`` are ``setoption`` values (checked against the options the engine
    offers); each move is searched with ``go`` and the limits given: ``nodes``,
    ``depth`` and/or ``movetime_ms`` (none of them: ``go movetime 1000``). The position
    is sent as ``position startpos moves ...`` from the observed moves, or as a FEN
    when the player has not seen the game's moves (the FEN carries no history, so the
    engine cannot see repetitions then).
    """

    game_names = ("chess",)

    def __init__(
        self,
        argv: Sequence[str] | str,
        game: BoardGame,
        name: str | None = None,
        options: dict[str, Any] | None = None,
        nodes: int | None = None,
        depth: int | None = None,
        movetime_ms: int | None = None,
        move_timeout: float = 30.0,
        start_timeout: float = 10.0,
    ) -> None:
        for what, value in (("nodes", nodes), ("depth", depth), ("movetime_ms", movetime_ms)):
            if value is not None and (not is_int(value) or value < 1):
                raise ValueError(f"{what} must be an int >= 1 or None, got {value!r}")
        super().__init__(argv, game, name, move_timeout, start_timeout)
        self.options = dict(options or {})
        self.limits = {"nodes": nodes, "depth": depth, "movetime": movetime_ms}
        self.engine_options: dict[str, str] = {}  # name -> the "option" line's rest

    def _read_until(self, token: str, timeout: float, sent: str) -> list[str]:
        assert self._proc is not None
        lines = []
        while True:
            line = self._proc.readline(timeout, sent)
            lines.append(line)
            if line.split()[:1] == [token]:
                return lines

    def _ready(self, timeout: float) -> None:
        assert self._proc is not None
        self._proc.send("isready")
        self._read_until("readyok", timeout, "isready")

    def _handshake(self) -> None:
        assert self._proc is not None
        self._proc.send("uci")
        for line in self._read_until("uciok", self.start_timeout, "uci"):
            if line.startswith("option name "):
                rest = line[len("option name ") :]
                key = rest.split(" type ")[0].strip()
                self.engine_options[key.lower()] = rest
        for key, value in self.options.items():
            if key.lower() not in self.engine_options:
                raise EngineProtocolError(
                    self.name,
                    f"has no option {key!r}; it offers: {sorted(self.engine_options) or 'none'}",
                )
            text = str(value).lower() if isinstance(value, bool) else str(value)
            self._proc.send(f"setoption name {key} value {text}")
        self._ready(self.start_timeout)

    def _new_game(self) -> None:
        assert self._proc is not None
        self._proc.send("ucinewgame")
        self._ready(self.start_timeout)

    def _go_command(self) -> str:
        parts = [f"{k} {v}" for k, v in self.limits.items() if v is not None]
        return "go " + (" ".join(parts) if parts else "movetime 1000")

    def _choose(self, state: np.ndarray) -> int:
        assert self._proc is not None
        if self._history_matches(state):
            # The UCI text of each move needs the position it was played in.
            moves, s = [], self.game.initial_state()
            for a in self.history:
                moves.append(self.game.action_to_str(a, s))
                s = self.game.apply(s, a)
            position = "position startpos" + (" moves " + " ".join(moves) if moves else "")
        else:
            position = f"position fen {self.game.fen(state)}"
        self._proc.send(position)
        go = self._go_command()
        self._proc.send(go)
        lines = self._read_until("bestmove", self.move_timeout, go)
        words = lines[-1].split()
        if len(words) < 2:
            raise EngineProtocolError(self.name, f"answered {lines[-1]!r}: bestmove without a move")
        text = words[1]
        if text in ("(none)", "0000"):
            raise EngineProtocolError(self.name, f"found no move ({text}) in a position with moves")
        try:
            return self.game.str_to_action(text, state)
        except ValueError as e:
            if _looks_like_uci(text):
                raise EngineIllegalMove(self.name, f"played {text!r}: {e}") from None
            raise EngineProtocolError(
                self.name, f"answered bestmove {text!r}: not a UCI move"
            ) from None


def _looks_like_uci(text: str) -> bool:
    return (
        4 <= len(text) <= 5
        and text[0] in "abcdefgh"
        and text[2] in "abcdefgh"
        and text[1] in "12345678"
        and text[3] in "12345678"
    )


def stockfish(
    game: BoardGame,
    skill: int = 0,
    nodes: int | None = 1000,
    depth: int | None = None,
    movetime_ms: int | None = None,
    elo: int | None = None,
    program: str = "stockfish",
    name: str | None = None,
    hash_mb: int = 16,
) -> UCIEngine:
    """Stockfish at ``skill`` (0..20) searching ``nodes`` per move, one thread.

    ``elo`` (1350..2850) limits its strength by rating instead (``UCI_LimitStrength``).
    Stockfish's skill levels below 20 pick among the best moves at random, seeded from
    the clock: its games are not reproducible from the match seed.
    """
    if not is_int(skill) or skill not in STOCKFISH_SKILLS:
        raise ValueError(f"stockfish: skill must be an int from 0 to 20, got {skill!r}")
    options: dict[str, Any] = {"Threads": 1, "Hash": hash_mb, "Skill Level": skill}
    label = f"stockfish-skill{skill}"
    if elo is not None:
        if not is_int(elo) or not 1350 <= elo <= 2850:
            raise ValueError(f"stockfish: elo must be an int from 1350 to 2850, got {elo!r}")
        options.update({"UCI_LimitStrength": True, "UCI_Elo": elo})
        label = f"stockfish-elo{elo}"
    if nodes is not None:
        label += f"-n{nodes}"
    return UCIEngine(
        [program],
        game,
        name=name or label,
        options=options,
        nodes=nodes,
        depth=depth,
        movetime_ms=movetime_ms,
    )


# ---- matches --------------------------------------------------------------------------------
def engine_ladder(
    game: BoardGame,
    player: Player,
    engines: Sequence[EnginePlayer],
    games: int,
    seed: int,
) -> list[MatchResult]:
    """``player`` against each engine in turn (a rating ladder: GNU Go levels,
    Stockfish skills); each engine is closed after its match."""
    results = []
    for engine in engines:
        try:
            results.append(play_match(game, player, engine, games, seed))
        finally:
            engine.close()
    return results
