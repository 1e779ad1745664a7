"""FogArena: two teams, each a scripted level, a PPO checkpoint, or a human hero with
agent teammates; or a replay file played back.

A human controls one hero (``--hero``) of its team; ``--teammates`` (a level or a PPO
checkpoint) plays the others. Keys: W A S D or the arrows walk; a left click on an enemy
attacks it (walking into range first), on the ground walks there; a right click on a unit
(or E on yourself) casts the hero's ability. F cycles the view: spectator, team 0's fog,
team 1's fog. The panel shows the teams, the score and, for a PPO team, its first living
hero's value and action probabilities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pygame

from viewer.core import DIM, Item, UsageError, bar_items
from viewer.players import (
    HUMAN,
    PolicyView,
    is_checkpoint_spec,
    load_ppo,
    read_checkpoint,
    refuse,
    short_name,
)

DIRECTIONS = ("stay", "N", "NE", "E", "SE", "S", "SW", "W", "NW")
KEY_DIRS = {
    pygame.K_w: (0, -1), pygame.K_UP: (0, -1), pygame.K_s: (0, 1), pygame.K_DOWN: (0, 1),
    pygame.K_a: (-1, 0), pygame.K_LEFT: (-1, 0), pygame.K_d: (1, 0), pygame.K_RIGHT: (1, 0),
}  # fmt: skip
VIEWS = (None, 0, 1)


class ArenaSession:
    """A FogArena match (or replay) in the viewer."""

    keys = [
        "f: view (spectator / team fog)",
        "human: WASD move, click enemy attack,",
        "  click ground walk, right click/E ability",
    ]

    def __init__(
        self,
        names: tuple[str, str],
        label: str,
        team_size: int = 5,
        enemy_team_size: int | None = None,
        time_limit: int = 3000,
        teammates: str = "medium",
        hero: int = 0,
        view: int | None = None,
        replay: str | None = None,
        seed: int = 0,
    ) -> None:
        from envs.arena.render import ArenaRenderer
        from sim.arena import ArenaBatch, ArenaConfig, Observer, ScriptedTeams
        from sim.arena.config import MAX_TEAM
        from sim.arena.replay import ReplayError, replay_batch
        from sim.arena.scripted import LEVELS

        self.fps = 20.0
        self.label = label
        self.replay_path = replay
        if view not in VIEWS:
            raise UsageError(f"--team must be 0 or 1 (omit it for the spectator view), got {view}")
        if replay is not None:
            try:
                batch, self.replay_actions, self.final_hash = replay_batch(replay)
            except (ReplayError, ValueError) as e:
                raise UsageError(f"--replay: {e}") from None
            config = batch.config
            names = ("replay", "replay")
        else:
            sizes = (team_size, team_size if enemy_team_size is None else enemy_team_size)
            if time_limit < 1:
                raise UsageError(f"--time-limit must be >= 1, got {time_limit}")
            try:
                config = ArenaConfig(team_sizes=sizes, time_limit=time_limit)
            except ValueError as e:
                raise UsageError(str(e)) from None
            batch = ArenaBatch(1, config, seed=seed)
        self.names = names
        self.config = config
        self.batch = batch
        self.observer = Observer(1, config.map_size)
        self.renderer = ArenaRenderer(batch.map)
        self.human: int | None = None  # the human's hero (unit index)
        if names.count(HUMAN) > 1:
            raise UsageError("only one team can have a human hero")
        levels: list[str | None] = [None, None]
        self.policies: dict[int, PolicyView] = {}
        self.controllers = [short_name(n) for n in names]
        for t, name in enumerate(names):
            if replay is not None:
                continue
            flag = f"--player{t}"
            if name == HUMAN:
                if not 0 <= hero < config.team_sizes[t]:
                    raise UsageError(
                        f"--hero must be 0..{config.team_sizes[t] - 1} (team {t} has "
                        f"{config.team_sizes[t]} heroes), got {hero}"
                    )
                self.human = t * MAX_TEAM + hero
                name, flag = teammates, "--teammates"
                self.controllers[t] = f"human (hero {hero}) + {short_name(teammates)}"
            if name in LEVELS:
                levels[t] = name
            elif is_checkpoint_spec(name):
                self.policies[t] = self._policy(name, flag, config.team_sizes[t], seed + t)
            else:
                raise UsageError(
                    f"{flag}: unknown FogArena player {name!r}; use a level "
                    f"({', '.join(LEVELS)}), {HUMAN!r} or a PPO checkpoint path"
                )
        self.scripted = ScriptedTeams(batch, tuple(levels))
        if view is None and self.human is not None:
            view = self.human // MAX_TEAM
        self.view = view
        self.title = f"simarena: {label}, {self.controllers[0]} vs {self.controllers[1]}"
        self.reset(seed)

    def _policy(self, spec: str, flag: str, size: int, seed: int) -> PolicyView:
        from agents.ppo.arena import arena_spec, check_team_size

        ck = read_checkpoint(spec, flag)
        if ck.agent != "ppo":
            raise refuse(ck, flag, self.label, "a PPO policy trained on FogArena")
        net, pspec = load_ppo(ck, flag, arena_spec())
        try:
            check_team_size(pspec, size)
        except ValueError as e:
            raise UsageError(f"{flag}: {e}") from None
        return PolicyView(net, seed)

    # ---- session protocol ---------------------------------------------------------
    def reset(self, seed: int) -> None:
        if self.replay_path is not None:
            from sim.arena.replay import replay_batch

            self.batch.set_state(replay_batch(self.replay_path)[0].get_state())
        else:
            self.batch.reset(seed)
            self.scripted.reseed()
        self.seed = seed
        if self.policies:  # only policies read observations
            self.observer.compute(self.batch)
        for t, view in self.policies.items():
            view.reset(seed * 2 + t, self.config.team_sizes[t])
        self.actions: list[np.ndarray] = []
        self.held: set[int] = set()
        self.target: int | None = None  # the human's attack target (a unit)
        self.goal: tuple[int, int] | None = None  # where the human walks to
        self.cast: int | None = None  # the human's next ability target
        self.cast_ticks = 0

    @property
    def done(self) -> bool:
        if self.replay_path is not None and len(self.actions) >= len(self.replay_actions):
            return True
        return bool(self.batch.done[0])

    waiting = False

    def _team_heroes(self, t: int) -> np.ndarray:
        from sim.arena.config import MAX_TEAM

        return t * MAX_TEAM + np.arange(self.config.team_sizes[t])

    def step(self) -> None:
        from sim.arena.config import NUM_HEROES

        b = self.batch
        if self.replay_path is not None:
            unit = self.replay_actions[len(self.actions)][None]
        else:
            unit = b.noop_actions()
            if self.policies:
                from agents.ppo.arena import (  # torch: only with policies
                    hero_obs,
                    mirror_moves,
                    policy_mirrors,
                )

                slot = np.zeros((1, NUM_HEROES, 3), dtype=np.int64)
                for t, view in self.policies.items():
                    heroes = self._team_heroes(t)
                    n = len(heroes)
                    mirror = policy_mirrors(view)  # trained with --mirror-obs
                    obs = hero_obs(self.observer, np.zeros(n, np.int64), heroes,
                                   b.roles[t, :n], mirror=mirror)  # fmt: skip
                    slot[0, heroes] = mirror_moves(view.act(obs, team=n), heroes, mirror)
                unit = self.observer.to_unit_actions(slot)
            self.scripted.act(unit)
            if self.human is not None:
                unit[0, self.human] = self._human_action()
        self.actions.append(np.array(unit[0], dtype=np.int32))
        b.step(np.ascontiguousarray(unit, dtype=np.int32), check=False)
        if self.policies:
            self.observer.compute(b)

    # ---- the human hero -------------------------------------------------------------
    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key == pygame.K_f:
            self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
            return
        if self.human is None:
            return
        if event.type == pygame.KEYDOWN:
            if event.key in KEY_DIRS:
                self.held.add(event.key)
                self.goal = None
            elif event.key == pygame.K_e:
                self.cast, self.cast_ticks = self.human, 10
        elif event.type == pygame.KEYUP:
            self.held.discard(event.key)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button in (1, 3):
            self._click(event.pos, event.button)

    def _click(self, pos: tuple[int, int], button: int) -> None:
        from sim.arena.config import F_ALIVE, F_TEAM, F_X, F_Y, TERRAIN_WALL

        c, s = self.renderer.cell, self.batch.map.size
        cx, cy = pos[0] // c, pos[1] // c
        if not (0 <= cx < s and 0 <= cy < s):
            return
        ui = self.batch.ui[0]
        team = int(ui[self.human, F_TEAM])
        seen = (ui[:, F_TEAM] == team) | (self.batch.vis[0, team] == 1)
        d2 = (ui[:, F_X] - cx) ** 2 + (ui[:, F_Y] - cy) ** 2
        d2 = np.where((ui[:, F_ALIVE] == 1) & seen, d2, 1 << 30)
        u = int(np.argmin(d2))
        unit = u if d2[u] <= 2 else None
        if button == 3:
            if unit is not None:
                self.cast, self.cast_ticks = unit, 10
        elif unit is not None and ui[unit, F_TEAM] != team:
            self.target, self.goal = unit, None
        elif self.batch.map.terrain[cy, cx] != TERRAIN_WALL:  # walls are not a destination
            self.goal, self.target = (int(cx), int(cy)), None

    def _human_action(self) -> np.ndarray:
        from sim.arena.config import DIR_DX, DIR_DY, F_ALIVE, F_TEAM, F_X, F_Y
        from sim.arena.kernels import hero_ability_ok, hero_attack_ok

        b, h = self.batch, self.human
        ui = b.ui[0]
        out = np.array([0, -1, -1], dtype=np.int32)
        if ui[h, F_ALIVE] == 0:
            return out
        team = int(ui[h, F_TEAM])
        dx = sum(KEY_DIRS[k][0] for k in self.held)
        dy = sum(KEY_DIRS[k][1] for k in self.held)
        dx, dy = int(np.sign(dx)), int(np.sign(dy))
        if dx or dy:
            out[0] = int(np.flatnonzero((DIR_DX == dx) & (DIR_DY == dy))[0])
        t = self.target
        if t is not None:
            if ui[t, F_ALIVE] == 0 or b.vis[0, team, t] == 0:
                self.target = t = None
            elif hero_attack_ok(b.ui, b.vis, 0, h, t):
                out[1] = t
            elif out[0] == 0:
                out[0] = self._towards(team, int(ui[t, F_X]), int(ui[t, F_Y]))
        if out[0] == 0 and self.goal is not None:
            if (ui[h, F_X], ui[h, F_Y]) == self.goal:
                self.goal = None
            else:
                out[0] = self._towards(team, *self.goal)
        if self.cast is not None:
            if hero_ability_ok(b.ui, b.vis, 0, h, self.cast):
                out[2], self.cast = self.cast, None
            else:
                self.cast_ticks -= 1
                if self.cast_ticks <= 0:
                    self.cast = None
        return out

    def _towards(self, team: int, x: int, y: int) -> int:
        from sim.arena.config import F_X, F_Y

        ui, s = self.batch.ui[0], self.batch.map.size
        here = int(ui[self.human, F_Y]) * s + int(ui[self.human, F_X])
        return int(self.batch.map.nav[team, y * s + x, here])

    # ---- pictures -----------------------------------------------------------------
    def picture(self) -> np.ndarray:
        from sim.arena.config import F_ALIVE, F_X, F_Y

        frame = self.renderer.draw(self.batch, team=self.view)
        if self.human is None:
            return frame
        c = self.renderer.cell
        surf = pygame.surfarray.make_surface(frame.transpose(1, 0, 2))
        ui = self.batch.ui[0]
        if ui[self.human, F_ALIVE]:
            center = (int(ui[self.human, F_X]) * c + c // 2, int(ui[self.human, F_Y]) * c + c // 2)
            pygame.draw.circle(surf, (255, 230, 60), center, c, 2)
        if self.target is not None:
            t = self.target
            center = (int(ui[t, F_X]) * c + c // 2, int(ui[t, F_Y]) * c + c // 2)
            pygame.draw.circle(surf, (255, 60, 60), center, c, 2)
        if self.goal is not None:
            gx, gy = self.goal
            pygame.draw.rect(surf, (255, 230, 60), (gx * c + 2, gy * c + 2, c - 4, c - 4), 1)
        return pygame.surfarray.array3d(surf).transpose(1, 0, 2).copy()

    def hud(self) -> list[Item]:
        from sim.arena.config import (
            F_ABL_CD,
            F_ALIVE,
            F_HP,
            F_MAXHP,
            F_ROLE,
            G_KILLS,
            G_TICK,
            MAX_TEAM,
            ROLE_NAMES,
        )

        b = self.batch
        gi, ui = b.gi[0], b.ui[0]
        view = "spectator" if self.view is None else f"team {self.view}'s fog"
        items: list[Item] = [("title", "FogArena"), ("text", f"view: {view} (f)")]
        items.append(("text", f"tick {gi[G_TICK]} / {self.config.time_limit}"))
        for t in (0, 1):
            items.append(("text", f"team {t}: {self.controllers[t]}  kills {gi[G_KILLS + t]}"))
        if self.done:
            w = int(b.winner[0])
            items.append(
                ("text", {0: "team 0 wins", 1: "team 1 wins"}.get(w, "draw"), (250, 210, 90))
            )
        if self.human is not None:
            h = self.human
            role = ROLE_NAMES[ui[h, F_ROLE]]
            state = f"hp {ui[h, F_HP]}/{ui[h, F_MAXHP]}" if ui[h, F_ALIVE] else "dead"
            items += [("gap",), ("title", f"you: {role} (team {h // MAX_TEAM})")]
            items.append(("text", f"{state}  ability cd {ui[h, F_ABL_CD]}"))
            items.append(("text", f"target: {self._unit_name(self.target)}"))
        for t, view in sorted(self.policies.items()):
            if not len(view.probs):
                continue
            heroes = self._team_heroes(t)
            alive = [i for i, h in enumerate(heroes) if ui[h, F_ALIVE] and h != self.human]
            if not alive:
                continue
            i = alive[0]
            h = int(heroes[i])
            items += [("gap",), ("title", f"PPO team {t}, hero {i} ({ROLE_NAMES[ui[h, F_ROLE]]})")]
            items.append(("text", f"value {float(np.asarray(view.value)[i]):+.3f}"))
            items.append(("text", "move probabilities", DIM))
            items += bar_items(list(DIRECTIONS), view.probs[0][i], "{:.2f}", 4)
            slots = self.observer.slot_unit[0, h]
            labels = ["none"] + [self._unit_name(int(u)) for u in slots]
            items.append(("text", "attack probabilities", DIM))
            items += bar_items(labels, view.probs[1][i], "{:.2f}", 3)
        return items

    def _unit_name(self, u: int | None) -> str:
        from sim.arena.config import (
            F_KIND,
            F_ROLE,
            F_TEAM,
            KIND_CREEP,
            KIND_HERO,
            MAX_TEAM,
            ROLE_NAMES,
        )

        if u is None or u < 0:
            return "none"
        ui = self.batch.ui[0]
        kind = ui[u, F_KIND]
        if kind == KIND_HERO:
            return f"{ui[u, F_TEAM]}.{u % MAX_TEAM} {ROLE_NAMES[ui[u, F_ROLE]]}"
        return f"{ui[u, F_TEAM]}.{'creep' if kind == KIND_CREEP else 'tower'}"

    # ---- results ------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        from sim.arena.config import G_KILLS, G_TICK

        gi = self.batch.gi[0]
        w = int(self.batch.winner[0])
        winner = {0: "team 0", 1: "team 1", 2: "draw"}.get(w, "unfinished")
        return {"winner": winner, "ticks": int(gi[G_TICK]),
                "kills": f"{gi[G_KILLS]}-{gi[G_KILLS + 1]}"}  # fmt: skip

    def report(self, index: int, result: dict[str, Any]) -> list[str]:
        w = result["winner"]
        if w.startswith("team"):
            w = f"{w} ({self.controllers[int(w[-1])]}) wins"
        line = f"match {index + 1}: {w} after {result['ticks']} ticks, kills {result['kills']}"
        if self.replay_path is not None and self.done and self.final_hash:
            if self.batch.state_hash(0) != self.final_hash:
                line += " (warning: the replay diverged from the rules it was recorded with)"
        return [line]

    def totals(self, results: list[dict[str, Any]]) -> list[str]:
        if len(results) < 2:
            return []
        wins = [sum(r["winner"] == f"team {t}" for r in results) for t in (0, 1)]
        draws = sum(r["winner"] == "draw" for r in results)
        return [
            f"total: team 0 ({self.controllers[0]}) {wins[0]}, team 1 "
            f"({self.controllers[1]}) {wins[1]}, draws {draws}"
        ]

    def save_replay(self, path: str | Path) -> Path:
        from sim.arena.replay import save_replay

        actions = np.array(self.actions, dtype=np.int32).reshape(
            -1, *self.batch.noop_actions().shape[1:]
        )
        return save_replay(path, self.config, self.seed, actions, self.batch.state_hash(0))
