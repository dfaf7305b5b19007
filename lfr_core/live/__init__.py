"""The live path in the domain: where a frame becomes an alert (pipeline.py), the deployment's live state
(state.py), an alert on its way to storage and what an outage of storage looks like (alert_storage.py), and
the typed records passed between the steps and between Ray replicas (records.py). No Ray here: Serve, the
bench loop and the tests run it all."""
