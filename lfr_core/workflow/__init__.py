"""The deployment's workflow: the DAG tasks' library functions (tasks.py), the approval of a watchlist version
for a deployment (approval.py), cancelling a deployment and purging its lists (cancel.py) and the periodic
sweeps (sweeps.py). Callers import the module they use, e.g. `from lfr_core.workflow import tasks as
orchestration` and then `orchestration.run_planner(...)`; this package re-exports nothing. No Airflow or Ray
here: the triggerer's trigger is airflow_plugins/lfr_triggers.py."""
