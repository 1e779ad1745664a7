"""Evaluate a driving policy on ``simarena/Drive-v0``: route completion without collision
on seeds training never used, with a Wilson 95% interval, crash and off-road rates and
the mean speed.

Examples, from the repository root::

    python scripts/evaluate_drive.py --checkpoint runs/ppo-drive-baseline   # a PPO run
    python scripts/evaluate_drive.py --checkpoint RUN/networks/step-N.safetensors
    python scripts/evaluate_drive.py --scripted --episodes 200             # the ceiling
    python scripts/evaluate_drive.py --checkpoint RUN --episodes 200 --json

A camera-only policy (``train_drive_baseline.py --view ...``) is evaluated on its own
``perception/CameraDrive-v0`` view; ``--env-options view segmentation perception RUN``
drives a policy trained on the true labels through a perception network instead.

An episode counts as completed when the route is driven to its end with no collision and
without leaving the road; one cut off at ``max_steps`` (standing still, say) does not.
The env is the checkpoint's own (its ``env_options``); ``--env-options`` overrides some,
e.g. ``--env-options traffic_density 16``.

Seeds: PPO resets its training envs with seeds ``seed + k`` for its k-th episode
(:class:`agents.ppo.gym_source.GymSource`), so a run never reaches ``seed + agent_steps``;
evaluation resets episode i with ``--seed + i`` (default 10^9) and refuses a range that
overlaps the checkpoint's training seeds.
"""

from __future__ import annotations

import ast
import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium
import numpy as np
import tyro

ENV_ID = "simarena/Drive-v0"
# Drive-v0 itself and its camera-only view (perception.driving).
DRIVING_IDS = (ENV_ID, "perception.driving:perception/CameraDrive-v0")
EVAL_SEED = 10**9

# The state vector's layout (see sim.driving.world.World.state_vector).
V_REF = 20.0
NEIGHBOUR_RANGE = 60.0
FIRST_OBJECT = 11
OBJECT_FIELDS = 5


