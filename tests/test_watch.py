"""scripts/watch.py: help, recording a match, bad input.  Headless."""

from __future__ import annotations

import importlib.util
import json
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
        watch.main(["--game", "nosuchgame"])
    assert exc.value.code == 2
    assert "nosuchgame" in capsys.readouterr().err


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
        workers=0,
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
    from viewer.board import analysis

    overlay = analysis(player, 0)
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


def test_plays_a_fogarena_replay_back(watch, tmp_path, capsys):
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
        "--replay",
        str(replay),
        "--speed",
        "4",
        "--team",
        "0",
        "--record",
        str(video),
        "--hold",
        "0",
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {video}" in done.stdout and video.stat().st_size > 0
    assert np.asarray(iio3.imread(video)).shape[0] > 10  # frames
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a replay")
    assert watch.main(["--replay", str(bad), "--record", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert "--replay" in err and "Traceback" not in err


# ---- every env family: sessions, frames, controls, human input ----------------------
class Frames:
    """A recorder that keeps the frames (what MatchRecorder would write)."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def append(self, frame: np.ndarray) -> None:
        self.frames.append(np.array(frame))


def session_for(watch, *argv: str):
    return watch.build_session(watch.tyro.cli(watch.Args, args=list(argv)))


def hud_texts(session) -> list[str]:
    return [str(item[1]) for item in session.hud() if len(item) > 1]


def run_frames(watch, session, steps: int = 6) -> list[np.ndarray]:
    from viewer.core import RunSettings, Viewer

    rec = Frames()
    Viewer(session, RunSettings(1, 3, 10.0, 0.0, steps), rec).run_headless()
    return rec.frames


def assert_frames_move(frames: list[np.ndarray], count: int) -> None:
    assert len(frames) == count
    for f in frames:
        assert f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3
        assert f.shape[0] % 16 == 0 and f.shape[1] % 16 == 0 and f.std() > 5  # not blank
    assert any((a != b).any() for a, b in zip(frames, frames[1:], strict=False))
    assert (frames[0] != frames[-1]).any()


ARENA_SMALL = ("--team-size", "1", "--time-limit", "40")


@pytest.mark.parametrize(
    "argv",
    [
        ("simarena/TicTacToe-v0", "--player0", "random", "--player1", "random"),
        ("simarena/Go9x9-v0", "--player0", "random", "--player1", "random", "--cell-px", "24"),
        ("simarena/FogArena-v0", "--player0", "easy", "--player1", "random", *ARENA_SMALL),
        ("simarena/MinAtar-Breakout-v0",),
        ("simarena/Atari-Pong-v0", "--scale", "2"),
        ("simarena/Drive-v0",),
    ],
    ids=["board", "go", "arena", "minatar", "atari", "driving"],
)
def test_every_family_renders_changing_frames_with_bots(watch, argv):
    session = session_for(watch, *argv)
    frames = run_frames(watch, session, steps=4)
    # 5 frames unless the episode ends sooner (Tic-Tac-Toe needs 5 moves at least)
    assert_frames_move(frames, min(5, len(frames)))
    assert len(frames) >= 4


@pytest.fixture(scope="module")
def ppo_policies(tmp_path_factory) -> dict[str, Path]:
    """Tiny untrained PPO policies, saved by PPO's own save_policy."""
    from agents.ppo.arena import arena_spec
    from agents.ppo.board import board_spec
    from agents.ppo.config import PPOConfig
    from agents.ppo.gym_source import policy_spec
    from agents.ppo.network import PolicySpec, build_policy
    from agents.ppo.train import save_policy
    from sim.board import make_game

    folder = tmp_path_factory.mktemp("ppo")
    import gymnasium

    import envs  # noqa: F401  (registers the ids)

    drive = gymnasium.make("simarena/Drive-v0", action_type="discrete")  # its sizes, not ours
    specs = {
        "board:tictactoe": board_spec(make_game("tictactoe"), hidden=16),
        "fogarena": arena_spec(hidden=16, embed=8, heads=2),
        # what PPO trains on MinAtar's (4, 10, 10) planes: a CNN
        "simarena/MinAtar-Breakout-v0": policy_spec(
            gymnasium.make("simarena/MinAtar-Breakout-v0").observation_space, (6,),
            "simarena/MinAtar-Breakout-v0", hidden=16,
        ),
        "simarena/Drive-v0": PolicySpec(
            kind="mlp", nvec=(int(drive.action_space.n),),
            obs_dim=int(drive.observation_space.shape[0]),
            hidden=16, extra={"env": "simarena/Drive-v0"},
        ),
    }  # fmt: skip
    options = {"simarena/Drive-v0": {"action_type": "discrete"}}
    out = {}
    for env, spec in specs.items():
        path = folder / f"{env.replace('/', '-').replace(':', '-')}.safetensors"
        config = PPOConfig(env=env, env_options=options.get(env, {}))
        out[env] = save_policy(path, build_policy(spec), spec, config, {})
    return out


@pytest.fixture(scope="module")
def dqn_run(tmp_path_factory) -> Path:
    """A fresh tiny MinAtar Breakout DQN run folder, saved by DQN's own Trainer."""
    from agents.dqn.config import DQNConfig
    from agents.dqn.train import Trainer

    run_dir = tmp_path_factory.mktemp("dqn") / "run"
    config = DQNConfig(env="minatar:breakout", total_steps=10, buffer_size=100,
                       learning_starts=5, progress=False, run_dir=str(run_dir))  # fmt: skip
    Trainer(config).save()
    return run_dir


def test_checkpoints_of_every_agent_play_their_env(watch, az_run, ppo_policies, dqn_run):
    # AlphaZero on a board: the overlay's policy and visits reach the panel
    s = session_for(watch, "--game", "connect4", "--player0", str(az_run), "--player1",
                    "random", "--az-simulations", "8", "--cell-px", "16")  # fmt: skip
    assert_frames_move(run_frames(watch, s, 3), 4)
    assert s.overlay is not None and s.overlay.visits.sum() >= 8
    assert any("analysis" in t for t in hud_texts(s))
    # PPO on a board: its policy drawn over the board, value in the panel
    s = session_for(watch, "simarena/TicTacToe-v0", "--player0", "random", "--player1",
                    str(ppo_policies["board:tictactoe"]))  # fmt: skip
    assert_frames_move(run_frames(watch, s, 4), 5)
    assert s.overlay is not None and np.isclose(s.overlay.policy.sum(), 1.0)
    # PPO heroes in the arena: value and action probabilities of a hero
    s = session_for(watch, "simarena/FogArena-v0", "--player0", str(ppo_policies["fogarena"]),
                    "--player1", "easy", *ARENA_SMALL)  # fmt: skip
    assert_frames_move(run_frames(watch, s, 4), 5)
    texts = hud_texts(s)
    assert any(t.startswith("PPO team 0") for t in texts) and any("value" in t for t in texts)
    # DQN on MinAtar: Q-values in the panel
    s = session_for(watch, "simarena/MinAtar-Breakout-v0", "--player0", str(dqn_run))
    assert_frames_move(run_frames(watch, s, 4), 5)
    assert s.q_values is not None and s.q_values.shape == (6,)
    assert any(item[0] == "bar" for item in s.hud())
    # PPO on MinAtar: value and action probabilities
    s = session_for(watch, "simarena/MinAtar-Breakout-v0", "--player0",
                    str(ppo_policies["simarena/MinAtar-Breakout-v0"]))  # fmt: skip
    run_frames(watch, s, 3)
    assert np.isclose(s.policy.probs[0][0].sum(), 1.0)
    # PPO driver: the env is made with the policy's env options (discrete actions)
    s = session_for(watch, "simarena/Drive-v0", "--player0",
                    str(ppo_policies["simarena/Drive-v0"]))  # fmt: skip
    assert_frames_move(run_frames(watch, s, 3), 4)
    assert s.discrete and np.isclose(s.policy.probs[0][0].sum(), 1.0)
    assert any("PPO" in t for t in hud_texts(s))


@pytest.mark.parametrize(
    "argv, words",
    [
        (["simarena/Nope-v0"], ["unknown env id", "simarena/Connect4-v0", "simarena/FogArena-v0"]),
        (["simarena/FogArena-v0", "--player0", "AZ"], ["alphazero", "FogArena"]),
        (["simarena/Connect4-v0", "--player0", "DQN"], ["dqn", "board player"]),
        (["simarena/FogArena-v0", "--player0", "PPOBOARD"], ["another env or observation"]),
        (["simarena/MinAtar-Asterix-v0", "--player0", "DQN"], ["breakout", "Asterix"]),
        (["simarena/MinAtar-Breakout-v0", "--player0", "AZ"], ["alphazero", "DQN or PPO"]),
        (["simarena/Connect4-v0", "--player0", "AZ", "--game", "othello"], ["--game"]),
        (["simarena/FogArena-v0", "--player0", "wizard"], ["wizard", "hard"]),
        (["simarena/MinAtar-Breakout-v0", "--player1", "random"], ["one player"]),
        (["simarena/FogArena-v0", "--player0", "human", "--headless"], ["human", "--headless"]),
        (["simarena/FogArena-v0", "--player0", "human", "--hero", "7"], ["--hero"]),
        (["--replay", "NOFILE.json"], ["--replay", "no file"]),
        (["simarena/Drive-v0", "--player0", "DQN"], ["dqn", "PPO"]),
        (["simarena/Chess-v0", "--player1", "wizard"], ["wizard", "mcts"]),
        (["simarena/MinAtar-Breakout-v0", "--save-replay", "x.json"], ["board games"]),
        (["simarena/TicTacToe-v0", "--screenshot", "x.jpg"], [".png"]),
        (["simarena/Drive-v0", "--player0", "autopilot"], ["autopilot", "lanekeep"]),
    ],
)
def test_bad_input_says_why(watch, az_run, ppo_policies, dqn_run, argv, words, capsys):
    names = {
        "AZ": str(az_run),
        "DQN": str(dqn_run),
        "PPOBOARD": str(ppo_policies["board:tictactoe"]),
    }
    argv = [names.get(a, a) for a in argv]
    assert watch.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("watch.py: error:") and len(err.strip().splitlines()) == 1, err
    assert all(w in err for w in words), err


def test_no_display_suggests_record(watch, monkeypatch, capsys):
    for var in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert watch.main(["simarena/TicTacToe-v0"]) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "--record" in err


# ---- the window: controls and human players (dummy video driver) ---------------------
def post_key(key: int, up: bool = False) -> None:
    import pygame

    pygame.event.post(pygame.event.Event(pygame.KEYUP if up else pygame.KEYDOWN, key=key))


def post_click(pos: tuple[int, int], button: int = 1) -> None:
    import pygame

    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button))


