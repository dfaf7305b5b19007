"""The model deployments: the batched detector (`detector.py`) and embedder (`embedder.py`), each a Serve
deployment over the face engine (lfr_core/vision/), tuned live through `user_config` (ray_apps/options.py)."""
