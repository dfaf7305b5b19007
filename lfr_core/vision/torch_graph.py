"""The shipped ONNX graphs as torch modules built from the same weights (issue 29 item 1), for a GPU that has
torch but no onnxruntime-gpu: the float32 graph (`onnx_fp32.float32_model`, every weight dequantized exactly
as the ONNX spec says) is read once and run node by node with torch's own operators, on any device, in fp32
or fp16. No weight is retrained, re-exported or rounded (fp16 aside, which must agree with the CPU float32
graph, `onnx_fp32.check_agreement`).

Only the operators the shipped YuNet, SFace and SCRFD graphs use are implemented, each as the ONNX spec
defines it; any other operator refuses at load, naming it (a new model is then a change here, reviewed, not
a silent approximation). Shape arithmetic (Shape, Gather, Concat of sizes) stays on the host as int64 tensors,
so a GPU run never waits on a device-to-host copy for a size.

`TorchSession` has the slice of onnxruntime's InferenceSession the backends use (`run`, `get_inputs`,
`get_outputs`, `get_providers`), so YuNet, SFace and SCRFD take either; `forward` keeps tensors on the
device for the on-device pipeline (`lfr_core/vision/device_pipeline.py`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from lfr_core.vision.errors import ModelError

if TYPE_CHECKING:
    import torch

Attrs = dict[str, Any]


@dataclass(frozen=True)
class _Node:
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Attrs


@dataclass(frozen=True)
class IOInfo:
    """What onnxruntime's NodeArg tells: a name and a shape (str for a dynamic dimension)."""

    name: str
    shape: list[int | str]


def _pads(attrs: Attrs, spatial: int = 2) -> tuple[list[int], list[int]]:
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", b"NOTSET"):
        raise ModelError(f"torch runtime: auto_pad={attrs['auto_pad']!r} is not implemented")
    pads = list(attrs.get("pads", [0] * 2 * spatial))
    return pads[:spatial], pads[spatial:]


def _symmetric(x: torch.Tensor, attrs: Attrs, value: float = 0.0) -> tuple[torch.Tensor, list[int]]:
    """ONNX pads (begin..., end...) as torch's symmetric padding, padding explicitly where they differ."""
    import torch.nn.functional as functional

    begin, end = _pads(attrs)
    if begin == end:
        return x, begin
    return functional.pad(x, [begin[1], end[1], begin[0], end[0]], value=value), [0, 0]


def _conv(x, w, b=None, *, attrs: Attrs):
    import torch.nn.functional as functional

    x, padding = _symmetric(x, attrs)
    return functional.conv2d(x, w, b, stride=tuple(attrs.get("strides", (1, 1))), padding=tuple(padding),
                             dilation=tuple(attrs.get("dilations", (1, 1))), groups=attrs.get("group", 1))


def _pool(kind: str) -> Callable[..., torch.Tensor]:
    def pool(x, *, attrs: Attrs):
        import torch.nn.functional as functional

        if attrs.get("dilations", (1, 1)) not in ((1, 1), [1, 1]):
            raise ModelError("torch runtime: dilated pooling is not implemented")
        x, padding = _symmetric(x, attrs, float("-inf") if kind == "max" else 0.0)
        kernel, stride = tuple(attrs["kernel_shape"]), tuple(attrs.get("strides", (1, 1)))
        ceil = bool(attrs.get("ceil_mode", 0))
        if kind == "max":
            return functional.max_pool2d(x, kernel, stride, tuple(padding), ceil_mode=ceil)
        return functional.avg_pool2d(x, kernel, stride, tuple(padding), ceil_mode=ceil,
                                     count_include_pad=bool(attrs.get("count_include_pad", 0)))
    return pool


def _batch_norm(x, scale, bias, mean, var, *, attrs: Attrs):
    import torch.nn.functional as functional

    return functional.batch_norm(x, mean, var, scale, bias, False, 0.0, attrs.get("epsilon", 1e-5))


def _gemm(a, b, c=None, *, attrs: Attrs):
    a = a.transpose(0, 1) if attrs.get("transA", 0) else a
    b = b.transpose(0, 1) if attrs.get("transB", 0) else b
    out = (a @ b) * attrs.get("alpha", 1.0)
    return out if c is None else out + c * attrs.get("beta", 1.0)


def _reshape(x, shape, *, attrs: Attrs):
    target = [int(v) for v in shape.tolist()]
    if not attrs.get("allowzero", 0):  # 0 copies the input's dimension
        target = [x.shape[i] if v == 0 else v for i, v in enumerate(target)]
    return x.reshape(target)


def _flatten(x, *, attrs: Attrs):
    axis = attrs.get("axis", 1) % max(x.dim(), 1)
    lead = int(np.prod(x.shape[:axis])) if axis else 1
    return x.reshape(lead, -1)