def window(watch, session, fps: float = 1000.0, episodes: int = 1):
    from viewer.core import RunSettings, Viewer

    viewer = Viewer(session, RunSettings(episodes, 0, fps, 0.0, None))
    viewer.open()
    return viewer


def test_human_move_by_mouse_on_a_board(watch):
    session = session_for(watch, "simarena/TicTacToe-v0", "--player0", "human",
                          "--player1", "greedy")  # fmt: skip
    viewer = window(watch, session)
    try:
        frames = [viewer.tick() for _ in range(3)]
        assert session.moves == [] and session.waiting  # nothing moves until the click
        assert all((f == frames[0]).all() for f in frames)
        post_click(session.renderer.action_center(4))  # the centre
        viewer.tick()
        assert session.moves == [4]
        viewer.tick()  # the bot replies at once (fps 1000)
        assert len(session.moves) == 2 and session.waiting
        post_click((1, 1))  # off the board: ignored
        viewer.tick()
        assert len(session.moves) == 2
        assert (viewer.tick() != frames[0]).any()
    finally:
        viewer.close()


def test_window_plays_episodes_in_a_row_then_waits(watch):
    session = session_for(watch, "simarena/TicTacToe-v0", "--player0", "random",
                          "--player1", "random")  # fmt: skip
    viewer = window(watch, session, episodes=2)
    try:
        for _ in range(200):
            viewer.tick()
            if viewer.finished:
                break
        assert viewer.finished and [r["episode"] for r in viewer.results] == [1, 2]
        assert [r["seed"] for r in viewer.results] == [0, 1]
        steps = viewer.steps
        viewer.tick()
        assert viewer.steps == steps and len(viewer.results) == 2  # waits for r or q
    finally:
        viewer.close()


