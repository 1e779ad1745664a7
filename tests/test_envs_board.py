"""Board game envs: the official Gymnasium / SB3 / PettingZoo checkers, seeding, illegal
moves, observation perspective, rendering, and the built-in opponents."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import copy  # noqa: E402
import importlib  # noqa: E402
import pickle  # noqa: E402
import warnings  # noqa: E402
from functools import partial  # noqa: E402

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from gymnasium.utils.env_checker import check_env  # noqa: E402

import envs  # noqa: E402
from envs.board import AEC_ENVS, make_opponent  # noqa: E402
from envs.board.opponents import winning_moves  # noqa: E402
from sim.board import make_game  # noqa: E402

# PettingZoo's api_test advises against dict observations and all-zero ones (an empty
# board); its own classic envs draw the same advice.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Observation is not a NumPy array"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros"),
    pytest.mark.filterwarnings("ignore:Observation space for each agent probably"),
    pytest.mark.filterwarnings("ignore:The old environment creation API:DeprecationWarning"),
]

GYM_IDS = sorted(i for i, (entry, _) in envs.GYM_ENVS.items() if entry.startswith("envs.board."))
AEC_NAMES = sorted(AEC_ENVS)
GAME_OF_AEC = {
    "connect4_v0": "connect4",
    "tictactoe_v0": "tictactoe",
    "othello_v0": "othello",
    "gomoku_v0": "gomoku",
    "go9x9_v0": "go",
    "chess_v0": "chess",
}
# Smaller boards where the game allows it, so that full random games stay quick.
FAST_AEC_KWARGS = {"gomoku_v0": {"size": 9}}
# Games the rollout MCTS is exercised on here (cheap playouts).
MCTS_IDS = ["simarena/Connect4-v0", "simarena/TicTacToe-v0"]


def play_masked(env, rng: np.random.Generator, max_steps: int = 10_000):
    """Play a Gymnasium episode with uniformly random legal actions; return the trace."""
    obs, info = env.reset(seed=int(rng.integers(1 << 30)))
    trace = [obs]
    for _ in range(max_steps):
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, reward, terminated, truncated, info = env.step(action)
        trace += [action, obs, reward]
        if terminated or truncated:
            return trace
    raise AssertionError("episode did not end")


# ---- registration ------------------------------------------------------------------
def test_every_aec_env_has_a_gym_id():
    assert len(GYM_IDS) == len(AEC_NAMES) == 6
    gym_games = sorted(gymnasium.make(env_id).unwrapped.game.name for env_id in GYM_IDS)
    assert gym_games == sorted(GAME_OF_AEC.values())
    for name, game in GAME_OF_AEC.items():
        assert AEC_ENVS[name].env().unwrapped.game.name == game


def test_make_by_id_after_import_and_reregistering_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(envs)
        envs.register_envs()
    env = gymnasium.make("simarena/Connect4-v0", opponent="greedy")
    obs, info = env.reset(seed=0)
    assert obs.shape == (2, 6, 7) and obs.dtype == np.float32
    assert info["action_mask"].dtype == np.int8 and info["action_mask"].tolist() == [1] * 7
    env.close()


# ---- official checkers --------------------------------------------------------------
@pytest.mark.parametrize("env_id", GYM_IDS)
def test_gymnasium_and_sb3_checkers(env_id):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    # The checkers step with unmasked random actions: an illegal one must end the episode.
    env = gymnasium.make(env_id, opponent="random", illegal_move="lose")
    # With a spec, Gymnasium's checker also makes and renders the env in every mode.
    check_env(env.unwrapped)
    with warnings.catch_warnings():
        # SB3 advises uint8 images of 36x36 or more; board planes are neither, by design.
        warnings.filterwarnings("ignore", message=".*image.*")
        sb3_check_env(env)
    env.close()


@pytest.mark.parametrize("name", AEC_NAMES)
def test_pettingzoo_api_test(name):
    from pettingzoo.test import api_test

    kwargs = FAST_AEC_KWARGS.get(name, {})
    api_test(AEC_ENVS[name].env(**kwargs), num_cycles=1000)
    api_test(AEC_ENVS[name].env(illegal_move="lose", **kwargs), num_cycles=100)


@pytest.mark.parametrize("name", AEC_NAMES)
def test_pettingzoo_seed_test(name):
    from pettingzoo.test import seed_test

    seed_test(partial(AEC_ENVS[name].env, **FAST_AEC_KWARGS.get(name, {})))


@pytest.mark.parametrize("name", AEC_NAMES)
def test_pettingzoo_render_test(name, monkeypatch):
    from pettingzoo.test import render_test

    # The human window paces frames at render_fps; a dozen frames at 1-4 fps would
    # only make this test slow.
    monkeypatch.setitem(AEC_ENVS[name].raw_env.metadata, "render_fps", 1000)
    render_test(partial(AEC_ENVS[name].env, **FAST_AEC_KWARGS.get(name, {})))


def test_default_gomoku_size_plays_a_full_game():
    from pettingzoo.test import api_test

    env = AEC_ENVS["gomoku_v0"].env()
    assert env.unwrapped.game.size == 15
    api_test(env, num_cycles=300)


def test_game_options_pass_through():
    env = gymnasium.make("simarena/Gomoku-v0", size=9)
    assert env.observation_space.shape[1:] == (9, 9) and env.action_space.n == 81
    assert env.reset(seed=0)[0].shape[1:] == (9, 9)
    assert AEC_ENVS["othello_v0"].env(size=6).action_space("player_0").n == 37
    go = AEC_ENVS["go9x9_v0"].env(komi=6.5, max_moves=50).unwrapped.game
    assert go.size == 9 and go.initial_state()[7] == 13  # komi is stored doubled
    assert gymnasium.make("simarena/Go9x9-v0", komi=0.5).unwrapped.game.initial_state()[7] == 1
    with pytest.raises(ValueError, match="size"):
        gymnasium.make("simarena/Gomoku-v0", size=3)


# ---- observations -------------------------------------------------------------------
# Chess has AlphaZero's piece-type planes, flipped for Black (tests/test_chess.py).
@pytest.mark.parametrize("name", [n for n in AEC_NAMES if n != "chess_v0"])
def test_aec_observation_is_from_the_observers_side(name):
    """Planes 0/1 are the observer's / the other's stones, on either agent's turn."""
    env = AEC_ENVS[name].env(**FAST_AEC_KWARGS.get(name, {}))
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    raw = env.unwrapped
    for _ in range(30):
        if any(env.terminations.values()):
            break
        board = raw.game.board(raw.game_state)
        for player, agent in enumerate(env.possible_agents):
            obs = env.observe(agent)
            np.testing.assert_array_equal(obs["observation"][0], board == player + 1)
            np.testing.assert_array_equal(obs["observation"][1], board == 2 - player)
            if agent == env.agent_selection:
                assert obs["action_mask"].sum() >= 1
            else:
                assert not obs["action_mask"].any()
        mask = env.observe(env.agent_selection)["action_mask"]
        env.step(int(rng.choice(np.flatnonzero(mask))))


