"""selfplay.pool: snapshot pool, OpenAI Five sampling, league roles, reference ratings."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from selfplay import (
    LATEST,
    EmptyPoolError,
    SnapshotPool,
    match_result,
    reference_table,
    wilson_interval,
)
from selfplay.pool import expected_score


def weights(v: float) -> dict[str, np.ndarray]:
    return {"w": np.full(3, v, dtype=np.float32)}


def test_sampling_frequencies_match_the_mix():
    pool = SnapshotPool(latest_fraction=0.8)
    for i in range(3):
        pool.add(weights(i), step=i)
    for snap, q in zip(pool.snapshots.values(), (0.0, 1.0, -1.0), strict=True):
        snap.quality = q
    rng = np.random.default_rng(0)
    n = 40_000
    picks = [pool.sample(rng) for _ in range(n)]
    latest = sum(p == LATEST for p in picks) / n
    assert abs(latest - 0.8) < 0.01
    past = [p.id for p in picks if p != LATEST]
    freq = np.bincount(past, minlength=3) / len(past)
    want = np.exp([0.0, 1.0, -1.0]) / np.exp([0.0, 1.0, -1.0]).sum()
    np.testing.assert_allclose(freq, want, atol=0.015)
    assert pool.probabilities() == pytest.approx(dict(enumerate(want)))


def test_quality_falls_when_beaten_and_new_snapshots_enter_on_top():
    pool = SnapshotPool(quality_lr=0.1)
    a = pool.add(weights(0))
    b = pool.add(weights(1))
    pool.report(a.id, 1.0)  # the learner beat a: N = 2, p = 0.5 -> q -= 0.1
    assert a.quality == pytest.approx(-0.1)
    assert b.quality == 0.0
    pool.report(b.id, 0.0)  # a loss leaves the quality alone
    assert b.quality == 0.0
    assert pool.probabilities()[a.id] < pool.probabilities()[b.id]
    c = pool.add(weights(2))
    assert c.quality == 0.0  # the best quality in the pool
    assert a.results["main"] == [1.0, 1.0]


def test_pool_drops_lowest_quality_past_max_size():
    pool = SnapshotPool(max_size=2)
    a = pool.add(weights(0))
    b = pool.add(weights(1))
    pool.report(b.id, 1.0)
    c = pool.add(weights(2))
    assert set(pool.snapshots) == {a.id, c.id}
    pool.report(b.id, 1.0)  # a dropped snapshot's result is ignored


def test_league_roles():
    pool = SnapshotPool()
    m = pool.add(weights(0), role="main")
    x = pool.add(weights(1), role="league_exploiter")
    rng = np.random.default_rng(1)
    picks = {pool.sample(rng, role="main_exploiter").id for _ in range(200)}
    assert picks == {m.id}  # main exploiters play main agents only, never LATEST
    assert {pool.sample(rng, role="league_exploiter").id for _ in range(200)} == {m.id, x.id}
    for _ in range(20):
        pool.report(m.id, 1.0, role="league_exploiter")  # m is beaten: PFSP moves away
    p = pool.probabilities("league_exploiter")
    assert p[x.id] > 0.99
    assert pool.latest().id == x.id and pool.latest("main").id == m.id


def test_pfsp_main_agent_plays_what_it_loses_to_and_drops_what_it_beats():
    pool = SnapshotPool(max_size=3, latest_fraction=0.0, main_sampling="pfsp")
    a = pool.add(weights(0))
    b = pool.add(weights(1))
    assert a.win_rate("main") == 0.5  # no game yet: one win and one loss of prior
    for _ in range(3):
        pool.report(a.id, 1.0)  # a is beaten: (3 + 1) / (3 + 2) = 0.8
        pool.report(b.id, 0.0)  # b wins: 1 / 5 = 0.2
    assert a.win_rate("main") == pytest.approx(0.8)
    assert a.quality == b.quality == 0.0  # PFSP leaves the quality scores alone
    p = pool.probabilities()
    want = np.array([0.2**2, 0.8**2]) + 1e-6
    assert [p[a.id], p[b.id]] == pytest.approx(list(want / want.sum()))
    rng = np.random.default_rng(0)
    picks = [pool.sample(rng).id for _ in range(4000)]
    assert abs(picks.count(b.id) / 4000 - p[b.id]) < 0.02
    # the cycle OpenAI Five's rule cannot follow: the learner starts losing to a again
    for _ in range(20):
        pool.report(a.id, 0.0)  # 4 / 25
    assert pool.probabilities()[a.id] > 0.5
    c = pool.add(weights(2))
    d = pool.add(weights(3))  # full: of those that have played, the one beaten most goes
    assert set(pool.snapshots) == {a.id, c.id, d.id}  # b (0.2 > a's 0.16); c unplayed stays


@pytest.mark.parametrize("main_sampling", ["quality", "pfsp"])
def test_pool_round_trip(main_sampling):
    pool = SnapshotPool(max_size=5, latest_fraction=0.7, quality_lr=0.05,
                        main_sampling=main_sampling)  # fmt: skip
    a = pool.add(weights(0), name="first", meta={"update": 3})
    pool.add(path="runs/x.safetensors", role="main_exploiter")
    pool.report(a.id, 0.5)
    back = SnapshotPool.from_dict(pool.to_dict(), pool.weights("pool"))
    assert back.to_dict() == pool.to_dict()
    np.testing.assert_array_equal(back[a.id].weights["w"], a.weights["w"])
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    picks = [(str(pool.sample(rng1)), str(back.sample(rng2))) for _ in range(20)]
    assert all(a == b for a, b in picks)
    old = pool.to_dict()
    del old["main_sampling"]  # saved before PFSP main agents existed
    assert SnapshotPool.from_dict(old, pool.weights("pool")).main_sampling == "quality"


def test_bad_inputs():
    with pytest.raises(EmptyPoolError, match="empty|no snapshot"):
        SnapshotPool().sample(np.random.default_rng(0))
    with pytest.raises(EmptyPoolError, match="empty"):
        SnapshotPool().latest()
    pool = SnapshotPool()
    pool.add(weights(0), role="league_exploiter")
    with pytest.raises(EmptyPoolError, match="main_exploiter"):
        pool.sample(np.random.default_rng(0), role="main_exploiter")
    with pytest.raises(ValueError, match="role"):
        pool.add(weights(0), role="coach")
    with pytest.raises(ValueError, match="weights or a path"):
        pool.add()
    with pytest.raises(ValueError, match="score"):
        pool.report(0, 2.0)
    with pytest.raises(ValueError, match="max_size"):
        SnapshotPool(max_size=0)
    with pytest.raises(ValueError, match="latest_fraction"):
        SnapshotPool(latest_fraction=1.5)
    with pytest.raises(ValueError, match="main_sampling"):
        SnapshotPool(main_sampling="elo")
    data = pool.to_dict()
    with pytest.raises(ValueError, match="missing"):
        SnapshotPool.from_dict(data, {})
    with pytest.raises(ValueError, match="malformed"):
        SnapshotPool.from_dict({"max_size": 3})
    with pytest.raises(KeyError, match="no snapshot 7"):
        pool[7]


def test_match_result_scores_and_wilson():
    winners = [0, 1, 2, 1, 0, 0]
    seats = [0, 1, 0, 0, 1, 0]
    r = match_result("a", "b", winners, seats, seed=5)
    assert (r.wins, r.draws, r.losses) == (3, 1, 2)
    assert r.interval == wilson_interval(3.5, 6)
    assert r.records[1].players == ("b", "a")
    with pytest.raises(ValueError, match="as many"):
        match_result("a", "b", [0], [0, 1])


def test_ratings_move_the_right_way():
    strong = match_result("hard", "random", [0, 1] * 10, [0, 1] * 10)
    table = reference_table(["random", "hard"], [strong])
    ref = {n: table.rating(n).mu for n in ("random", "hard")}
    assert ref["hard"] > ref["random"]
    # a newcomer that beats random and loses to hard lands between them
    table.record_match(match_result("p", "random", [0, 1] * 5, [0, 1] * 5))
    table.record_match(match_result("p", "hard", [1, 0] * 5, [0, 1] * 5))
    mu = table.rating("p").mu
    assert ref["random"] < mu < ref["hard"]
    # then it starts beating hard: its rating rises step by step; references stay put
    ordinals = [table.rating("p").ordinal]
    for _ in range(5):
        table.record_match(match_result("p", "hard", [0, 1], [0, 1]))
        ordinals.append(table.rating("p").ordinal)
    assert all(b > a for a, b in zip(ordinals, ordinals[1:], strict=False))
    assert {n: table.rating(n).mu for n in ref} == ref
    assert expected_score(table, "hard", "random") > 0.5
    with pytest.raises(ValueError, match="not a reference"):
        reference_table(["random"], [strong])


def test_selfplay_never_imports_agents():
    code = (
        "import sys, selfplay, selfplay.pool; "
        "bad = [m for m in sys.modules if m == 'agents' or m.startswith('agents.')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
