"""Perception: networks, data, metrics, checkpoints, training and resume (tiny configs)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import perception
from perception import checkpoint as ckpt
from perception.data import (
    DataError,
    FrameDataset,
    ShardSource,
    SyntheticSource,
    augment,
    collect,
    make_loader,
    write_shard,
)
from perception.metrics import DetectionMetrics, SegmentationMetrics, _average_precision
from perception.models import (
    DET_STRIDE,
    ModelConfig,
    build_model,
    center_targets,
    count_parameters,
    decode_centers,
    soft_iou_loss,
)
from perception.predict import Perception
from perception.train import PerceptionConfig, Trainer, constant_baseline, evaluate
from sim.driving.scene import CLASS_NAMES, LABELS, NUM_CLASSES, PEDESTRIAN, ROAD, VEHICLE

torch.set_num_threads(1)


def tiny(**kw) -> PerceptionConfig:
    base = dict(
        model="deeplab",
        heads="seg+det",
        width=8,
        image_size=(32, 32),
        source="synthetic",
        eval_styles=("canonical",),
        eval_frames=8,
        steps=12,
        batch_size=4,
        lr=3e-3,
        workers=0,
        eval_every=0,
        checkpoint_every=0,
        tensorboard=False,
        progress=False,
    )
    base.update(kw)
    return PerceptionConfig(**base)


# ---- models ------------------------------------------------------------------------------
@pytest.mark.parametrize(("arch", "full"), [("deeplab", False), ("deeplab", True), ("unet", False)])
def test_output_shapes_and_class_order(arch, full):
    config = ModelConfig(arch=arch, heads=("seg", "det"), image_size=(32, 24), full_resolution=full)
    model = build_model(config)
    out = model(torch.rand(2, 3, 32, 24))
    assert out["seg"].shape == (2, NUM_CLASSES, 32, 24)
    assert out["heatmap"].shape == (2, 2, 32 // DET_STRIDE, 24 // DET_STRIDE)
    assert out["size"].shape == out["offset"].shape == (2, 2, 8, 6)
    assert model.config.class_names == CLASS_NAMES
    assert [LABELS[n] for n in model.config.class_names] == list(range(NUM_CLASSES))


def test_parameter_budget_of_the_default_deeplab():
    for heads in (("seg",), ("seg", "det")):
        for full in (False, True):
            config = ModelConfig(arch="deeplab", heads=heads, full_resolution=full)
            n = count_parameters(build_model(config))
            assert 100_000 < n <= 500_000, n


def test_bad_model_configs_are_named():
    with pytest.raises(ValueError, match="arch"):
        ModelConfig(arch="resnet")
    with pytest.raises(ValueError, match="heads"):
        ModelConfig(heads=("seg", "depth"))
    with pytest.raises(ValueError, match="multiples of 8"):
        ModelConfig(image_size=(30, 32))
    with pytest.raises(ValueError, match="full_resolution"):
        ModelConfig(arch="unet", full_resolution=True)
    with pytest.raises(ValueError, match="iou_weight"):
        PerceptionConfig(iou_weight=-1.0)
    assert not PerceptionConfig(model="unet").model_config().full_resolution
    with pytest.raises(ValueError, match="classes"):
        build_model(ModelConfig(class_names=("sky", "road")))


# ---- predict -----------------------------------------------------------------------------
def test_predict_single_and_batch_deterministic():
    p = Perception(build_model(ModelConfig(heads=("seg", "det"), image_size=(16, 16), width=8)))
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    one = p.predict(imgs[1])
    batch = p.predict(imgs)
    assert one.labels.shape == (16, 16) and one.labels.dtype == np.uint8
    assert batch.labels.shape == (3, 16, 16)
    np.testing.assert_array_equal(batch.labels[1], one.labels)
    assert int(batch.labels.max()) < NUM_CLASSES
    assert isinstance(batch.boxes, list) and len(batch.boxes) == 3
    assert one.boxes.shape[1] == 4 and one.scores.shape == one.box_classes.shape
    np.testing.assert_array_equal(p.predict(imgs[1]).labels, one.labels)
    np.testing.assert_array_equal(p.predict(torch.from_numpy(imgs)).labels, batch.labels)


@pytest.mark.parametrize(("arch", "full"), [("deeplab", False), ("deeplab", True), ("unet", False)])
def test_inference_copy_matches_the_module(arch, full):
    torch.manual_seed(0)
    config = ModelConfig(
        arch=arch, heads=("seg", "det"), image_size=(16, 24), width=8, full_resolution=full
    )
    model = build_model(config)
    with torch.no_grad():  # BatchNorm statistics that are not the identity, to fold
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
            if isinstance(m, torch.nn.Conv2d) and not m.weight.any():
                m.weight.normal_(0, 0.1)  # the zero-initialized full-resolution correction
    fast, eager = Perception(model), Perception(model, optimize=False)
    imgs = np.random.default_rng(1).integers(0, 256, (5, 16, 24, 3), dtype=np.uint8)
    a, b = fast.logits(imgs), eager.logits(imgs)
    assert set(a) == set(b) == {"seg", "heatmap", "size", "offset"}
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-4, rtol=1e-4)
    assert (fast.predict(imgs).labels == eager.predict(imgs).labels).mean() > 0.999
    # The inference copy is a snapshot: training the module on does not change it.
    with torch.no_grad():
        model.seg_head.bias.add_(100.0)
    torch.testing.assert_close(fast.logits(imgs)["seg"], a["seg"])


def test_predict_rejects_bad_images():
    p = Perception(build_model(ModelConfig(image_size=(16, 16), width=8)))
    with pytest.raises(ValueError, match="uint8"):
        p.predict(np.zeros((16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="trained on 16x16"):
        p.predict(np.zeros((24, 16, 3), np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        p.predict(np.zeros((16, 16), np.uint8))


# ---- metrics -----------------------------------------------------------------------------
def test_soft_iou_loss_by_hand():
    labels = torch.tensor([[[0, 0, 1, 1]]])  # (B, H, W)
    hard = torch.tensor([[[0, 1, 1, 1]]])  # class 0: IoU 1/2; class 1: IoU 2/3
    logits = 50.0 * torch.nn.functional.one_hot(hard, 3).permute(0, 3, 1, 2).float()
    logits.requires_grad_(True)
    loss = soft_iou_loss(logits, labels)  # class 2 is in neither: not averaged
    assert loss.item() == pytest.approx(((1 - 1 / 2) + (1 - 2 / 3)) / 2, abs=1e-6)
    assert soft_iou_loss(
        50.0 * torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).float(), labels
    ).item() == pytest.approx(0.0, abs=1e-6)
    uniform = soft_iou_loss(torch.zeros(1, 3, 1, 4), labels)  # p = 1/3 everywhere
    assert uniform.item() == pytest.approx(1 - (2 / 3) / (4 / 3 + 2 - 2 / 3), abs=1e-6)
    loss.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_miou_perfect_and_known_confusion():
    target = np.array([[ROAD, ROAD, ROAD, VEHICLE]])
    m = SegmentationMetrics()
    m.update(target, target)
    assert m.miou() == 1.0
    m = SegmentationMetrics()
    m.update(np.array([[ROAD, ROAD, VEHICLE, VEHICLE]]), target)
    per = m.per_class()
    assert per["road"] == pytest.approx(2 / 3)  # 2 right of 3 road pixels, none extra
    assert per["vehicle"] == pytest.approx(1 / 2)  # 1 right, 1 extra
    assert math.isnan(per["sky"])  # absent from both: left out of the mean
    assert m.miou() == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert m.miou(["vehicle"]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown class name"):
        m.miou(["truck"])


def test_ap50_on_hand_made_cases():
    gt = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), "labels": np.array([5, 5])}]
    perfect = [{"boxes": gt[0]["boxes"], "scores": np.array([0.9, 0.8]), "labels": gt[0]["labels"]}]
    m = DetectionMetrics([VEHICLE, PEDESTRIAN])
    m.update(perfect, gt)
    res = m.compute()
    assert res["ap50/vehicle"] == pytest.approx(1.0)
    assert math.isnan(res["ap50/pedestrian"]) and res["ap50"] == pytest.approx(1.0)
    # One hit, one box shifted to IoU 1/3 (a miss), and a confident false positive first:
    # precision 0 at rank 1, 1/2 at recall 1/2, so AP = 0.5 over recall [0, 0.5] = 51/101/2.
    preds = [
        {
            "boxes": np.array([[50, 50, 60, 60], [0, 0, 10, 10], [25, 20, 35, 30]]),
            "scores": np.array([0.95, 0.9, 0.8]),
            "labels": np.array([5, 5, 5]),
        }
    ]
    ap = _average_precision(
        [{k: np.asarray(v, np.float64) for k, v in preds[0].items()}],
        [{k: np.asarray(v, np.float64) for k, v in gt[0].items()}],
        VEHICLE,
        0.5,
    )
    assert ap == pytest.approx(0.5 * 51 / 101)
    m = DetectionMetrics([VEHICLE])
    m.update(preds, gt)
    assert m.compute()["ap50"] == pytest.approx(0.5 * 51 / 101, abs=1e-3)


# ---- detection targets and decoding --------------------------------------------------------
def test_decode_recovers_boxes_from_a_synthetic_heatmap():
    boxes = np.array([[4.0, 8.0, 20.0, 16.0], [40.0, 30.0, 46.0, 50.0]], np.float32)
    classes = np.array([VEHICLE, PEDESTRIAN], np.uint8)
    t = center_targets(boxes, classes, (64, 64))
    h, w = t["heatmap"].shape[1:]
    size, offset = np.zeros((2, h, w), np.float32), np.zeros((2, h, w), np.float32)
    for k in range(2):
        iy, ix = divmod(int(t["index"][k]), w)
        size[:, iy, ix], offset[:, iy, ix] = t["size"][k], t["offset"][k]
    heat = torch.from_numpy(t["heatmap"]).clamp(1e-6, 1 - 1e-6)
    logits = torch.log(heat / (1 - heat))[None]
    (det,) = decode_centers(logits, torch.from_numpy(size)[None], torch.from_numpy(offset)[None])
    order = np.argsort(det["labels"].numpy())
    np.testing.assert_allclose(det["boxes"].numpy()[order], boxes, atol=1e-4)
    assert det["labels"].numpy()[order].tolist() == [VEHICLE, PEDESTRIAN]
    assert len(det["boxes"]) == 2  # the Gaussian shoulders are not peaks


# ---- data --------------------------------------------------------------------------------
def test_flip_keeps_labels_and_boxes_aligned():
    src = SyntheticSource((32, 32), seed=3)
    frame = next(f for f in (src.frame(i) for i in range(50)) if len(f["boxes"]) >= 2)
    flipped = None
    for s in range(20):
        img, labels, boxes = augment(
            frame["rgb"], frame["labels"], frame["boxes"], np.random.default_rng(s)
        )
        if not np.array_equal(labels, frame["labels"]):
            flipped = (img, labels, boxes)
            break
    assert flipped is not None
    img, labels, boxes = flipped
    np.testing.assert_array_equal(labels, frame["labels"][:, ::-1])
    for b0, b1, cls in zip(frame["boxes"], boxes, frame["box_classes"], strict=True):
        x0, y0, x1, y1 = b1.astype(int)
        assert x0 == 32 - int(b0[2]) and x1 == 32 - int(b0[0])
        assert np.any(labels[y0:y1, x0:x1] == cls)
    assert img.dtype == np.float32 and img.min() >= 0 and img.max() <= 1


def test_samples_are_a_function_of_the_index_and_workers_agree():
    ds = FrameDataset(SyntheticSource((16, 16), seed=1), seed=1, augmentation={})
    a, b = ds[5], ds[5]
    for k in a:
        assert torch.equal(a[k], b[k])
    serial = list(make_loader(ds, 4, 2, 4, workers=0))
    parallel = list(make_loader(ds, 4, 2, 4, workers=2))
    assert len(serial) == len(parallel) == 2
    for x, y in zip(serial, parallel, strict=True):
        assert torch.equal(x["image"], y["image"]) and torch.equal(x["labels"], y["labels"])


def test_shards_round_trip_and_bad_shards(tmp_path):
    src = SyntheticSource((16, 16), seed=2)
    frames = collect(src, range(6))
    write_shard(tmp_path / "a.npz", frames[:4])
    write_shard(tmp_path / "b.npz", frames[4:])
    (tmp_path / "manifest.json").write_text(json.dumps({"shards": ["a.npz", "b.npz"]}))
    shards = ShardSource(tmp_path, shuffle=False)
    assert len(shards) == 6 and shards.image_size == (16, 16)
    for i in range(6):
        f = shards.frame(i)
        np.testing.assert_array_equal(f["rgb"], frames[i]["rgb"])
        np.testing.assert_array_equal(f["boxes"], frames[i]["boxes"])
    shuffled = ShardSource(tmp_path, seed=0)
    assert sorted(int(shuffled.frame(i)["rgb"].sum()) for i in range(6)) == sorted(
        int(f["rgb"].sum()) for f in frames
    )
    with pytest.raises(DataError, match="no dataset manifest"):
        ShardSource(tmp_path / "nowhere")
    (tmp_path / "manifest.json").write_text(
        json.dumps({"shards": [{"file": "a.npz"}], "label_names": ["sky", "road"]})
    )
    with pytest.raises(DataError, match="classes"):
        ShardSource(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"shards": ["a.npz", "b.npz"]}))
    (tmp_path / "b.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="corrupt"):
        ShardSource(tmp_path)
    np.savez_compressed(
        tmp_path / "b.npz", rgb=np.zeros((0, 16, 16, 3), np.uint8), labels=np.zeros((0, 16, 16))
    )
    with pytest.raises(DataError, match="empty"):
        ShardSource(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"shards": []}))
    with pytest.raises(DataError, match="no shards"):
        ShardSource(tmp_path)


# ---- training ----------------------------------------------------------------------------
def test_a_few_steps_reduce_the_loss_on_a_fixed_batch():
    trainer = Trainer(tiny(steps=30, lr=5e-3))
    batch = next(iter(make_loader(trainer.dataset, 8, 0, 1)))
    # Batch statistics (train mode): a few steps are too few for BatchNorm's running ones.
    before = trainer.train_step(batch)["total"]
    for _ in range(24):
        after = trainer.train_step(batch)["total"]
    assert after < 0.5 * before, (before, after)


def _weights(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_resume_is_exact(tmp_path):
    whole = Trainer(tiny(), run_dir=tmp_path / "whole")
    whole.train(10)
    first = Trainer(tiny(), run_dir=tmp_path / "split")
    first.train(6)
    first.save()
    second = Trainer.resume(tmp_path / "split")
    assert second.step == 6
    second.train(4)
    a, b = _weights(whole), _weights(second)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert whole.scheduler.get_last_lr() == second.scheduler.get_last_lr()
    with pytest.raises(ValueError, match="steps"):
        Trainer.resume(tmp_path / "split", steps=99)


def test_runs_saved_before_the_new_options_resume_without_them(tmp_path):
    old = Trainer(tiny(full_resolution=False, iou_weight=0.0), run_dir=tmp_path / "old")
    old.train(2)
    tensors, meta = old.state()
    for key in ("full_resolution", "iou_weight"):  # as an older version saved it
        del meta["train_config"][key]
        meta["model"].pop(key, None)
    ckpt.save(tmp_path / "old" / ckpt.STATE_FILE, tensors, meta)
    resumed = Trainer.resume(tmp_path / "old")
    assert not resumed.config.full_resolution and resumed.config.iou_weight == 0.0
    assert resumed.step == 2


def test_training_beats_a_constant_predictor_and_loads(tmp_path):
    config = tiny(heads="seg", width=8, steps=150, batch_size=8, eval_frames=32, lr=1e-2)
    summary = Trainer(config, run_dir=tmp_path / "run").run()
    frames = collect(SyntheticSource((32, 32), seed=123, style="canonical"), range(32))
    model = perception.load(tmp_path / "run")
    res = evaluate(model, frames)
    assert res["miou"] > constant_baseline(frames) + 0.25, res
    assert summary["final"]["canonical"]["miou"] > 0.3
    assert (tmp_path / "run" / "summary.json").is_file()
    assert perception.load(tmp_path / "run" / "checkpoint.safetensors").predict(
        frames[0]["rgb"]
    ).labels.shape == (32, 32)


# ---- checkpoints -------------------------------------------------------------------------
def test_checkpoint_errors(tmp_path):
    model = build_model(ModelConfig(image_size=(16, 16), width=8))
    path = ckpt.save_model(tmp_path / "m.safetensors", model)
    assert perception.load(path).image_size == (16, 16)
    with pytest.raises(perception.CheckpointError, match="no perception checkpoint"):
        perception.load(tmp_path / "missing.safetensors")
    (tmp_path / "empty").mkdir()
    with pytest.raises(perception.CheckpointError, match="no model.safetensors"):
        perception.load(tmp_path / "empty")
    with pytest.raises(perception.CheckpointError, match="trained on 16x16"):
        perception.load(path, image_size=(32, 32))
    data = path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(perception.CheckpointError, match="corrupt or truncated"):
        perception.load(tmp_path / "cut.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(perception.CheckpointError, match="corrupt or truncated"):
        perception.load(tmp_path / "junk.safetensors")
    tensors, meta = ckpt.read(path)
    meta["model"]["class_names"] = ["sky", "road", "car"]
    ckpt.save(tmp_path / "other.safetensors", tensors, meta)
    with pytest.raises(perception.CheckpointError, match="trained for classes"):
        perception.load(tmp_path / "other.safetensors")
    meta["model"]["class_names"] = list(CLASS_NAMES)
    meta["model"]["width"] = 16
    ckpt.save(tmp_path / "wide.safetensors", tensors, meta)
    with pytest.raises(perception.CheckpointError, match="do not fit"):
        perception.load(tmp_path / "wide.safetensors")
    with pytest.raises(perception.CheckpointError, match="model file"):
        Trainer.resume(path)


def test_save_is_atomic(tmp_path, monkeypatch):
    model = build_model(ModelConfig(image_size=(16, 16), width=8))
    path = ckpt.save_model(tmp_path / "m.safetensors", model)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "save_file", boom)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save_model(path, model)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


# ---- command line, ablation, simulator ----------------------------------------------------
TINY_ARGS = [
    "--source", "synthetic", "--image-size", "32", "32", "--width", "8", "--batch-size", "4",
    "--eval-frames", "4", "--eval-styles", "canonical", "--workers", "0", "--no-tensorboard",
    "--no-progress",
]  # fmt: skip


def test_train_script_perception_subcommand(tmp_path, capsys, monkeypatch):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
    spec = importlib.util.spec_from_file_location("_train_script", path)
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "_train_script", script)  # its dataclasses need it
    spec.loader.exec_module(script)
    run = str(tmp_path / "run")
    assert (
        script.main(
            ["perception", *TINY_ARGS, "--steps", "4", "--run-dir", run, "--minutes", "0.001"]
        )
        == 0
    )
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["step"] >= 1
    assert script.main(["perception", "--resume", run, "--minutes", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["step"] == 4 and summary["finished"]
    assert script.main(["perception", "--source", str(tmp_path / "no-shards")]) == 2
    assert "no dataset manifest" in capsys.readouterr().err


def test_ablation_rows_and_table(tmp_path):
    from perception.ablation import ablation_rows, format_table, run_ablation

    assert ablation_rows(("lighting",)) == ["full", "full-lighting", "off"]
    with pytest.raises(ValueError, match="unknown randomization aspects"):
        ablation_rows(("weather",))
    rows = run_ablation(tiny(steps=2, heads="seg"), ("road",), tmp_path)
    table = format_table(rows)
    assert [r["randomization"] for r in rows] == ["full", "full-road", "off"]
    assert table.count("\n") == 4 and "| full-road |" in table and "+0.000" in table


@pytest.mark.slow
def test_simulator_frames_are_a_function_of_the_index():
    from perception.data import SimSource
    from perception.train import sim_randomization

    a = SimSource((32, 32), "front", "full", seed=4, frames_per_episode=3)
    b = SimSource((32, 32), "front", "full", seed=4, frames_per_episode=3)
    later = a.frame(4)
    first = a.frame(0)  # going back rebuilds the episode
    for k in ("rgb", "labels", "boxes", "box_classes"):
        np.testing.assert_array_equal(b.frame(0)[k], first[k])
        np.testing.assert_array_equal(b.frame(4)[k], later[k])
    assert first["rgb"].shape == (32, 32, 3) and int(first["labels"].max()) < NUM_CLASSES
    assert not np.array_equal(first["rgb"], later["rgb"])
    assert sim_randomization("full-lighting").lighting is False
    assert sim_randomization("canonical+lighting").base == "canonical"
    with pytest.raises(ValueError, match="unknown randomization aspect"):
        sim_randomization("full-weather")
    both = sim_randomization("full-road-camera")
    assert not both.road_texture and both.camera_fov == 0 and both.lighting
    assert sim_randomization("canonical+lighting+post").noise > 0
    with pytest.raises(ValueError, match="'weather' in 'full-road-weather'"):
        sim_randomization("full-road-weather")
    from perception.train import PerceptionConfig, make_source

    config = PerceptionConfig(randomization="full", marking_contrast=0.3)
    assert make_source(config, None, 0).randomization.marking_contrast == 0.3  # training
    assert make_source(config, "canonical", 0).randomization.marking_contrast == 0.0


def test_small_boxes_are_ignored_and_rare_classes_weigh_more():
    from perception.data import to_sample
    from perception.train import balanced_weights

    frame = {
        "rgb": np.zeros((32, 32, 3), np.uint8),
        "labels": np.zeros((32, 32), np.uint8),
        "boxes": np.array([[0, 0, 8, 8], [10, 10, 20, 13], [1, 1, 9, 9]], np.float32),
        "box_classes": np.array([VEHICLE, VEHICLE, ROAD], np.uint8),
    }
    sample = to_sample(frame, min_box_height=4)
    assert int(sample["num_boxes"]) == 1  # the 3 px box is too short, ROAD is no target
    np.testing.assert_array_equal(sample["boxes"][0].numpy(), [0, 0, 8, 8])
    assert int(sample["det_mask"].sum()) == 1
    w = balanced_weights(SyntheticSource((32, 32), seed=0), frames=8)
    assert w.shape == (NUM_CLASSES,) and float(w.min()) == 1.0
    assert w[3] > w[0]  # lane markings (rare) outweigh sky (common)


def test_held_out_styles_by_name_for_evaluation():
    from perception.data import SimSource
    from perception.train import make_source, sim_randomization
    from sim.driving.randomization import HELD_OUT_STYLES

    for name in HELD_OUT_STYLES:
        r = sim_randomization(name)
        assert r.base == name and not r.lighting and not r.road_texture
        assert sim_randomization(f"{name}+lighting").base == name
        assert sim_randomization(f"{name}+lighting").lighting
    config = PerceptionConfig(eval_styles=("canonical", "dusk"), image_size=(32, 32))
    source = make_source(config, "dusk", 5)
    assert isinstance(source, SimSource) and source.image_size == (32, 32)
    with pytest.raises(ValueError, match="unknown randomization"):
        sim_randomization("twilight")


def test_bench_perception_help_runs():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "bench_perception.py"
    out = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "--train-minutes" in out.stdout
