"""Pure simulation cores: rules, search, physics and rendering (NumPy and Numba)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _numba_cache_dir() -> str:
    """A Numba cache folder keyed by the source of the whole ``sim`` package.

    Numba's own cache is keyed by the file of each function only, so a kernel that
    calls an edited kernel of another module would load stale machine code. Keying the
    folder by every source file here makes any edit start from a clean cache.
    """
    digest = hashlib.sha1()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "simarena" / "numba"
    current = base / digest.hexdigest()[:16]
    _prune(base, keep=current)
    return str(current)


def _prune(base: Path, keep: Path, others: int = 3) -> None:
    """Delete all but the ``others`` most recently used caches of older sources."""
    import shutil

    try:
        old = sorted(
            (p for p in base.iterdir() if p.is_dir() and p != keep),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
    except OSError:
        return
    for path in old[others:]:
        shutil.rmtree(path, ignore_errors=True)


if not os.environ.get("NUMBA_CACHE_DIR"):
    import numba

    numba.config.CACHE_DIR = _numba_cache_dir()
