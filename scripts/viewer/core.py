"""The viewer's engine: sessions, the heads-up panel, the window loop, headless runs.

A *session* (one per env family) holds an env and its players and knows how to step,
draw and report; :class:`Viewer` runs it either in a pygame window with the controls
below, or headless (optionally recording every step to a video), and collects one result
row per episode.

Window controls: space pause, ``.`` or right arrow one step (while paused), ``+`` / ``-``
speed up / slow down (x2), ``r`` restart with a new seed, ``q`` / Esc quit (closing the
window too); the session gets every other event (mouse moves of a human, fog toggle...).
"""

from __future__ import annotations

import collections
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

FRAME_MULTIPLE = 16  # video encoders want sides divisible by 16
PANEL_WIDTH = 272
PANEL_BG = (24, 26, 32)
TEXT = (226, 228, 234)
DIM = (150, 154, 166)
ACCENT = (250, 210, 90)
BAR = (90, 170, 255)
BAR_BEST = (255, 170, 60)
NO_DISPLAY = (
    "no display available{why}: a window needs a desktop session; record a video instead "
    "(--record out.mp4 or out.gif) or print results only (--headless)"
)


class UsageError(ValueError):
    """Bad command-line input: reported in one line, exit code 2."""


class Quit(Exception):
    """The user closed the window or pressed q / Esc."""


# ---- the heads-up panel -----------------------------------------------------------
Item = tuple  # ("title", text) | ("text", text[, color]) | ("bar", label, frac, value[, color])


@dataclass
class Hud:
    """What the viewer adds to every panel: where the run is and how fast it goes."""

    episode: int = 1
    episodes: int = 1
    step: int = 0
    fps: float = 0.0
    speed: float = 1.0
    measured: float | None = None  # steps per second actually shown (window only)
    paused: bool = False
    seed: int = 0
    note: str = ""
    keys: list[str] = field(default_factory=list)

    def items(self) -> list[Item]:
        out: list[Item] = [("gap",), ("title", "viewer")]
        out.append(("text", f"episode {self.episode}/{self.episodes}  seed {self.seed}"))
        out.append(("text", f"step {self.step}"))
        rate = f"{self.fps * self.speed:.3g} steps/s (x{self.speed:g})"
        if self.measured is not None:
            rate += f", shown {self.measured:.1f}"
        out.append(("text", rate))
        if self.paused:
            out.append(("text", "PAUSED (space: resume, .: one step)", ACCENT))
        if self.note:
            out.append(("text", self.note, ACCENT))
        for k in self.keys:
            out.append(("text", k, DIM))
        return out


class Panel:
    """Draws the heads-up panel (a column of text lines and labelled bars) as RGB."""

    def __init__(self, width: int = PANEL_WIDTH) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.width = width
        self.title_font = pygame.font.Font(None, 22)
        self.font = pygame.font.Font(None, 18)

    def draw(self, height: int, items: list[Item]) -> np.ndarray:
        surf = pygame.Surface((self.width, height))
        surf.fill(PANEL_BG)
        y, pad = 8, 10
        for item in items:
            kind = item[0]
            if y > height - 12:
                break
            if kind == "gap":
                y += 6
            elif kind == "title":
                img = self.title_font.render(str(item[1]), True, ACCENT)
                surf.blit(img, (pad, y))
                y += 20
            elif kind == "text":
                color = item[2] if len(item) > 2 else TEXT
                img = self.font.render(str(item[1]), True, color)
                surf.blit(img, (pad, y), area=pygame.Rect(0, 0, self.width - 2 * pad, 20))
                y += 15
            elif kind == "bar":
                label, frac, value = item[1], float(item[2]), str(item[3])
                color = item[4] if len(item) > 4 else BAR
                lab = self.font.render(str(label), True, TEXT)
                surf.blit(lab, (pad, y), area=pygame.Rect(0, 0, 86, 16))
                x0, w = pad + 88, self.width - 2 * pad - 88 - 48
                pygame.draw.rect(surf, (50, 54, 64), (x0, y + 2, w, 10))
                frac = 0.0 if not math.isfinite(frac) else min(1.0, max(0.0, frac))
                pygame.draw.rect(surf, color, (x0, y + 2, round(w * frac), 10))
                val = self.font.render(value, True, TEXT)
                surf.blit(val, (x0 + w + 4, y))
                y += 14
            else:
                raise ValueError(f"unknown panel item {kind!r}")
        return surface_rgb(surf)


def surface_rgb(surf: pygame.Surface) -> np.ndarray:
    w, h = surf.get_size()
    return np.frombuffer(pygame.image.tobytes(surf, "RGB"), np.uint8).reshape(h, w, 3).copy()


