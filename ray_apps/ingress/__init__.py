"""The matching ingress (FastAPI on Ray Serve): it authenticates, routes and scales; the behaviour is in
lfr_core. People (operators, admins, auditors) sign in (`access.py`, `sessions.py`) and read or decide alerts
through the officers' routes (`officers.py`); cameras post frames (`cameras.py`, `live.py`, `frames.py`); the
public reads each deployment's record (`public.py`). The FastAPI app is `app.py`, the Serve deployment
`replica.py`, what the route groups share `context.py`, the HTTP contract `contract.py`, the one error table
`errors.py`; `routing.py` holds the request routers (cameras to the replica that holds their tracks, model
calls to the least busy replica)."""
