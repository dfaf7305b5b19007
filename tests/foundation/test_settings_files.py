"""Secrets as files: on Kubernetes the DSN and the S3 key come from a mounted Secret volume
(LFR_SECRETS_DIR, files named like the variables), never from the process environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from lfr_core.config import get_settings


@pytest.fixture()
def fresh_settings():
    get_settings.cache_clear()
    yield get_settings
    get_settings.cache_clear()


def test_secret_files_fill_nested_settings(tmp_path: Path, monkeypatch, fresh_settings) -> None:
    (tmp_path / "LFR_DB__DSN").write_text("postgresql://lfr:pw@db.internal:5432/lfr?sslmode=verify-full")
    (tmp_path / "LFR_S3__SECRET_KEY").write_text("s3-secret-from-file")
    monkeypatch.setenv("LFR_SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("LFR_S3__SECRET_KEY", raising=False)
    monkeypatch.setenv("LFR_S3__CA_FILE", "/etc/lfr/ca/ca.crt")
    settings = fresh_settings()
    assert settings.db.dsn.get_secret_value().startswith("postgresql://lfr:pw@db.internal")
    assert settings.s3.secret_key.get_secret_value() == "s3-secret-from-file"
    assert str(settings.s3.ca_file) == "/etc/lfr/ca/ca.crt"


def test_without_a_secrets_dir_the_defaults_stand(monkeypatch, fresh_settings) -> None:
    monkeypatch.delenv("LFR_SECRETS_DIR", raising=False)
    monkeypatch.delenv("LFR_S3__SECRET_KEY", raising=False)
    assert fresh_settings().s3.secret_key.get_secret_value() == "lfr-secret-key"
