"""Alerts: a prompt for a human officer, never an automated decision. An alert's statuses, the outcomes an
officer decides and what came of an engagement (model.py), and the operations on alerts: raising one durably,
adjudicating, undoing, holds and retention (service.py). Callers import the module they use, e.g.
`from lfr_core.alerts import service as alerts` and then `alerts.adjudicate(...)`; this package re-exports
nothing."""
