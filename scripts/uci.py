"""Serve a chess player over UCI on stdin/stdout, for a UCI GUI (Cute Chess, Arena...).

The player is an AlphaZero checkpoint of chess (a file or a run folder) searched with
``--sims`` simulations (0: the raw network, its most probable legal move), or a built-in
bot (``random``; ``greedy``: mate in one when it can, else random; ``mcts``: random-rollout
UCT with ``--sims`` simulations). Examples, from the repository root:

    python scripts/uci.py random
    python scripts/uci.py runs/alphazero-chess-<stamp>/checkpoint.safetensors --sims 400

Commands: uci, isready, ucinewgame, setoption (accepted, no options), position
(``startpos`` or ``fen ...``, then ``moves ...``), go (any limits; the answer comes at
once, or at ``stop`` for ``go infinite`` / ``go ponder``), stop, ponderhit, quit, and
``d`` (print the board). Unknown commands are ignored with an ``info string``, as UCI
asks. Draws by repetition and the fifty-move rule are automatic in our rules; a
position that is already over gets ``bestmove (none)``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated, TextIO

import tyro

PROG = "uci.py"
BOTS = ("random", "greedy", "mcts")


@dataclass
class Args:
    """Serve a chess player (a built-in bot or an AlphaZero checkpoint) over UCI."""

    player: Annotated[str, tyro.conf.Positional]
    """a bot (random, greedy, mcts) or an AlphaZero checkpoint of chess (file or run folder)"""
    sims: int = 200
    """search simulations per move (checkpoints: 0 plays the raw network; the mcts bot)"""
    seed: int = 0
    """seed of the player's random choices"""
    threads: int = 1
    """torch threads (checkpoints)"""
    name: str | None = None
    """the name the engine gives (default: simarena-<player>)"""


class UCIServer:
    """The UCI session: the current position (our chess state) and the player."""

    def __init__(self, player, seed: int, name: str) -> None:
        import numpy as np

        from sim.board import make_game

        self.game = make_game("chess")
        self.player = player
        self.rng = np.random.default_rng(seed)
        self.name = name
        self.state = self.game.initial_state()
        self.pending: str | None = None  # a bestmove held until "stop" (go infinite)
        # Compile (or load) the rules' kernels now: a GUI times the handshake generously,
        # the first move less so.
        self.game.observation(self.game.apply(self.state, self.game.legal_actions(self.state)[0]))

    def out(self, stdout: TextIO, line: str) -> None:
        stdout.write(line + "\n")
        stdout.flush()

    def position(self, words: list[str]) -> None:
        """``position startpos|fen F1..F6 [moves m1 m2 ...]``; ValueError on a bad one."""
        if not words:
            raise ValueError("position: expected startpos or fen")
        if words[0] == "startpos":
            state, rest = self.game.initial_state(), words[1:]
        elif words[0] == "fen":
            fen = words[1:7]
            if len(fen) < 4:
                raise ValueError("position fen: expected a FEN")
            rest = words[1 + len(fen) :]
            if fen[-1] == "moves":  # a 4-field FEN followed by moves
                fen, rest = fen[:-1], ["moves", *rest]
            state = self.game.from_fen(" ".join(fen))
        else:
            raise ValueError(f"position: expected startpos or fen, got {words[0]!r}")
        if rest[:1] == ["moves"]:
            for text in rest[1:]:
                if self.game.is_terminal(state):
                    raise ValueError(f"position: move {text!r} after the game ended")
                state = self.game.apply(state, self.game.str_to_action(text, state))
        elif rest:
            raise ValueError(f"position: unexpected {' '.join(rest)!r}")
        self.state = state

    def bestmove(self) -> str:
        if self.game.is_terminal(self.state):
            return "bestmove (none)"
        action = self.game.check_action(self.state, self.player.act(self.state.copy(), self.rng))
        return f"bestmove {self.game.action_to_str(action, self.state)}"

    def serve(self, stdin: TextIO, stdout: TextIO) -> int:
        for raw in stdin:
            words = raw.split()
            if not words:
                continue
            command, args = words[0], words[1:]
            if command == "uci":
                self.out(stdout, f"id name {self.name}")
                self.out(stdout, "id author simarena")
                self.out(stdout, "uciok")
            elif command == "isready":
                self.out(stdout, "readyok")
            elif command == "ucinewgame":
                self.state = self.game.initial_state()
                hook = getattr(self.player, "reset", None)
                if hook is not None:
                    hook()
            elif command == "position":
                try:
                    self.position(args)
                except ValueError as e:
                    self.out(stdout, f"info string error: {str(e).split('; legal moves')[0]}")
            elif command == "go":
                answer = self.bestmove()
                if "infinite" in args or "ponder" in args:
                    self.pending = answer
                else:
                    self.out(stdout, answer)
            elif command in ("stop", "ponderhit"):
                if self.pending is not None:
                    self.out(stdout, self.pending)
                    self.pending = None
            elif command == "quit":
                return 0
            elif command == "d":
                self.out(stdout, self.game.render_text(self.state))
                self.out(stdout, f"Fen: {self.game.fen(self.state)}")
            elif command in ("setoption", "debug", "register"):
                pass
            else:
                self.out(stdout, f"info string unknown command: {command}")
        return 0


def make_player(args: Args) -> tuple[object, str]:
    """(the player, a default name) for ``args.player``."""
    from pathlib import Path

    from sim.board import make_game

    game = make_game("chess")
    if args.sims < 0:
        raise ValueError(f"--sims must be >= 0, got {args.sims}")
    if args.player in BOTS:
        from selfplay.player import BuiltinPlayer

        opts = {"simulations": max(args.sims, 1)} if args.player == "mcts" else {}
        return BuiltinPlayer(args.player, game, **opts), args.player
    if not Path(args.player).exists():
        raise ValueError(f"{args.player!r} is neither a checkpoint nor a bot ({', '.join(BOTS)})")
    import torch

    from agents.alphazero import checkpoint as ckpt
    from agents.alphazero.player import AlphaZeroPlayer

    torch.set_num_threads(args.threads)
    net, config, _ = ckpt.load_network(args.player, game="chess")
    search = {"c_puct": config.search.c_puct, "fpu": config.search.fpu}
    label = "alphazero" if args.sims else "alphazero-raw"
    return AlphaZeroPlayer(game, net, args.sims, **search), label


def main(argv: list[str] | None = None) -> int:
    args = tyro.cli(Args, args=argv, prog=PROG, description=__doc__)
    from agents.checkpoint import CheckpointError

    try:
        player, label = make_player(args)
    except (ValueError, CheckpointError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    server = UCIServer(player, args.seed, args.name or f"simarena-{label}")
    return server.serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
