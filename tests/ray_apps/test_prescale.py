"""Pre-scaling Serve for a deployment's window (ray_apps/scaling/prescale.py) when no Serve application is running."""

from __future__ import annotations


def test_prescale_says_not_running_without_serve(monkeypatch, tmp_path):
    import ray

    from ray_apps.scaling import prescale

    if ray.is_initialized():
        return
    monkeypatch.setenv("LFR_SERVE_RAY_ADDRESS_FILE", str(tmp_path / "none"))
    assert prescale.prescale() == {"serve": "not running"}
    assert prescale.lower() == {"serve": "not running"}