def test_connect4_observation_after_first_move():
    env = AEC_ENVS["connect4_v0"].env()
    env.reset()
    env.step(3)
    mine = env.observe("player_0")["observation"]
    theirs = env.observe("player_1")["observation"]
    expected = np.zeros((6, 7), dtype=np.float32)
    expected[5, 3] = 1  # row 0 is the top: the stone lies in the bottom row
    np.testing.assert_array_equal(mine[0], expected)
    np.testing.assert_array_equal(theirs[1], expected)
    assert not mine[1].any() and not theirs[0].any()
    assert env.agent_selection == "player_1"


# ---- rewards ------------------------------------------------------------------------
def test_aec_rewards_on_a_tictactoe_win():
    env = AEC_ENVS["tictactoe_v0"].env()
    env.reset()
    for action in [0, 3, 1, 4, 2]:  # X takes the top row
        env.step(action)
    finals = {}
    for agent in env.agent_iter():
        _, reward, termination, truncation, _ = env.last()
        assert termination and not truncation
        finals[agent] = reward
        env.step(None)
    assert finals == {"player_0": 1, "player_1": -1}


def scripted(actions):
    moves = iter(actions)
    return lambda state, rng: next(moves)


@pytest.mark.parametrize(
    "agent_moves, opponent_moves, reward",
    [
        ([0, 1, 2], [3, 4], 1.0),  # the agent completes the top row
        ([0, 1, 6], [3, 4, 5], -1.0),  # the opponent completes the middle row
    ],
)
def test_gym_reward_is_from_the_agents_side(agent_moves, opponent_moves, reward):
    env = gymnasium.make("simarena/TicTacToe-v0")
    env.reset(seed=0)
    env.unwrapped.opponent = scripted(opponent_moves)
    for i, action in enumerate(agent_moves):
        obs, r, terminated, truncated, info = env.step(action)
        last = i == len(agent_moves) - 1
        assert (r, terminated, truncated) == ((reward if last else 0.0), last, False)
    assert not info["action_mask"].any() and not env.unwrapped.action_masks().any()


