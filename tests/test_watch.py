"""scripts/watch.py: help, recording a match, bad input.  Headless."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"

import imageio.v2 as iio2  # noqa: E402
import imageio.v3 as iio3  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "watch.py"


@pytest.fixture(scope="module")
def watch():
    spec = importlib.util.spec_from_file_location("watch_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def run_script(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_from_the_repo_root():
    done = run_script("--help")
    assert done.returncode == 0, done.stderr
    for option in (
        "--game",
        "--player0",
        "--player1",
        "--simulations",
        "--record",
        "--fps",
        "--games",
        "--seed",
        "--az-simulations",
        "--overlay",
        "--no-overlay",
        "alphazero:PATH",
    ):
        assert option in done.stdout


def test_records_a_gif_from_the_command_line(tmp_path):
    out = tmp_path / "match.gif"
    done = run_script(
        "--game",
        "tictactoe",
        "--player0",
        "random",
        "--player1",
        "random",
        "--record",
        str(out),
        "--fps",
        "4",
        "--hold",
        "0",
    )
    assert done.returncode == 0, done.stderr
    assert "moves:" in done.stdout and str(out) in done.stdout
    frames = iio3.imread(out)
    # One frame per position: 5 to 9 moves of Tic-Tac-Toe make 6 to 10 positions.
    assert 6 <= len(frames) <= 10
    assert frames.shape[-1] in (3, 4) and frames.dtype == np.uint8


def test_records_mp4_games_in_process(watch, tmp_path, capsys):
    out = tmp_path / "match.mp4"
    code = watch.main(
        [
            "--game",
            "tictactoe",
            "--player0",
            "random",
            "--player1",
            "greedy",
            "--record",
            str(out),
            "--fps",
            "8",
            "--games",
            "2",
            "--hold",
            "0.5",
            "--cell-px",
            "32",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("moves:") == 2 and "total:" in printed and str(out) in printed
    with iio2.get_reader(out) as reader:
        frames = [f for f in reader]
    # Two games of 5..9 moves, each 6..10 positions plus 4 frames holding the end.
    assert 2 * (6 + 4) <= len(frames) <= 2 * (10 + 4)
    assert frames[0].ndim == 3 and frames[0].shape[2] == 3


def test_same_seed_same_game(watch, tmp_path, capsys):
    outputs = []
    for i in range(2):
        argv = [
            "--game",
            "connect4",
            "--player0",
            "random",
            "--player1",
            "random",
            "--seed",
            "7",
            "--record",
            str(tmp_path / f"g{i}.gif"),
            "--hold",
            "0",
            "--cell-px",
            "16",
        ]
        assert watch.main(argv) == 0
        outputs.append(capsys.readouterr().out.splitlines()[:2])
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--player0", "nobody"], "nobody"),
        (["--player1", "human", "--record", "x.gif"], "human"),
        (["--game", "tictactoe", "--game-size", "5"], "size"),
        (["--game", "othello", "--game-size", "7"], "size"),
        (["--record", "out.avi"], "extension"),
        (["--fps", "0"], "--fps"),
        (["--games", "0"], "--games"),
    ],
)
def test_bad_input_exits_2_with_a_message(watch, argv, message, capsys):
    assert watch.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("watch.py: error:") and message in err
    assert "Traceback" not in err


def test_record_creates_missing_folders(watch, tmp_path, capsys):
    out = tmp_path / "new" / "sub" / "dir" / "game.gif"
    argv = ["--game", "tictactoe", "--player0", "random", "--player1", "random"]
    argv += ["--record", str(out), "--hold", "0", "--cell-px", "16"]
    assert watch.main(argv) == 0
    assert str(out) in capsys.readouterr().out
    assert 6 <= len(iio3.imread(out)) <= 10


def test_record_under_a_file_exits_2(watch, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    argv = ["--record", str(tmp_path / "file" / "game.gif")]
    assert watch.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("watch.py: error:") and "cannot create" in err


def test_unknown_game_exits_2(watch, capsys):
    with pytest.raises(SystemExit) as exc:
        watch.main(["--game", "chess"])
    assert exc.value.code == 2
    assert "chess" in capsys.readouterr().err


# ---- AlphaZero checkpoints as players -------------------------------------------------
@pytest.fixture(scope="module")
def az_run(tmp_path_factory) -> Path:
    """A run folder holding the checkpoint of a fresh, tiny Connect Four network."""
    from agents.alphazero.config import AlphaZeroConfig, SearchConfig
    from agents.alphazero.train import Trainer

    run_dir = tmp_path_factory.mktemp("az") / "run"
    config = AlphaZeroConfig(
        blocks=1,
        channels=8,
        parallel_games=4,
        steps_per_iteration=2,
        max_iterations=1,
        eval_every_minutes=0,
        threads=1,
        search=SearchConfig(simulations=8, fast_simulations=4),
        min_replay=8,
        batch_size=8,
        replay_size=100,
        run_dir=str(run_dir),
    )
    Trainer(config).save()
    return run_dir


def az_argv(player0: str, out: Path, *more: str) -> list[str]:
    return [
        "--game",
        "connect4",
        "--player0",
        player0,
        "--player1",
        "random",
        "--az-simulations",
        "8",
        "--record",
        str(out),
        "--hold",
        "0",
        "--cell-px",
        "16",
        *more,
    ]


def test_alphazero_checkpoint_plays_and_records(watch, az_run, tmp_path, capsys):
    from agents.alphazero.checkpoint import CHECKPOINT

    for i, path in enumerate((az_run, az_run / CHECKPOINT)):  # run folder or file
        out = tmp_path / f"az{i}.gif"
        assert watch.main(az_argv(f"alphazero:{path}", out)) == 0
        printed = capsys.readouterr().out
        assert "moves:" in printed and f"wrote {out}" in printed
        # A Connect Four game has at least 7 moves: 8 positions or more.
        assert len(iio3.imread(out)) >= 8


def test_raw_network_player_records(watch, az_run, tmp_path, capsys):
    out = tmp_path / "raw.gif"
    argv = az_argv(f"alphazero:{az_run}", out)
    argv[argv.index("--az-simulations") + 1] = "0"
    assert watch.main(argv) == 0
    assert f"wrote {out}" in capsys.readouterr().out


def test_overlay_draws_over_the_board(watch, az_run, tmp_path, capsys):
    frames = {}
    for flag in ("--overlay", "--no-overlay"):
        out = tmp_path / f"{flag}.gif"
        assert watch.main(az_argv(f"alphazero:{az_run}", out, "--seed", "3", flag)) == 0
        frames[flag] = iio3.imread(out)
    with_, without = frames["--overlay"], frames["--no-overlay"]
    assert len(with_) == len(without)  # the same game: drawing consumes no randomness
    np.testing.assert_array_equal(with_[0], without[0])  # nothing analysed yet
    # Every position after AlphaZero's first move shows its analysis.
    assert all((a != b).any() for a, b in zip(with_[1:], without[1:], strict=True))


def test_overlay_is_built_from_the_players_last_search(watch, az_run):
    from agents.alphazero.checkpoint import load_network
    from agents.alphazero.player import AlphaZeroPlayer
    from sim.board import make_game

    game = make_game("connect4")
    net, _, _ = load_network(az_run / "checkpoint.safetensors")
    player = AlphaZeroPlayer(game, net, simulations=8)
    player.act(game.initial_state(), np.random.default_rng(0))
    overlay = watch.analysis(player, 0)
    assert overlay.player == 0 and overlay.value == player.last_value
    assert overlay.visits.sum() >= 8 and np.isclose(overlay.policy.sum(), 1.0)


@pytest.mark.parametrize(
    "case, message",
    [
        ("wrong game", ["connect4", "tictactoe"]),
        ("corrupt", ["corrupt"]),
        ("missing", ["no checkpoint"]),
        ("empty folder", ["no checkpoint"]),
        ("no path", ["alphazero:PATH"]),
        ("negative simulations", ["--az-simulations"]),
    ],
)
def test_bad_alphazero_player_exits_2(watch, az_run, tmp_path, capsys, case, message):
    out = tmp_path / "x.gif"
    argv = az_argv(f"alphazero:{az_run}", out)
    if case == "wrong game":
        argv[argv.index("connect4")] = "tictactoe"
    elif case == "corrupt":
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"\x10\x00" + os.urandom(300))
        argv[3] = f"alphazero:{bad}"
    elif case == "missing":
        argv[3] = f"alphazero:{tmp_path / 'nope.safetensors'}"
    elif case == "empty folder":
        argv[3] = f"alphazero:{tmp_path}"
    elif case == "no path":
        argv[3] = "alphazero:"
    else:
        argv[argv.index("--az-simulations") + 1] = "-1"
    assert watch.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("watch.py: error:") and len(err.strip().splitlines()) == 1
    assert all(m in err for m in message), err
    assert not out.exists()


def test_plays_a_fogarena_replay_back(tmp_path):
    import numpy as np

    from sim.arena import ArenaBatch, ArenaConfig
    from sim.arena.replay import save_replay

    config = ArenaConfig(team_sizes=(1, 1), time_limit=60)
    batch = ArenaBatch(1, config, seed=3)
    actions, a = [], batch.noop_actions()
    while not batch.done[0]:
        actions.append(a[0].copy())
        batch.step(a)
    replay = save_replay(tmp_path / "match.npz", config, 3, actions, batch.state_hash(0))
    video = tmp_path / "replay.gif"
    done = run_script(
        "--replay", str(replay), "--speed", "4", "--team", "0", "--record", str(video)
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {video}" in done.stdout and video.stat().st_size > 0
    assert np.asarray(iio3.imread(video)).shape[0] > 10  # frames
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a replay")
    done = run_script("--replay", str(bad), "--record", str(tmp_path / "x.gif"))
    assert done.returncode == 2 and "--replay" in done.stderr and "Traceback" not in done.stderr
