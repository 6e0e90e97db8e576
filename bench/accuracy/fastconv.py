"""Faster convolutions on small feature maps for CPU training: same numbers, other kernels.

Why: at proxy resolutions (32 px) the last stages of EfficientNet / MobileNet run on 4x4,
2x2 and 1x1 maps. For those, oneDNN computes the depthwise *weight* gradient with a
per-group GEMM instead of its depthwise kernel: 40-140 ms for one 480-1152 channel layer at
batch 256, more than all the other layers of B0 together (measured with ONEDNN_VERBOSE:
``backward_weights ... x64:gemm:jit``). The input gradient is not affected (it uses
``jit_dw``).

What: the weight gradient of a depthwise conv is, per kernel tap (i, j), the sum over the
batch and the output map of input * output-gradient at that tap's offset. On a small map
that is k*k small multiply-reduces, skipping taps that only ever see padding. It is the
same number, computed differently: the tests compare it with aten's to float tolerance.
The forward and the input gradient stay aten's.

Pointwise and single-pixel convolutions (``use_fast_matmul_convs``). At proxy resolutions
(16 px) most of EfficientNet's MACs are 1x1 convolutions on 1x1 and 2x2 maps, where oneDNN's
convolution reaches about 40 GFLOP/s on one core against 130-145 for the same product as a
matrix multiply (forward and backward, batch 256, channels_last: 8.7 ms against 2.4 ms for a
192 -> 1152 layer). So a 1x1 convolution with stride 1 becomes ``F.linear`` over the
channels-last rows (a view, no copy), and a k x k convolution (any stride, padding k // 2) of a
1 x 1 input map, which only ever multiplies its kernel's centre tap, becomes the same product
with that tap; a depthwise one becomes a per-channel scale. Autograd gives the exact gradients
of those expressions (zero for taps that only see padding). Measured on B0 at 16 px, batch 256,
one thread: 754 -> 1208 images/s; MobileNetV1 824 -> 1929; ResNet-18 668 -> 724.
"""

from __future__ import annotations

import types

import torch
import torch.nn.functional as F
from torch import nn

#: Output maps at most this many elements (4 x 4) take the tap-wise weight gradient.
SMALL_MAP = 16


def depthwise_weight_grad(
    x: torch.Tensor, grad_out: torch.Tensor, kernel: int, stride: int, padding: int
) -> torch.Tensor:
    """d(loss)/d(weight) of ``conv2d(x, weight, stride, padding, groups=C)``, shape (C, 1, k, k)."""
    _, channels, height, width = x.shape
    out_h, out_w = grad_out.shape[-2:]
    grad = x.new_zeros(channels, 1, kernel, kernel)
    for i in range(kernel):
        h0, h1 = _valid(i, height, out_h, stride, padding)
        if h1 < h0:
            continue
        for j in range(kernel):
            w0, w1 = _valid(j, width, out_w, stride, padding)
            if w1 < w0:
                continue
            window = x[
                :,
                :,
                h0 * stride + i - padding : h1 * stride + i - padding + 1 : stride,
                w0 * stride + j - padding : w1 * stride + j - padding + 1 : stride,
            ]
            grad[:, 0, i, j] = (window * grad_out[:, :, h0 : h1 + 1, w0 : w1 + 1]).sum((0, 2, 3))
    return grad