def test_gym_agent_can_play_second_and_the_side_can_be_random():
    env = gymnasium.make("simarena/Connect4-v0", agent_player=1)
    obs, info = env.reset(seed=3)
    assert obs[0].sum() == 0 and obs[1].sum() == 1  # the opponent has moved
    np.testing.assert_array_equal(env.unwrapped.action_masks(), info["action_mask"] == 1)
    env = gymnasium.make("simarena/Connect4-v0", agent_player="random")
    sides = {int(env.reset(seed=s)[0][1].sum()) for s in range(16)}
    assert sides == {0, 1}


# ---- seeding ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "env_id, opponent",
    [(i, "random") for i in GYM_IDS]
    + [(i, "greedy") for i in MCTS_IDS]
    + [(i, "mcts") for i in MCTS_IDS],
)
def test_gym_same_seed_same_game(env_id, opponent):
    kwargs = {"simulations": 30} if opponent == "mcts" else {}
    env = gymnasium.make(env_id, opponent=opponent, opponent_kwargs=kwargs, agent_player="random")
    traces = [play_masked(env, np.random.default_rng(seed)) for seed in (7, 7, 8, 9)]
    assert len(traces[0]) > 2
    for a, b in zip(traces[0], traces[1], strict=True):
        np.testing.assert_array_equal(a, b)

    # The opponent does draw on the env's generator: other seeds, other games.
    def same(t1, t2):
        return len(t1) == len(t2) and all(
            np.array_equal(x, y) for x, y in zip(t1, t2, strict=False)
        )

    assert not all(same(t, traces[0]) for t in traces[2:])


@pytest.mark.parametrize("game", ["tictactoe", "connect4"])
def test_aec_mcts_self_play_is_reproducible(game):
    name = f"{game}_v0"
    bot = make_opponent("mcts", make_game(game), simulations=30)

    def play(seed):
        env = AEC_ENVS[name].env()
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        moves = []
        for _ in env.agent_iter():
            obs, _, termination, truncation, _ = env.last()
            action = None if termination or truncation else bot(env.unwrapped.game_state, rng)
            moves.append(action)
            env.step(action)
        return moves

    first = play(5)
    assert first == play(5) and len(first) > 5


# ---- illegal moves ------------------------------------------------------------------
def test_gym_illegal_move_raises_and_leaves_the_env_unchanged():
    env = gymnasium.make("simarena/TicTacToe-v0")
    env.reset(seed=0)
    obs, _, _, _, info = env.step(4)
    before = env.unwrapped.game_state.copy()
    for bad, named in [(4, "'b2'"), (9, "action 9"), (-1, "action -1"), (1.5, "1.5")]:
        with pytest.raises(ValueError, match=named) as err:
            env.step(bad)
        if isinstance(bad, int) and 0 <= bad < 9:
            assert "legal moves are" in str(err.value)
        np.testing.assert_array_equal(env.unwrapped.game_state, before)
    legal = np.flatnonzero(info["action_mask"])
    obs2, *_ = env.step(int(legal[0]))  # still playable
    assert obs2[0].sum() == 2


