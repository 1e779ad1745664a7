"""Inference: a frozen perception network behind ``predict(rgb)``.

``predict`` takes camera images as they come from any source (the simulator, a video,
a file): uint8 (H, W, 3) or a batch (N, H, W, 3), at the size the network was trained
for, and returns a :class:`Prediction`: per-pixel class ids in ``sim.driving.LABELS``
order and, for networks with a detection head, boxes. Inference runs in eval mode
without gradients, so the same image always gives the same answer.

Predictions run on an inference copy of the network (:func:`inference_copy`): BatchNorm
folded into the convolutions, channels-last memory for oneDNN, and optionally compiled
by ``torch.compile``; outputs equal the module's to float rounding.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

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


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """Fold every BatchNorm that follows a convolution in a ``nn.Sequential`` into that
    convolution (in place; eval-mode statistics), dropping the BatchNorm."""
    for name, child in module.named_children():
        if isinstance(child, nn.Sequential):
            layers: list[nn.Module] = []
            for layer in child:
                after_conv = bool(layers) and isinstance(layers[-1], nn.Conv2d)
                if isinstance(layer, nn.BatchNorm2d) and after_conv:
                    layers[-1] = fuse_conv_bn_eval(layers[-1], layer)
                else:
                    layers.append(layer)
            child = nn.Sequential(*layers)
            setattr(module, name, child)
        fold_batchnorm(child)
    return module


def inference_copy(model: PerceptionNet, compile: bool = False) -> nn.Module:
    """A copy of ``model`` for inference: a snapshot of its weights with BatchNorm folded
    into the convolutions, in channels-last memory (what oneDNN's convolutions want;
    about 1.5x the module's frames/s at batch 1 on one core). ``compile``: also
    ``torch.compile`` it with frozen weights (a further 1.2x to 1.3x, after a compile of
    tens of seconds on first use, cached on disk after that)."""
    net = fold_batchnorm(copy.deepcopy(model).eval()).to(memory_format=torch.channels_last)
    if any(isinstance(m, nn.BatchNorm2d) for m in net.modules()):
        raise ValueError("a BatchNorm2d the inference copy could not fold (not after a conv)")
    if compile:
        # freezing: weights become constants, so convolutions fuse with their ReLUs.
        net = torch.compile(net, dynamic=False, options={"freezing": True})
    return net


class Perception:
    """A trained :class:`PerceptionNet` ready to predict (see :func:`perception.load`).

    Predictions come from :func:`inference_copy`, a snapshot of the weights taken here
    (build a new Perception after training the model further); ``optimize=False`` runs
    ``model`` itself, ``compile=True`` compiles the copy.
    """

    def __init__(
        self,
        model: PerceptionNet,
        score_threshold: float = 0.3,
        max_boxes: int = 50,
        optimize: bool = True,
        compile: bool = False,
    ) -> None:
        self.model = model.eval()
        self.config = model.config
        self.score_threshold, self.max_boxes = score_threshold, max_boxes
        self._net: nn.Module = inference_copy(model, compile) if optimize else model

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
        # NHWC bytes are already channels-last: the permuted view needs no copy.
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float() / 255.0
        return x, single

    @torch.inference_mode()
    def logits(self, rgb) -> dict[str, torch.Tensor]:
        """The raw network outputs for ``rgb`` (as in :meth:`predict`)."""
        x, _ = self._batch(rgb)
        return self._net(x)

    @torch.inference_mode()
    def predict(self, rgb) -> Prediction:
        """Class ids (and boxes) for one image (H, W, 3) or a batch (N, H, W, 3), uint8."""
        x, single = self._batch(rgb)
        out = self._net(x)
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