def test_human_chess_move_by_two_clicks(watch):
    session = session_for(watch, "simarena/Chess-v0", "--player0", "human")
    assert session.names == ("human", "greedy")
    viewer = window(watch, session)
    try:
        r = session.renderer
        e2, e4 = r.square_rect(6, 4).center, r.square_rect(4, 4).center
        post_click(e4)  # an empty square first: nothing picked up
        viewer.tick()
        assert session.selected is None and session.moves == []
        post_click(e2)
        post_click(e4)
        viewer.tick()
        viewer.tick()
        assert session.game.format_moves(session.moves[:1]) == "e2e4"
    finally:
        viewer.close()


def test_window_controls_pause_step_speed_restart_quit(watch):
    import pygame
    from viewer.core import Quit

    session = session_for(watch, "simarena/MinAtar-Breakout-v0")
    viewer = window(watch, session)
    try:
        post_key(pygame.K_SPACE)
        for _ in range(3):
            viewer.tick()
        assert viewer.paused and viewer.steps == 0
        post_key(pygame.K_PERIOD)
        viewer.tick()
        assert viewer.steps == 1
        post_key(pygame.K_RIGHT)
        viewer.tick()
        assert viewer.steps == 2
        post_key(pygame.K_PLUS)
        post_key(pygame.K_MINUS)
        post_key(pygame.K_MINUS)
        viewer.tick()
        assert viewer.speed == 0.5
        seed = viewer.seed
        post_key(pygame.K_r)
        viewer.tick()
        assert viewer.steps == 0 and viewer.seed != seed
        post_key(pygame.K_SPACE)
        for _ in range(3):
            viewer.tick()
        assert viewer.steps == 3
        post_key(pygame.K_q)
        with pytest.raises(Quit):
            viewer.tick()
    finally:
        viewer.close()