def test_gym_illegal_move_lose_ends_with_minus_one():
    env = gymnasium.make("simarena/TicTacToe-v0", illegal_move="lose")
    env.reset(seed=0)
    env.step(4)
    obs, reward, terminated, truncated, info = env.step(4)
    assert (reward, terminated, truncated) == (-1.0, True, False)
    assert not info["action_mask"].any()
    with pytest.raises(ValueError, match="reset"):
        env.step(0)


@pytest.mark.parametrize("factory", ["env", "raw_env"])
def test_aec_illegal_move_raises_and_leaves_the_env_unchanged(factory):
    env = getattr(AEC_ENVS["connect4_v0"], factory)()
    env.reset()
    for _ in range(6):
        env.step(0)  # fill column 1 (alternating colours, no four)
    before = {a: env.observe(a) for a in env.possible_agents}
    state = env.unwrapped.game_state.copy()
    rewards = (dict(env.rewards), dict(env._cumulative_rewards))
    with pytest.raises(
        ValueError,
        match=r"illegal move '1' \(action 0\) \[the column is full\]; legal moves are: 2, 3",
    ):
        env.step(0)
    np.testing.assert_array_equal(env.unwrapped.game_state, state)
    assert env.agent_selection == "player_0" and not any(env.terminations.values())
    assert (env.rewards, env._cumulative_rewards) == rewards
    for agent in env.possible_agents:
        after = env.observe(agent)
        for key in ("observation", "action_mask"):
            np.testing.assert_array_equal(after[key], before[agent][key])


@pytest.mark.parametrize("factory", ["env", "raw_env"])
def test_aec_illegal_move_lose(factory):
    env = getattr(AEC_ENVS["tictactoe_v0"], factory)(illegal_move="lose")
    env.reset()
    env.step(4)
    env.step(4)  # player_1 plays on X's cell
    finals = {}
    for agent in env.agent_iter():
        _, reward, termination, truncation, _ = env.last()
        assert termination or truncation
        finals[agent] = reward
        env.step(None)
    assert finals == {"player_0": 0, "player_1": -1}


# np.array(3) of int64 and shape () is what SB3's model.predict returns for one observation.
INTEGER_LIKE = [np.array(4), np.int64(4), np.array(4, dtype=np.int32), np.uint8(4)]
# Not moves: each must raise a ValueError naming it and the legal moves.
NOT_MOVES = [True, np.True_, np.array(True), 4.0, np.float64(4), "4", np.array([4]), None]


def steps_alike(a, b) -> None:
    """Two Gymnasium step results are equal: observation, reward, flags, info."""
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:4] == b[1:4]
    np.testing.assert_array_equal(a[4]["action_mask"], b[4]["action_mask"])


@pytest.mark.parametrize("action", INTEGER_LIKE, ids=repr)
def test_gym_step_takes_integer_like_actions(action):
    env, twin = (gymnasium.make("simarena/TicTacToe-v0") for _ in range(2))
    env.reset(seed=0)
    twin.reset(seed=0)
    steps_alike(env.step(action), twin.step(4))
    assert type(env.unwrapped.last_action) is int  # stored as a plain int
    np.testing.assert_array_equal(env.unwrapped.game_state, twin.unwrapped.game_state)


@pytest.mark.parametrize("action", NOT_MOVES, ids=repr)
def test_gym_step_refuses_other_types_naming_the_move_and_the_legal_ones(action):
    env = gymnasium.make("simarena/Connect4-v0")
    env.reset(seed=0)
    before = env.unwrapped.game_state.copy()
    with pytest.raises(ValueError) as err:
        env.step(action)
    assert repr(action) in str(err.value)
    assert "legal moves are: 1, 2, 3, 4, 5, 6, 7" in str(err.value)
    np.testing.assert_array_equal(env.unwrapped.game_state, before)


