"""Inference: a frozen perception network behind ``predict(rgb)``.

``predict`` takes camera images as they come from any source (the simulator, a video,
a file): uint8 (H, W, 3) or a batch (N, H, W, 3), at the size the network was trained
for, and returns a :class:`Prediction`: per-pixel class ids in ``sim.driving.LABELS``
order and, for networks with a detection head, boxes. Inference runs in eval mode
without gradients, so the same image always gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from perception.models import PerceptionNet, decode_centers


@dataclass
class Prediction:
    """What :meth:`Perception.predict` returns.

    ``labels``: uint8 class ids, (H, W) for one image or (N, H, W) for a batch; None when
    the network has no segmentation head. ``boxes`` (K, 4) float32 x0, y0, x1, y1
    pixels, ``scores`` (K,) float32 and ``box_classes`` (K,) uint8 label ids, one array
    per image for a batch (lists); None without a detection head.
    """

    labels: np.ndarray | None
    boxes: np.ndarray | list[np.ndarray] | None = None
    scores: np.ndarray | list[np.ndarray] | None = None
    box_classes: np.ndarray | list[np.ndarray] | None = None


class Perception:
    """A trained :class:`PerceptionNet` ready to predict (see :func:`perception.load`)."""

    def __init__(
        self, model: PerceptionNet, score_threshold: float = 0.3, max_boxes: int = 50
    ) -> None:
        self.model = model.eval()
        self.config = model.config
        self.score_threshold, self.max_boxes = score_threshold, max_boxes

    @property
    def image_size(self) -> tuple[int, int]:
        return self.config.image_size

    def _batch(self, rgb) -> tuple[torch.Tensor, bool]:
        if isinstance(rgb, torch.Tensor):
            rgb = rgb.detach().cpu().numpy()
        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8:
            raise ValueError(f"predict takes uint8 RGB images, got dtype {rgb.dtype}")
        single = rgb.ndim == 3
        if single:
            rgb = rgb[None]
        if rgb.ndim != 4 or rgb.shape[-1] != 3:
            raise ValueError(
                f"predict takes (H, W, 3) or (N, H, W, 3) RGB images, got shape {rgb.shape}"
            )
        h, w = self.image_size
        if rgb.shape[1:3] != (h, w):
            raise ValueError(
                f"this model was trained on {h}x{w} images; got {rgb.shape[1]}x{rgb.shape[2]} "
                f"(resize the camera or use a model trained for that size)"
            )
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 255.0
        return x, single

    @torch.inference_mode()
    def logits(self, rgb) -> dict[str, torch.Tensor]:
        """The raw network outputs for ``rgb`` (as in :meth:`predict`)."""
        x, _ = self._batch(rgb)
        return self.model(x)

    @torch.inference_mode()
    def predict(self, rgb) -> Prediction:
        """Class ids (and boxes) for one image (H, W, 3) or a batch (N, H, W, 3), uint8."""
        x, single = self._batch(rgb)
        out = self.model(x)
        labels = None
        if "seg" in out:
            labels = out["seg"].argmax(1).to(torch.uint8).numpy()
            labels = labels[0] if single else labels
        pred = Prediction(labels)
        if "heatmap" in out:
            dets = decode_centers(
                out["heatmap"],
                out["size"],
                out["offset"],
                self.config.det_classes,
                self.max_boxes,
                self.score_threshold,
            )
            if self.config.min_box_height > 0:
                for d in dets:
                    tall = (d["boxes"][:, 3] - d["boxes"][:, 1]) >= self.config.min_box_height
                    for k in ("boxes", "scores", "labels"):
                        d[k] = d[k][tall]
            boxes = [d["boxes"].numpy().astype(np.float32) for d in dets]
            scores = [d["scores"].numpy().astype(np.float32) for d in dets]
            classes = [d["labels"].numpy().astype(np.uint8) for d in dets]
            if single:
                boxes, scores, classes = boxes[0], scores[0], classes[0]
            pred.boxes, pred.scores, pred.box_classes = boxes, scores, classes
        return pred
