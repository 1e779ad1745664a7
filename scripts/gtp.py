"""Serve a Go player over GTP (version 2) on stdin/stdout, for Sabaki, GoGui or a match.

The player is an AlphaZero checkpoint of Go (a file or a run folder), searched with
``--sims`` simulations (0: the raw network), or a built-in bot by name (``random``,
``greedy``, ``mcts``). Examples, from the repository root:

    python scripts/gtp.py runs/alphazero-go-<stamp>/checkpoint.safetensors --sims 400
    python scripts/gtp.py mcts --sims 2000          # the rollout MCTS bot
    gogui-twogtp -black "python scripts/gtp.py random" -white "gnugo --mode gtp" ...

Commands: protocol_version, name, version, known_command, list_commands, quit,
boardsize, clear_board, komi, play, genmove, undo, showboard, final_score.
Rules are ours: positional superko, suicide illegal, Tromp-Taylor area scoring; moves
alternate (``play`` of the colour not to move is refused), and ``genmove`` after the
game ended (two passes) answers ``pass``. A checkpoint's network plays only its
board size; komi may change (the network never saw other komis).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TextIO

import tyro

PROG = "gtp.py"
BOTS = ("random", "greedy", "mcts")
COMMANDS = (
    "protocol_version",
    "name",
    "version",
    "known_command",
    "list_commands",
    "quit",
    "boardsize",
    "clear_board",
    "komi",
    "play",
    "genmove",
    "undo",
    "showboard",
    "final_score",
)


@dataclass
class Args:
    """Serve a Go player (an AlphaZero checkpoint or a built-in bot) over GTP."""

    player: Annotated[str, tyro.conf.Positional]
    """an AlphaZero checkpoint (file or run folder) of Go, or a bot: random, greedy, mcts"""
    sims: int = 200
    """simulations per move (AlphaZero: 0 plays the raw network; the mcts bot's rollouts)"""
    size: int = 9
    """initial board size (a checkpoint uses its own)"""
    komi: float = 7.5
    """initial komi"""
    seed: int = 0
    """seed of the player's random choices"""
    threads: int = 1
    """torch threads (checkpoints)"""
    name: str | None = None
    """the name the engine gives (default: simarena-<player>)"""


class GTPError(Exception):
    """A command fails: answered as ``? message``."""


class GTPServer:
    """The GTP session: a Go game and a player built for it by ``make_player(game)``."""

    def __init__(
        self,
        make_player: Callable,
        size: int,
        komi: float,
        seed: int,
        name: str,
        fixed_size: int | None = None,
    ) -> None:
        import numpy as np

        self.make_player = make_player
        self.rng = np.random.default_rng(seed)
        self.name = name
        self.fixed_size = fixed_size
        self.size, self.komi = size, komi
        self._new_game()

    def _new_game(self) -> None:
        from sim.board import make_game

        self.game = make_game("go", size=self.size, komi=self.komi)
        self.player = self.make_player(self.game)
        self.states = [self.game.initial_state()]
        self.history: list[int] = []  # the actions from the first state to the last
        hook = getattr(self.player, "reset", None)
        if hook is not None:
            hook()

    @property
    def state(self):
        return self.states[-1]

    # ---- commands ----------------------------------------------------------------
    def handle(self, command: str, args: list[str]) -> str:
        method = getattr(self, f"cmd_{command}", None)
        if command not in COMMANDS or method is None:
            raise GTPError("unknown command")
        return method(args)

    def cmd_protocol_version(self, args: list[str]) -> str:
        return "2"

    def cmd_name(self, args: list[str]) -> str:
        return self.name

    def cmd_version(self, args: list[str]) -> str:
        return "0.1"

    def cmd_known_command(self, args: list[str]) -> str:
        return "true" if args and args[0] in COMMANDS else "false"

    def cmd_list_commands(self, args: list[str]) -> str:
        return "\n".join(COMMANDS)

    def cmd_quit(self, args: list[str]) -> str:
        return ""

    def cmd_boardsize(self, args: list[str]) -> str:
        if len(args) != 1 or not args[0].isdigit():
            raise GTPError("syntax error: boardsize N")
        n = int(args[0])
        if (self.fixed_size is not None and n != self.fixed_size) or not 2 <= n <= 19:
            raise GTPError("unacceptable size")
        self.size = n
        self._new_game()
        return ""

    def cmd_clear_board(self, args: list[str]) -> str:
        self._new_game()
        return ""

    def cmd_komi(self, args: list[str]) -> str:
        try:
            komi = float(args[0])
        except (IndexError, ValueError):
            raise GTPError("syntax error: komi FLOAT") from None
        if komi * 2 != round(komi * 2) or abs(komi) > self.size * self.size:
            raise GTPError("unacceptable komi (a whole or half number)")
        if komi != self.komi:
            # Komi lives in the state: replay the moves so far under the new komi.
            moves = list(self.history)
            self.komi = komi
            self._new_game()
            for a in moves:
                self._play(a)
        return ""

    def cmd_play(self, args: list[str]) -> str:
        if len(args) != 2:
            raise GTPError("syntax error: play COLOR VERTEX")
        player = self._color(args[0])
        if self.game.is_terminal(self.state):
            raise GTPError("illegal move: the game is over")
        if player != self.game.to_play(self.state):
            raise GTPError("illegal move: moves must alternate (it is the other colour's turn)")
        try:
            action = self.game.str_to_action(args[1])
            self.game.check_action(self.state, action)
        except ValueError as e:
            raise GTPError(f"illegal move: {_short(e)}") from None
        self._play(action)
        return ""

    def cmd_genmove(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GTPError("syntax error: genmove COLOR")
        player = self._color(args[0])
        if self.game.is_terminal(self.state):
            return "pass"
        if player != self.game.to_play(self.state):
            raise GTPError("moves must alternate (it is the other colour's turn)")
        action = self.game.check_action(self.state, self.player.act(self.state.copy(), self.rng))
        self._play(action)
        return self.game.action_to_str(action).upper()

    def cmd_undo(self, args: list[str]) -> str:
        if len(self.states) < 2:
            raise GTPError("cannot undo")
        moves = self.history[:-1]
        self._new_game()
        for a in moves:
            self._play(a)
        return ""

    def cmd_showboard(self, args: list[str]) -> str:
        return "\n" + self.game.render_text(self.state)

    def cmd_final_score(self, args: list[str]) -> str:
        score = self.game.score(self.state)
        if score == 0:
            return "0"
        return f"B+{score:g}" if score > 0 else f"W+{-score:g}"

    # ---- helpers -----------------------------------------------------------------
    def _color(self, text: str) -> int:
        t = text.lower()
        if t in ("b", "black"):
            return 0
        if t in ("w", "white"):
            return 1
        raise GTPError(f"syntax error: bad colour {text!r}")

    def _play(self, action: int) -> None:
        hook = getattr(self.player, "observe", None)
        if hook is not None:
            hook(self.state.copy(), action)
        self.states.append(self.game.apply(self.state, action))
        self.history.append(action)


def _short(error: Exception) -> str:
    """The reason of a game's ValueError, without the list of legal moves."""
    return str(error).split("; legal moves are")[0]


def serve(server: GTPServer, stdin: TextIO, stdout: TextIO) -> int:
    """Answer GTP commands from ``stdin`` until ``quit`` or the end of input."""
    for raw in stdin:
        line = raw.split("#", 1)[0].replace("\t", " ").strip()
        line = "".join(ch for ch in line if ch >= " ")
        if not line:
            continue
        words = line.split()
        ident = ""
        if re.fullmatch(r"\d+", words[0]):
            ident, words = words[0], words[1:]
            if not words:
                continue
        command, args = words[0].lower(), words[1:]
        try:
            answer = server.handle(command, args)
            stdout.write(f"={ident} {answer}".rstrip(" ") + "\n\n")
        except GTPError as e:
            stdout.write(f"?{ident} {e}\n\n")
        except ValueError as e:  # a player's or the game's complaint, as a GTP failure
            stdout.write(f"?{ident} {_short(e)}\n\n")
        stdout.flush()
        if command == "quit":
            return 0
    return 0


def player_factory(args: Args) -> tuple[Callable, int | None, str]:
    """(game -> player, the size the player needs or None, a default name)."""
    from pathlib import Path

    if args.player in BOTS:
        from selfplay.player import BuiltinPlayer

        opts = {"simulations": args.sims} if args.player == "mcts" else {}
        return (lambda game: BuiltinPlayer(args.player, game, **opts)), None, args.player
    if not Path(args.player).exists():
        raise ValueError(f"{args.player!r} is neither a checkpoint nor a bot ({', '.join(BOTS)})")
    import torch

    from agents.alphazero import checkpoint as ckpt
    from agents.alphazero.player import AlphaZeroPlayer

    torch.set_num_threads(args.threads)
    net, config, _ = ckpt.load_network(args.player, game="go")
    size = int(config.game_options.get("size", 9))
    search = {"c_puct": config.search.c_puct, "fpu": config.search.fpu}
    return (lambda game: AlphaZeroPlayer(game, net, args.sims, **search)), size, "alphazero"


def main(argv: list[str] | None = None) -> int:
    args = tyro.cli(Args, args=argv, prog=PROG, description=__doc__)
    from agents.checkpoint import CheckpointError

    try:
        if args.sims < 0:
            raise ValueError(f"--sims must be >= 0, got {args.sims}")
        make_player, fixed, label = player_factory(args)
        size = fixed or args.size
        server = GTPServer(
            make_player, size, args.komi, args.seed, args.name or f"simarena-{label}", fixed
        )
    except (ValueError, CheckpointError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return serve(server, sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