@pytest.mark.parametrize("factory", ["env", "raw_env"])
@pytest.mark.parametrize("action", INTEGER_LIKE, ids=repr)
def test_aec_step_takes_integer_like_actions(factory, action):
    env, twin = (getattr(AEC_ENVS["connect4_v0"], factory)() for _ in range(2))
    env.reset()
    twin.reset()
    env.step(action)
    twin.step(4)
    assert env.agent_selection == twin.agent_selection == "player_1"
    assert type(env.unwrapped.last_action) is int
    np.testing.assert_array_equal(env.unwrapped.game_state, twin.unwrapped.game_state)
    for agent in env.possible_agents:
        for key in ("observation", "action_mask"):
            np.testing.assert_array_equal(env.observe(agent)[key], twin.observe(agent)[key])


@pytest.mark.parametrize("factory", ["env", "raw_env"])
@pytest.mark.parametrize("action", NOT_MOVES, ids=repr)
def test_aec_step_refuses_other_types_naming_the_move_and_the_legal_ones(factory, action):
    env = getattr(AEC_ENVS["tictactoe_v0"], factory)()
    env.reset()
    env.step(4)
    before = env.unwrapped.game_state.copy()
    with pytest.raises(ValueError) as err:
        env.step(action)
    assert repr(action) in str(err.value)
    assert "legal moves are: a3, b3, c3, a2, c2, a1, b1, c1" in str(err.value)
    np.testing.assert_array_equal(env.unwrapped.game_state, before)
    assert env.agent_selection == "player_1" and not any(env.terminations.values())


@pytest.mark.parametrize("failure", [RuntimeError, ValueError])
def test_gym_step_is_undone_when_the_opponent_fails(failure):
    """An opponent that raises, or answers an illegal move, leaves no half-played step."""
    env, twin = (gymnasium.make("simarena/TicTacToe-v0", render_mode="ansi") for _ in range(2))
    env.reset(seed=1)
    twin.reset(seed=1)
    steps_alike(env.step(4), twin.step(4))  # X in the centre, O replies somewhere
    raw = env.unwrapped
    state, last, mask, text = (
        raw.game_state.copy(),
        raw.last_action,
        raw.action_masks(),
        env.render(),
    )
    obs = raw.game.observation(state, raw.agent_player)

    def broken(state, rng):
        if failure is RuntimeError:
            raise RuntimeError("the opponent crashed")
        return 4  # the occupied centre: an illegal reply

    real, raw.opponent = raw.opponent, broken
    action = int(np.flatnonzero(mask)[0])
    with pytest.raises(failure, match="crashed" if failure is RuntimeError else "'b2'"):
        env.step(action)
    np.testing.assert_array_equal(raw.game_state, state)
    assert raw.last_action == last and env.render() == text
    np.testing.assert_array_equal(raw.action_masks(), mask)
    np.testing.assert_array_equal(raw.game.observation(raw.game_state, raw.agent_player), obs)
    # The env goes on as if the failed step had never been tried.
    raw.opponent = real
    steps_alike(env.step(action), twin.step(action))


def test_bad_options_are_value_errors():
    with pytest.raises(ValueError, match="illegal_move"):
        AEC_ENVS["connect4_v0"].env(illegal_move="ignore")
    with pytest.raises(ValueError, match="render_mode"):
        AEC_ENVS["connect4_v0"].raw_env(render_mode="vr")
    with pytest.raises(ValueError, match="agent_player"):
        gymnasium.make("simarena/Connect4-v0", agent_player=2)
    with pytest.raises(ValueError, match="agent_player"):
        gymnasium.make("simarena/Connect4-v0", agent_player=True)
    with pytest.raises(ValueError, match=r"unknown opponent 'perfect'.*greedy.*mcts"):
        gymnasium.make("simarena/Connect4-v0", opponent="perfect")
    with pytest.raises(ValueError, match="solver"):
        make_opponent("solver", make_game("tictactoe"))
    with pytest.raises(ValueError, match="depth"):
        make_opponent("mcts", make_game("tictactoe"), depth=3)