def _resize(x, roi=None, scales=None, sizes=None, *, attrs: Attrs):
    import torch.nn.functional as functional

    mode = attrs.get("mode", "nearest")
    transform = attrs.get("coordinate_transformation_mode", "half_pixel")
    if not (mode == "nearest" and transform == "asymmetric" and attrs.get("nearest_mode", "round_prefer_floor") == "floor"):
        raise ModelError(f"torch runtime: Resize mode={mode} {transform} is not implemented")
    # nearest, asymmetric, floor: source index floor(dst / scale), what torch's "nearest" computes
    if sizes is not None and sizes.numel():
        return functional.interpolate(x, size=[int(v) for v in sizes.tolist()[2:]], mode="nearest")
    factors = [float(v) for v in scales.tolist()]
    if factors[:2] != [1.0, 1.0]:
        raise ModelError("torch runtime: Resize of the batch or channel axis is not implemented")
    return functional.interpolate(x, scale_factor=factors[2:], mode="nearest")


def _unsqueeze(x, axes=None, *, attrs: Attrs):
    for axis in sorted(int(a) for a in (axes.tolist() if axes is not None else attrs["axes"])):
        x = x.unsqueeze(axis)
    return x


def _gather(x, index, *, attrs: Attrs):
    import torch

    axis = attrs.get("axis", 0)
    if index.dim() == 0:
        return x.select(axis, int(index) % x.shape[axis])
    return torch.index_select(x, axis, (index % x.shape[axis]).to(x.device))


def _slice(x, starts, ends, axes=None, steps=None, *, attrs: Attrs):
    axes_list = [int(a) for a in axes.tolist()] if axes is not None else list(range(len(starts)))
    steps_list = [int(s) for s in steps.tolist()] if steps is not None else [1] * len(axes_list)
    index: list[slice] = [slice(None)] * x.dim()
    for axis, start, end, step in zip(axes_list, starts.tolist(), ends.tolist(), steps_list):
        if step != 1:
            raise ModelError("torch runtime: Slice with a step other than 1 is not implemented")
        size = x.shape[axis]
        index[axis] = slice(max(-size, min(int(start), size)), max(-size, min(int(end), size)))
    return x[tuple(index)]


def _shape(x, *, attrs: Attrs):
    import torch

    return torch.tensor(list(x.shape), dtype=torch.int64)  # host: sizes are arithmetic, not device work


def _concat(*xs, attrs: Attrs):
    import torch

    return torch.cat(xs, dim=attrs["axis"])


def _cast(x, *, attrs: Attrs):
    import torch

    dtype = {onnx.TensorProto.FLOAT: torch.float32, onnx.TensorProto.INT64: torch.int64,
             onnx.TensorProto.FLOAT16: torch.float16, onnx.TensorProto.INT32: torch.int32}.get(attrs["to"])
    if dtype is None:
        raise ModelError(f"torch runtime: Cast to ONNX type {attrs['to']} is not implemented")
    if dtype.is_floating_point and x.is_floating_point():
        return x  # the run's own precision (fp16 runs keep fp16)
    return x.to(dtype)


def _prelu(x, slope, *, attrs: Attrs):
    import torch
    import torch.nn.functional as functional

    per_channel = x.dim() >= 2 and list(slope.shape) == [x.shape[1]] + [1] * (x.dim() - 2)
    if slope.numel() == 1 or per_channel:  # torch's fused kernel: half the time of the general form here
        return functional.prelu(x, slope.reshape(-1))
    return torch.where(x >= 0, x, x * slope)


def _elementwise(op: Callable[[Any, Any], Any]) -> Callable[..., torch.Tensor]:
    def apply(a, b, *, attrs: Attrs):
        if a.device != b.device:  # a host shape value meeting a device tensor: the arithmetic goes to the device
            a, b = (a.to(b.device), b) if b.is_floating_point() else (a, b.to(a.device))
        return op(a, b)
    return apply


def _unary(name: str) -> Callable[..., torch.Tensor]:
    def apply(x, *, attrs: Attrs):
        import torch

        return getattr(torch, name)(x)
    return apply


OPERATORS: dict[str, Callable[..., Any]] = {
    "Conv": _conv, "BatchNormalization": _batch_norm, "Gemm": _gemm, "PRelu": _prelu,
    "MaxPool": _pool("max"), "AveragePool": _pool("avg"), "Reshape": _reshape, "Flatten": _flatten,
    "Transpose": lambda x, *, attrs: x.permute(*attrs["perm"]), "Resize": _resize, "Unsqueeze": _unsqueeze,
    "Gather": _gather, "Slice": _slice, "Shape": _shape, "Concat": _concat, "Cast": _cast,
    "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Exp": _unary("exp"),
    "Add": _elementwise(operator.add), "Sub": _elementwise(operator.sub), "Mul": _elementwise(operator.mul),
    "Div": _elementwise(lambda a, b: a / b if a.is_floating_point() else a.div(b, rounding_mode="trunc")),
    "Dropout": lambda x, *rest, attrs: x, "Identity": lambda x, *, attrs: x,
}