class ScriptedDriver:
    """A rule-based driver working from the state vector alone (what the learned
    baseline sees): it follows its lane with curvature feed-forward, keeps a gap to
    whatever is ahead (IDM), and changes lane when the lane ahead is blocked and a
    neighbour is clear. A lower bound on what the observation allows: the ceiling a
    policy should approach."""

    def __init__(self, env: gymnasium.Env, target_speed: float | None = None) -> None:
        u = env.unwrapped
        cfg = u.config
        self.lanes = cfg.lanes
        self.lane_w = cfg.lane_width
        self.hw = cfg.half_width
        self.wheelbase = cfg.wheelbase
        self.max_steer = cfg.max_steer
        self.accel, self.brake = cfg.max_accel, cfg.max_brake
        self.target = float(target_speed if target_speed is not None else u.target_speed)
        self.discrete = u.action_type == "discrete"
        if self.discrete:
            from envs.driving.env import DISCRETE_ACTIONS

            self.table = DISCRETE_ACTIONS
        self.goal: int | None = None

    def reset(self) -> None:
        self.goal = None

    def _center(self, lane: int) -> float:
        return (lane - (self.lanes - 1) / 2) * self.lane_w

    def _objects(self, o: np.ndarray, d: float, he: float, v: float) -> list[tuple]:
        """(along, lateral d, speed along, lateral speed, ego-frame x, y) per object."""
        c, s = math.cos(he), math.sin(he)
        kappa = o[6] / 50.0
        out = []
        for i in range(6):
            b = FIRST_OBJECT + OBJECT_FIELDS * i
            if o[b + 4] < 0.5:
                continue
            ex, ey = o[b] * NEIGHBOUR_RANGE, o[b + 1] * NEIGHBOUR_RANGE
            fx, fy = c * ex - s * ey, s * ex + c * ey  # road-aligned
            od = d + fy - 0.5 * kappa * fx * fx  # the road bends under a distant object
            rvx, rvy = o[b + 2] * V_REF, o[b + 3] * V_REF
            out.append((fx, od, v + c * rvx - s * rvy, s * rvx + c * rvy, ex, ey))
        return out

    def _lead(self, objs: list[tuple], lane: int) -> tuple[float, float]:
        """Distance and speed of the nearest object ahead in ``lane`` (now or soon)."""
        gap, speed = math.inf, self.target
        for fx, od, vs, vd, _, _ in objs:
            if fx <= 0:
                continue
            for t in (0.0, 0.75, 1.5):
                if abs(od + vd * t - self._center(lane)) < self.lane_w / 2 + 1.2:
                    if fx < gap:
                        gap, speed = fx, vs
                    break
        return gap, speed

    def _safe(self, objs: list[tuple], lane: int, v: float) -> bool:
        for fx, od, vs, _, _, _ in objs:
            if abs(od - self._center(lane)) < self.lane_w / 2 + 1.2:
                if -12 < fx < 10 or (fx <= -12 and vs - v > -fx / 6):
                    return False
        return True

    def steer_throttle(self, o: np.ndarray) -> tuple[float, float]:
        v = o[0] * V_REF
        d = o[1] * self.hw
        he = math.atan2(o[3], o[4])
        lane = min(max(round((d + self.hw) / self.lane_w - 0.5), 0), self.lanes - 1)
        if self.goal is None:
            self.goal = lane
        objs = self._objects(o, d, he, v)
        if abs(d - self._center(lane)) < 0.5:  # settled in a lane: stay, or change?
            ahead, _ = self._lead(objs, lane)
            best = (ahead, lane)
            if ahead < 60:
                for other in (lane - 1, lane + 1):
                    if 0 <= other < self.lanes and self._safe(objs, other, v):
                        gap, _ = self._lead(objs, other)
                        if gap > best[0] + 10:
                            best = (gap, other)
            if best[1] != lane or self.goal == lane or ahead < 60:
                self.goal = best[1]
        err = min(max(d - self._center(self.goal), -2.0), 2.0)
        gain = 0.25 * min(max(10.0 / max(v, 0.1), 1.0), 4.0)  # sharper when slow
        angle = self.wheelbase * o[6] / 50.0 - gain * err - 1.2 * math.sin(he)
        steer = min(max(angle / self.max_steer, -1.0), 1.0)
        # IDM on the goal lane's leader, or on anything in the car's own path (mid-change)
        gap, lead_v = self._lead(objs, self.goal)
        # stop well short of a standing object: room to steer round it
        free, s0 = gap - 5.0, (9.0 if lead_v < 1.0 else 3.0)
        # the car's own path is the arc its steering draws, not the line it points along
        k = math.tan(steer * self.max_steer) / self.wheelbase
        for _, _, vs, _, ex, ey in objs:
            if 0 < ex < gap and abs(ey - 0.5 * k * ex * ex) < 2.3:
                gap, lead_v, free, s0 = ex, vs, ex - 4.0, 1.0
        acc = 1.0 - (v / self.target) ** 4
        if math.isfinite(gap):
            want = s0 + 1.2 * v + v * (v - lead_v) / (2 * math.sqrt(3.0 * 5.0))
            acc -= (max(want, 0.0) / max(free, 0.1)) ** 2
        acc *= self.accel
        throttle = acc / self.accel if acc > 0 else acc / self.brake
        return steer, min(max(throttle, -1.0), 1.0)

    def __call__(self, obs: np.ndarray) -> int | np.ndarray:
        steer, throttle = self.steer_throttle(np.asarray(obs, np.float64))
        if not self.discrete:
            return np.array([steer, throttle], np.float32)
        # the nearest discrete steering; throttle rounded towards the next level up
        # (a small positive command rounded to coasting left the car standing behind
        # a slow leader until the time-out)
        t = self.table
        steers = np.unique(t[:, 0])
        s = steers[np.argmin(np.abs(steers - steer))]
        a = (
            -1.0
            if throttle < -0.5
            else -0.3
            if throttle < -0.1
            else 0.0
            if throttle < 0.03
            else 0.5
        )
        return int(np.argmin(np.abs(t[:, 0] - s) + np.abs(t[:, 1] - a)))


def expert_observation(env: gymnasium.Env, obs: Any) -> np.ndarray:
    """What the scripted driver reads: the observation itself on a state-vector env,
    else the world's state vector (a camera env's expert is privileged)."""
    u = env.unwrapped
    if u.obs_mode == "state":
        return np.asarray(obs)
    from envs.driving.env import STATE_BOUND

    return u.world.state_vector(bound=STATE_BOUND)


