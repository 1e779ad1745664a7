"""Driving (``simarena/Drive-v0``): the env's picture, a bird's-eye view beside the camera
view, with one driver: ``human`` (the keyboard), a built-in bot (``lanekeep``: a
proportional lane-keeping controller at a steady speed; ``idle``; ``random``) or a PPO
checkpoint trained on the env (made with the checkpoint's env options).

Keys: up / W accelerate, down / S brake, left / A and right / D steer (held keys; the
steering returns to centre when released).

With a perception model (``--perception PATH``, from ``perception``'s training), the
front camera runs at the model's image size and the strip under the picture shows the
camera, the predicted segmentation and the simulator's true labels side by side; the
panel has this frame's pixel accuracy and mean IoU.
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
    load_ppo,
    read_checkpoint,
    refuse,
    short_name,
)

BOTS = ("lanekeep", "idle", "random")
# One colour per class of sim.driving.LABELS (sky, terrain, road, lane marking, kerb,
# vehicle, pedestrian, obstacle), as in Cityscapes-style label pictures.
CLASS_COLORS = np.array(
    [(70, 130, 180), (107, 142, 35), (128, 64, 128), (250, 250, 250), (244, 180, 120),
     (0, 0, 142), (220, 20, 60), (250, 170, 30)],
    np.uint8,
)  # fmt: skip
STEER_KEYS = {pygame.K_LEFT: 1.0, pygame.K_a: 1.0, pygame.K_RIGHT: -1.0, pygame.K_d: -1.0}
THROTTLE_KEYS = {pygame.K_UP: 1.0, pygame.K_w: 1.0, pygame.K_DOWN: -1.0, pygame.K_s: -1.0}


def lanekeep(info: dict[str, Any], lane_width: float, target: float) -> np.ndarray:
    """Steer back to the lane centre and along the road; hold ``target`` m/s."""
    steer = -0.8 * info["lane_offset"] / (0.5 * lane_width) - 1.5 * info["heading_error"]
    throttle = float(np.clip(0.3 * (target - info["speed"]), -1.0, 0.4))
    return np.clip(np.array([steer, throttle], np.float32), -1.0, 1.0)


class DrivingSession:
    """One driving episode in the viewer."""

    keys = ["human: up/down throttle, left/right steer"]

    def __init__(self, env_id: str, label: str, player: str, randomization: str = "canonical",
                 resolution: tuple[int, int] = (144, 192),
                 perception: str | None = None) -> None:  # fmt: skip
        import gymnasium

        self.label = label
        self.player = player
        self.policy = None
        self.perception = None
        self.prediction: np.ndarray | None = None
        options: dict[str, Any] = {"randomization": randomization, "resolution": resolution}
        if perception is not None:
            import perception as perception_pkg

            try:
                self.perception = perception_pkg.load(perception)
            except perception_pkg.CheckpointError as e:
                raise UsageError(f"--perception: {e}") from None
            if "seg" not in self.perception.config.heads:
                raise UsageError("--perception: the model has no segmentation head")
            if player not in (HUMAN, *BOTS):
                raise UsageError("--perception shows a human or bot driver's camera, not a PPO's")
            # The camera observation at the model's size, with the true labels beside it.
            size = tuple(self.perception.image_size)
            options.update(obs_mode="rgb_labels", camera="front", resolution=size)
        flag = "--player0"
        ck = None
        if player not in (HUMAN, *BOTS):
            if not is_checkpoint_spec(player):
                raise UsageError(
                    f"{flag}: unknown driver {player!r}; use {HUMAN!r}, a bot "
                    f"({', '.join(BOTS)}) or a PPO checkpoint path"
                )
            ck = read_checkpoint(player, flag)
            if ck.agent != "ppo":
                raise refuse(ck, flag, label, "a PPO policy trained on it")
            from agents.ppo.train import parse_options

            trained = dict(parse_options(ck.meta.get("config", {}).get("env_options", {})))
            for key in ("render_mode", "resolution"):
                trained.pop(key, None)
            options.update(trained)
        try:
            self.env = gymnasium.make(env_id, render_mode="rgb_array", **options)
        except (TypeError, ValueError) as e:
            raise UsageError(f"{label}: {e}") from None
        self.core = self.env.unwrapped
        self.discrete = self.core.action_type == "discrete"
        if ck is not None:
            from agents.ppo.network import PolicySpec

            space = self.env.observation_space
            if not isinstance(space, gymnasium.spaces.Box) or not self.discrete:
                raise UsageError(
                    f"{flag}: the PPO policy needs a vector observation and discrete actions; "
                    f"its env options give {space} and {self.core.action_type} actions"
                )
            n = int(self.env.action_space.n)
            expected = PolicySpec(kind="mlp", nvec=(n,), obs_dim=int(np.prod(space.shape)))
            net, _ = load_ppo(ck, flag, expected)
            self.policy = PolicyView(net, 0)
        self.fps = float(self.core.metadata.get("render_fps", 10))
        self.title = f"simarena: {label}, {player}"
        self.reset(0)

    # ---- session protocol ---------------------------------------------------------
    def reset(self, seed: int) -> None:
        self.obs, self.info = self.env.reset(seed=seed)
        self.rng = np.random.default_rng(seed)
        if self.policy is not None:
            self.policy.reset(seed, 1)
        self.held: set[int] = set()
        self.total = 0.0
        self.terminated = self.truncated = False
        self.controls = (0.0, 0.0)

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    waiting = False

    def handle_event(self, event: pygame.event.Event) -> None:
        if self.player != HUMAN:
            return
        if event.type == pygame.KEYDOWN and (event.key in STEER_KEYS or event.key in THROTTLE_KEYS):
            self.held.add(event.key)
        elif event.type == pygame.KEYUP:
            self.held.discard(event.key)

    def _action(self):
        from envs.driving.env import DISCRETE_ACTIONS

        if self.policy is not None:
            return int(self.policy.act({"x": np.asarray(self.obs, np.float32)[None]})[0, 0])
        if self.player == HUMAN:
            steer = float(np.clip(sum(STEER_KEYS[k] for k in self.held if k in STEER_KEYS), -1, 1))
            gas = float(
                np.clip(sum(THROTTLE_KEYS[k] for k in self.held if k in THROTTLE_KEYS), -1, 1)
            )
            a = np.array([0.5 * steer, 0.6 * gas if gas > 0 else gas], np.float32)
        elif self.player == "lanekeep":
            a = lanekeep(self.info, self.core.config.lane_width, 0.8 * self.core.target_speed)
        elif self.player == "idle":
            a = np.zeros(2, np.float32)
        else:
            a = self.rng.uniform(-1, 1, 2).astype(np.float32)
        if not self.discrete:
            return a
        return int(np.argmin(((DISCRETE_ACTIONS - a) ** 2).sum(1)))  # the nearest row

    def step(self) -> None:
        from envs.driving.env import DISCRETE_ACTIONS

        self.prediction = None
        action = self._action()
        self.controls = tuple(
            float(v) for v in (DISCRETE_ACTIONS[action] if self.discrete else action)
        )
        self.obs, reward, self.terminated, self.truncated, self.info = self.env.step(action)
        self.total += float(reward)

    def picture(self) -> np.ndarray:
        frame = np.asarray(self.env.render(), dtype=np.uint8)
        frame = scale_up(frame, 2) if frame.shape[0] < 320 else frame
        if self.perception is None:
            return frame
        rgb, truth = self.obs["rgb"], self.obs["labels"]
        pred = self._predict()
        gap = np.zeros((rgb.shape[0], 4, 3), np.uint8)
        strip = np.concatenate([rgb, gap, CLASS_COLORS[pred], gap, CLASS_COLORS[truth]], axis=1)
        strip = scale_up(strip, max(1, min(3, frame.shape[1] // strip.shape[1])))
        out = np.zeros(
            (frame.shape[0] + strip.shape[0] + 4, max(frame.shape[1], strip.shape[1]), 3), np.uint8
        )
        out[: frame.shape[0], : frame.shape[1]] = frame
        out[frame.shape[0] + 4 :, : strip.shape[1]] = strip
        return out

    def _predict(self) -> np.ndarray:
        if self.prediction is None:
            self.prediction = np.asarray(self.perception.predict(self.obs["rgb"]).labels)
        return self.prediction

    def hud(self) -> list[Item]:
        i = self.info
        items: list[Item] = [("title", self.label), ("text", f"driver: {short_name(self.player)}")]
        items.append(("text", f"speed {i['speed']:.1f} m/s   progress {100 * i['progress']:.0f}%"))
        items.append(("text", f"lane offset {i['lane_offset']:+.2f} m   return {self.total:+.2f}"))
        items.append(("text", f"steer {self.controls[0]:+.2f}  throttle {self.controls[1]:+.2f}"))
        if self.done:
            why = self._ending()
            items.append(("text", why, (250, 210, 90)))
        if self.perception is not None:
            from sim.driving import CLASS_NAMES

            pred, truth = self._predict(), self.obs["labels"]
            ious = []
            for c in range(len(CLASS_NAMES)):
                union = np.sum((pred == c) | (truth == c))
                if union:
                    ious.append(np.sum((pred == c) & (truth == c)) / union)
            items += [("gap",), ("title", "perception")]
            items.append(("text", "below: camera | predicted | true", DIM))
            items.append(("text", f"pixel accuracy {100 * np.mean(pred == truth):.1f}%  "
                                  f"mIoU {100 * np.mean(ious):.1f}%"))  # fmt: skip
            for c, name in enumerate(CLASS_NAMES):
                color = tuple(int(v) // 2 + 110 for v in CLASS_COLORS[c])  # legible on dark
                items.append(("text", f"{name}: {100 * np.mean(pred == c):.0f}% of pixels", color))
        if self.policy is not None and len(self.policy.probs):
            from envs.driving.env import DISCRETE_ACTIONS

            labels = [f"s{s:+.2f} t{t:+.1f}" for s, t in DISCRETE_ACTIONS]
            items += [("gap",), ("title", "PPO")]
            items.append(("text", f"value {float(np.asarray(self.policy.value)[0]):+.3f}"))
            items.append(("text", "action probabilities", DIM))
            items += bar_items(labels, self.policy.probs[0][0], "{:.2f}", 5)
        return items

    def _ending(self) -> str:
        i = self.info
        if i.get("collision"):
            return f"collision ({i.get('collision_class', '?')})"
        if i.get("off_road"):
            return "off the road"
        if i.get("route_complete"):
            return "route complete"
        return "time limit" if self.done else "driving"

    def result(self) -> dict[str, Any]:
        return {"return": round(self.total, 3), "progress": round(float(self.info["progress"]), 3),
                "ended": self._ending() if self.done else "step limit"}  # fmt: skip

    def report(self, index: int, result: dict[str, Any]) -> list[str]:
        return [
            f"episode {index + 1}: return {result['return']:+.2f}, progress "
            f"{100 * result['progress']:.0f}% ({result['ended']})"
        ]

    def totals(self, results: list[dict[str, Any]]) -> list[str]:
        if len(results) < 2:
            return []
        r = np.array([x["return"] for x in results])
        return [f"mean return {r.mean():+.3g} over {len(r)} episodes"]
