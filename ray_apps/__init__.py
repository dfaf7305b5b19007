"""The Ray Serve application: a batched detector and a batched embedder (`models/`), the matching ingress
(`ingress/`, FastAPI) and the pre-scaling around a deployment's window (`scaling/`).

Build it with `ray_apps.app:build_app` (Python or `serve run ray_apps/serve_config.yaml`); `python -m
ray_apps.launch` runs it on a private Ray node for `lfr services up --serve`; `options.py` validates the
deployments' options before anything is deployed."""