def test_unknown_game_options_are_value_errors_naming_them():
    with pytest.raises(ValueError, match="size"):
        make_game("tictactoe", size=4)
    with pytest.raises(ValueError, match="size"):
        gymnasium.make("simarena/TicTacToe-v0", size=4)
    with pytest.raises(ValueError, match="oponent"):  # a typo is not silently ignored
        gymnasium.make("simarena/Connect4-v0", oponent="greedy")
    with pytest.raises(ValueError, match="size"):  # the 9x9 id fixes the size
        gymnasium.make("simarena/Go9x9-v0", size=13)
    assert gymnasium.make("simarena/Go9x9-v0", size=9).unwrapped.game.size == 9
    assert AEC_ENVS["go9x9_v0"].env(komi=6.5).unwrapped.game.komi == 6.5


# ---- rendering ----------------------------------------------------------------------
def test_ansi_render_is_the_games_text():
    env = gymnasium.make("simarena/TicTacToe-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(4)
    game, state = env.unwrapped.game, env.unwrapped.game_state
    assert env.render() == game.render_text(state)
    aec = AEC_ENVS["tictactoe_v0"].env(render_mode="ansi")
    aec.reset()
    aec.step(4)
    assert aec.render() == game.render_text(aec.unwrapped.game_state)


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_gym_rgb_and_human_render(env_id):
    env = gymnasium.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.close()
    env = gymnasium.make(env_id, render_mode="human")
    env.reset(seed=0)
    assert env.render() is None
    env.close()
    env.close()  # closing twice is allowed


# ---- opponents ----------------------------------------------------------------------
def test_random_opponent_is_uniform_over_legal_moves_and_seeded():
    game = make_game("connect4")
    state = game.from_moves("111111")  # column 1 full
    bot = make_opponent("random", game)
    picks = [bot(state, np.random.default_rng(s)) for s in range(200)]
    assert set(picks) == {1, 2, 3, 4, 5, 6}
    assert picks == [bot(state, np.random.default_rng(s)) for s in range(200)]


@pytest.mark.parametrize(
    "game_name, moves, expected",
    [
        # X: three in column 1, O: three in column 2; X wins rather than blocks.
        ("connect4", "121212", {0}),
        # O to move, X threatens column 1; O has no win: block.
        ("connect4", "12121", {0}),
        # X: a3 b3, O: a1 b1; X to move wins at c3 (rather than block c1).
        ("tictactoe", "a3 a1 b3 b1", {"c3"}),
        # X: a3 c1, O: b2 a2; O threatens c2, X has no win: block.
        ("tictactoe", "a3 b2 c1 a2", {"c2"}),
    ],
)
def test_greedy_wins_then_blocks(game_name, moves, expected):
    game = make_game(game_name)
    state = game.from_moves(moves)
    bot = make_opponent("greedy", game)
    picks = {bot(state, np.random.default_rng(s)) for s in range(20)}
    if game_name == "tictactoe":
        picks = {game.action_to_str(a) for a in picks}
    assert picks == expected


def test_greedy_is_random_without_threats():
    game = make_game("tictactoe")
    bot = make_opponent("greedy", game)
    picks = {bot(game.initial_state(), np.random.default_rng(s)) for s in range(100)}
    assert picks == set(range(9))


def test_greedy_go_never_blocks_with_a_pass():
    """After White's pass, Black's pass would end the game lost: White's winning "move"
    is a pass, and passing is no way to stop it."""
    game = make_game("go", size=5)  # komi 7.5
    state = game.from_moves("A1 E5 B1 pass")
    assert game.to_play(state) == 0 and game.score(state) < 0  # White leads on komi
    assert game.winner(game.apply(state, 25)) == 1  # Black's pass loses at once
    bot = make_opponent("greedy", game)
    picks = [bot(state, np.random.default_rng(s)) for s in range(100)]
    assert bot(state, np.random.default_rng(0)) != 25
    # No win and nothing to block: any legal move, pass at most its uniform share.
    assert picks.count(25) <= 15 and len(set(picks)) >= 10, picks
    assert all(game.legal_mask(state)[a] for a in picks)


def test_greedy_go_passes_to_win():
    """After Black's pass, White, ahead on komi, wins by passing too."""
    game = make_game("go", size=5)
    state = game.from_moves("A1 E5 pass")
    assert game.to_play(state) == 1 and game.score(state) < 0
    bot = make_opponent("greedy", game)
    assert {bot(state, np.random.default_rng(s)) for s in range(20)} == {25}


def test_mcts_beats_random_at_tictactoe():
    env = gymnasium.make("simarena/TicTacToe-v0", opponent="random", agent_player=0)
    bot = make_opponent("mcts", env.unwrapped.game, simulations=300)
    rewards = []
    for seed in range(10):
        _, info = env.reset(seed=seed)
        rng = np.random.default_rng(100 + seed)
        terminated = False
        while not terminated:
            action = bot(env.unwrapped.game_state, rng)
            assert info["action_mask"][action] == 1
            _, reward, terminated, _, info = env.step(action)
        rewards.append(reward)
    # A random first player loses about 29% of its games and wins 58%.
    assert min(rewards) >= 0 and rewards.count(1.0) >= 8, rewards


# X to move; column 4 makes an open three on the bottom row (two threats), every
# other move lets the game go on: the solver must find a move that wins by force.
SOLVER_POSITION = "223377776666367722632233"


def wins_in_two(game, state, action: int) -> bool:
    """After ``action`` the opponent cannot win at once and every reply allows a winning move."""
    after = game.apply(state, action)
    if game.is_terminal(after) or len(winning_moves(game, after)):
        return False
    return all(
        len(winning_moves(game, game.apply(after, int(r)))) for r in game.legal_actions(after)
    )


def test_solver_finds_the_forced_win():
    game = make_game("connect4")
    state = game.from_moves(SOLVER_POSITION)
    assert len(winning_moves(game, state)) == 0
    forced = [a for a in game.legal_actions(state) if wins_in_two(game, state, int(a))]
    assert forced == [3]
    bot = make_opponent("solver", game)
    assert bot(state, np.random.default_rng(0)) == 3


def test_solver_falls_back_to_mcts_when_over_budget():
    game = make_game("connect4")
    state = game.from_moves("4")  # far too early to solve in 1000 nodes
    bot = make_opponent("solver", game, max_nodes=1000, simulations=40)
    mcts = make_opponent("mcts", game, simulations=40)
    for seed in range(3):
        expected = mcts(state, np.random.default_rng(seed))
        assert bot(state, np.random.default_rng(seed)) == expected


@pytest.mark.parametrize("clone", ["deepcopy", "pickle"])
def test_solver_env_copies_and_pickles(clone):
    env = gymnasium.make("simarena/Connect4-v0", opponent="solver")
    env.reset(seed=0)
    env.unwrapped.game_state = env.unwrapped.game.from_moves(SOLVER_POSITION)  # X, the agent
    other = copy.deepcopy(env) if clone == "deepcopy" else pickle.loads(pickle.dumps(env))
    assert other.unwrapped is not env.unwrapped
    np.testing.assert_array_equal(other.unwrapped.game_state, env.unwrapped.game_state)
    first = env.step(3)  # the forced win begins; the solver replies
    assert env.unwrapped.game.ply(env.unwrapped.game_state) == len(SOLVER_POSITION) + 2
    np.testing.assert_array_equal(  # stepping one leaves the other alone
        other.unwrapped.game_state, env.unwrapped.game.from_moves(SOLVER_POSITION)
    )
    steps_alike(other.step(3), first)
    np.testing.assert_array_equal(other.unwrapped.game_state, env.unwrapped.game_state)
