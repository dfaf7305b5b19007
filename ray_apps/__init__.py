"""The Ray Serve application: a batched detector, a batched embedder and the matching ingress (FastAPI).

Build it with `ray_apps.app:build_app` (Python or `serve run ray_apps/serve_config.yaml`)."""