def test_human_hero_by_keyboard_and_mouse_in_the_arena(watch):
    import pygame

    from sim.arena.config import F_TEAM, F_X, F_Y

    session = session_for(watch, "simarena/FogArena-v0", "--player0", "human", "--teammates",
                          "random", "--player1", "random", "--team-size", "2",
                          "--time-limit", "100")  # fmt: skip
    assert session.human == 0 and session.view == 0  # the human's team's fog
    viewer = window(watch, session)
    try:
        post_key(pygame.K_d)  # walk east
        viewer.tick()
        assert session.actions[-1][0][0] == 3  # DIR 3 = east
        post_key(pygame.K_w)  # and north: north-east
        viewer.tick()
        assert session.actions[-1][0][0] == 2
        post_key(pygame.K_d, up=True)
        post_key(pygame.K_w, up=True)
        viewer.tick()
        assert session.actions[-1][0][0] == 0
        c = session.renderer.cell
        ui = session.batch.ui[0]
        # a click on the floor a few cells away: the hero walks there
        from sim.arena.config import TERRAIN_WALL

        terrain = session.batch.map.terrain
        ys, xs = np.nonzero(terrain != TERRAIN_WALL)
        d = np.abs(xs - ui[0, F_X]) + np.abs(ys - ui[0, F_Y])
        k = int(np.flatnonzero(d >= 5)[np.argmin(d[d >= 5])])
        post_click((int(xs[k]) * c + c // 2, int(ys[k]) * c + c // 2))
        viewer.tick()
        assert session.goal == (int(xs[k]), int(ys[k])) and session.actions[-1][0][0] != 0
        # a click on a seen enemy makes it the target (team 1's heroes are 5, 6)
        enemy = 5
        session.batch.vis[0, 0, enemy] = 1  # pretend it is in sight
        post_click((ui[enemy, F_X] * c + c // 2, ui[enemy, F_Y] * c + c // 2))
        viewer.handle(pygame.event.poll())
        assert session.target == enemy and ui[enemy, F_TEAM] == 1
        post_key(pygame.K_f)  # fog view: team 0 -> team 1
        viewer.tick()
        assert session.view == 1
    finally:
        viewer.close()


def test_human_drives_by_keyboard(watch):
    import pygame

    session = session_for(watch, "simarena/Drive-v0", "--player0", "human")
    viewer = window(watch, session)
    try:
        post_key(pygame.K_UP)
        post_key(pygame.K_LEFT)
        viewer.tick()
        assert session.controls[0] > 0 and session.controls[1] > 0  # left, accelerating
        post_key(pygame.K_LEFT, up=True)
        post_key(pygame.K_UP, up=True)
        post_key(pygame.K_DOWN)
        viewer.tick()
        assert session.controls == (0.0, -1.0)  # straight, braking
    finally:
        viewer.close()


def test_driving_with_a_perception_model(watch, tmp_path, capsys):
    from perception.checkpoint import save_model
    from perception.models import ModelConfig, build_model

    model = build_model(ModelConfig(arch="unet", width=4, image_size=(48, 64)))
    path = save_model(tmp_path / "perception" / "model.safetensors", model)
    plain = run_frames(watch, session_for(watch, "simarena/Drive-v0"), 2)
    s = session_for(watch, "simarena/Drive-v0", "--perception", str(path.parent))
    frames = run_frames(watch, s, 2)
    assert_frames_move(frames, 3)
    assert frames[0].shape[0] > plain[0].shape[0]  # the camera | predicted | true strip
    assert s.obs["rgb"].shape == (48, 64, 3) and s._predict().shape == (48, 64)
    assert any("pixel accuracy" in t for t in hud_texts(s))
    assert watch.main(["simarena/FogArena-v0", "--perception", str(path)]) == 2
    assert watch.main(["simarena/Drive-v0", "--perception", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "driving env" in err and "--perception:" in err


# ---- recordings, tables, replays ------------------------------------------------------
def test_recording_has_one_frame_per_step(watch, tmp_path, capsys):
    out = tmp_path / "breakout.mp4"
    argv = ["simarena/MinAtar-Breakout-v0", "--max-steps", "3", "--episodes", "2",
            "--record", str(out), "--hold", "0.2", "--fps", "10", "--headless"]  # fmt: skip
    assert watch.main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(printed) if line.startswith("episode  seed"))
    steps = [int(line.split()[2]) for line in printed[head + 2 : head + 4]]
    assert all(1 <= s <= 3 for s in steps)
    with iio2.get_reader(out) as reader:
        frames = [f for f in reader]
    # each episode: one frame per position (steps + 1) and 2 (0.2 s at 10 fps) holding the end
    assert len(frames) == sum(s + 1 + 2 for s in steps)
    assert f"wrote {out} ({len(frames)} frames" in printed[-1]
    assert frames[0].shape[0] % 16 == 0 and frames[0].std() > 5


def test_headless_episodes_print_a_results_table(watch, capsys):
    argv = ["simarena/TicTacToe-v0", "--episodes", "3", "--headless", "--player0", "random",
            "--player1", "greedy"]  # fmt: skip
    assert watch.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["episode", "seed", "steps"]
    )
    assert "winner" in lines[head] and len(lines[head + 2 :]) == 3
    assert [line.split()[1] for line in lines[head + 2 :]] == ["0", "1", "2"]


def test_board_replay_round_trip(watch, tmp_path, capsys):
    saved = tmp_path / "game.json"
    argv = ["simarena/Connect4-v0", "--player0", "random", "--player1", "greedy",
            "--save-replay", str(saved), "--headless"]  # fmt: skip
    assert watch.main(argv) == 0
    first = capsys.readouterr().out
    moves = next(line for line in first.splitlines() if "moves:" in line)
    out = tmp_path / "replay.gif"
    assert watch.main(["--replay", str(saved), "--record", str(out), "--hold", "0",
                       "--cell-px", "16"]) == 0  # fmt: skip
    again = capsys.readouterr().out
    assert moves in again.splitlines()
    assert len(iio3.imread(out)) == len(moves.split(":")[1].strip()) + 1
    # a game a human played replays without a window; a bad file says why
    data = json.loads(saved.read_text())
    data["players"] = ["human", "greedy"]
    saved.write_text(json.dumps(data))
    shot = tmp_path / "end.png"
    assert watch.main(["--replay", str(saved), "--headless", "--screenshot", str(shot)]) == 0
    assert moves in capsys.readouterr().out and iio3.imread(shot).ndim == 3
    data["moves"] = [9] + data["moves"]
    saved.write_text(json.dumps(data))
    assert watch.main(["--replay", str(saved), "--headless"]) == 2
    assert "move 1" in capsys.readouterr().err


def test_arena_replay_round_trip_and_fog_view(watch, tmp_path, capsys):
    saved = tmp_path / "match.npz"
    argv = ["simarena/FogArena-v0", "--player0", "easy", "--player1", "easy", *ARENA_SMALL,
            "--save-replay", str(saved), "--headless"]  # fmt: skip
    assert watch.main(argv) == 0
    first = capsys.readouterr().out.splitlines()[0]
    views = []
    for team in (None, 1):
        out = tmp_path / f"view{team}.gif"
        more = [] if team is None else ["--team", str(team)]
        assert watch.main(["--replay", str(saved), "--record", str(out), "--hold", "0", *more]) == 0
        printed = capsys.readouterr().out
        assert "diverged" not in printed and first.split(":")[1] in printed
        views.append(iio3.imread(out))
    assert len(views[0]) == len(views[1]) == 41  # 40 ticks
    assert (views[0][-1] != views[1][-1]).any()  # fog darkens team 1's view
