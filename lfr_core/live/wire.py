"""The live service's names and wire format, in one place for both ends: the camera client (lfr_ops/feed.py,
the benches) and the Serve application (ray_apps/), which the infrastructure (infra/terraform/ray.tf) and
ray_apps/serve_config.yaml name too (tests/ray_apps/test_wire.py keeps those equal to these)."""

from __future__ import annotations

import struct
from typing import Final

# The Serve application and its deployments.
APP_NAME: Final = "lfr"
DETECTOR: Final = "Detector"
EMBEDDER: Final = "Embedder"
INGRESS: Final = "Ingress"
MODEL_DEPLOYMENTS: Final = (DETECTOR, EMBEDDER)

# Request headers a camera sends.
CAMERA_KEY_HEADER: Final = "X-API-Key"
CAMERA_ID_HEADER: Final = "X-Camera-Id"
CAPTURE_TIME_HEADER: Final = "X-Capture-Time"
# The camera's own losses: a running total, since the feed started, of the frames it read and did not send (it
# was behind), so that the console shows what the camera lost as well as what the service dropped. On every
# posted frame as this header; on the stream as a text message {"not_sent": N} when the total changes (not
# answered: the answers stay one per frame, in order).
NOT_SENT_HEADER: Final = "X-Camera-Not-Sent"
NOT_SENT_FIELD: Final = "not_sent"

# A frame on the WebSocket stream: its capture time (epoch seconds, big-endian double; 0 for none), then the
# image's bytes.
STREAM_TIME: Final = struct.Struct(">d")