def check_observation(spec: Any, space: gymnasium.spaces.Space, options: dict) -> None:
    """ValueError unless the env's observations fit the policy's inputs."""
    if spec.kind == "cnn":
        got, want = tuple(space.shape), tuple(spec.image_shape)
    else:
        got, want = int(np.prod(space.shape)), spec.obs_dim
    if got != want:
        raise ValueError(
            f"the checkpoint takes inputs {want}, this env gives {got} (env options {options})"
        )


class PolicyDriver:
    """A PPO policy (an MLP over the flattened observation or a CNN over an image) as a
    driver."""

    def __init__(self, net: Any, greedy: bool = True, seed: int = 0) -> None:
        import torch

        from agents.ppo.actor import Actor
        from agents.ppo.gym_source import policy_input

        gen = torch.Generator().manual_seed(seed)
        self.actor = Actor(net, "ppo", greedy=greedy, generator=gen)
        self.policy_input = policy_input
        self.state = self.actor.initial_state(1)
        self.start = np.ones(1, np.float32)

    def reset(self) -> None:
        self.state = self.actor.initial_state(1)
        self.start = np.ones(1, np.float32)

    def __call__(self, obs: np.ndarray) -> int | np.ndarray:
        x = self.policy_input(self.actor.net.spec, obs)
        step = self.actor.step({"x": x}, self.state, self.start)
        self.state = step.state
        self.start = np.zeros(1, np.float32)
        a = step.actions[0]
        return int(a[0]) if a.shape == (1,) else a


@dataclass
class DriveReport:
    """Outcome counts and rates of an evaluation."""

    episodes: int
    seed: int
    completed: int
    crashes: int
    off_road: int
    timeouts: int
    completion_rate: float
    completion_ci95: tuple[float, float]
    crash_rate: float
    off_road_rate: float
    mean_speed: float
    mean_steps: float
    crash_classes: dict[str, int] = field(default_factory=dict)
    failed_seeds: list[int] = field(default_factory=list)

    def line(self) -> str:
        lo, hi = self.completion_ci95
        return (
            f"route completion without collision {self.completed}/{self.episodes} = "
            f"{self.completion_rate:.3f} (Wilson 95% {lo:.3f}..{hi:.3f}); crashes "
            f"{self.crash_rate:.3f}, off-road {self.off_road_rate:.3f}, timeouts "
            f"{self.timeouts}; mean speed {self.mean_speed:.1f} m/s over "
            f"{self.mean_steps:.0f} steps"
        )


def evaluate_drive(
    env: gymnasium.Env, driver: Callable, episodes: int, seed: int = EVAL_SEED
) -> DriveReport:
    """Drive ``episodes`` episodes (episode i reset with ``seed + i``) with ``driver``
    (obs -> action, with ``reset()`` at each episode start) and count the outcomes."""
    from selfplay.match import wilson_interval

    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an int >= 1, got {episodes!r}")
    completed = crashes = off_road = timeouts = 0
    classes: dict[str, int] = {}
    failed: list[int] = []
    speed_sum, steps = 0.0, 0
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        if hasattr(driver, "reset"):
            driver.reset()
        while True:
            obs, _, terminated, truncated, info = env.step(driver(obs))
            speed_sum += info["speed"]
            steps += 1
            if terminated or truncated:
                break
        if info["collision"]:
            crashes += 1
            name = info.get("collision_class", "?")
            classes[name] = classes.get(name, 0) + 1
        elif info["off_road"]:
            off_road += 1
        elif info["route_complete"]:
            completed += 1
        else:
            timeouts += 1
        if not (info["route_complete"] and not info["collision"] and not info["off_road"]):
            failed.append(seed + i)
    return DriveReport(
        episodes=episodes, seed=seed, completed=completed, crashes=crashes,
        off_road=off_road, timeouts=timeouts, completion_rate=completed / episodes,
        completion_ci95=wilson_interval(completed, episodes), crash_rate=crashes / episodes,
        off_road_rate=off_road / episodes, mean_speed=speed_sum / max(steps, 1),
        mean_steps=steps / episodes, crash_classes=classes, failed_seeds=failed,
    )  # fmt: skip


