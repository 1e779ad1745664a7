"""The DQN gradient step written out by hand: forward, backward, gradient clipping and
Adam on the tensors of a :class:`~agents.dqn.network.QNetwork`, without autograd.

The networks are small (MinAtar's has 133k parameters), so torch's per-op machinery --
the autograd graph and engine, ``nn.Module`` calls, ``clip_grad_norm_`` and
``Optimizer.step`` bookkeeping -- costs as much as the arithmetic. The step computes the
same function as the autograd version (Huber loss of the TD error, mean over the batch,
optionally importance-weighted; global-norm clipping as ``clip_grad_norm_``; Adam through
the same fused kernel ``torch.optim.Adam(fused=True)`` runs, on that optimizer's own state,
so checkpoints are unchanged); ``tests/test_dqn.py`` checks the gradients against autograd.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit
from torch import nn

from agents.dqn.network import QNetwork

_conv_backward = torch.ops.aten.convolution_backward.default
_relu_backward = torch.ops.aten.threshold_backward.default  # grad where out > 0, else 0
_huber_backward = torch.ops.aten.huber_loss_backward.default


def _onednn_linear():
    """oneDNN's matmul (``x @ w.T + b``), which picks its kernels by CPU features rather
    than vendor: about 1.6x MKL's sgemm for these shapes on AMD CPUs. Falls back to
    ``addmm`` where torch was built without it."""
    try:
        op = torch.ops.mkldnn._linear_pointwise.default
        x, w = torch.ones(2, 3), torch.ones(4, 3)
        if not torch.equal(op(x, w, None, "none", [], ""), torch.full((2, 4), 3.0)):
            return None
        return op
    except (AttributeError, RuntimeError):
        return None


_LP = _onednn_linear()
_SMALL_CONV = 4096  # patch-matrix entries per sample below which convs run as im2col


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ w.T (+ b)`` for 2-D float32 CPU tensors (any strides)."""
    if _LP is not None and x.device.type == "cpu":
        return _LP(x, w, b, "none", [], "")
    return x.mm(w.t()) if b is None else torch.addmm(b, x, w.t())


@njit(cache=True)
def _im2col(obs, kh, kw, sh, sw, scale, out):  # pragma: no cover - Numba
    """out[b, (c, i, j), (y, x)] = obs[b, c, y*sh + i, x*sw + j] * scale, as float32."""
    B, C = obs.shape[0], obs.shape[1]
    ow = (obs.shape[3] - kw) // sw + 1
    oh = (obs.shape[2] - kh) // sh + 1
    s = np.float32(scale)
    for b in range(B):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    dst = out[b, (c * kh + i) * kw + j]
                    for y in range(oh):
                        src = obs[b, c, y * sh + i]
                        for x in range(ow):
                            dst[y * ow + x] = np.float32(src[x * sw + j]) * s


