"""Scaling the Serve application around a deployment's window: the Ray calls (`prescale.py`, the local Serve
app) and the KubeRay ones (`kuberay.py`, on Kubernetes), applying what lfr_core/live/scaling.py decides.
The deployment DAG runs them as `python -m ray_apps.scaling` (`__main__.py`), so it imports nothing of Ray."""
