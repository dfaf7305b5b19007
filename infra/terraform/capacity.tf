# Sizing from measured cost, so that autoscaling has room to add machines: every model and ingress
# replica asks for one whole CPU (one inference thread each), the load at peak_cameras needs
# `cores` of them at target_cpu_utilisation, and the CPU worker group may grow to hold them all.
# bench/capacity.py computes the same figures for the README's table; a test keeps the two equal.
locals {
  frames_per_second = var.peak_cameras * var.camera_fps
  stage_cores = {
    for stage, ms in var.stage_cpu_ms_per_frame : stage => local.frames_per_second * ms / 1000 / var.target_cpu_utilisation
  }
  stage_replicas = { for stage, cores in local.stage_cores : stage => max(1, ceil(cores)) }

  # On the GPU group each model replica takes half a GPU, so a GPU holds one detector and one embedder;
  # the models' replicas are then bounded by the GPUs the group may grow to.
  gpu_share = 0.5
  gpus_max  = var.gpu_workers.enabled ? var.gpu_workers.max_replicas * var.gpu_workers.gpus_per_worker : 0

  # GPUs the peak load needs, from bench/gpu.py's measured cameras per GPU; null while not measured.
  gpus_needed = var.gpu_cameras_per_gpu == null ? null : ceil(var.peak_cameras / var.gpu_cameras_per_gpu)

  capacity = {
    gpus_needed       = local.gpus_needed
    gpu_figure        = var.gpu_cameras_per_gpu == null ? "not measured" : "measured"
    detector_replicas = var.gpu_workers.enabled ? local.gpus_max : local.stage_replicas.detector
    embedder_replicas = var.gpu_workers.enabled ? local.gpus_max : local.stage_replicas.embedder
    ingress_replicas  = local.stage_replicas.ingress
    model_replicas    = var.gpu_workers.enabled ? local.gpus_max : max(local.stage_replicas.detector, local.stage_replicas.embedder)
    min_replicas      = 1
    # Whole replicas that must fit on the CPU group (the models go to the GPU group when it is on); one
    # CPU per worker is left to the raylet and the Serve proxy.
    cpu_replicas    = local.stage_replicas.ingress + (var.gpu_workers.enabled ? 0 : local.stage_replicas.detector + local.stage_replicas.embedder)
    cpu_workers_max = ceil((local.stage_replicas.ingress + (var.gpu_workers.enabled ? 0 : local.stage_replicas.detector + local.stage_replicas.embedder)) / (var.cpu_workers.cpu - 1))
  }
}