class Layers:
    """The parameter tensors of a QNetwork in evaluation order (shared, not copied)."""

    def __init__(self, q: QNetwork):
        convs = [m for m in q.torso if isinstance(m, nn.Conv2d)]
        for m in convs:
            if m.padding != (0, 0) or m.dilation != (1, 1) or m.groups != 1:
                raise ValueError("only unpadded, undilated, ungrouped convolutions")
        self.convs = [(m.weight, m.bias, list(m.stride)) for m in convs]
        self.fc = (q.fc.weight, q.fc.bias)
        self.adv = (q.advantage.weight, q.advantage.bias)
        self.value = (q.value.weight, q.value.bias) if q.value is not None else None
        self.hidden = q.hidden
        self.inv_scale = q.inv_scale
        # The order of q.parameters() (the optimizer's order): convs, fc, advantage, value.
        self.params = [p for w_b in self._pairs() for p in w_b]
        own = list(q.parameters())
        if len(own) != len(self.params) or any(
            a is not b for a, b in zip(own, self.params, strict=True)
        ):
            raise ValueError("QNetwork parameters are not in the expected order")

    def _pairs(self):
        yield from ((w, b) for w, b, _ in self.convs)
        yield self.fc
        yield self.adv
        if self.value is not None:
            yield self.value

    def features(self, obs: torch.Tensor, keep: list[torch.Tensor] | None = None):
        """Flat torso output of a uint8 batch. With ``keep`` (the online pass of an update)
        it collects each conv's input -- for a small first conv, its patch matrix -- and
        the last conv's output, for :meth:`Learner._backward`. Inference tensors (acting
        under ``torch.inference_mode``) take the same path."""
        x = None
        if self.convs:
            w, b, stride = self.convs[0]
            co, ci, kh, kw = w.shape
            _, _, H, W = obs.shape
            oh, ow = (H - kh) // stride[0] + 1, (W - kw) // stride[1] + 1
            if ci * kh * kw * oh * ow <= _SMALL_CONV and obs.device.type == "cpu":
                # im2col + batched matmul: on small maps (MinAtar's 10x10) it beats oneDNN's
                # conv, whose per-call setup dominates, and the weight gradient is one more
                # batched matmul (3x cheaper than convolution_backward).
                B = len(obs)
                patches = torch.empty(B, ci * kh * kw, oh * ow)
                _im2col(obs.numpy(), kh, kw, stride[0], stride[1], self.inv_scale, patches.numpy())
                if keep is not None:
                    keep.append(patches)
                x = torch.baddbmm(b.view(1, co, 1), w.view(co, -1).expand(B, -1, -1), patches)
                x = x.view(B, co, oh, ow).relu_()
        start = 0 if x is None else 1
        if x is None:
            x = obs.float()
            if self.inv_scale != 1.0:
                x = x * self.inv_scale
        for w, b, stride in self.convs[start:]:
            if keep is not None:
                keep.append(x)
            x = torch.conv2d(x, w, b, stride).relu_()
        if keep is not None:
            keep.append(x)
        return x.flatten(1)

    def small(self, i: int, x: torch.Tensor) -> bool:
        """Whether conv ``i`` ran as im2col (its kept input is the patch matrix)."""
        return x.dim() == 3

    def head(self, feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Q-values, hidden activations)."""
        h = linear(feat, *self.fc).relu_()
        if self.value is None:
            return torch.addmm(self.adv[1], h, self.adv[0].t()), h
        n = self.hidden
        adv = torch.addmm(self.adv[1], h[:, n:], self.adv[0].t())
        val = torch.addmm(self.value[1], h[:, :n], self.value[0].t())
        return val + adv - adv.mean(dim=1, keepdim=True), h

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(obs))[0]


class Learner:
    """DQN updates of ``q`` towards ``target`` with the optimizer ``opt`` (an Adam over
    ``q.parameters()``). Call inside ``torch.no_grad()``."""

    def __init__(
        self,
        q: QNetwork,
        target: QNetwork,
        opt: torch.optim.Optimizer,
        double: bool,
        max_grad_norm: float,
    ):
        if not isinstance(opt, torch.optim.Adam) or len(opt.param_groups) != 1:
            raise ValueError("the hand-written step needs a one-group torch.optim.Adam")
        self.online = Layers(q)
        self.target = Layers(target)
        self.opt = opt
        self.double = double
        self.max_grad_norm = float(max_grad_norm)
        self._last: tuple | None = None  # (q, y, weights) of the last batch, for loss()
        self._one = torch.ones(())

    def td_targets(self, next_obs, returns, discounts) -> torch.Tensor:
        target_q = self.target(next_obs)
        if self.double:
            best = self.online(next_obs).argmax(1, keepdim=True)
            bootstrap = target_q.gather(1, best).squeeze(1)
        else:
            bootstrap = target_q.amax(1)
        return torch.addcmul(returns, discounts, bootstrap)

    def step(self, obs, actions, returns, discounts, next_obs, weights=None) -> torch.Tensor:
        """One gradient step; returns the TD errors ``y - q`` (for priorities)."""
        y = self.td_targets(next_obs, returns, discounts)
        net = self.online
        acts: list[torch.Tensor] = []
        feat = net.features(obs, acts)
        qs, h = net.head(feat)
        idx = actions[:, None]
        qa = qs.gather(1, idx).squeeze(1)
        self._last = (qa, y, weights)
        # d mean(huber(qa - y) * w) / d qa, by the kernel autograd would run.
        if weights is None:
            if self._one.device != qa.device:  # the grad_output must sit with qa (a GPU)
                self._one = torch.ones((), device=qa.device)
            g = _huber_backward(self._one, qa, y, 1, 1.0)  # reduction "mean"
        else:
            g = _huber_backward(weights * (1.0 / len(qa)), qa, y, 0, 1.0)  # "none"
        dq = torch.zeros_like(qs).scatter_(1, idx, g[:, None])
        grads = self._backward(dq, h, feat, acts)
        if self.max_grad_norm > 0:
            norms = torch._foreach_norm(grads, 2.0)
            total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
            coef = torch.clamp(self.max_grad_norm / (total + 1e-6), max=1.0)
            if coef.item() < 1.0:  # scaling by 1.0 changes nothing: skip it
                torch._foreach_mul_(grads, coef)
        self._adam(grads)
        return y - qa

    def _backward(self, dq, h, feat, acts) -> list[torch.Tensor]:
        net = self.online
        n = net.hidden
        if net.value is None:
            d_adv = dq
            grads_head = [d_adv.t().mm(h), d_adv.sum(0)]
            dh = d_adv.mm(net.adv[0])
        else:
            d_adv = dq - dq.mean(dim=1, keepdim=True)
            d_val = dq.sum(dim=1, keepdim=True)
            grads_head = [
                d_adv.t().mm(h[:, n:]),
                d_adv.sum(0),
                d_val.t().mm(h[:, :n]),
                d_val.sum(0),
            ]
            dh = torch.cat([d_val.mm(net.value[0]), d_adv.mm(net.adv[0])], dim=1)
        dh = _relu_backward(dh, h, 0.0)
        grads_fc = [linear(dh.t(), feat.t()), dh.sum(0)]
        dx = _relu_backward(linear(dh, net.fc[0].t()).view_as(acts[-1]), acts[-1], 0.0)
        grads_conv: list[torch.Tensor] = []
        for i in range(len(net.convs) - 1, -1, -1):
            w, b, stride = net.convs[i]
            x = acts[i]
            first = i == 0
            if net.small(i, x):  # the first conv only: no input gradient
                d = dx.flatten(2)
                grads_conv[:0] = [torch.bmm(d, x.transpose(1, 2)).sum(0).view_as(w), d.sum((0, 2))]
                continue
            dxi, dw, db = _conv_backward(
                dx, x, w, [w.shape[0]], stride, [0, 0], [1, 1], False, [0, 0], 1,
                [not first, True, True],
            )  # fmt: skip
            grads_conv[:0] = [dw, db]
            if not first:
                dx = _relu_backward(dxi, x, 0.0)
        return grads_conv + grads_fc + grads_head  # the order of q.parameters()

    def _adam(self, grads: list[torch.Tensor]) -> None:
        opt = self.opt
        group = opt.param_groups[0]
        params = self.online.params
        states = [opt.state[p] for p in params]
        if not states[0]:
            for p, s in zip(params, states, strict=True):  # as Adam's lazy init (fused)
                s["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                s["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                s["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        steps = [s["step"] for s in states]
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params,
            grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [],
            steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )

    def loss(self) -> torch.Tensor:
        """The last step's loss (mean weighted Huber), computed when asked."""
        if self._last is None:
            return torch.zeros(())
        qa, y, weights = self._last
        loss = torch.nn.functional.huber_loss(qa, y, reduction="none")
        return (loss if weights is None else loss * weights).mean()
