"""Atari (ALE) and MinAtar games: one player, ``random``, ``human`` (arrows and F to
fire), a DQN checkpoint (its Q-values in the panel) or a PPO checkpoint (value and action
probabilities). The env is made with the checkpoint's protocol (action set, sticky
actions...) so the agent sees what it was trained on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pygame

from viewer.core import DIM, Item, UsageError, bar_items, scale_up
from viewer.players import (
    HUMAN,
    PolicyView,
    is_checkpoint_spec,
    load_dqn,
    load_ppo,
    read_checkpoint,
    refuse,
    short_name,
)

MINATAR_ACTIONS = ("NOOP", "LEFT", "UP", "RIGHT", "DOWN", "FIRE")
KEYS = {
    pygame.K_UP: "UP", pygame.K_w: "UP", pygame.K_DOWN: "DOWN", pygame.K_s: "DOWN",
    pygame.K_LEFT: "LEFT", pygame.K_a: "LEFT", pygame.K_RIGHT: "RIGHT", pygame.K_d: "RIGHT",
    pygame.K_f: "FIRE", pygame.K_z: "FIRE",
}  # fmt: skip
BOTS = ("random",)


class AtariSession:
    """One Atari or MinAtar game in the viewer."""

    keys = ["human: arrows/WASD move, F or Z fire"]

    def __init__(
        self,
        game_id: str,
        label: str,
        player: str,
        protocol: str | None = None,
        epsilon: float | None = None,
        scale: int = 3,
    ) -> None:
        from envs.atari import make_atari, parse_game

        self.label = label
        self.player = player
        self.kind, self.rom = parse_game(game_id)
        ck = None
        flag = "--player0"
        if player not in (HUMAN, *BOTS):
            if not is_checkpoint_spec(player):
                raise UsageError(
                    f"{flag}: unknown {label} player {player!r}; use random, {HUMAN!r} or a "
                    "DQN or PPO checkpoint path"
                )
            ck = read_checkpoint(player, flag)
            if ck.agent == "alphazero":
                raise refuse(ck, flag, label, "a DQN or PPO checkpoint of this game")
            if ck.agent == "dqn":
                trained = ck.meta.get("protocol", {}).get("name")
                if parse_game(str(ck.meta["config"].get("env")))[1] != self.rom:
                    raise refuse(ck, flag, label, f"a DQN trained on {self.rom}")
                if protocol is not None and trained and protocol != trained:
                    raise UsageError(
                        f"{flag}: the DQN was trained under protocol {trained!r}, not {protocol!r}"
                    )
                protocol = protocol or trained
        if scale < 1:
            raise UsageError(f"--scale must be >= 1, got {scale}")
        try:
            self.env = make_atari(game_id, protocol, training=False, render_mode="rgb_array")
        except ValueError as e:
            raise UsageError(str(e)) from None
        self.protocol = self.env.metadata["protocol"]
        self.fps = 15.0 if self.kind == "minatar" else 15.0
        self.scale = scale if self.kind == "minatar" else max(1, scale - 1)
        n = int(self.env.action_space.n)
        if self.kind == "minatar":
            self.meanings = list(MINATAR_ACTIONS[:n])
        else:
            self.meanings = list(self.env.unwrapped.get_action_meanings())
        self.epsilon = self.protocol["eval_epsilon"] if epsilon is None else float(epsilon)
        if not 0.0 <= self.epsilon <= 1.0:
            raise UsageError(f"--epsilon must be in [0, 1], got {epsilon}")
        self.q = self.policy = None
        space = self.env.observation_space
        if ck is not None and ck.agent == "dqn":
            if tuple(ck.meta["obs_shape"]) != tuple(space.shape) or ck.meta["num_actions"] != n:
                raise UsageError(
                    f"{flag}: the DQN sees {tuple(ck.meta['obs_shape'])} with "
                    f"{ck.meta['num_actions']} actions, but {label} under protocol "
                    f"{self.protocol['name']} gives {tuple(space.shape)} with {n} actions"
                )
            self.q = load_dqn(ck, flag)
        elif ck is not None:
            from agents.ppo.gym_source import policy_spec

            net, _ = load_ppo(ck, flag, policy_spec(space, (n,)))
            self.policy = PolicyView(net, 0)
        self.title = f"simarena: {label}, {player}"
        self.q_values: np.ndarray | None = None
        self.reset(0)

    # ---- session protocol ---------------------------------------------------------
    def reset(self, seed: int) -> None:
        self.obs, _ = self.env.reset(seed=seed)
        self.rng = np.random.default_rng(seed)
        if self.policy is not None:
            self.policy.reset(seed, 1)
        self.score = 0.0
        self.terminated = self.truncated = False
        self.held: set[str] = set()
        self.action: int | None = None
        self.explored = False
        self.frame_cache = None

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    waiting = False

    def handle_event(self, event: pygame.event.Event) -> None:
        if self.player != HUMAN:
            return
        if event.type == pygame.KEYDOWN and event.key in KEYS:
            self.held.add(KEYS[event.key])
        elif event.type == pygame.KEYUP and event.key in KEYS:
            self.held.discard(KEYS[event.key])

    def human_action(self) -> int:
        """The action whose meaning best matches the keys held (e.g. UPFIRE)."""
        parts = [p for p in ("UP", "DOWN", "RIGHT", "LEFT", "FIRE") if p in self.held]
        while parts:
            name = "".join(parts)
            if name in self.meanings:
                return self.meanings.index(name)
            parts = parts[1:]  # drop the vertical part first, then horizontal
        return self.meanings.index("NOOP") if "NOOP" in self.meanings else 0

    def step(self) -> None:
        import torch

        n = len(self.meanings)
        self.explored = False
        if self.player == HUMAN:
            action = self.human_action()
        elif self.q is not None:
            with torch.inference_mode():
                self.q_values = self.q(torch.from_numpy(np.asarray(self.obs)[None]))[0].numpy()
            action = int(np.argmax(self.q_values))
            if self.rng.random() < self.epsilon:
                action, self.explored = int(self.rng.integers(n)), True
        elif self.policy is not None:
            from agents.ppo.gym_source import policy_input

            x = policy_input(self.policy.net.spec, self.obs)
            action = int(self.policy.act({"x": x})[0, 0])
        else:
            action = int(self.rng.integers(n))
        self.action = action
        self.obs, reward, self.terminated, self.truncated, _ = self.env.step(action)
        self.score += float(reward)

    def picture(self) -> np.ndarray:
        return scale_up(np.asarray(self.env.render(), dtype=np.uint8), self.scale)

    def hud(self) -> list[Item]:
        items: list[Item] = [("title", self.label)]
        items.append(("text", f"player: {short_name(self.player)}"))
        items.append(("text", f"score {self.score:g}   protocol {self.protocol['name']}"))
        if self.action is not None:
            tag = " (epsilon)" if self.explored else ""
            items.append(("text", f"action: {self.meanings[self.action]}{tag}"))
        if self.done:
            items.append(("text", "game over", (250, 210, 90)))
        top = min(8, len(self.meanings))
        if self.q_values is not None:
            items += [
                ("gap",),
                ("title", "DQN Q-values"),
                ("text", f"epsilon {self.epsilon:g}", DIM),
            ]
            items += bar_items(self.meanings, self.q_values, "{:+.2f}", top)
        if self.policy is not None and len(self.policy.probs):
            items += [("gap",), ("title", "PPO")]
            items.append(("text", f"value {float(np.asarray(self.policy.value)[0]):+.3f}"))
            items.append(("text", "action probabilities", DIM))
            items += bar_items(self.meanings, self.policy.probs[0][0], "{:.2f}", top)
        return items

    def result(self) -> dict[str, Any]:
        return {"return": self.score, "ended": "game over" if self.done else "step limit"}

    def report(self, index: int, result: dict[str, Any]) -> list[str]:
        return [f"episode {index + 1}: return {result['return']:g} ({result['ended']})"]

    def totals(self, results: list[dict[str, Any]]) -> list[str]:
        if len(results) < 2:
            return []
        r = np.array([x["return"] for x in results])
        return [f"mean return {r.mean():.3g} (min {r.min():g}, max {r.max():g}) over {len(r)}"]
