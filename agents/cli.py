"""Helpers shared by the agents' command-line entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields


def given_flags(argv: list[str]) -> set[str]:
    """Field names of the ``--flags`` typed on a command line (``--max-iterations 3`` ->
    ``max_iterations``; tyro's ``--no-save-replay`` -> ``save_replay`` too), so that a
    resumed run overrides only what was typed."""
    names = {a[2:].split("=", 1)[0].replace("-", "_") for a in argv if a.startswith("--")}
    return names | {n[3:] for n in names if n.startswith("no_")}


def start_or_resume(
    trainer_cls: type,
    config_cls: type,
    args: object,
    overrides: Sequence[str],
    given: set[str] | None = None,
):
    """A trainer for the command line's ``args``: a new run from the fields of
    ``config_cls`` that ``args`` carries, or, when ``args.resume`` names a run, that run
    with those ``overrides`` replaced that were typed (``given``; all of them when None).
    """
    if getattr(args, "resume", None) is None:
        config = config_cls(**{f.name: getattr(args, f.name) for f in fields(config_cls)})
        return trainer_cls(config)
    typed = set(overrides) if given is None else set(given)
    chosen = {name: getattr(args, name) for name in overrides if name in typed}
    return trainer_cls.resume(args.resume, **chosen)
