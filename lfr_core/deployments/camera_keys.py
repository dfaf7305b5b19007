"""Camera keys for the live service: random tokens shown once, stored only as sha256, each bound to the one
deployment whose frames it may post. A key does nothing else: people sign in (lfr_core/identity/people.py)."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, NotFound
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting

CAMERA = "camera"
PREFIX = "lfr_"


@dataclass(frozen=True)
class ApiKey:
    name: str
    deployment_id: uuid.UUID


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(conn: psycopg.Connection, name: str, actor: Actor, *, deployment_id: str | uuid.UUID) -> str:
    """A new camera key for one deployment; the raw token is returned once and never stored."""
    actor.require("admin", "system", to="create a camera key")
    if not name.strip():
        raise InvalidInput("a camera key needs a name (the camera or feed that uses it)")
    dep = deployments.get(conn, deployment_id)["id"]
    raw = PREFIX + secrets.token_urlsafe(32)
    with acting(conn, actor):
        conn.execute("INSERT INTO api_keys (key_sha256, name, role, deployment_id) VALUES (%s, %s, %s, %s)",
                     (key_hash(raw), name.strip(), CAMERA, dep))
        audit.append(conn, actor=actor.name, role=actor.role, action="apikey.create", object_type="api_key",
                     object_id=key_hash(raw)[:16], details={"name": name, "role": CAMERA, "deployment_id": str(dep)})
    return raw


def verify(conn: psycopg.Connection, raw: str) -> ApiKey | None:
    """The key's holder, or None for an unknown or revoked key."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    row = conn.execute("SELECT name, deployment_id FROM api_keys WHERE key_sha256 = %s AND revoked_at IS NULL "
                       "AND role = %s", (key_hash(raw), CAMERA)).fetchone()
    conn.rollback()
    return ApiKey(row["name"], row["deployment_id"]) if row else None


def list_keys(conn: psycopg.Connection, actor: Actor, *, include_revoked: bool = False) -> list[dict[str, Any]]:
    """Every key's holder, role, binding and dates, identified by the start of its sha256 (never the key)."""
    actor.require("admin", "system", to="list camera keys")
    rows = conn.execute(
        "SELECT left(key_sha256, 16) AS key_id, name, role, deployment_id, created_at, revoked_at FROM api_keys"
        + ("" if include_revoked else " WHERE revoked_at IS NULL") + " ORDER BY created_at").fetchall()
    conn.rollback()
    return rows


def revoke(conn: psycopg.Connection, key_or_id: str, actor: Actor) -> dict[str, Any]:
    """Revoke by the raw key, its sha256, or the key id `lfr apikey list` shows (the sha256's first 16 hex)."""
    actor.require("admin", "system", to="revoke a camera key")
    if key_or_id.startswith(PREFIX):
        pattern = key_hash(key_or_id)
    elif re.fullmatch(r"[0-9a-f]{16,64}", key_or_id):
        pattern = key_or_id + "%"
    else:
        raise NotFound("no active API key with that value (give the key, its sha256 or its key id)")
    with acting(conn, actor):
        rows = conn.execute("SELECT key_sha256 FROM api_keys WHERE key_sha256 LIKE %s AND revoked_at IS NULL",
                            (pattern,)).fetchall()
        if len(rows) != 1:
            raise NotFound("no active API key with that value" if not rows else "that key id matches several keys")
        digest = rows[0]["key_sha256"]
        row = conn.execute("UPDATE api_keys SET revoked_at = now() WHERE key_sha256 = %s RETURNING name, role",
                           (digest,)).fetchone()
        audit.append(conn, actor=actor.name, role=actor.role, action="apikey.revoke", object_type="api_key",
                     object_id=digest[:16], details=dict(row))
    return row
