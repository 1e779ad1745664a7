"""Perception networks: a small DeepLab-v3 segmenter, a U-Net baseline, a CenterNet head.

Every network is one :class:`PerceptionNet`: a backbone that turns an RGB image into
features, and one or more heads on those features. ``heads`` picks them:

* ``"seg"``: per-pixel logits over :data:`sim.driving.CLASS_NAMES` (drivable area, lane
  markings, vehicles... in the simulator's label order), upsampled to the input size;
* ``"det"``: a CenterNet-style detector for :data:`DET_CLASSES` (vehicles, pedestrians):
  a centre heatmap per class, box size and sub-cell centre offset, on a stride-4 grid.

Backbones:

* ``"deeplab"``: residual stem to output stride 8, then dilated residual blocks (more
  context without losing resolution) and atrous spatial pyramid pooling (parallel
  atrous convolutions at several rates plus image pooling, DeepLab v3), with the
  v3+ light decoder that fuses stride-4 features and a stride-2 refinement, so thin
  lane markings survive;
* ``"unet"``: a plain three-level U-Net with skip connections, the baseline.

``full_resolution`` (deeplab) adds a last correction of the logits at the input's
resolution, from a 3x3 convolution of the raw pixels: the backbone's stride-2 logits,
upsampled, blur lines and cars a pixel or two wide, which the raw edges put back.

Inputs are float images in [0, 1], (B, 3, H, W) with H and W multiples of 8; a
multi-camera rig is a batch of views through the same weights.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from sim.driving.scene import CLASS_NAMES, NUM_CLASSES, PEDESTRIAN, VEHICLE

# Detector classes as simulator label ids; heatmap channel j is DET_CLASSES[j].
DET_CLASSES: tuple[int, ...] = (VEHICLE, PEDESTRIAN)
ARCHS = ("deeplab", "unet")
HEADS = ("seg", "det")
DET_STRIDE = 4


@dataclass
class ModelConfig:
    """What a checkpoint needs to rebuild its network (saved as JSON beside the weights)."""

    arch: str = "deeplab"
    heads: tuple[str, ...] = ("seg",)
    width: int = 16  # channels of the first stage; later stages are multiples
    image_size: tuple[int, int] = (96, 96)  # (H, W) the network is trained for
    class_names: tuple[str, ...] = CLASS_NAMES
    det_classes: tuple[int, ...] = DET_CLASSES
    aspp_rates: tuple[int, ...] = (2, 4, 6)
    # deeplab: correct the upsampled logits at full resolution from the raw pixels (the
    # module docstring). False for checkpoints saved before the option existed.
    full_resolution: bool = False
    # Boxes shorter than this (pixels) are neither trained nor reported, as KITTI's
    # evaluation ignores boxes under its minimum height.
    min_box_height: float = 0.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.heads = tuple(self.heads)
        self.image_size = tuple(int(s) for s in self.image_size)
        self.class_names = tuple(self.class_names)
        self.det_classes = tuple(int(c) for c in self.det_classes)
        self.aspp_rates = tuple(int(r) for r in self.aspp_rates)
        if self.arch not in ARCHS:
            raise ValueError(f"unknown arch {self.arch!r}; known: {list(ARCHS)}")
        bad = [h for h in self.heads if h not in HEADS]
        if bad or not self.heads or len(set(self.heads)) != len(self.heads):
            raise ValueError(f"heads must be distinct names from {list(HEADS)}, got {self.heads}")
        if self.full_resolution and self.arch != "deeplab":
            raise ValueError("full_resolution refines the deeplab network (unet is full-res)")
        if self.width < 4:
            raise ValueError(f"width must be >= 4, got {self.width}")
        h, w = self.image_size
        if len(self.image_size) != 2 or h < 8 or w < 8 or h % 8 or w % 8:
            raise ValueError(f"image_size must be (H, W), multiples of 8, got {self.image_size}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to_json(self) -> dict:
        return asdict(self)


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    pad = dilation * (k // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def sep_conv_bn(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    """Depthwise-separable 3x3 (atrous when dilation > 1): a ninth of a full conv's cost."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, 1, dilation, dilation=dilation, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU(inplace=True),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Residual(nn.Module):
    """Basic residual block; ``dilation`` widens its view without striding."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride, dilation)
        self.conv2 = nn.Sequential(
            nn.Conv2d(cout, cout, 3, 1, dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.skip(x), inplace=True)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: a 1x1 branch, one atrous branch per rate and an
    image-pooling branch, concatenated and projected (DeepLab v3)."""

    def __init__(self, cin: int, cout: int, rates: tuple[int, ...]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            [conv_bn(cin, cout, 1)] + [sep_conv_bn(cin, cout, r) for r in rates]
        )
        self.pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False), nn.ReLU(inplace=True)
        )
        self.project = conv_bn(cout * (len(rates) + 2), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [b(x) for b in self.branches]
        outs.append(self.pool(x).expand(-1, -1, x.shape[2], x.shape[3]))
        return self.project(torch.cat(outs, 1))


class DeepLabBackbone(nn.Module):
    """Residual encoder to stride 8, dilated blocks, ASPP, a stride-4 decoder (v3+) and
    a stride-2 refinement with the stem's features, so lines a pixel or two wide (lane
    markings) survive. Returns (segmentation features at stride 2, detection features
    at stride 4)."""

    def __init__(self, width: int, rates: tuple[int, ...]) -> None:
        super().__init__()
        w = width
        self.stem = conv_bn(3, w, 3, 2)  # /2: the refinement's low-level features
        self.layer1 = Residual(w, 2 * w, 2)  # /4: the decoder's low-level features
        self.layer2 = Residual(2 * w, 4 * w, 2)  # /8
        self.layer3 = Residual(4 * w, 4 * w, 1, dilation=2)
        self.layer4 = Residual(4 * w, 4 * w, 1, dilation=4)
        self.aspp = ASPP(4 * w, 4 * w, rates)
        self.low = conv_bn(2 * w, w, 1)
        self.fuse = nn.Sequential(sep_conv_bn(5 * w, 4 * w), sep_conv_bn(4 * w, 4 * w))
        self.refine = sep_conv_bn(5 * w, 2 * w)
        self.out_channels = 2 * w
        self.out_stride = 2
        self.det_channels = 4 * w

    @staticmethod
    def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stem = self.stem(x)
        low = self.layer1(stem)
        deep = self.aspp(self.layer4(self.layer3(self.layer2(low))))
        det = self.fuse(torch.cat([self._up(deep, low), self.low(low)], 1))
        seg = self.refine(torch.cat([self._up(det, stem), stem], 1))
        return seg, det


class UNetBackbone(nn.Module):
    """Three pooling levels with skip connections; features come out at stride 1 and
    the detector reads the stride-4 decoder level."""

    def __init__(self, width: int) -> None:
        super().__init__()
        w = width
        self.enc1 = nn.Sequential(conv_bn(3, w), conv_bn(w, w))
        self.enc2 = nn.Sequential(conv_bn(w, 2 * w), conv_bn(2 * w, 2 * w))
        self.enc3 = nn.Sequential(conv_bn(2 * w, 4 * w), conv_bn(4 * w, 4 * w))
        self.mid = nn.Sequential(conv_bn(4 * w, 8 * w), conv_bn(8 * w, 4 * w))
        self.dec3 = nn.Sequential(conv_bn(8 * w, 4 * w), conv_bn(4 * w, 2 * w))
        self.dec2 = nn.Sequential(conv_bn(4 * w, 2 * w), conv_bn(2 * w, w))
        self.dec1 = nn.Sequential(conv_bn(2 * w, w), conv_bn(w, w))
        self.out_channels = w
        self.out_stride = 1
        self.det_channels = 2 * w  # the stride-4 decoder level (dec3's output)

    @staticmethod
    def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        m = self.mid(F.max_pool2d(e3, 2))
        d2 = self.dec3(torch.cat([self._up(m, e3), e3], 1))  # stride 4
        d1 = self.dec2(torch.cat([self._up(d2, e2), e2], 1))
        out = self.dec1(torch.cat([self._up(d1, e1), e1], 1))
        return out, d2


class CenterHead(nn.Module):
    """CenterNet outputs on a feature map: heatmap logits per class, size, offset."""

    def __init__(self, cin: int, num_classes: int, hidden: int = 32) -> None:
        super().__init__()

        def branch(cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, hidden, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, cout, 1)
            )

        self.heatmap = branch(num_classes)
        self.size = branch(2)
        self.offset = branch(2)
        # Start with a heatmap near 0.1 everywhere, as CenterNet does, so the focal loss
        # of the many empty cells does not swamp the first steps.
        nn.init.constant_(self.heatmap[-1].bias, -math.log((1 - 0.1) / 0.1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"heatmap": self.heatmap(x), "size": self.size(x), "offset": self.offset(x)}


# Per-channel statistics the network normalizes its [0, 1] input with.
_MEAN = (0.5, 0.5, 0.5)
_STD = (0.25, 0.25, 0.25)


class PerceptionNet(nn.Module):
    """A backbone with segmentation and/or detection heads (see the module docstring).

    ``forward(x)`` takes floats in [0, 1], (B, 3, H, W), and returns a dict: ``"seg"``
    logits (B, classes, H, W) and/or ``"heatmap"`` (B, len(det_classes), H/4, W/4)
    logits, ``"size"`` and ``"offset"`` (B, 2, H/4, W/4) in grid cells (x, y order).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        if config.arch == "deeplab":
            self.backbone = DeepLabBackbone(config.width, config.aspp_rates)
        else:
            self.backbone = UNetBackbone(config.width)
        det_in = self.backbone.det_channels
        self.pixels = self.full_res = None
        if config.full_resolution and "seg" in config.heads:
            c = config.num_classes
            self.pixels = conv_bn(3, config.width // 2, 3)
            self.full_res = nn.Conv2d(c + config.width // 2, c, 3, 1, 1)
            # Zero: the network starts as the one without it and learns the correction.
            nn.init.zeros_(self.full_res.weight)
            nn.init.zeros_(self.full_res.bias)
        self.seg_head = (
            nn.Conv2d(self.backbone.out_channels, config.num_classes, 1)
            if "seg" in config.heads
            else None
        )
        self.det_head = (
            CenterHead(det_in, len(config.det_classes)) if "det" in config.heads else None
        )
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - self.mean) / self.std
        feats, det_feats = self.backbone(x)
        out: dict[str, torch.Tensor] = {}
        if self.seg_head is not None:
            logits = self.seg_head(feats)
            # A static test: no branch on tensor shapes for torch.compile to guard.
            if self.backbone.out_stride != 1:
                logits = F.interpolate(
                    logits, size=x.shape[2:], mode="bilinear", align_corners=False
                )
            if self.full_res is not None:  # a correction from the raw pixels' edges
                logits = logits + self.full_res(torch.cat([logits, self.pixels(x)], 1))
            out["seg"] = logits
        if self.det_head is not None:
            out.update(self.det_head(det_feats))
        return out


def build_model(config: ModelConfig) -> PerceptionNet:
    if config.num_classes != NUM_CLASSES and "seg" in config.heads:
        # The label table is fixed by the simulator; a model with another one cannot
        # predict in LABELS order.
        raise ValueError(
            f"the model has {config.num_classes} classes but the simulator has {NUM_CLASSES}"
        )
    return PerceptionNet(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---- segmentation loss -----------------------------------------------------------------
def soft_iou_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """One minus the soft Jaccard index (IoU with probabilities for the prediction) of
    each class over the whole batch, averaged over the classes the labels contain.

    Cross-entropy weighs every pixel alike; this weighs every class alike, as mIoU does,
    so the few pixels of lane markings and distant vehicles count as much as the road's
    many (Rahman and Wang 2016; the Lovasz-softmax's cheaper relative)."""
    probs = logits.softmax(1)
    onehot = F.one_hot(labels, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (0, 2, 3)
    inter = (probs * onehot).sum(dims)
    total = onehot.sum(dims)
    union = probs.sum(dims) + total - inter
    present = total > 0
    return (1 - inter[present] / union[present]).mean()


# ---- CenterNet targets, losses and decoding ------------------------------------------
def gaussian_radius(height: float, width: float, min_overlap: float = 0.7) -> float:
    """The largest centre shift that keeps a box's IoU above ``min_overlap`` (CenterNet)."""
    a1, b1 = 1.0, height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * a1 * c1)) / 2
    a2, b2 = 4.0, 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3, b3 = 4 * min_overlap, -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def center_targets(
    boxes, box_classes, image_size: tuple[int, int], det_classes=DET_CLASSES, max_objects=32
) -> dict:
    """CenterNet training targets for one image (NumPy in, NumPy out).

    ``boxes`` (N, 4) x0, y0, x1, y1 in pixels; ``box_classes`` (N,) simulator label ids
    (classes not in ``det_classes`` are ignored). Returns ``heatmap`` (K, h, w), and per
    object slot (``max_objects``): ``index`` into the flattened grid, ``mask``, ``size``
    and ``offset`` in grid cells.
    """
    import numpy as np

    h, w = image_size[0] // DET_STRIDE, image_size[1] // DET_STRIDE
    heat = np.zeros((len(det_classes), h, w), np.float32)
    index = np.zeros(max_objects, np.int64)
    mask = np.zeros(max_objects, np.float32)
    size = np.zeros((max_objects, 2), np.float32)
    offset = np.zeros((max_objects, 2), np.float32)
    channel = {c: j for j, c in enumerate(det_classes)}
    ys, xs = np.mgrid[0:h, 0:w]
    k = 0
    for box, cls in zip(
        np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(box_classes), strict=False
    ):
        j = channel.get(int(cls))
        x0, y0, x1, y1 = (float(v) / DET_STRIDE for v in box)
        bw, bh = x1 - x0, y1 - y0
        if j is None or bw <= 0 or bh <= 0 or k >= max_objects:
            continue
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ix, iy = min(int(cx), w - 1), min(int(cy), h - 1)
        radius = max(0, int(gaussian_radius(bh, bw)))
        sigma = (2 * radius + 1) / 6
        g = np.exp(-((xs - ix) ** 2 + (ys - iy) ** 2) / (2 * sigma * sigma)).astype(np.float32)
        g[np.abs(xs - ix) > radius] = 0
        g[np.abs(ys - iy) > radius] = 0
        np.maximum(heat[j], g, out=heat[j])
        heat[j, iy, ix] = 1.0
        index[k], mask[k] = iy * w + ix, 1.0
        size[k] = (bw, bh)
        offset[k] = (cx - ix, cy - iy)
        k += 1
    return {"heatmap": heat, "index": index, "mask": mask, "size": size, "offset": offset}


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced pixel focal loss, normalized by the number of centres."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    neg = 1 - pos
    pos_loss = (torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = (torch.log(1 - p) * p**2 * (1 - target) ** 4 * neg).sum()
    return -(pos_loss + neg_loss) / pos.sum().clamp(min=1)


def _gather(feature: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) at flattened grid ``index`` (B, M) -> (B, M, C)."""
    b, c = feature.shape[:2]
    flat = feature.view(b, c, -1).permute(0, 2, 1)
    return flat.gather(1, index.unsqueeze(-1).expand(-1, -1, c))


def detection_loss(
    out: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], size_weight: float = 0.1
) -> tuple[torch.Tensor, dict[str, float]]:
    hm = focal_loss(out["heatmap"], targets["heatmap"])
    mask = targets["mask"].unsqueeze(-1)
    n = mask.sum().clamp(min=1)
    size = (
        F.l1_loss(_gather(out["size"], targets["index"]), targets["size"], reduction="none") * mask
    ).sum() / n
    off = (
        F.l1_loss(_gather(out["offset"], targets["index"]), targets["offset"], reduction="none")
        * mask
    ).sum() / n
    total = hm + size_weight * size + off
    return total, {"heatmap": hm.item(), "size": size.item(), "offset": off.item()}


@torch.no_grad()
def decode_centers(
    heatmap_logits: torch.Tensor,
    size: torch.Tensor,
    offset: torch.Tensor,
    det_classes=DET_CLASSES,
    top_k: int = 50,
    threshold: float = 0.3,
) -> list[dict[str, torch.Tensor]]:
    """Boxes from CenterNet outputs: 3x3 peak picking (CenterNet's NMS), the ``top_k``
    best peaks above ``threshold``. Per image: ``boxes`` (N, 4) x0, y0, x1, y1 in input
    pixels, ``scores`` (N,) and ``labels`` (N,) simulator label ids."""
    heat = torch.sigmoid(heatmap_logits)
    peaks = heat * (F.max_pool2d(heat, 3, 1, 1) == heat)
    b, k, h, w = peaks.shape
    ids = torch.as_tensor(det_classes, dtype=torch.long)
    results = []
    for i in range(b):
        scores, flat = peaks[i].reshape(-1).topk(min(top_k, k * h * w))
        keep = scores > threshold
        scores, flat = scores[keep], flat[keep]
        cls, cell = flat // (h * w), flat % (h * w)
        iy, ix = cell // w, cell % w
        off = offset[i].reshape(2, -1)[:, cell]
        wh = size[i].reshape(2, -1)[:, cell].clamp(min=0)
        cx, cy = (ix + off[0]) * DET_STRIDE, (iy + off[1]) * DET_STRIDE
        bw, bh = wh[0] * DET_STRIDE, wh[1] * DET_STRIDE
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)
        results.append({"boxes": boxes, "scores": scores, "labels": ids[cls]})
    return results
