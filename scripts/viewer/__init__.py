"""The pieces of ``scripts/watch.py``: one pygame viewer for every simarena env.

* :mod:`viewer.core`: the session protocol, the heads-up panel, the window loop with its
  controls, headless runs, recordings and the results table.
* :mod:`viewer.players`: reading a player spec (``human``, a bot name, a checkpoint path
  of an AlphaZero, DQN or PPO agent, told apart by the checkpoint's metadata).
* :mod:`viewer.board`, :mod:`viewer.arena`, :mod:`viewer.atari`: one session per env
  family (board games, FogArena, Atari/MinAtar).

``scripts`` is not a package: ``watch.py`` puts its own folder on ``sys.path`` and
imports ``viewer`` from there (as the bench scripts import ``benchkit``).
"""
