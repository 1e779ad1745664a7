"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (Pons position files and other test data)."""
    if not (SHARED / "data" / "connect4").is_dir():
        pytest.fail(f"the shared data folder is missing: expected {SHARED}/data/connect4")
    return SHARED