def bar_items(
    labels: list[str], values: np.ndarray, fmt: str = "{:.2f}", top: int | None = None
) -> list[Item]:
    """One bar per value, scaled to the range of ``values``; the best one highlighted.
    ``top``: only the largest ``top`` values, largest first."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return []
    order = np.argsort(-v, kind="stable")[:top] if top else np.arange(len(v))
    lo, hi = float(v.min()), float(v.max())
    if lo >= 0 and top:  # probabilities: bars from zero
        lo = 0.0
    span = hi - lo if hi > lo else 1.0
    best = int(np.argmax(v))
    return [
        ("bar", labels[i], (v[i] - lo) / span if hi > lo else 1.0, fmt.format(v[i]),
         BAR_BEST if i == best else BAR)
        for i in order
    ]  # fmt: skip


def compose(picture: np.ndarray, panel: np.ndarray | None) -> np.ndarray:
    """``picture`` with ``panel`` on its right, both sides padded to a multiple of 16."""
    parts = [picture] if panel is None else [picture, panel]
    h = max(p.shape[0] for p in parts)
    h = -(-h // FRAME_MULTIPLE) * FRAME_MULTIPLE
    w = sum(p.shape[1] for p in parts)
    w = -(-w // FRAME_MULTIPLE) * FRAME_MULTIPLE
    out = np.empty((h, w, 3), np.uint8)
    out[:] = PANEL_BG  # the margins take the panel's colour
    x = 0
    for p in parts:
        out[: p.shape[0], x : x + p.shape[1]] = p
        x += p.shape[1]
    return out


def scale_up(frame: np.ndarray, factor: int) -> np.ndarray:
    return frame if factor == 1 else np.repeat(np.repeat(frame, factor, 0), factor, 1)


# ---- sessions ---------------------------------------------------------------------
class Session(Protocol):
    """One env family's match: players, stepping, pictures, results."""

    title: str
    fps: float  # default steps per second
    keys: list[str]  # control hints of this session

    def reset(self, seed: int) -> None: ...

    def step(self) -> None: ...

    @property
    def done(self) -> bool: ...

    @property
    def waiting(self) -> bool:
        """A human must act before the next step (turn-based games)."""
        ...

    def handle_event(self, event: pygame.event.Event) -> None: ...

    def picture(self) -> np.ndarray: ...

    def hud(self) -> list[Item]: ...

    def result(self) -> dict[str, Any]: ...

    def report(self, index: int, result: dict[str, Any]) -> list[str]: ...

    def totals(self, results: list[dict[str, Any]]) -> list[str]: ...


# ---- display ----------------------------------------------------------------------
def check_display() -> None:
    """UsageError (suggesting --record) when no window can be opened."""
    driver = os.environ.get("SDL_VIDEODRIVER")
    if driver is None and sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise UsageError(NO_DISPLAY.format(why=" (neither DISPLAY nor WAYLAND_DISPLAY is set)"))
    try:
        pygame.display.init()
    except pygame.error as e:
        raise UsageError(NO_DISPLAY.format(why=f" ({e})")) from None


# ---- running ----------------------------------------------------------------------
@dataclass
class RunSettings:
    episodes: int = 1
    seed: int = 0
    fps: float = 2.0
    hold: float = 2.0
    max_steps: int | None = None


