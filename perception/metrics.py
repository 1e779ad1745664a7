"""Segmentation and detection metrics: per-class IoU and mIoU, AP at IoU 0.5.

IoU comes from torchmetrics' ``MulticlassJaccardIndex``. AP50 comes from torchmetrics'
``MeanAveragePrecision(iou_thresholds=[0.5])`` when it can run: it needs ``torchvision``
and one of ``pycocotools`` / ``faster-coco-eval``. Where they are missing (this
environment has neither: torchvision is not installed beside the CPU torch build), a
COCO-protocol implementation here computes the same number: greedy matching by score,
each detection to the best-overlapping unmatched ground truth of its class and image,
and precision interpolated at 101 recall points; classes with no ground truth are left
out of the mean, as COCO does. ``DetectionMetrics.backend`` says which one ran.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence

import numpy as np
import torch
from torchmetrics.classification import MulticlassJaccardIndex
from torchmetrics.utilities.imports import _TORCHVISION_AVAILABLE

from sim.driving.scene import CLASS_NAMES, label_id


def coco_backend() -> str | None:
    """The torchmetrics detection backend that can run here, or None."""
    if not _TORCHVISION_AVAILABLE:
        return None
    for name in ("faster_coco_eval", "pycocotools"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


class SegmentationMetrics:
    """Accumulates per-pixel predictions; ``compute()`` gives per-class IoU and mIoU.

    A class that appears neither in the predictions nor in the targets has no IoU (NaN)
    and is left out of every mean.
    """

    def __init__(self, class_names: Sequence[str] = CLASS_NAMES) -> None:
        self.class_names = tuple(class_names)
        self.jaccard = MulticlassJaccardIndex(
            len(self.class_names), average="none", zero_division=math.nan
        )

    def update(self, pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray) -> None:
        """``pred`` and ``target``: class ids of the same shape, (N, H, W) or (H, W)."""
        pred, target = torch.as_tensor(pred).long(), torch.as_tensor(target).long()
        if pred.shape != target.shape:
            raise ValueError(
                f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ"
            )
        self.jaccard.update(pred.reshape(-1), target.reshape(-1))

    def per_class(self) -> dict[str, float]:
        iou = self.jaccard.compute()
        return {name: float(v) for name, v in zip(self.class_names, iou, strict=False)}

    def miou(self, classes: Sequence[str] | None = None) -> float:
        """Mean IoU over ``classes`` (names; all classes when None), ignoring NaNs."""
        per = self.per_class()
        names = self.class_names if classes is None else classes
        values = [per[self.class_names[label_id(n)]] for n in names]
        values = [v for v in values if not math.isnan(v)]
        return float(np.mean(values)) if values else math.nan

    def compute(self, classes: Sequence[str] | None = None) -> dict[str, float]:
        out = {f"iou/{k}": v for k, v in self.per_class().items()}
        out["miou"] = self.miou()
        if classes is not None:
            out["miou_subset"] = self.miou(classes)
        return out

    def reset(self) -> None:
        self.jaccard.reset()


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), xyxy."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    area_a = (a[:, 2] - a[:, 0]).clip(0) * (a[:, 3] - a[:, 1]).clip(0)
    area_b = (b[:, 2] - b[:, 0]).clip(0) * (b[:, 3] - b[:, 1]).clip(0)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clip(0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _average_precision(
    preds: list[dict[str, np.ndarray]],
    targets: list[dict[str, np.ndarray]],
    cls: int,
    iou_threshold: float,
) -> float:
    """COCO AP of one class at one IoU threshold (101-point interpolation)."""
    n_gt = sum(int((t["labels"] == cls).sum()) for t in targets)
    if n_gt == 0:
        return math.nan
    records = []  # (score, is_true_positive)
    for p, t in zip(preds, targets, strict=False):
        pm, tm = p["labels"] == cls, t["labels"] == cls
        boxes, scores, gts = p["boxes"][pm], p["scores"][pm], t["boxes"][tm]
        order = np.argsort(-scores, kind="stable")
        iou = box_iou(boxes[order], gts)
        taken = np.zeros(len(gts), bool)
        for row, i in enumerate(order):
            best, best_iou = -1, iou_threshold
            for j in range(len(gts)):
                if not taken[j] and iou[row, j] >= best_iou:
                    best, best_iou = j, iou[row, j]
            if best >= 0:
                taken[best] = True
            records.append((float(scores[i]), best >= 0))
    if not records:
        return 0.0
    records.sort(key=lambda r: -r[0])
    tp = np.cumsum([r[1] for r in records], dtype=np.float64)
    fp = np.cumsum([not r[1] for r in records], dtype=np.float64)
    recall = tp / n_gt
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # the precision envelope
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    interp = np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)
    return float(interp.mean())


class DetectionMetrics:
    """AP at IoU 0.5 per class and their mean, over accumulated images.

    ``update(preds, targets)``: lists with one dict per image; ``preds`` have ``boxes``
    (N, 4) xyxy pixels, ``scores`` (N,), ``labels`` (N,) simulator label ids; ``targets``
    have ``boxes`` and ``labels``.
    """

    def __init__(self, classes: Sequence[int], iou_threshold: float = 0.5) -> None:
        self.classes = tuple(int(c) for c in classes)
        self.iou_threshold = iou_threshold
        self.backend = coco_backend() or "simarena-coco"
        self._preds: list[dict[str, np.ndarray]] = []
        self._targets: list[dict[str, np.ndarray]] = []

    @staticmethod
    def _numpy(d: dict, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
        out = {k: np.asarray(torch.as_tensor(d[k]).detach().cpu()) for k in keys}
        out["boxes"] = out["boxes"].reshape(-1, 4).astype(np.float64)
        out["labels"] = out["labels"].astype(np.int64).reshape(-1)
        return out

    def update(self, preds: Sequence[dict], targets: Sequence[dict]) -> None:
        if len(preds) != len(targets):
            raise ValueError(f"{len(preds)} predictions for {len(targets)} targets")
        for p, t in zip(preds, targets, strict=False):
            p = self._numpy(p, ("boxes", "scores", "labels"))
            p["scores"] = p["scores"].astype(np.float64).reshape(-1)
            if not len(p["boxes"]) == len(p["scores"]) == len(p["labels"]):
                raise ValueError("a prediction's boxes, scores and labels differ in length")
            self._preds.append(p)
            self._targets.append(self._numpy(t, ("boxes", "labels")))

    def compute(self) -> dict[str, float]:
        """``ap50/<class name>`` per class and ``ap50`` (mean over classes with ground truth)."""
        if coco_backend() is not None:
            per = self._compute_torchmetrics()
        else:
            per = {
                c: _average_precision(self._preds, self._targets, c, self.iou_threshold)
                for c in self.classes
            }
        out = {f"ap50/{CLASS_NAMES[c]}": v for c, v in per.items()}
        present = [v for v in per.values() if not math.isnan(v)]
        out["ap50"] = float(np.mean(present)) if present else math.nan
        return out

    def _compute_torchmetrics(self) -> dict[int, float]:
        from torchmetrics.detection import MeanAveragePrecision

        metric = MeanAveragePrecision(
            iou_thresholds=[self.iou_threshold], class_metrics=True, backend=self.backend
        )

        def t(d: dict, keys: tuple[str, ...]) -> dict[str, torch.Tensor]:
            out = {k: torch.as_tensor(d[k]) for k in keys}
            out["boxes"] = out["boxes"].float()
            return out

        metric.update(
            [t(p, ("boxes", "scores", "labels")) for p in self._preds],
            [t(g, ("boxes", "labels")) for g in self._targets],
        )
        res = metric.compute()
        per = {c: math.nan for c in self.classes}
        for c, v in zip(
            res["classes"].reshape(-1).tolist(), res["map_per_class"].reshape(-1), strict=False
        ):
            if c in per and float(v) >= 0:
                per[c] = float(v)
        return per

    def reset(self) -> None:
        self._preds.clear()
        self._targets.clear()
