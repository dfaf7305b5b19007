"""Operator tooling around the domain library (lfr_core): the `lfr` command line (cli/), the local services it
starts (local_stack/), the demo (demo/) and the camera client (feed.py). Nothing in lfr_core imports it."""
