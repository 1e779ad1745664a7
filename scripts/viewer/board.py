"""Board games (Connect Four, Tic-Tac-Toe, Othello, Gomoku, Go): two players, one per side.

Players: ``human`` (the mouse: click a point, Connect Four a column; P passes), a bot of
:mod:`envs.board.opponents` (random, greedy, mcts, solver), an AlphaZero checkpoint
(search with ``az_simulations``, or the raw network with 0) or a PPO checkpoint trained
on the game (``board:<game>``). The last AlphaZero / PPO move's analysis is drawn over
the board (policy markers, visit counts) and listed in the panel.

Replays are JSON files (:func:`save_replay`): the game, its options, the players' names
and the moves; ``--replay FILE.json`` plays one back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from viewer.core import DIM, TEXT, Item, UsageError, bar_items
from viewer.players import (
    HUMAN,
    PolicyView,
    is_checkpoint_spec,
    load_alphazero,
    load_ppo,
    read_checkpoint,
    refuse,
    short_name,
)

REPLAY_FORMAT = "simarena-board-replay"
REPLAY_VERSION = 1


@dataclass
class BoardOptions:
    simulations: int = 200
    az_simulations: int = 800
    overlay: bool = True
    cell_px: int | None = None


def auto_cell_px(game) -> int:
    return int(np.clip(round(640 / max(game.board_shape)), 24, 112))


class ReplayMoves:
    """Both sides of a recorded game: the next recorded move each time it is asked."""

    def __init__(self, moves: list[int]) -> None:
        self.moves = list(moves)
        self.index = 0

    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> int:
        if self.index >= len(self.moves):
            raise ValueError("the replay has no more moves but the game is not over")
        move = self.moves[self.index]
        self.index += 1
        return int(move)


class PPOBoard:
    """A PPO board policy as a player that keeps its probabilities and value."""

    def __init__(self, game, net, seed: int) -> None:
        self.game = game
        self.view = PolicyView(net, seed)

    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> int:
        from agents.ppo.board import board_obs

        self.view.reset(int(rng.integers(1 << 31)), 1)
        return int(self.view.act(board_obs(self.game, [state]))[0, 0])


def load_replay(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--replay: no file at {str(p)!r}")
    try:
        data = json.loads(p.read_text())
        if data.get("format") != REPLAY_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, not {REPLAY_FORMAT!r}")
        data["moves"] = [int(m) for m in data["moves"]]
        data["game"] = str(data["game"])
        data["options"] = dict(data.get("options") or {})
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise UsageError(f"--replay: {str(p)!r} is not a board-game replay: {e}") from None
    return data


def save_replay(
    path: str | Path, game, options: dict[str, Any], players: tuple[str, str], moves: list[int]
) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": REPLAY_FORMAT,
        "version": REPLAY_VERSION,
        "game": game.name,
        "options": options,
        "players": list(players),
        "moves": [int(m) for m in moves],
        "text": game.format_moves(moves),
    }
    p.write_text(json.dumps(data, indent=1))
    return p


class BoardSession:
    """A two-player board game in the viewer."""

    keys = ["mouse: your move (P: pass)"]

    def __init__(
        self,
        game_name: str,
        options: dict[str, Any],
        names: tuple[str, str],
        opts: BoardOptions,
        label: str,
        replay: dict[str, Any] | None = None,
    ) -> None:
        from sim.board import make_game
        from sim.board.render import BoardRenderer

        self.names = names
        self.opts = opts
        self.fps = 2.0
        loaded: dict[int, Any] = {}
        for i, name in enumerate(names):
            if name != HUMAN and replay is None and is_checkpoint_spec(name):
                ck = read_checkpoint(name, f"--player{i}")
                if ck.agent == "dqn":
                    raise refuse(ck, f"--player{i}", label, "an AlphaZero or PPO board player")
                if ck.agent == "alphazero":
                    net, config = load_alphazero(ck, f"--player{i}")
                    if config.game != game_name:
                        raise UsageError(
                            f"--player{i}: {str(ck.path)!r} holds a {config.game} network but "
                            f"the game is {game_name} ({label}); use --game {config.game}"
                        )
                    if not options and config.game_options:  # a network knows its board size
                        options = dict(config.game_options)
                loaded[i] = ck
        try:
            self.game = make_game(game_name, **options)
        except TypeError:
            raise UsageError(f"{game_name} has no size option; drop --game-size") from None
        except ValueError as e:
            raise UsageError(str(e)) from None
        self.options = dict(options)
        self.title = f"simarena: {label}, {names[0]} (player_0) vs {names[1]} (player_1)"
        self.replay = replay
        self.players: list[Any] = []
        for i, name in enumerate(names):
            if replay is not None:
                self.players.append(None)
            elif name == HUMAN:
                self.players.append(HUMAN)
            elif i in loaded:
                self.players.append(self._network_player(loaded[i], i, label))
            else:
                from envs.board.opponents import make_opponent

                kwargs = {"simulations": opts.simulations} if name == "mcts" else {}
                try:
                    self.players.append(make_opponent(name, self.game, **kwargs))
                except ValueError as e:
                    hint = (
                        f", {HUMAN!r} to play with the mouse, or a checkpoint path"
                        if "unknown" in str(e) else ""
                    )  # fmt: skip
                    raise UsageError(f"--player{i}: {e}{hint}") from None
        self.chess = self.game.name == "chess"
        try:
            if self.chess:  # chess has its own pictures, beside its env
                from envs.board.chess_v0 import ChessRenderer

                self.renderer = ChessRenderer(self.game, opts.cell_px or 72)
            else:
                self.renderer = BoardRenderer(self.game, opts.cell_px or auto_cell_px(self.game))
        except ValueError as e:
            raise UsageError(str(e)) from None
        self.rng = np.random.default_rng(0)
        self.reset(0)

    def _network_player(self, ck, i: int, label: str):
        flag = f"--player{i}"
        if ck.agent == "alphazero":
            from agents.alphazero.player import AlphaZeroPlayer

            net, _ = load_alphazero(ck, flag)
            try:
                return AlphaZeroPlayer(self.game, net, self.opts.az_simulations)
            except ValueError as e:  # e.g. a 9x9 network on a 19x19 board
                raise UsageError(f"{flag}: {e}") from None
        from agents.ppo.board import board_spec

        if not str(ck.meta.get("env", "")).startswith("board:"):
            raise refuse(ck, flag, label, f"a PPO policy trained on board:{self.game.name}")
        net, _ = load_ppo(ck, flag, board_spec(self.game))
        return PPOBoard(self.game, net, 0)

    # ---- session protocol ---------------------------------------------------------
    def reset(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.state = self.game.initial_state()
        self.moves: list[int] = []
        self.last: int | None = None
        self.overlay = None
        self.pending: int | None = None
        self.selected: int | None = None  # chess: the square a human picked up a piece on
        if self.replay is not None:
            self.replay_moves = ReplayMoves(self.replay["moves"])

    @property
    def done(self) -> bool:
        return self.game.is_terminal(self.state)

    @property
    def human_turn(self) -> bool:
        return not self.done and self.players[self.game.to_play(self.state)] == HUMAN

    @property
    def waiting(self) -> bool:
        return self.human_turn and self.pending is None

    @property
    def human_ready(self) -> bool:
        return self.human_turn and self.pending is not None

    def handle_event(self, event: pygame.event.Event) -> None:
        if not self.human_turn:
            return
        legal = self.game.legal_mask(self.state)
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            if self.chess:
                self._chess_click(event.pos)
                return
            a = self.renderer.action_at(*event.pos, self.state)
            if a is not None and legal[a]:
                self.pending = int(a)
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_p:
            pa = getattr(self.renderer, "pass_action", None)
            if pa is not None and legal[pa]:
                self.pending = int(pa)

    def _chess_click(self, pos: tuple[int, int]) -> None:
        """First click: the piece's square; second: where it goes (queen promotions)."""
        from sim.board.chess import decode_action

        r = self.renderer
        col, row = (pos[0] - r.x0) // r.cell, (pos[1] - r.y0) // r.cell
        if not (0 <= row < 8 and 0 <= col < 8):
            self.selected = None
            return
        square = (7 - row) * 8 + col
        white = self.game.to_play(self.state) == 0
        board = self.game.to_board(self.state)
        moves = {}
        for a in self.game.legal_actions(self.state):
            m = decode_action(int(a), white, board)
            if m.promotion in (None, 5):  # 5: queen; underpromotions by text only
                moves[(m.from_square, m.to_square)] = int(a)
        if self.selected is not None and (self.selected, square) in moves:
            self.pending, self.selected = moves[(self.selected, square)], None
        elif any(f == square for f, _ in moves):
            self.selected = square
        else:
            self.selected = None

    def step(self) -> None:
        mover = self.game.to_play(self.state)
        player = self.players[mover]
        if self.replay is not None:
            action = self.replay_moves(self.state, self.rng)
        elif player == HUMAN:
            if self.pending is None:
                raise RuntimeError("no human move yet")
            action, self.pending = self.pending, None
        elif hasattr(player, "last_priors"):  # AlphaZero: keep what it considered
            action = int(player.act(self.state.copy(), self.rng))
            if self.opts.overlay:
                self.overlay = analysis(player, mover)
        elif isinstance(player, PPOBoard):
            action = int(player(self.state.copy(), self.rng))
            if self.opts.overlay:
                from sim.board.render import Overlay

                probs = np.asarray(player.view.probs[0][0], dtype=np.float64)
                self.overlay = Overlay(probs, None, float(player.view.value[0]), mover)
        else:
            action = int(player(self.state.copy(), self.rng))
        try:
            self.state = self.game.apply(self.state, action)
        except ValueError as e:
            if self.replay is not None:
                raise UsageError(f"--replay: move {len(self.moves) + 1}: {e}") from None
            raise
        self.moves.append(action)
        self.last = action

    def picture(self) -> np.ndarray:
        if self.chess:
            return self.renderer.draw(self.state, self.last)
        return self.renderer.draw(
            self.state, self.last, show_legal=self.human_turn, overlay=self.overlay
        )

    def hud(self) -> list[Item]:
        g = self.game
        items: list[Item] = [("title", g.name)]
        for i, name in enumerate(self.names):
            mark = "> " if not self.done and g.to_play(self.state) == i else "  "
            items.append(("text", f"{mark}player_{i}: {short_name(name)}"))
        items.append(("text", f"move {len(self.moves)}   {g.status_line(self.state)}"))
        if self.done:
            w = g.winner(self.state)
            items.append(("text", "draw" if w is None else f"player_{w} wins", (250, 210, 90)))
        ov = self.overlay
        if ov is not None:
            items += [("gap",), ("title", f"analysis of player_{ov.player}'s last move")]
            if ov.value is not None:
                items.append(("text", f"value {ov.value:+.3f} (for player_{ov.player})"))
            score = ov.visits if ov.visits is not None else ov.policy
            if score is not None and score.max() > 0:
                labels = [self._action_label(a) for a in range(len(score))]
                top = bar_items(labels, score, "{:.0f}" if ov.visits is not None else "{:.2f}", 6)
                head = "visits (policy %)" if ov.visits is not None else "policy"
                items.append(("text", f"top moves by {head}", DIM))
                for item, a in zip(top, np.argsort(-score, kind="stable")[:6], strict=False):
                    value = item[3]
                    if ov.visits is not None and ov.policy is not None:
                        value = f"{value} {100 * ov.policy[a]:.0f}%"
                    items.append((*item[:3], value, item[4]))
        if self.replay is not None:
            items.append(("text", f"replay: {len(self.moves)}/{len(self.replay['moves'])}", TEXT))
        if self.chess and self.selected is not None:
            from sim.board.chess import pychess

            items.append(("text", f"picked up: {pychess.square_name(self.selected)}", TEXT))
        return items

    def _action_label(self, a: int) -> str:
        try:
            return self.game.action_to_str(int(a))
        except ValueError:
            return str(a)

    def result(self) -> dict[str, Any]:
        w = self.game.winner(self.state) if self.done else None
        if not self.done:
            outcome = "unfinished"
        else:
            outcome = "draw" if w is None else f"player_{w}"
        return {"winner": outcome, "moves": len(self.moves)}

    def report(self, index: int, result: dict[str, Any]) -> list[str]:
        w = result["winner"]
        if w.startswith("player_"):
            text = f"{w} ({self.names[int(w[-1])]}) wins"
        else:
            text = w
        return [
            f"game {index + 1}: {text} after {len(self.moves)} moves "
            f"[{self.game.status_line(self.state)}]",
            f"  moves: {self.game.format_moves(self.moves)}",
        ]

    def totals(self, results: list[dict[str, Any]]) -> list[str]:
        if len(results) < 2:
            return []
        wins = [sum(r["winner"] == f"player_{i}" for r in results) for i in (0, 1)]
        draws = sum(r["winner"] == "draw" for r in results)
        return [
            f"total: player_0 ({self.names[0]}) {wins[0]}, player_1 ({self.names[1]}) "
            f"{wins[1]}, draws {draws}"
        ]

    def save_replay(self, path: str | Path) -> Path:
        return save_replay(path, self.game, self.options, self.names, self.moves)


def analysis(player, mover: int):
    """The overlay of an AlphaZero player's last move: priors, visits, root value."""
    from sim.board.render import Overlay

    visits = player.last_visits
    return Overlay(  # copies: the search may reuse its buffers for the next move
        np.array(player.last_priors),
        None if visits is None else np.array(visits),
        player.last_value,
        mover,
    )
