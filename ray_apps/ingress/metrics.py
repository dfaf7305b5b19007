"""The ingress's Prometheus metrics (an admin reads them: their labels name deployments and cameras)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from lfr_core.live.records import FrameOutcome

MAX_CAMERAS_LABELLED = 512  # camera ids come from clients: beyond this many, their series share one label
OTHER_CAMERA = "other"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.frames = Counter("lfr_frames", "Frames processed", ["deployment", "camera"], registry=r)
        self.faces = Counter("lfr_faces", "Faces detected", ["deployment", "camera"], registry=r)
        self.embedded = Counter("lfr_faces_embedded", "Faces embedded (passed the live quality gate)", registry=r)
        self.reused = Counter("lfr_faces_reused", "Faces that continued a settled track and were not embedded "
                              "again (never a hit)", registry=r)
        self.alerts = Counter("lfr_alerts", "Alerts raised", ["deployment"], registry=r)
        self.alert_crops_held = Gauge("lfr_alert_crops_held", "Probe crops of alerts held in PostgreSQL while the "
                                      "object store is down", registry=r)
        self.refused = Counter("lfr_frames_refused", "Frames refused, by reason", ["reason"], registry=r)
        self.dropped = Counter("lfr_frames_dropped", "Frames dropped because the service was behind", registry=r)
        self.batch = Histogram("lfr_batch_size", "Frames per model batch", ["stage"],
                               buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64), registry=r)
        self.latency = Histogram("lfr_latency_seconds", "Time per frame, by stage", ["stage"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75,
                                          1.0, 2.0, 5.0), registry=r)
        self.inflight = Gauge("lfr_frames_inflight", "Frames in progress", registry=r)
        self.tracks = Gauge("lfr_tracks", "Live face tracks held in memory", registry=r)
        self._cameras: set[str] = set()

    def camera_label(self, camera_id: str) -> str:
        if camera_id in self._cameras or len(self._cameras) < MAX_CAMERAS_LABELLED:
            self._cameras.add(camera_id)
            return camera_id
        return OTHER_CAMERA

    def observe(self, deployment: str, camera_id: str, outcome: FrameOutcome, total_s: float) -> None:
        camera = self.camera_label(camera_id)
        self.latency.labels("detect").observe(outcome.detect_s)
        self.batch.labels("detect").observe(outcome.detect_batch)
        if outcome.embed_batches:
            self.latency.labels("embed").observe(outcome.embed_s)
            for size in outcome.embed_batches:
                self.batch.labels("embed").observe(size)
        self.embedded.inc(outcome.embedded)
        self.reused.inc(outcome.reused)
        self.alerts.labels(deployment).inc(len(outcome.alerts))
        self.frames.labels(deployment, camera).inc()
        self.faces.labels(deployment, camera).inc(len(outcome.faces))
        self.latency.labels("total").observe(total_s)
