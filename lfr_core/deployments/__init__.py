"""Deployments: where, when, why and on whose authority live facial recognition may run. The statuses a
deployment passes through (model.py), the request, its checks and the operations on a deployment (service.py),
the camera keys bound to one deployment each (camera_keys.py), and the policy packs a deployment runs under: the
pack files and their validation (policy.py, packs/) and their versions loaded in the database (policy_store.py).
Callers import the module they use, e.g. `from lfr_core.deployments import service as deployments` and then
`deployments.get(...)`; this package re-exports nothing."""
