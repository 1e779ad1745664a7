"""Helpers shared by the agents' command-line entries."""

from __future__ import annotations


def given_flags(argv: list[str]) -> set[str]:
    """Field names of the ``--flags`` typed on a command line (``--max-iterations 3`` ->
    ``max_iterations``), so that a resumed run overrides only what was typed."""
    return {a[2:].split("=", 1)[0].replace("-", "_") for a in argv if a.startswith("--")}
