"""Board pictures (sim.board.render): sizes, what is drawn where, pixel -> action, window,
recordings.  All headless."""

from __future__ import annotations

import os
import re

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import imageio.v2 as iio2  # noqa: E402
import imageio.v3 as iio3  # noqa: E402
import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402

from sim.board import GAMES, BoardGame, make_game  # noqa: E402
from sim.board.render import (  # noqa: E402
    STYLES,
    BoardRenderer,
    BoardWindow,
    Overlay,
    WindowClosed,
    _count_text,
    record_match,
    star_points,
)

CELL = 32  # small pictures keep the tests fast


def random_position(game: BoardGame, moves: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    state = game.initial_state()
    for _ in range(moves):
        if game.is_terminal(state):
            break
        state = game.apply(state, int(rng.choice(game.legal_actions(state))))
    return state


def cell_box(renderer: BoardRenderer, frame: np.ndarray, row: int, col: int) -> np.ndarray:
    """Pixels of the square of side 0.8 cell around the centre of cell (row, col)."""
    half = round(renderer.cell * 0.4)
    x = renderer.x0 + col * renderer.cell + renderer.cell // 2
    y = renderer.y0 + row * renderer.cell + renderer.cell // 2
    return frame[y - half : y + half + 1, x - half : x + half + 1].reshape(-1, 3)


def has_color(pixels: np.ndarray, color: tuple[int, int, int]) -> bool:
    return bool((pixels == np.array(color, dtype=np.uint8)).all(axis=1).any())


# Chess draws its own pictures (envs/board/chess_v0.py, tested in tests/test_chess.py).
@pytest.fixture(params=sorted(set(GAMES) - {"chess"}))
def game(request) -> BoardGame:
    return make_game(request.param)


def test_frame_is_uint8_rgb_of_the_documented_size(game):
    renderer = BoardRenderer(game, cell_px=CELL)
    frame = renderer.draw(game.initial_state())
    rows, cols = game.board_shape
    assert frame.dtype == np.uint8
    assert frame.shape == (renderer.height, renderer.width, 3)
    assert renderer.size == (renderer.width, renderer.height)
    assert renderer.width % 16 == 0 and renderer.height % 16 == 0
    # Board, margins for the labels and a status bar all fit.
    assert renderer.width >= cols * CELL + 2 * renderer.margin
    assert renderer.height >= rows * CELL + 2 * renderer.margin + renderer.status_height
    assert renderer.board_rect.right <= renderer.width
    assert renderer.board_rect.bottom <= renderer.status_rect.top
    # A bigger cell gives a bigger picture (at least as wide: small boards have a minimum).
    big = BoardRenderer(game, cell_px=2 * CELL)
    assert big.width >= renderer.width and big.height > renderer.height


def test_each_cell_shows_what_the_board_holds(game):
    """Stones of player_0/1 in their colours where board() has them, neither elsewhere."""
    renderer = BoardRenderer(game, cell_px=CELL)
    style = STYLES[game.name]
    state = random_position(game, 12, seed=1)
    board = game.board(state)
    assert (board == 1).any() and (board == 2).any()
    frame = renderer.draw(state)
    for (r, c), v in np.ndenumerate(board):
        box = cell_box(renderer, frame, r, c)
        shown = [has_color(box, style.stones[p]) for p in (0, 1)]
        expected = [v == 1, v == 2]
        assert shown == expected, (game.name, r, c, v)


def test_a_move_changes_the_picture_at_its_cell(game):
    renderer = BoardRenderer(game, cell_px=CELL)
    state = random_position(game, 4, seed=2)
    legal = game.legal_actions(state)
    action = int(legal[len(legal) // 3])  # off the diagonal: a transposed picture shows
    after = game.apply(state, action)
    before_img, after_img = renderer.draw(state), renderer.draw(after)
    assert not np.array_equal(before_img, after_img)
    x, y = renderer.action_center(action, state)  # connect4: where the disc lands
    mover = STYLES[game.name].stones[game.to_play(state)]
    assert tuple(before_img[y, x]) != mover
    half = round(CELL * 0.3)
    assert has_color(after_img[y - half : y + half, x - half : x + half].reshape(-1, 3), mover)
    # Cells empty in both positions look the same in both pictures.
    both_empty = (game.board(state) == 0) & (game.board(after) == 0)
    for r, c in zip(*np.nonzero(both_empty), strict=True):
        assert np.array_equal(
            cell_box(renderer, before_img, r, c), cell_box(renderer, after_img, r, c)
        )


def test_last_move_and_legal_hints_are_drawn_only_where_they_belong(game):
    renderer = BoardRenderer(game, cell_px=CELL)
    state = random_position(game, 5, seed=3)
    plain = renderer.draw(state)
    last = int(np.flatnonzero(game.board(state).reshape(-1))[0])  # some occupied point
    if game.name == "connect4":
        last %= game.board_shape[1]
    marked = renderer.draw(state, last_action=last)
    changed = np.argwhere((marked != plain).any(axis=2))
    assert len(changed)
    on_board = [(y, x) for y, x in changed if y < renderer.status_rect.top]
    assert on_board and {renderer.action_at(x, y, state) for y, x in on_board} == {last}

    hinted = renderer.draw(state, show_legal=True)
    legal = game.legal_mask(state)
    changed = np.argwhere((hinted != plain).any(axis=2))
    assert len(changed)
    for y, x in changed:
        if y < renderer.status_rect.top:  # the status bar may restyle its pass button
            a = renderer.action_at(x, y, state)
            assert a is not None and legal[a], (game.name, x, y, a)


def test_action_at_inverts_the_drawing(game):
    renderer = BoardRenderer(game, cell_px=CELL)
    rows, cols = game.board_shape
    state = game.initial_state()
    for r in range(rows):
        for c in range(cols):
            expected = c if game.name == "connect4" else r * cols + c
            left, top = renderer.x0 + c * CELL, renderer.y0 + r * CELL
            for x, y in [
                renderer.cell_center(r, c),
                (left, top),
                (left + CELL - 1, top + CELL - 1),
            ]:
                assert renderer.action_at(x, y, state) == expected, (game.name, r, c, x, y)
    for a in range(game.num_actions):
        assert renderer.action_at(*renderer.action_center(a, state), state) == a
    # Outside the board, and the status bar away from the pass button, are no action.
    assert renderer.action_at(1, renderer.height // 2, state) is None
    assert renderer.action_at(renderer.width - 2, renderer.height // 2, state) is None
    assert renderer.action_at(2, renderer.height - 2, state) is None
    if game.num_actions > rows * cols:
        assert renderer.pass_rect is not None
        assert renderer.action_at(*renderer.pass_rect.center, state) == rows * cols
    else:
        assert renderer.pass_rect is None


def test_renderer_rejects_bad_cell_size():
    game = make_game("tictactoe")
    for bad in (0, 8, 32.0, True):
        with pytest.raises(ValueError, match="cell_px"):
            BoardRenderer(game, cell_px=bad)


def test_star_points_are_the_usual_hoshi():
    assert sorted(star_points(9, sides=True)) == [(2, 2), (2, 6), (4, 4), (6, 2), (6, 6)]
    assert sorted(star_points(13, sides=True)) == [(3, 3), (3, 9), (6, 6), (9, 3), (9, 9)]
    assert sorted(star_points(19, sides=True)) == [(r, c) for r in (3, 9, 15) for c in (3, 9, 15)]
    assert len(star_points(15, sides=False)) == 5
    assert star_points(5, sides=True) == []


def test_window_shows_frames_and_takes_clicks_headless():
    game = make_game("tictactoe")
    renderer = BoardRenderer(game, cell_px=CELL)
    state = game.apply(game.initial_state(), 4)  # X in the centre
    frame = renderer.draw(state)
    window = BoardWindow("test")
    try:
        with pytest.raises(RuntimeError):
            window.wait_click(renderer, state)
        window.show(frame, fps=None)
        window.show(frame, fps=1000.0)
        screen = pygame.display.get_surface()
        assert screen.get_size() == (renderer.width, renderer.height)
        x, y = renderer.cell_center(1, 1)
        assert tuple(screen.get_at((x, y)))[:3] == tuple(frame[y, x])
        # A click on the occupied centre and one off the board are ignored; then a1.
        pygame.event.clear()
        for pos in [(x, y), (1, 1), renderer.cell_center(2, 0)]:
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
        assert window.wait_click(renderer, state) == 6
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        with pytest.raises(WindowClosed):
            window.wait_click(renderer, state)
    finally:
        window.close()
    assert not window.is_open


def test_window_pass_key_only_when_pass_is_legal():
    game = make_game("othello")
    renderer = BoardRenderer(game, cell_px=CELL)
    state = game.initial_state()
    window = BoardWindow()
    try:
        window.show(renderer.draw(state))
        pygame.event.clear()
        opening = int(game.legal_actions(state)[0])
        for event in [
            pygame.event.Event(pygame.KEYDOWN, key=pygame.K_p),  # illegal: ignored
            pygame.event.Event(
                pygame.MOUSEBUTTONDOWN, button=1, pos=renderer.action_center(opening)
            ),
        ]:
            pygame.event.post(event)
        assert window.wait_click(renderer, state) == opening
    finally:
        window.close()


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_record_match_writes_readable_video(tmp_path, suffix):
    game = make_game("tictactoe")
    renderer = BoardRenderer(game, cell_px=CELL)
    state, frames = game.initial_state(), []
    for a in (4, 0, 8):
        frames.append(renderer.draw(state))
        state = game.apply(state, a)
    frames.append(renderer.draw(state, last_action=8))
    path = tmp_path / f"match{suffix}"
    assert record_match(frames, path, fps=4) == len(frames)
    if suffix == ".mp4":
        with iio2.get_reader(path) as reader:  # list(reader) fails: its length is inf
            read = [f for f in reader]
    else:
        read = list(iio3.imread(path))
    assert len(read) == len(frames)
    assert read[0].shape[:2] == (renderer.height, renderer.width)


def test_record_match_rejects_bad_paths(tmp_path):
    frame = np.zeros((16, 16, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="extension"):
        record_match([frame], tmp_path / "x.avi", fps=2)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="cannot create"):  # a file where a folder should be
        record_match([frame], tmp_path / "file" / "x.gif", fps=2)
    with pytest.raises(ValueError, match="fps"):
        record_match([frame], tmp_path / "x.gif", fps=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written


def test_record_match_creates_missing_folders(tmp_path):
    frames = [np.full((16, 16, 3), v, dtype=np.uint8) for v in (0, 255)]
    path = tmp_path / "new" / "sub" / "match.gif"
    assert record_match(frames, path, fps=2) == 2
    assert len(iio3.imread(path)) == 2


# ---- overlay: a search's policy, visits and value ------------------------------------------
def changed_pixels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(y, x) of the pixels that differ."""
    return np.argwhere((a != b).any(axis=2))


def test_overlay_marks_only_the_actions_it_rates(game):
    renderer = BoardRenderer(game, cell_px=CELL)
    state = random_position(game, 4, seed=4)
    points = [int(a) for a in game.legal_actions(state) if a < renderer.num_points]
    action = points[len(points) // 2]
    plain = renderer.draw(state)
    one_hot = np.zeros(game.num_actions)
    one_hot[action] = 0.9
    # The policy marker: on the action (Connect Four: its column) and nowhere else.
    marked = renderer.draw(state, overlay=Overlay(policy=one_hot))
    changed = changed_pixels(marked, plain)
    assert len(changed) > CELL  # plainly visible
    assert {renderer.action_at(x, y, state) for y, x in changed} == {action}
    # Smaller shares than the largest get smaller markers.
    shared = one_hot.copy()
    shared[points[0]] = 0.3
    both = renderer.draw(state, overlay=Overlay(policy=shared))
    small = changed_pixels(both, marked)
    assert 0 < len(small) < len(changed)
    # The visit count: a tag on the point (Connect Four: under the column).
    counted = renderer.draw(state, overlay=Overlay(visits=one_hot * 20))
    changed = changed_pixels(counted, plain)
    assert len(changed)
    if game.name == "connect4":
        assert (changed[:, 0] > renderer.board_rect.bottom).all()
        assert (changed[:, 0] < renderer.status_rect.top).all()
        assert set((changed[:, 1] - renderer.x0) // renderer.cell) == {action}
    else:
        assert {renderer.action_at(x, y, state) for y, x in changed} == {action}


def test_overlay_value_goes_to_the_status_bar(game):
    renderer = BoardRenderer(game, cell_px=CELL)
    state = random_position(game, 3, seed=5)
    plain = renderer.draw(state)
    framed = renderer.draw(state, overlay=Overlay(value=-0.25, player=1))
    changed = changed_pixels(framed, plain)
    assert len(changed) and (changed[:, 0] >= renderer.status_rect.top).all()
    # No value, no policy, no visits: the picture is unchanged.
    assert np.array_equal(renderer.draw(state, overlay=Overlay()), plain)
    zeros = np.zeros(game.num_actions)
    assert np.array_equal(renderer.draw(state, overlay=Overlay(zeros, zeros)), plain)


@pytest.mark.parametrize("name", ["othello", "go"])
def test_overlay_rates_pass_on_the_pass_button(name):
    game = make_game(name)
    renderer = BoardRenderer(game, cell_px=CELL)
    state = game.initial_state()
    plain = renderer.draw(state)
    only_pass = np.zeros(game.num_actions)
    only_pass[renderer.pass_action] = 1.0
    for overlay in (Overlay(policy=only_pass), Overlay(visits=7 * only_pass)):
        changed = changed_pixels(renderer.draw(state, overlay=overlay), plain)
        assert len(changed)
        assert (changed[:, 0] >= renderer.board_rect.bottom).all()
        assert (changed[:, 1] >= renderer.pass_rect.left - 4).all()


def test_overlay_accepts_lists_and_leaves_inputs_alone():
    game = make_game("tictactoe")
    renderer = BoardRenderer(game, cell_px=CELL)
    policy = np.full(9, 1 / 9, dtype=np.float32)
    keep = policy.copy()
    a = renderer.draw(game.initial_state(), overlay=Overlay(policy, [3.0] * 9, 0.5, 0))
    b = renderer.draw(game.initial_state(), overlay=Overlay(list(policy), np.full(9, 3), 0.5, 0))
    assert np.array_equal(a, b) and np.array_equal(policy, keep)


@pytest.mark.parametrize(
    "overlay, message",
    [
        (Overlay(policy=np.ones(8)), "shape (9,)"),
        (Overlay(visits=np.ones((3, 3))), "shape (9,)"),
        (Overlay(policy=-np.ones(9)), ">= 0"),
        (Overlay(visits=np.full(9, np.nan)), "finite"),
        (Overlay(value=float("inf")), "value"),
        (Overlay(player=2), "player"),
        (np.ones(9), "Overlay"),
    ],
)
def test_bad_overlay_is_refused(overlay, message):
    game = make_game("tictactoe")
    renderer = BoardRenderer(game, cell_px=CELL)
    with pytest.raises(ValueError, match=re.escape(message)):
        renderer.draw(game.initial_state(), overlay=overlay)


def test_visit_counts_fit_in_four_characters():
    assert [_count_text(n) for n in (0, 7, 812, 999.6, 1234, 35_400, 2_500_000)] == [
        "0",
        "7",
        "812",
        "1.0k",
        "1.2k",
        "35k",
        "2.5M",
    ]


def test_chess_has_no_grid_picture_style():
    with pytest.raises(ValueError, match="chess"):
        BoardRenderer(make_game("chess"), cell_px=CELL)