def _valid(tap: int, size_in: int, size_out: int, stride: int, padding: int) -> tuple[int, int]:
    """Output indices whose input position (o * stride + tap - padding) is inside the map."""
    first = max(0, -(-(padding - tap) // stride))
    last = min(size_out - 1, (size_in - 1 + padding - tap) // stride)
    return first, last


class _DepthwiseConv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, stride: int, padding: int) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding = stride, padding
        return F.conv2d(x, weight, None, stride, padding, 1, x.shape[1])

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x, weight = ctx.saved_tensors
        s, p, channels = ctx.stride, ctx.padding, x.shape[1]
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(
                grad_out, x, weight, None, [s, s], [p, p], [1, 1], False, [0, 0], channels, [True, False, False]
            )[0]
        if ctx.needs_input_grad[1]:
            grad_w = depthwise_weight_grad(x, grad_out, weight.shape[-1], s, p)
        return grad_x, grad_w, None, None


def _is_plain_depthwise(module: nn.Module) -> bool:
    return (
        type(module) is nn.Conv2d
        and module.groups > 1
        and module.groups == module.in_channels == module.out_channels
        and module.bias is None
        and module.dilation == (1, 1)
        and module.padding_mode == "zeros"
        and isinstance(module.padding, tuple)
        and module.padding[0] == module.padding[1]
        and module.kernel_size[0] == module.kernel_size[1]
        and module.stride[0] == module.stride[1]
    )


def _mark_tapwise(module: nn.Module) -> None:
    setattr(module, "tapwise_weight_grad", True)  # noqa: B010 (an attribute nn.Module does not declare)
    setattr(module, "forward", types.MethodType(_fast_forward, module))  # noqa: B010


def use_fast_depthwise(model: nn.Module, example: torch.Tensor) -> int:
    """Give the depthwise convs of ``model`` whose output map is small (at ``example``'s size) the
    tap-wise weight gradient; returns how many. Forward results are unchanged."""
    out_sizes: dict[nn.Module, int] = {}
    hooks = [
        m.register_forward_hook(lambda mod, _i, out: out_sizes.__setitem__(mod, out.shape[-1] * out.shape[-2]))
        for m in model.modules()
        if _is_plain_depthwise(m)
    ]
    try:
        with torch.no_grad():
            was_training = model.training
            model.eval()(example[:1])
            model.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    changed = 0
    for module, size in out_sizes.items():
        if size <= SMALL_MAP:
            _mark_tapwise(module)
            changed += 1
    return changed


def _centre_only(module: nn.Conv2d) -> bool:
    """A k x k conv whose 1 x 1 input sees only its centre tap (odd square kernel, padding k // 2)."""
    k = module.kernel_size
    return (
        k[0] == k[1]
        and k[0] % 2 == 1
        and isinstance(module.padding, tuple)
        and module.padding == (k[0] // 2, k[0] // 2)
        and module.dilation == (1, 1)
    )


def _is_matmul_conv(module: nn.Module) -> bool:
    """A plain Conv2d that ``_fast_forward`` can run as a matrix product: ungrouped or depthwise, zero padding."""
    if type(module) is not nn.Conv2d or module.padding_mode != "zeros":
        return False
    depthwise = module.groups == module.in_channels == module.out_channels
    pointwise = module.kernel_size == (1, 1) and module.stride == (1, 1) and module.padding in ((0, 0), 0)
    return (module.groups == 1 or depthwise) and (pointwise or _centre_only(module))


def _rows(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N*H*W, C): a view for channels_last (or 1 x 1) tensors."""
    n, c, h, w = x.shape
    if h == 1 and w == 1:  # its gradient then comes back with contiguous strides too (see _unrows)
        return x.reshape(n, c)
    return x.permute(0, 2, 3, 1).reshape(n * h * w, c)


def _unrows(y: torch.Tensor, n: int, h: int, w: int) -> torch.Tensor:
    """(N*H*W, C) -> (N, C, H, W) in channels_last memory (a view). A 1 x 1 map is returned with
    contiguous strides (the same memory): CPU batch norm takes a channels-last kernel for a tensor
    flagged channels_last, which on 1 x 1 maps is 3.5x slower than its contiguous one (forward and
    backward, 256 x 1152: 5.8 against 1.65 ms)."""
    if h == 1 and w == 1:
        return y.view(n, y.shape[-1], 1, 1)
    return y.view(n, h, w, y.shape[-1]).permute(0, 3, 1, 2)


def _fast_forward(self: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """The conv as a matrix product where ``_is_matmul_conv`` allows it and the map is fit; else the
    tap-wise depthwise weight gradient where ``use_fast_depthwise`` marked the conv; else aten's."""
    n, _, h, w = x.shape
    single_pixel = h == 1 and w == 1
    pointwise = (
        self.kernel_size == (1, 1) and self.stride == (1, 1) and x.is_contiguous(memory_format=torch.channels_last)
    )
    if getattr(self, "matmul_conv", False) and (single_pixel or (pointwise and self.groups == 1)):
        centre = self.kernel_size[0] // 2
        weight = self.weight[:, :, centre, centre]
        if self.groups > 1:  # depthwise on one pixel: a per-channel scale
            y = _rows(x) * weight[:, 0]
            y = y if self.bias is None else y + self.bias
        else:
            y = F.linear(_rows(x), weight, self.bias)
        return _unrows(y, n, h, w)
    if getattr(self, "tapwise_weight_grad", False):
        return _DepthwiseConv2d.apply(x, self.weight, self.stride[0], self.padding[0])
    return self._conv_forward(x, self.weight, self.bias)


def use_fast_matmul_convs(model: nn.Module) -> int:
    """Run ``model``'s pointwise convs, and its convs of 1 x 1 maps, as matrix products (see the
    module docstring); returns how many convs may take that path. Forward results are unchanged
    up to float rounding; depthwise convs given the tap-wise weight gradient keep it on larger maps."""
    changed = 0
    for module in model.modules():
        if _is_matmul_conv(module):
            setattr(module, "matmul_conv", True)  # noqa: B010 (an attribute nn.Module does not declare)
            setattr(module, "forward", types.MethodType(_fast_forward, module))  # noqa: B010
            changed += 1
    return changed
