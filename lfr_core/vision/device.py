"""Where the models run: `vision.device` (cpu, cuda, cuda:N) for every backend, and the start-up check that a
GPU pod can see its GPU.

A replica asked for `cuda` that cannot see a GPU refuses to start (ModelError, a Misconfigured): run silently
on its CPU, it would look healthy and serve a fraction of the frames it was sized for.
"""

from __future__ import annotations

from lfr_core.vision.errors import ModelError


def is_gpu(device: str) -> bool:
    return device.startswith("cuda")


def device_index(device: str) -> int:
    """The GPU ordinal of `cuda:N` (0 for plain `cuda`)."""
    return int(device.split(":", 1)[1]) if ":" in device else 0


def require_device(device: str, backend: str) -> None:
    """Raise ModelError naming the backend and the device when `device` is a GPU this process cannot see."""
    if not is_gpu(device):
        return
    try:
        import torch
    except ImportError as e:  # torch is in the lock; a broken image is an operator's problem, said plainly
        raise ModelError(f"{backend}: LFR_VISION__DEVICE={device} but torch cannot be imported to find the GPU: {e}") from e
    if not torch.cuda.is_available():
        raise ModelError(f"{backend}: LFR_VISION__DEVICE={device} but no CUDA GPU is visible to this process "
                         "(check the pod's nvidia.com/gpu request and driver); refusing to run on the CPU. "
                         "Set LFR_VISION__DEVICE=cpu to run on the CPU on purpose")
    if device_index(device) >= torch.cuda.device_count():
        raise ModelError(f"{backend}: LFR_VISION__DEVICE={device} but only {torch.cuda.device_count()} GPU(s) are "
                         "visible")


def ort_providers(device: str, *, tensorrt: bool = True) -> list[str | tuple[str, dict]]:
    """onnxruntime execution providers for `device`, best first: TensorRT (where this onnxruntime has it and
    `tensorrt`), then CUDA, for a GPU; the CPU provider alone for the CPU. Raises ModelError when a GPU is
    asked for and this onnxruntime has no CUDA provider (the CPU wheel `onnxruntime` instead of
    `onnxruntime-gpu`)."""
    if not is_gpu(device):
        return ["CPUExecutionProvider"]
    import onnxruntime as ort

    available = ort.get_available_providers()
    if "CUDAExecutionProvider" not in available:
        raise ModelError(f"onnxruntime: LFR_VISION__DEVICE={device} but this onnxruntime ({ort.__version__}) has no "
                         f"CUDAExecutionProvider (it has {', '.join(available)}): install onnxruntime-gpu in the "
                         "GPU image, or set LFR_VISION__DEVICE=cpu")
    options = {"device_id": device_index(device)}
    providers: list[str | tuple[str, dict]] = []
    if tensorrt and "TensorrtExecutionProvider" in available:
        providers.append(("TensorrtExecutionProvider", {**options, "trt_engine_cache_enable": True}))
    providers.append(("CUDAExecutionProvider", options))
    return providers


def check_ort_device(session_providers: list[str], device: str, backend: str) -> None:
    """onnxruntime falls back to the CPU provider when the CUDA one fails to load (missing cuDNN, a driver too
    old): for a GPU device the session's first provider must be a GPU one."""
    if is_gpu(device) and session_providers[:1] not in (["TensorrtExecutionProvider"], ["CUDAExecutionProvider"]):
        raise ModelError(f"{backend}: LFR_VISION__DEVICE={device} but onnxruntime loaded {session_providers}: the "
                         "CUDA provider did not load (see onnxruntime's log for the missing library); refusing "
                         "to run on the CPU")
