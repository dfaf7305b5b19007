"""`python -m ray_apps.scaling MIN_REPLICAS [--warm]`: keep at least MIN_REPLICAS of each model deployment
(and warm them), then print what was done as one JSON line (lfr_core.live.scaling.Scaled). The deployment DAG
runs it at the window's edges (dags/lfr_deployment.py); a failure exits non-zero with the reason on stderr."""

from __future__ import annotations

import argparse
import json

from lfr_core.live.scaling import ScaleRequest
from ray_apps.scaling.prescale import scale


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ray_apps.scaling", description=__doc__)
    parser.add_argument("min_replicas", type=int)
    parser.add_argument("--warm", action="store_true", help="send each model deployment one request first")
    args = parser.parse_args(argv)
    print(json.dumps(scale(ScaleRequest(args.min_replicas, warm=args.warm))), flush=True)


if __name__ == "__main__":
    main()