class Viewer:
    """Runs a session: :meth:`run_headless` (with an optional recorder) or a window
    (:meth:`open`, then :meth:`tick` until :class:`Quit`, or :meth:`run_window`)."""

    def __init__(self, session: Session, settings: RunSettings, recorder=None) -> None:
        self.session = session
        self.s = settings
        self.recorder = recorder
        self.panel = Panel()
        self.results: list[dict[str, Any]] = []
        self.on_result = None  # callback(index, result) after each episode
        # window state
        self.screen = None
        self.paused = False
        self.speed = 1.0
        self.step_once = False
        self.restart = False
        self.episode = 0
        self.seed = settings.seed
        self.steps = 0
        self.next_at = 0.0
        self.ended_at: float | None = None
        self.finished = False
        self.stamps: collections.deque[float] = collections.deque(maxlen=32)
        self.last_frame: np.ndarray | None = None
        self.rng = np.random.default_rng(settings.seed + 7919)  # new seeds for restarts

    # ---- frames -----------------------------------------------------------------
    def frame(self) -> np.ndarray:
        measured = None
        if self.screen is not None and len(self.stamps) > 1:
            span = self.stamps[-1] - self.stamps[0]
            measured = (len(self.stamps) - 1) / span if span > 0 else None
        note = ""
        if self.finished:
            note = "finished: r new game, q quit"
        hud = Hud(
            episode=self.episode + 1, episodes=self.s.episodes, step=self.steps, fps=self.s.fps,
            speed=self.speed, measured=measured, paused=self.paused, seed=self.seed, note=note,
            keys=(["space pause  . step  +/- speed", "r restart  q quit"] + self.session.keys)
            if self.screen is not None else [],
        )  # fmt: skip
        picture = self.session.picture()
        panel = self.panel.draw(max(picture.shape[0], 480), self.session.hud() + hud.items())
        return compose(picture, panel)

    def _episode_over(self) -> bool:
        return self.session.done or (
            self.s.max_steps is not None and self.steps >= self.s.max_steps
        )

    def _finish_episode(self) -> None:
        result = {"episode": self.episode + 1, "seed": self.seed, "steps": self.steps}
        result.update(self.session.result())
        self.results.append(result)
        if self.on_result is not None:
            self.on_result(len(self.results) - 1, result)

    # ---- headless ---------------------------------------------------------------
    def run_headless(self) -> list[dict[str, Any]]:
        """Every episode without a window; each step's frame goes to the recorder."""
        for ep in range(self.s.episodes):
            self.episode, self.seed, self.steps = ep, self.s.seed + ep, 0
            self.session.reset(self.seed)
            frame = None
            while True:
                if self.recorder is not None:
                    frame = self.last_frame = self.frame()
                    self.recorder.append(frame)
                if self._episode_over():
                    break
                self.session.step()
                self.steps += 1
            if frame is not None:
                for _ in range(round(self.s.hold * self.s.fps)):
                    self.recorder.append(frame)
            self._finish_episode()
        return self.results

    # ---- window -----------------------------------------------------------------
    def open(self, title: str | None = None) -> None:
        check_display()
        self.episode, self.seed, self.steps = 0, self.s.seed, 0
        self.session.reset(self.seed)
        frame = self.frame()
        try:
            self.screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
        except pygame.error as e:
            raise UsageError(NO_DISPLAY.format(why=f" ({e})")) from None
        pygame.display.set_caption(title or self.session.title)
        self.next_at = time.monotonic()

    def close(self) -> None:
        if self.screen is not None:
            pygame.display.quit()
            self.screen = None

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            raise Quit()
        if event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_q, pygame.K_ESCAPE):
                raise Quit()
            if key == pygame.K_SPACE:
                self.paused = not self.paused
                return
            if key in (pygame.K_PERIOD, pygame.K_RIGHT) and self.paused:
                self.step_once = True
                return
            if key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                self.speed = min(64.0, self.speed * 2)
                return
            if key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                self.speed = max(1 / 64, self.speed / 2)
                return
            if key == pygame.K_r:
                self.restart = True
                return
        self.session.handle_event(event)

    def _new_episode(self, seed: int) -> None:
        self.seed, self.steps, self.ended_at, self.finished = seed, 0, None, False
        self.session.reset(seed)
        self.next_at = time.monotonic() + 1.0 / (self.s.fps * self.speed)

    def tick(self) -> np.ndarray:
        """One pass of the window loop: events, at most one step, one frame shown."""
        for event in pygame.event.get():
            self.handle(event)
        now = time.monotonic()
        if self.restart:
            self.restart = False
            self._new_episode(int(self.rng.integers(1 << 31)))
        if self._episode_over():
            if self.ended_at is None:
                self.ended_at = now
                self._finish_episode()
                self.finished = self.episode + 1 >= self.s.episodes
            elif not self.finished and now - self.ended_at >= self.s.hold:
                self.episode += 1
                self._new_episode(self.s.seed + self.episode)
        elif not self.session.waiting:
            due = (not self.paused and now >= self.next_at) or self.step_once
            human_move = getattr(self.session, "human_ready", False)
            if due or human_move:
                self.step_once = False
                self.session.step()
                self.steps += 1
                self.stamps.append(now)
                self.next_at = max(self.next_at, now - 0.25) + 1.0 / (self.s.fps * self.speed)
        frame = self.frame()
        h, w = frame.shape[:2]
        if self.screen.get_size() != (w, h):
            self.screen = pygame.display.set_mode((w, h))
        self.screen.blit(pygame.image.frombuffer(frame.tobytes(), (w, h), "RGB"), (0, 0))
        pygame.display.flip()
        self.last_frame = frame
        return frame

    def run_window(self, title: str | None = None) -> list[dict[str, Any]]:
        self.open(title)
        clock = pygame.time.Clock()
        try:
            while True:
                self.tick()
                clock.tick(60)
        except Quit:
            pass
        finally:
            self.close()
        return self.results


# ---- the results table --------------------------------------------------------------
def results_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of result rows (columns: the union of keys, in order)."""
    if not rows:
        return "(no episodes)"
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.0f}"
        return "" if v is None else str(v)

    table = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(t, widths, strict=True)) for t in table]
    return "\n".join(lines)
