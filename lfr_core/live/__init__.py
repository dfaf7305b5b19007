"""The live path in the domain: where a frame becomes an alert (pipeline.py), the deployment's live state
(state.py), an alert on its way to storage (outbox.py), and the typed records passed between the
steps and between Ray replicas (records.py). No Ray here: Serve, the bench loop and the tests run it all."""