def parse_options(options: dict[str, str]) -> dict[str, Any]:
    """Env options as the PPO config stores them: Python literals where they parse."""
    out: dict[str, Any] = {}
    for k, v in options.items():
        try:
            out[k] = ast.literal_eval(v) if isinstance(v, str) else v
        except (ValueError, SyntaxError):
            out[k] = v
    return out


@dataclass
class Args:
    """Route completion of a PPO driving policy (or the scripted driver) on unseen seeds."""

    checkpoint: str | None = None
    """a PPO run folder, its checkpoint.safetensors, or a policy file (networks/...)"""
    scripted: bool = False
    """evaluate the rule-based ScriptedDriver instead of a checkpoint"""
    episodes: int = 100
    """episodes to drive"""
    seed: int = EVAL_SEED
    """episode i is reset with seed + i (keep it away from the training seeds)"""
    greedy: bool = True
    """the policy takes its most probable action (else it samples)"""
    env_options: dict[str, str] = field(default_factory=dict)
    """Drive-v0 keyword arguments over the checkpoint's own (e.g. traffic_density 16);
    with --scripted, the env's (default action_type continuous, obs_mode state)"""
    threads: int = 1
    """torch threads"""
    json: bool = False
    """print the report as one JSON object on stdout"""


def _training_seeds(meta: dict[str, Any]) -> tuple[int, int] | None:
    """The range [lo, hi) of reset seeds a PPO run can have used."""
    cfg = meta.get("config") or {}
    steps = (meta.get("counters") or {}).get("agent_steps")
    if steps is None:
        # a policy file: bound by the run's budget when one was set, else unknown
        steps = cfg.get("total_steps") or None
    if "seed" not in cfg or steps is None:
        return None
    return int(cfg["seed"]), int(cfg["seed"]) + int(steps) + int(cfg.get("num_envs", 1))


def main(args: Args) -> DriveReport:
    import envs  # noqa: F401  (registers simarena/Drive-v0)

    if args.scripted == (args.checkpoint is not None):
        raise ValueError("give exactly one of --checkpoint PATH and --scripted")
    overrides = parse_options(args.env_options)
    if args.scripted:
        options = {"obs_mode": "state", "action_type": "continuous", **overrides}
        if options["obs_mode"] != "state":
            raise ValueError("the scripted driver needs obs_mode state")
        env = gymnasium.make(ENV_ID, **options)
        driver: Callable = ScriptedDriver(env)
    else:
        import torch

        from agents.ppo import checkpoint as ckpt

        torch.set_num_threads(args.threads)
        net, spec, meta = ckpt.load_policy(args.checkpoint)
        env_id = meta.get("env")
        if env_id not in DRIVING_IDS:
            raise ValueError(
                f"{args.checkpoint!r} was trained on {env_id!r}, not one of {list(DRIVING_IDS)}"
            )
        cfg = meta.get("config") or {}
        options = {**parse_options(cfg.get("env_options", {})), **overrides}
        try:
            env = gymnasium.make(env_id, **options)
        except TypeError as e:  # an option this env does not take
            raise ValueError(f"cannot make {env_id} with options {options}: {e}") from None
        check_observation(spec, env.observation_space, options)
        seeds = _training_seeds(meta)
        if seeds is not None and args.seed < seeds[1] and args.seed + args.episodes > seeds[0]:
            raise ValueError(
                f"evaluation seeds {args.seed}..{args.seed + args.episodes - 1} overlap the "
                f"training seeds {seeds[0]}..{seeds[1] - 1}; pick another --seed"
            )
        driver = PolicyDriver(net, greedy=args.greedy, seed=args.seed)
    report = evaluate_drive(env, driver, args.episodes, args.seed)
    env.close()
    if args.json:
        out = asdict(report)
        out["env_options"] = {k: repr(v) if not isinstance(v, (int, float, str, bool))
                              else v for k, v in options.items()}  # fmt: skip
        out["policy"] = "scripted" if args.scripted else args.checkpoint
        print(json.dumps(out))
    else:
        print(report.line())
    return report


if __name__ == "__main__":
    try:
        main(tyro.cli(Args, prog="evaluate_drive.py"))
    except ValueError as e:
        print(f"evaluate_drive.py: error: {e}", file=sys.stderr)
        sys.exit(2)
