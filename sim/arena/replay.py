"""FogArena replay files: the config, the seed and every tick's actions (``.npz``).

A replay holds no state: playing it back re-runs the deterministic core from the seed
with the recorded unit actions, and the final state hash is checked against the one
stored, so a replay that no longer matches the rules says so instead of showing a
different match.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from sim.arena.batch import ACTION_PARTS, ArenaBatch
from sim.arena.config import NUM_HEROES, NUM_MOVES, NUM_UNITS, ArenaConfig

FORMAT = "fogarena-replay"
VERSION = 2  # 2: two-pass deaths, end-of-tick timers, per-team mirrored navigation


class ReplayError(ValueError):
    """A replay file that cannot be read or does not describe a valid match."""


def save_replay(
    path: str | Path, config: ArenaConfig, seed: int, actions: np.ndarray, final_hash: str = ""
) -> Path:
    """Write a replay; ``actions`` is (ticks, 10, 3) unit actions as the core takes them."""
    path = Path(path)
    a = np.asarray(actions, dtype=np.int32).reshape(-1, NUM_HEROES, ACTION_PARTS)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.to_dict(),
        "seed": int(seed),
        "final_hash": final_hash,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(f, meta=np.array(json.dumps(meta)), actions=a)
    return path


def load_replay(path: str | Path) -> tuple[ArenaConfig, int, np.ndarray, str]:
    """``(config, seed, actions, final_hash)`` of a replay, or :class:`ReplayError`."""
    path = Path(path)
    if not path.is_file():
        raise ReplayError(f"replay file {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if not {"meta", "actions"} <= keys:
                raise ReplayError(
                    f"malformed replay file {str(path)!r}: needs arrays 'meta' and 'actions', "
                    f"has {sorted(keys)}"
                )
            meta_text = str(data["meta"])
            actions = data["actions"]
    except ReplayError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ReplayError(f"malformed replay file {str(path)!r}: not a .npz archive ({e})") from e
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as e:
        raise ReplayError(f"malformed replay file {str(path)!r}: bad metadata JSON ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ReplayError(f"malformed replay file {str(path)!r}: not a {FORMAT} file")
    if meta.get("version") != VERSION:
        raise ReplayError(
            f"replay file {str(path)!r} has version {meta.get('version')!r}; "
            f"this build reads version {VERSION}"
        )
    for key in ("config", "seed"):
        if key not in meta:
            raise ReplayError(f"malformed replay file {str(path)!r}: metadata lacks {key!r}")
    try:
        config = ArenaConfig.from_dict(meta["config"])
    except (TypeError, ValueError) as e:
        raise ReplayError(f"malformed replay file {str(path)!r}: bad config ({e})") from e
    seed = meta["seed"]
    if not isinstance(seed, int) or isinstance(seed, bool) or not -(1 << 63) <= seed < (1 << 63):
        raise ReplayError(
            f"malformed replay file {str(path)!r}: seed must be an integer in the int64 range, "
            f"got {seed!r}"
        )
    if (
        actions.ndim != 3
        or actions.shape[1:] != (NUM_HEROES, ACTION_PARTS)
        or not np.issubdtype(actions.dtype, np.integer)
    ):
        raise ReplayError(
            f"malformed replay file {str(path)!r}: actions must be integers of shape "
            f"(ticks, {NUM_HEROES}, {ACTION_PARTS}), got {actions.dtype} {actions.shape}"
        )
    if actions.size and (
        actions[..., 0].min() < 0
        or actions[..., 0].max() >= NUM_MOVES
        or actions[..., 1:].min() < -1
        or actions[..., 1:].max() >= NUM_UNITS
    ):
        raise ReplayError(f"malformed replay file {str(path)!r}: actions out of range")
    if len(actions) > config.time_limit:
        raise ReplayError(
            f"malformed replay file {str(path)!r}: {len(actions)} ticks of actions for a "
            f"time limit of {config.time_limit}"
        )
    return config, seed, actions.astype(np.int32), str(meta.get("final_hash", ""))


def replay_batch(path: str | Path):
    """A fresh one-arena batch at the replay's start, and its action iterator."""
    config, seed, actions, final_hash = load_replay(path)
    batch = ArenaBatch(1, config, seed=seed)
    return batch, actions, final_hash
