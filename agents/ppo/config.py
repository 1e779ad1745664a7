"""The configuration of a PPO run: one dataclass, parsed by tyro, saved in checkpoints.

The defaults train a FogArena 5v5 team with self-play (OpenAI Five opponent sampling)
plus scripted opponents on two CPU cores. ``env`` may instead name a Gymnasium id
(``CartPole-v1``, ``simarena/FogArena-v0``), which trains against that env alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Literal

from selfplay.pool import MAIN_SAMPLING
from sim.arena.scripted import LEVELS


@dataclass
class PPOConfig:
    """A PPO run: env, opponents, algorithm, network, evaluation, bookkeeping."""

    # ---- environment -----------------------------------------------------------------
    env: str = "fogarena"
    """"fogarena" (the batched arena core, learner team against pool and bots),
    "board:<game>" (self-play on a sim.board game, e.g. board:connect4) or a Gymnasium
    id (e.g. CartPole-v1, simarena/FogArena-v0)."""
    env_options: dict[str, str] = field(default_factory=dict)
    """keyword arguments of a Gymnasium env or options of a board game (values parsed as
    Python literals when they are, else kept as strings), e.g. {"team_size": "2"}."""
    num_envs: int = 32
    """env copies (arenas) stepped together per team size."""
    team_sizes: tuple[int, ...] = (5,)
    """learner team sizes (fogarena); several train one policy on mixed sizes, each size
    with its own num_envs arenas."""
    time_limit: int = 3000
    """ticks before a FogArena match is decided by structure health."""
    map_size: int = 40
    """side of the FogArena map."""
    fog: bool = True
    """team vision (fog of war)."""
    memory: bool = True
    """observations keep last-seen enemy positions."""
    creeps: bool = True
    """creep waves."""
    reward_weights: dict[str, float] = field(default_factory=dict)
    """overrides of the shaped reward weights (damage, last_hit, kill, death, structure, win)."""
    zero_sum: bool = True
    """subtract the enemy team's mean reward."""
    team_spirit: float = 0.3
    """team spirit tau: a hero's reward is (1 - tau) own + tau team mean."""
    team_spirit_end: float = -1.0
    """anneal tau linearly to this value over the run (-1: constant)."""
    mirror_obs: bool = False
    """team 1's heroes see the map through its point mirror (fogarena; saved in the
    policy's spec, so evaluations play it the same way): one behaviour serves both sides
    instead of one per side."""
    push_shaping: float = 0.0
    """weight of a potential-based shaping term (fogarena): each hero's potential is minus
    this times its distance to the nearest standing enemy structure over the map size,
    and gamma phi' - phi is added to its reward (leaves the optimal policy unchanged;
    guides exploration towards the enemy base, which the structure and win rewards are
    too far away to do)."""

    # ---- opponents -------------------------------------------------------------------
    selfplay: bool = True
    """play against the snapshot pool (latest policy / past snapshots)."""
    scripted_fraction: float = 0.2
    """share of matches against scripted teams (1 when selfplay is off)."""
    scripted_levels: tuple[str, ...] = ()
    """scripted opponents drawn uniformly for those matches (empty: the env's default,
    easy medium hard on FogArena, random easy medium hard with level_curriculum, random
    greedy on board games)."""
    level_curriculum: float = 0.0
    """promote through scripted_levels in the order given: the scripted matches are
    against the current level (70%; the rest against the earlier ones, so that their
    lessons are kept) until the last curriculum_games matches against it score at least
    this much, then against the next; 0 draws the levels uniformly. From scratch, a
    team learns to push against random and then meets easy as a pushing team; against
    easy first it learns to farm easy's dives at home and never leaves."""
    curriculum_games: int = 40
    """matches against the current level that decide a promotion."""
    latest_fraction: float = 0.8
    """share of self-play matches against the latest policy (OpenAI Five: 80%)."""
    quality_lr: float = 0.01
    """quality-score step when a past snapshot is beaten."""
    main_sampling: str = "quality"
    """how the main agent draws past snapshots: quality (OpenAI Five: softmax of quality
    scores that only fall) or pfsp (AlphaStar: weight (1 - p)^2 on a snapshot it beats
    with probability p, so it keeps playing the ones it loses to; a full pool then drops
    the one it beats most)."""
    pool_size: int = 50
    """snapshots kept in the pool."""
    snapshot_every: int = 10
    """updates between snapshots added to the pool."""
    league_role: str = "main"
    """league role of this learner: main (OpenAI Five sampling), main_exploiter (plays
    the main agents' snapshots) or league_exploiter (the whole pool), both by PFSP."""
    league_from: str = ""
    """a PPO run checkpoint whose snapshot pool joins this run's pool (frozen opponents;
    what an exploiter trains against)."""

    # ---- algorithm -------------------------------------------------------------------
    num_steps: int = 128
    """rollout length per env between updates."""
    total_steps: int = 0
    """agent-step budget (0: the time budget alone); also the horizon of annealing."""
    minutes: float = 60.0
    """wall-clock budget of the run (training time; evaluations are not counted)."""
    max_updates: int = 0
    """stop after this many updates (0: no limit)."""
    lr: float = 3e-4
    """Adam learning rate."""
    anneal_lr: bool = True
    """decay the learning rate linearly to 0 over the budget."""
    gamma: float = 0.995
    """discount."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    update_epochs: int = 4
    """passes over each rollout."""
    num_minibatches: int = 4
    """minibatches per pass (teams and, with a GRU, whole sequences stay together)."""
    clip_coef: float = 0.2
    """PPO ratio clip."""
    anneal_clip: bool = False
    """decay the clip coefficient linearly to 0 over the budget."""
    clip_vloss: bool = True
    """clip the value update around the rollout's values."""
    norm_adv: bool = True
    """normalize advantages per minibatch."""
    ent_coef: float = 0.01
    """entropy bonus."""
    vf_coef: float = 0.5
    """value loss weight."""
    max_grad_norm: float = 0.5
    """gradient norm clip."""
    target_kl: float = 0.0
    """stop an update's epochs early past this approximate KL (0: never)."""

    # ---- fine-tuning -----------------------------------------------------------------
    init_policy: str = ""
    """start from this policy (a PPO run folder, checkpoint or policy file of the same
    layout) instead of a fresh network."""
    anchor_coef: float = 0.0
    """weight of KL(initial policy || policy) in the loss: keeps a fine-tuned policy near
    its warm start (AlphaStar's KL to the supervised policy); 0 turns it off."""
    critic_warmup_updates: int = 0
    """first updates that train the value head alone, so that a warm-started policy is
    not pushed around by advantages from a critic that has not seen its returns."""

    # ---- network ---------------------------------------------------------------------
    hidden: int = 128
    """width of the core layers."""
    embed: int = 32
    """entity embedding width (the per-slot work dominates the cost of an agent-step)."""
    attention_layers: int = 0
    """self-attention blocks over entity slots (0: masked mean/max pooling, about 4x
    cheaper on CPU; either is permutation invariant)."""
    heads: int = 4
    """attention heads."""
    gru: bool = False
    """GRU memory."""
    central_critic: bool = False
    """MAPPO: the value also sees the team's mean features."""
    max_team: int = 5
    """largest team the policy encodes (hero-id embedding size)."""

    # ---- execution -------------------------------------------------------------------
    rollout_workers: int = 0
    """rollout workers, each stepping its own num_envs copies of every source with a
    copy of the policy (the batch grows with them); 0 steps them in this process."""
    backend: Literal["serial", "process", "ray"] = "process"
    """where rollout workers run: "process", "ray" (a local instance, or the cluster at
    ray_address) or "serial" (this process, one after another: for debugging)."""
    ray_address: str | None = None
    """a Ray cluster to join (host:port of `ray start --head`, or "auto"); None reads
    RAY_ADDRESS, else a local instance starts (backend "ray" only)."""
    worker_timeout: float = 600.0
    """seconds a worker may take over one update's rollout before it is restarted (its
    segment lost)."""

    # ---- evaluation and bookkeeping --------------------------------------------------
    eval_every_minutes: float = 10.0
    """time between evaluations against the reference bots; 0 turns them off."""
    eval_games: int = 64
    """seeded games against each reference per evaluation (sides alternate)."""
    eval_levels: tuple[str, ...] = ()
    """the frozen reference pool (empty: random easy medium hard on FogArena, random
    greedy on board games)."""
    calibration_games: int = 40
    """games per pair of references when calibrating their ratings."""
    checkpoint_every_minutes: float = 5.0
    """time between checkpoints (also at the end and on Ctrl-C)."""
    seed: int = 0
    """seed of everything random in the run."""
    threads: int = 2
    """torch threads."""
    run_dir: str = ""
    """where checkpoints and logs go (default runs/ppo-<env>-<timestamp>)."""

    @property
    def arena(self) -> bool:
        return self.env == "fogarena"

    @property
    def board(self) -> bool:
        return self.env.startswith("board:")

    @property
    def league(self) -> bool:
        """Envs with opponents to pick: the snapshot pool, scripted bots, evaluations."""
        return self.arena or self.board

    @property
    def scripted_pool(self) -> tuple[str, ...]:
        if self.scripted_levels:
            return tuple(self.scripted_levels)
        if self.arena:  # a curriculum starts where a fresh team can win
            return (
                ("random", "easy", "medium", "hard")
                if self.level_curriculum
                else ("easy", "medium", "hard")
            )
        return ("random", "greedy")

    @property
    def eval_pool(self) -> tuple[str, ...]:
        if self.eval_levels:
            return tuple(self.eval_levels)
        return ("random", "easy", "medium", "hard") if self.arena else ("random", "greedy")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> PPOConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown PPO config fields {unknown}")
        values = dict(data)
        for key in ("team_sizes", "scripted_levels", "eval_levels"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def validate(self) -> None:
        """ValueError naming the first setting that cannot work."""
        checks = [
            (self.num_envs >= 1, "num_envs must be >= 1"),
            (self.num_steps >= 1, "num_steps must be >= 1"),
            (self.num_minibatches >= 1, "num_minibatches must be >= 1"),
            (self.update_epochs >= 1, "update_epochs must be >= 1"),
            (0 < self.gamma <= 1, "gamma must be in (0, 1]"),
            (0 <= self.gae_lambda <= 1, "gae_lambda must be in [0, 1]"),
            (self.lr > 0 and self.clip_coef > 0, "lr and clip_coef must be > 0"),
            (self.total_steps >= 0 and self.max_updates >= 0, "budgets must be >= 0"),
            (0 <= self.team_spirit <= 1, "team_spirit must be in [0, 1]"),
            (
                self.team_spirit_end == -1.0 or 0 <= self.team_spirit_end <= 1,
                "team_spirit_end must be in [0, 1] (or -1: constant)",
            ),
            (0 <= self.scripted_fraction <= 1, "scripted_fraction must be in [0, 1]"),
            (0 <= self.latest_fraction <= 1, "latest_fraction must be in [0, 1]"),
            (
                self.main_sampling in MAIN_SAMPLING,
                f"unknown main_sampling {self.main_sampling!r} {MAIN_SAMPLING}",
            ),
            (self.pool_size >= 1 and self.snapshot_every >= 1, "pool_size, snapshot_every >= 1"),
            (self.threads >= 1, "threads must be >= 1"),
            (self.rollout_workers >= 0, "rollout_workers must be >= 0"),
            (
                self.backend in ("serial", "process", "ray"),
                f"unknown backend {self.backend!r} (serial, process, ray)",
            ),
            (
                self.backend != "ray" or self.rollout_workers >= 1,
                "backend 'ray' needs rollout_workers >= 1",
            ),
            (self.worker_timeout > 0, "worker_timeout must be > 0"),
            (self.anchor_coef >= 0, "anchor_coef must be >= 0"),
            (self.push_shaping >= 0, "push_shaping must be >= 0"),
            (0 <= self.level_curriculum <= 1, "level_curriculum must be in [0, 1]"),
            (self.curriculum_games >= 1, "curriculum_games must be >= 1"),
            (self.critic_warmup_updates >= 0, "critic_warmup_updates must be >= 0"),
            (self.eval_games >= 0, "eval_games must be >= 0"),
            (1 <= self.max_team <= 5, "max_team must be from 1 to 5"),
            (self.hidden >= 1 and self.embed >= 1, "hidden and embed must be >= 1"),
            (self.embed % self.heads == 0, "embed must be a multiple of heads"),
        ]
        checks.append(
            (self.league_role in ("main", "main_exploiter", "league_exploiter"),
             f"unknown league_role {self.league_role!r} (main, main_exploiter, league_exploiter)")
        )  # fmt: skip
        checks.append(
            (self.league_role == "main" or self.league_from,
             "an exploiter needs opponents: give league_from (a main run's checkpoint)")
        )  # fmt: skip
        if self.arena:
            checks.append((len(self.team_sizes) >= 1, "team_sizes must not be empty"))
            for n in self.team_sizes:
                checks.append((1 <= n <= 5, f"team size {n} is not 1 to 5"))
                checks.append(
                    (n <= self.max_team, f"team size {n} exceeds max_team {self.max_team}")
                )
        if self.league:
            if self.arena:
                known = LEVELS
            else:
                from envs.board.opponents import OPPONENTS

                known = tuple(sorted(OPPONENTS))
            for level in (*self.scripted_pool, *self.eval_pool):
                checks.append((level in known, f"unknown scripted level {level!r} {known}"))
        for ok, message in checks:
            if not ok:
                raise ValueError(f"PPO config: {message}")
