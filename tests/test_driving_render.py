"""The camera renderer and its domain randomization (sim.driving.camera, randomization,
render): labels, depth and boxes against the geometry, determinism, each knob alone."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim.driving.camera import RIGS, Camera, topdown_rig
from sim.driving.randomization import (
    CANONICAL,
    GROUPS,
    HELD_OUT_RADIUS,
    Randomization,
    randomization_from,
    sample_style,
)
from sim.driving.render import DISTRACTOR_INSTANCE_BASE, Frame, Renderer
from sim.driving.scene import (
    KERB,
    LANE_MARKING,
    OBSTACLE,
    PEDESTRIAN,
    ROAD,
    SKY,
    TERRAIN,
    VEHICLE,
    GroundMap,
    SceneObjects,
)
from sim.driving.textures import HELD_OUT_FAMILIES, TRAIN_FAMILIES

CELL = 0.1


def straight_road() -> GroundMap:
    """An 8 m road along +x with a dashed centre line, edge lines and kerbs."""
    rows, cols = int(40 / CELL), int(160 / CELL)
    y = -20 + (np.arange(rows) + 0.5) * CELL
    x = -40 + (np.arange(cols) + 0.5) * CELL
    ay = np.abs(y)[:, None] + 0 * x[None, :]
    g = np.full((rows, cols), TERRAIN, np.uint8)
    g[ay < 4.0] = ROAD
    g[(ay >= 4.0) & (ay < 4.6)] = KERB
    g[(ay > 3.7) & (ay < 3.85)] = LANE_MARKING
    dash = (np.floor(x / 3) % 2 == 0)[None, :]
    g[(ay < 0.075) & dash] = LANE_MARKING
    return GroundMap(g, (-40.0, -20.0), CELL)


def curved_road() -> GroundMap:
    """A ring road of radius 40 m centred at (0, 40), so it passes (0, 0) heading +x."""
    n = int(100 / CELL)
    c = -50 + (np.arange(n) + 0.5) * CELL
    x, y = np.meshgrid(c, c + 40)
    d = np.abs(np.hypot(x, y - 40) - 40)
    g = np.full((n, n), TERRAIN, np.uint8)
    g[d < 3.5] = ROAD
    g[(d >= 3.5) & (d < 4.0)] = KERB
    g[d < 0.1] = LANE_MARKING
    return GroundMap(g, (-50.0, -10.0), CELL)


def scene() -> SceneObjects:
    boxes = np.array(
        [
            [14, 1.8, 0, 4.5, 1.9, 1.5, 0.1],
            [24, -1.8, 0, 4.5, 1.9, 1.5, 0.0],
            [9, 5.2, 0, 0.5, 0.5, 1.8, 0.0],
            [30, 5.5, 0, 1.0, 1.0, 1.0, 0.3],
        ],
        np.float32,
    )
    classes = np.array([VEHICLE, VEHICLE, PEDESTRIAN, OBSTACLE], np.uint8)
    return SceneObjects(boxes, classes, np.array([1, 2, 7, 9], np.int32))


def render(rig="front", rz=None, seed=0, objects=None, ground=None, pose=(0.0, 0.0, 0.0),
           size=48, episodes=1) -> list[list[Frame]]:  # fmt: skip
    r = Renderer(RIGS[rig](size, size), Randomization.off() if rz is None else rz)
    rng = np.random.default_rng(seed)
    ground = straight_road() if ground is None else ground
    objects = scene() if objects is None else objects
    return [r.render(ground, objects, pose, rng, True) for _ in range(episodes)]


def _rot(yaw, pitch, roll):
    cy, sy, cp, sp, cr, sr = (math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch),
                              math.cos(roll), math.sin(roll))  # fmt: skip
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


def rays(cam: Camera, pose) -> tuple[np.ndarray, np.ndarray]:
    """Reference origins and directions (forward component 1) of every pixel, [H, W, 3]."""
    ex, ey, eyaw = pose
    rz = _rot(eyaw, 0, 0)
    pos = np.array([ex, ey, 0.0]) + rz @ np.array([cam.x, cam.y, cam.z])
    h, w = cam.height, cam.width
    if cam.topdown:
        rot = _rot(eyaw + cam.yaw, math.pi / 2, 0)
        k = cam.extent / w
    else:
        rot = _rot(eyaw + cam.yaw, cam.pitch, cam.roll)
        k = math.tan(math.radians(cam.fov_deg) / 2) / (w / 2)
    b = (h / 2 - np.arange(h) - 0.5)[:, None] * k + np.zeros((1, w))
    a = (w / 2 - np.arange(w) - 0.5)[None, :] * k + np.zeros((h, 1))
    if cam.topdown:
        o = pos + a[..., None] * rot[:, 1] + b[..., None] * rot[:, 2]
        d = np.broadcast_to(rot[:, 0], (h, w, 3))
    else:
        o = np.broadcast_to(pos, (h, w, 3))
        d = rot[:, 0] + a[..., None] * rot[:, 1] + b[..., None] * rot[:, 2]
    return o, d


# ---- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"fov_deg": 0.0}, "fov_deg"),
        ({"fov_deg": -30.0}, "fov_deg"),
        ({"fov_deg": 180.0}, "fov_deg"),
        ({"height": 0}, "height"),
        ({"width": -4}, "width"),
        ({"width": 3.5}, "width"),
        ({"extent": 0.0}, "extent"),
        ({"x": float("nan")}, "x"),
        ({"topdown": True, "z": 0.0}, "z"),
    ],
)
def test_invalid_camera_raises_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        Camera("cam", **kwargs)
    with pytest.raises(ValueError, match="name"):
        Camera("")


def test_rigs():
    assert set(RIGS) == {"front", "surround", "topdown"}
    surround = RIGS["surround"](24, 32)
    assert len(surround) == 6 and len({c.name for c in surround}) == 6
    assert all((c.height, c.width) == (24, 32) for c in surround)
    yaws = sorted(c.yaw for c in surround)
    assert yaws[0] < -2.0 and yaws[-1] > 2.0  # the rear is covered
    (top,) = topdown_rig(16, 16, altitude=30.0, extent=25.0)
    assert top.topdown and top.z == 30.0 and top.extent == 25.0


def test_randomization_from_and_validation():
    assert randomization_from("full") == Randomization.full() == Randomization()
    assert randomization_from("off") == Randomization.off()
    assert randomization_from("canonical") is CANONICAL
    custom = Randomization.off(lighting=True)
    assert randomization_from(custom) is custom
    with pytest.raises(ValueError, match="unknown randomization 'fancy'"):
        randomization_from("fancy")
    bad = [
        {"per_frame": ("weather",)},
        {"base": "photoreal"},
        {"noise": -0.1},
        {"distractors": (3, 1)},
        {"distractor_types": ("sphere",)},
        {"num_lights": (0, 2)},
        {"exposure": (0.0, 1.0)},
        {"lighting": 1},
    ]
    for kwargs in bad:
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            Randomization(**kwargs)


def test_renderer_rejects_bad_rigs():
    with pytest.raises(ValueError, match="at least one camera"):
        Renderer([], Randomization.off())
    with pytest.raises(ValueError, match="unique"):
        Renderer([Camera("a"), Camera("a")], Randomization.off())
    with pytest.raises(ValueError, match="Randomization"):
        Renderer([Camera("a")], "full")  # type: ignore[arg-type]
    r = Renderer([Camera("a", height=8, width=8)], Randomization.off())
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="ego_pose"):
        r.render(straight_road(), scene(), (0.0, float("nan"), 0.0), rng, True)
    with pytest.raises(ValueError, match="GroundMap"):
        r.render(np.zeros((4, 4), np.uint8), scene(), (0.0, 0.0, 0.0), rng, True)


# ---- geometry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rig, ground, pose",
    [
        ("front", "straight", (0.0, 0.0, 0.0)),
        ("surround", "curved", (0.0, 0.0, 0.0)),
        ("surround", "straight", (5.0, 1.0, 0.4)),
        ("topdown", "curved", (0.0, 0.0, 0.3)),
    ],
)
def test_ground_labels_and_depth_agree_with_the_geometry(rig, ground, pose):
    gm = straight_road() if ground == "straight" else curved_road()
    frames = render(rig, ground=gm, pose=pose, objects=SceneObjects.empty())[0]
    for cam, f in zip(RIGS[rig](48, 48), frames, strict=True):
        assert f.rgb.shape == (48, 48, 3) and f.rgb.dtype == np.uint8
        assert f.labels.dtype == np.uint8 and f.depth.dtype == np.float32
        assert f.instances.dtype == np.int32 and not f.instances.any()
        o, d = rays(cam, pose)
        ground_px = f.labels != SKY
        assert np.array_equal(ground_px, d[..., 2] < 0)  # sky exactly above the horizon
        assert np.all(np.isinf(f.depth[~ground_px]))
        t = -o[..., 2] / np.where(ground_px, d[..., 2], -1.0)
        np.testing.assert_allclose(f.depth[ground_px], t[ground_px], rtol=1e-4)
        hit = o + f.depth[..., None].astype(np.float64) * d  # back-projected with depth
        rr, cc = np.nonzero(ground_px)
        expect = [gm.class_at(hit[r, c, 0], hit[r, c, 1]) for r, c in zip(rr, cc, strict=True)]
        agree = np.mean(np.array(expect) == f.labels[rr, cc])
        assert agree > 0.995, agree  # the rest: float32 depth on a cell boundary
        assert (f.labels == ROAD).any() or cam.name.endswith("repeater")


def test_object_pixels_lie_on_their_box_and_boxes_cover_them():
    objects = scene()
    frames = render("surround", objects=objects)[0] + render("topdown", objects=objects)[0]
    cams = RIGS["surround"](48, 48) + RIGS["topdown"](48, 48)
    by_id = {int(i): (b, int(c)) for b, c, i in zip(objects.boxes, objects.classes,
                                                    objects.instances, strict=True)}  # fmt: skip
    seen = 0
    for cam, f in zip(cams, frames, strict=True):
        o, d = rays(cam, (0.0, 0.0, 0.0))
        for iid in np.unique(f.instances[f.instances > 0]):
            box, cls = by_id[int(iid)]
            mask = f.instances == iid
            assert np.all(f.labels[mask] == cls)
            # the back-projected point lies on the box's surface
            p = (o + f.depth[..., None].astype(np.float64) * d)[mask]
            cb, sb = math.cos(box[6]), math.sin(box[6])
            rel = p - [box[0], box[1], box[2] + box[5] / 2]
            local = np.stack([cb * rel[:, 0] + sb * rel[:, 1], -sb * rel[:, 0] + cb * rel[:, 1],
                              rel[:, 2]], 1)  # fmt: skip
            excess = np.abs(local) / (np.array(box[3:6]) / 2)
            assert np.all(excess.max(1) < 1.001) and np.all(excess.max(1) > 0.999)
            if cls in (VEHICLE, PEDESTRIAN):
                j = list(f.box_instances).index(iid)
                x0, y0, x1, y1 = f.boxes[j]
                rr, cc = np.nonzero(mask)
                assert x0 <= cc.min() and cc.max() < x1 and y0 <= rr.min() and rr.max() < y1
                assert f.box_classes[j] == cls
                seen += 1
        assert set(f.box_classes) <= {VEHICLE, PEDESTRIAN}
        assert f.boxes.dtype == np.float32 and f.visible.dtype == np.float32
        assert f.box_instances.dtype == np.int32 and f.box_classes.dtype == np.uint8
    assert seen >= 4


def test_occlusion_lowers_visible_fraction():
    near = [12, 0.0, 0, 4.5, 1.9, 1.5, 0.0]
    far = [20, 0.3, 0, 4.5, 1.9, 1.5, 0.0]
    both = SceneObjects(np.array([near, far], np.float32), np.array([VEHICLE, VEHICLE], np.uint8),
                        np.array([1, 2], np.int32))  # fmt: skip
    alone = SceneObjects(np.array([far], np.float32), np.array([VEHICLE], np.uint8),
                         np.array([2], np.int32))  # fmt: skip
    (f,) = render(objects=both, size=64)[0]
    (g,) = render(objects=alone, size=64)[0]
    vis = dict(zip(f.box_instances.tolist(), f.visible.tolist(), strict=True))
    assert vis[1] == 1.0 and vis[2] < 0.5
    assert g.visible.tolist() == [1.0]
    # the far car's box is the same whether or not it is hidden
    np.testing.assert_array_equal(f.boxes[list(f.box_instances).index(2)], g.boxes[0])
    assert (g.instances == 2).sum() * vis[2] == pytest.approx((f.instances == 2).sum(), abs=0.5)


def test_topdown_shows_the_ego_on_its_road_and_cameras_inside_the_ego_do_not():
    ego = [0.0, 0.0, 0.0, 4.6, 1.9, 1.5, 0.0]
    with_ego = SceneObjects(np.array([ego], np.float32), np.array([VEHICLE], np.uint8),
                            np.array([5], np.int32))  # fmt: skip
    pose = (10.0, -1.8, 0.0)
    (top,) = render("topdown", objects=SceneObjects.empty(), pose=pose, size=64)[0]
    cam = RIGS["topdown"](64, 64)[0]
    # the ego sits `ahead` metres below the image centre
    r = int(32 + cam.x / (cam.extent / 64))
    assert top.labels[r, 32] == ROAD and top.labels[r, 31] == ROAD
    shifted = SceneObjects(with_ego.boxes + np.array([10, -1.8, 0, 0, 0, 0, 0], np.float32),
                           with_ego.classes, with_ego.instances)  # fmt: skip
    (top_ego,) = render("topdown", objects=shifted, pose=pose, size=64)[0]
    assert top_ego.labels[r, 32] == VEHICLE and list(top_ego.box_instances) == [5]
    plain = render("surround", objects=SceneObjects.empty(), pose=pose)[0]
    inside = render("surround", objects=shifted, pose=pose)[0]
    for a, b in zip(plain, inside, strict=True):
        np.testing.assert_array_equal(a.labels, b.labels)
        assert len(b.boxes) == 0


def test_a_camera_lifted_above_the_roof_does_not_see_the_ego():
    # Mount jitter can lift a camera out of the ego's box (1.4 m + 0.15 in a 1.5 m car):
    # it then looks down on the roof, which must not show as a vehicle.
    pose = (10.0, -1.8, 0.0)
    boxes = np.array([[10.0, -1.8, 0.0, 4.6, 1.9, 1.5, 0.0]], np.float32)
    cam = Camera("front", 1.2, 0.0, 1.7, 0.0, 0.5, 0.0, 90.0, 48, 48)

    def view(rig: list[Camera], ego_instance: int) -> Frame:
        objects = SceneObjects(boxes, np.array([VEHICLE], np.uint8), np.array([3], np.int32),
                               ego_instance=ego_instance)  # fmt: skip
        rng = np.random.default_rng(0)
        return Renderer(rig, Randomization.off()).render(straight_road(), objects, pose, rng, True)[
            0
        ]

    other = view([cam], 0)  # the same box as another car: in view
    assert (other.labels == VEHICLE).sum() > 100
    ego = view([cam], 3)
    assert not (ego.labels == VEHICLE).any() and len(ego.boxes) == 0
    assert (view(RIGS["topdown"](48, 48), 3).labels == VEHICLE).any()
    with pytest.raises(ValueError, match="ego's instance id 4"):
        SceneObjects(boxes, np.array([VEHICLE], np.uint8), np.array([3], np.int32), 4)


# ---- determinism and randomization ---------------------------------------------------


def _same(a: list[Frame], b: list[Frame], fields=("rgb", "labels", "depth", "instances", "boxes",
          "visible")) -> bool:  # fmt: skip
    return all(
        np.array_equal(getattr(x, k), getattr(y, k))
        for x, y in zip(a, b, strict=True)
        for k in fields
    )


def test_same_seed_same_frames():
    rz = Randomization.full(per_frame=("lighting",))
    for rig in ("front", "surround"):
        a = render(rig, rz, seed=3, episodes=2)
        b = render(rig, rz, seed=3, episodes=2)
        c = render(rig, rz, seed=4, episodes=2)
        assert all(_same(x, y) for x, y in zip(a, b, strict=True))
        assert not _same(a[0], c[0], ("rgb",))


# Each aspect, the classes whose pixels it may recolour (None: any pixel).
ASPECTS = {
    "road": ({"road_texture": True}, {ROAD, LANE_MARKING, KERB}),
    "terrain": ({"terrain_texture": True}, {TERRAIN}),
    "sky": ({"sky_texture": True}, {SKY}),
    "objects": ({"object_texture": True}, {PEDESTRIAN, OBSTACLE}),
    "vehicles": ({"vehicle_colors": True}, {VEHICLE}),
    "lighting": ({"lighting": True}, None),
    "noise": ({"noise": 0.05}, None),
    "blur": ({"blur": 0.3}, None),
    "exposure": ({"exposure": (0.5, 2.0)}, None),
}


@pytest.mark.parametrize("aspect", list(ASPECTS))
def test_each_appearance_knob_varies_its_aspect_only(aspect):
    knob, classes = ASPECTS[aspect]
    for base in ("plain", "canonical"):
        off = render("front", Randomization.off(base=base), episodes=3, size=40)
        on = render("front", Randomization.off(base=base, **knob), episodes=3, size=40)
        assert all(_same(off[0], e) for e in off[1:])  # knob off: constant
        for a, b in zip(off, on, strict=True):
            assert _same(a, b, ("labels", "depth", "instances", "boxes", "visible"))
        changed = [np.any(e[0].rgb != on[0][0].rgb, axis=2) for e in on[1:]]
        assert any(c.any() for c in changed), aspect  # the knob varies something
        if classes is not None:  # ... and only the pixels of its classes
            allowed = np.isin(on[0][0].labels, list(classes))
            assert not any((c & ~allowed).any() for c in changed), aspect


def test_distractors_and_camera_jitter_vary_their_aspect_only():
    off = render("front", Randomization.off(), episodes=2)
    dis = render("front", Randomization.off(distractors=(6, 6)), episodes=2)
    for a, b in zip(off, dis, strict=True):
        new = a[0].labels != b[0].labels
        assert new.any() and np.all(b[0].labels[new] == OBSTACLE)
        assert np.all(b[0].instances[new] >= DISTRACTOR_INSTANCE_BASE)
        # elsewhere the picture is unchanged
        np.testing.assert_array_equal(a[0].rgb[~new], b[0].rgb[~new])
    assert not np.array_equal(dis[0][0].labels, dis[1][0].labels)
    jit = render("front", Randomization.off(camera_angle=0.05, camera_fov=5.0), episodes=2)
    assert not np.array_equal(jit[0][0].depth, jit[1][0].depth)
    assert set(np.unique(jit[0][0].labels)) <= set(np.unique(off[0][0].labels)) | {SKY}


def test_per_frame_resampling():
    gm, objs = straight_road(), scene()
    for per_frame, changes in (((), False), (("lighting",), True)):
        r = Renderer(RIGS["front"](32, 32), Randomization.off(lighting=True, per_frame=per_frame))
        rng = np.random.default_rng(0)
        a = r.render(gm, objs, (0, 0, 0), rng, True)
        b = r.render(gm, objs, (0, 0, 0), rng, False)
        assert (not np.array_equal(a[0].rgb, b[0].rgb)) == changes
        np.testing.assert_array_equal(a[0].labels, b[0].labels)


def test_full_randomization_never_draws_the_canonical_style():
    from sim.driving.randomization import _CANONICAL_MATS, _HELD_OUT_CLASSES

    cams = RIGS["surround"](8, 8)
    for seed in range(200):
        style = sample_style(Randomization.full(), cams, seed)
        for c in _HELD_OUT_CLASSES:
            assert int(style.mats[c, 0]) in TRAIN_FAMILIES
            for colour in (style.mats[c, 1:4], style.mats[c, 4:7]):
                for canon in (_CANONICAL_MATS[c, 1:4], _CANONICAL_MATS[c, 4:7]):
                    assert np.linalg.norm(colour - canon) >= HELD_OUT_RADIUS
    for c in _HELD_OUT_CLASSES:
        assert int(_CANONICAL_MATS[c, 0]) in HELD_OUT_FAMILIES
    json_ready = sample_style(Randomization.full(), cams, 0).to_dict()
    assert set(json_ready) >= {"materials", "lights", "distractors", "camera_jitter"}


def test_marking_contrast_keeps_lane_markings_brighter_than_the_road():
    from sim.driving.randomization import _LUMA, _avoid

    cams = RIGS["front"](8, 8)
    for contrast in (0.3, 0.6):
        for seed in range(100):
            mats = sample_style(Randomization.full(marking_contrast=contrast), cams, seed).mats
            road = max(_LUMA @ mats[ROAD, 1:4], _LUMA @ mats[ROAD, 4:7])
            marking = min(_LUMA @ mats[LANE_MARKING, 1:4], _LUMA @ mats[LANE_MARKING, 4:7])
            assert marking >= road + contrast - 1e-9
            for c in (ROAD, LANE_MARKING):  # still away from every held-out colour
                for colour in (mats[c, 1:4], mats[c, 4:7]):
                    assert np.linalg.norm(colour - _avoid(c), axis=1).min() >= HELD_OUT_RADIUS
    free = [sample_style(Randomization.full(), cams, seed).mats for seed in range(20)]
    assert any(_LUMA @ m[LANE_MARKING, 1:4] < _LUMA @ m[ROAD, 1:4] for m in free)  # not vacuous
    with pytest.raises(ValueError, match="marking_contrast"):
        Randomization.full(marking_contrast=0.7)


@pytest.mark.parametrize("name", ["dusk", "overcast", "snow"])
def test_held_out_styles_are_never_drawn_by_full_or_off(name):
    from sim.driving.randomization import _HELD_OUT_CLASSES, HELD_OUT_STYLES

    assert name in HELD_OUT_STYLES
    cams = RIGS["front"](8, 8)
    held = sample_style(randomization_from(name), cams, 0)
    assert randomization_from(name) == Randomization.off(base=name)
    plain = sample_style(Randomization.off(), cams, 0)
    canon = sample_style(CANONICAL, cams, 0)
    for c in _HELD_OUT_CLASSES:
        assert int(held.mats[c, 0]) in HELD_OUT_FAMILIES
        assert not np.array_equal(held.mats[c], plain.mats[c])
        assert not np.array_equal(held.mats[c], canon.mats[c])
    # Its lighting lies outside full randomization's range: no light and a bright
    # ambient, or a directional sun lower than 10 degrees.
    low_sun = len(held.lights) and held.lights[0, 3] < math.sin(math.radians(10))
    assert (len(held.lights) == 0 and held.ambient.min() > 0.6) or low_sun
    for seed in range(100):
        style = sample_style(Randomization.full(), cams, seed)
        assert len(style.lights) >= 1 and style.ambient.max() <= 0.6
        directional = style.lights[style.lights[:, 0] < 0.5]
        assert np.all(directional[:, 3] >= math.sin(math.radians(10)) - 1e-9)
        for c in _HELD_OUT_CLASSES:
            assert int(style.mats[c, 0]) in TRAIN_FAMILIES
            for colour in (style.mats[c, 1:4], style.mats[c, 4:7]):
                for ref in (held.mats[c, 1:4], held.mats[c, 4:7]):
                    assert np.linalg.norm(colour - ref) >= HELD_OUT_RADIUS
    # A held-out style renders deterministically and differs from the canonical one.
    gm, objs = straight_road(), SceneObjects.empty()
    a = Renderer(RIGS["front"](32, 32), randomization_from(name))
    b = Renderer(RIGS["front"](32, 32), CANONICAL)
    fa = a.render(gm, objs, (0, 0, 0), np.random.default_rng(0), True)[0]
    fa2 = a.render(gm, objs, (0, 0, 0), np.random.default_rng(0), True)[0]
    fb = b.render(gm, objs, (0, 0, 0), np.random.default_rng(0), True)[0]
    np.testing.assert_array_equal(fa.rgb, fa2.rgb)
    np.testing.assert_array_equal(fa.labels, fb.labels)
    assert np.abs(fa.rgb.astype(int) - fb.rgb.astype(int)).mean() > 10


def test_every_group_is_switchable():
    off = Randomization.off()
    assert not any(off.enabled(g) for g in GROUPS)
    assert all(Randomization.full(distractors=(1, 2)).enabled(g) for g in GROUPS)
    assert dataclasses.replace(off, sky_texture=True).enabled("sky")


# ---- dataset writer (scripts/make_dataset.py) ------------------------------------------


def _make_dataset():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "make_dataset.py"
    spec = importlib.util.spec_from_file_location("make_dataset", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_dataset"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_make_dataset_writes_shards_and_resumes(tmp_path, capsys):
    import json

    md = _make_dataset()
    cfg = md.Config(out=tmp_path, frames=10, shard_size=4, workers=1, rig="front",
                    resolution=(24, 24), episode_frames=3, frame_skip=2,
                    progress=False)  # fmt: skip
    md.main(cfg)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["complete"] and manifest["frames"] == 10
    assert [s["frames"] for s in manifest["shards"]] == [4, 4, 2]
    with np.load(tmp_path / "shard_00001.npz") as z:
        first = {k: z[k] for k in z.files}
    n = len(first["rgb"])
    assert first["rgb"].shape == (n, 24, 24, 3) and first["labels"].shape == (n, 24, 24)
    assert first["depth"].dtype == np.float16 and len(first["box_offsets"]) == n + 1
    assert first["box_offsets"][-1] == len(first["boxes"]) == len(first["box_visible"])
    params = json.loads((tmp_path / "shard_00001.json").read_text())
    assert params["episodes"] and "materials" in params["episodes"][0]["style"]
    # an interrupted run: one shard lost, a partial file left behind
    (tmp_path / "shard_00001.npz").unlink()
    (tmp_path / "shard_00001.tmp.npz").write_bytes(b"partial")
    md.main(cfg)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["written_now"] == 1
    assert not list(tmp_path.glob("*.tmp*"))
    with np.load(tmp_path / "shard_00001.npz") as z:
        assert all(np.array_equal(first[k], z[k]) for k in z.files)
    # asking for more frames completes the short last shard and adds the rest
    md.main(dataclasses.replace(cfg, frames=14))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [s["frames"] for s in manifest["shards"]] == [4, 4, 4, 2]
    with pytest.raises(SystemExit, match="other settings"):
        md.main(dataclasses.replace(cfg, seed=1))
    with pytest.raises(ValueError, match="rig"):
        md.main(dataclasses.replace(cfg, rig="360"))


def test_make_dataset_backends_write_the_same_shards(tmp_path):
    """Two process workers (the CLI) write byte-identical shards to one in-process worker."""
    import subprocess
    import sys
    from pathlib import Path

    md = _make_dataset()
    args = dict(frames=12, shard_size=4, rig="front", resolution=(24, 24), episode_frames=3,
                frame_skip=2, progress=False)  # fmt: skip
    md.main(md.Config(out=tmp_path / "serial", workers=1, **args))
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_dataset.py"
    cli = ["--frames", "12", "--shard-size", "4", "--resolution", "24", "24",
           "--episode-frames", "3", "--frame-skip", "2", "--no-progress"]  # fmt: skip
    out = tmp_path / "process"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(out), "--workers", "2",
         "--backend", "process", *cli],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for k in range(3):
        name = f"shard_{k:05d}.npz"
        assert (out / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()


def _reference_mask(cam: Camera, box, pose=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Pixels whose ray hits the box (numpy slab test over the whole image)."""
    o, d = rays(cam, pose)
    cb, sb = math.cos(box[6]), math.sin(box[6])
    rot = np.array([[cb, sb, 0], [-sb, cb, 0], [0, 0, 1]])  # world -> local
    ol = (o - [box[0], box[1], box[2] + box[5] / 2]) @ rot.T
    dl = d @ rot.T
    half = np.array(box[3:6]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-half - ol) / dl, (half - ol) / dl
    t1 = np.where(np.abs(dl) < 1e-12, np.where(np.abs(ol) <= half, -np.inf, np.inf), t1)
    t2 = np.where(np.abs(dl) < 1e-12, np.where(np.abs(ol) <= half, np.inf, -np.inf), t2)
    tmin = np.minimum(t1, t2).max(-1)
    tmax = np.maximum(t1, t2).min(-1)
    return (tmin <= tmax) & (tmin > 0.05)


@pytest.mark.parametrize(
    "box",
    [
        [0.5, 3.2, 0, 4.5, 1.9, 1.5, 0.2],  # beside the ego: straddles the side cameras
        [-1.0, -3.0, 0, 8.0, 2.5, 3.0, -0.1],  # a truck alongside, from the back
        [14, 1.8, 0, 4.5, 1.9, 1.5, 0.4],
    ],
)
def test_object_masks_match_a_reference_ray_test(box):
    objects = SceneObjects(np.array([box], np.float32), np.array([VEHICLE], np.uint8),
                           np.array([3], np.int32))  # fmt: skip
    frames = render("surround", objects=objects, size=40)[0]
    hits = 0
    for cam, f in zip(RIGS["surround"](40, 40), frames, strict=True):
        ref = _reference_mask(cam, box)
        mask = f.instances == 3
        # pixels on an edge can go either way in floating point
        assert (mask != ref).sum() <= max(2, 0.02 * ref.sum()), cam.name
        hits += int(mask.any())
    assert hits >= 1