def _attrs(node: onnx.NodeProto) -> Attrs:
    out: Attrs = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, onnx.TensorProto):
            value = numpy_helper.to_array(value)
        elif isinstance(value, bytes):
            value = value.decode()
        out[a.name] = value
    return out


class TorchGraph:
    """An ONNX graph run by torch. Float weights live on `device` in the run's precision; integer constants
    (shapes, axes) stay on the host."""

    def __init__(self, model: onnx.ModelProto | bytes, *, device: str = "cpu", precision: str = "fp32") -> None:
        import torch

        if isinstance(model, bytes):
            model = onnx.load_from_string(model)
        graph = model.graph
        self.device = torch.device(device)
        self.dtype = torch.float16 if precision == "fp16" else torch.float32
        self.constants: dict[str, torch.Tensor] = {}
        for init in graph.initializer:
            self.constants[init.name] = self._constant(numpy_helper.to_array(init))
        self.nodes: list[_Node] = []
        for node in graph.node:
            attrs = _attrs(node)
            if node.op_type == "Constant":
                if "value" not in attrs:
                    raise ModelError("torch runtime: a Constant other than `value` is not implemented")
                self.constants[node.output[0]] = self._constant(np.asarray(attrs["value"]))
                continue
            if node.op_type not in OPERATORS:
                raise ModelError(f"torch runtime: the graph uses ONNX operator {node.op_type} (node {node.name!r}), "
                                 "which this runtime does not implement; use runtime onnxruntime")
            self.nodes.append(_Node(node.op_type, tuple(node.input), tuple(node.output), attrs))
        names = set(self.constants)
        self.inputs = [IOInfo(i.name, [d.dim_value or d.dim_param or "?" for d in i.type.tensor_type.shape.dim])
                       for i in graph.input if i.name not in names]
        self.outputs = [IOInfo(o.name, []) for o in graph.output]
        # Each activation is dropped after the last node that reads it: a batch on a GPU then holds a few layers'
        # activations at a time, not every layer's.
        last_read = {name: i for i, node in enumerate(self.nodes) for name in node.inputs if name}
        kept = names | {o.name for o in self.outputs}
        self._drop_after: list[list[str]] = [[] for _ in self.nodes]
        for name, i in last_read.items():
            if name not in kept:
                self._drop_after[i].append(name)

    def _constant(self, value: np.ndarray) -> torch.Tensor:
        import torch

        tensor = torch.from_numpy(np.array(value))
        if tensor.is_floating_point():
            return tensor.to(self.device, self.dtype)
        return tensor  # integer: a shape, an axis, an index, kept on the host

    def forward(self, *inputs: torch.Tensor) -> list[torch.Tensor]:
        """The graph's outputs (in its order) for `inputs` (in its order), on the graph's device, in its
        precision; float inputs are moved and cast there."""
        import torch

        values: dict[str, torch.Tensor] = dict(self.constants)
        for info, tensor in zip(self.inputs, inputs):
            values[info.name] = tensor.to(self.device, self.dtype) if tensor.is_floating_point() else tensor
        with torch.inference_mode():
            for node, drop in zip(self.nodes, self._drop_after):
                args = [values[name] if name else None for name in node.inputs]
                while args and args[-1] is None:
                    args.pop()
                values[node.outputs[0]] = OPERATORS[node.op](*args, attrs=node.attrs)
                for name in drop:
                    del values[name]
        return [values[o.name] for o in self.outputs]


class TorchSession:
    """The part of an onnxruntime InferenceSession the backends call, over a `TorchGraph`."""

    def __init__(self, model: bytes, *, device: str = "cpu", precision: str = "fp32") -> None:
        import torch

        self.graph = TorchGraph(model, device=device, precision=precision)
        self.device = device
        self.label = f"torch-{torch.__version__.split('+')[0]}/{'cuda' if device.startswith('cuda') else 'cpu'}"

    def get_inputs(self) -> list[IOInfo]:
        return self.graph.inputs

    def get_outputs(self) -> list[IOInfo]:
        return self.graph.outputs

    def get_providers(self) -> list[str]:
        return [self.label]

    def forward(self, *inputs: torch.Tensor) -> list[torch.Tensor]:
        return self.graph.forward(*inputs)

    def run(self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        outputs = self.forward(*[torch.from_numpy(np.ascontiguousarray(feeds[i.name])) for i in self.graph.inputs])
        by_name = {info.name: out for info, out in zip(self.graph.outputs, outputs)}
        wanted = list(output_names) if output_names else [o.name for o in self.graph.outputs]
        return [by_name[name].float().cpu().numpy() if by_name[name].is_floating_point() else by_name[name].cpu().numpy()
                for name in wanted]
