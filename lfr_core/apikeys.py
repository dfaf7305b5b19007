"""API keys for the live service: random tokens shown once, stored only as sha256, each with a role and
(for operators) the one deployment it may act on."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from lfr_core import audit, deployments
from lfr_core.errors import InvalidInput, NotFound
from lfr_core.roles import Actor

KEY_ROLES = ("operator", "planner", "authoriser", "admin", "auditor")
PREFIX = "lfr_"


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: str
    deployment_id: uuid.UUID | None

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role)


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(conn: psycopg.Connection, name: str, role: str, actor: Actor, *,
           deployment_id: str | uuid.UUID | None = None) -> str:
    """A new key; the raw token is returned once and never stored."""
    actor.require("admin", "system", to="create an API key")
    if role not in KEY_ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose one of: {', '.join(KEY_ROLES)}")
    if not name.strip():
        raise InvalidInput("an API key needs a name (the person or device that uses it)")
    if role == "operator" and deployment_id is None:
        raise InvalidInput("an operator key must be bound to a deployment (--deployment)")
    dep = deployments.get(conn, deployment_id)["id"] if deployment_id is not None else None
    raw = PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("INSERT INTO api_keys (key_sha256, name, role, deployment_id) VALUES (%s, %s, %s, %s)",
                     (key_hash(raw), name.strip(), role, dep))
        audit.append(conn, actor=actor.name, role=actor.role, action="apikey.create", object_type="api_key",
                     object_id=key_hash(raw)[:16], details={"name": name, "role": role,
                                                            "deployment_id": str(dep) if dep else None})
    return raw


def verify(conn: psycopg.Connection, raw: str) -> ApiKey | None:
    """The key's holder, or None for an unknown or revoked key."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    row = conn.execute("SELECT name, role, deployment_id FROM api_keys WHERE key_sha256 = %s AND revoked_at IS NULL",
                       (key_hash(raw),)).fetchone()
    conn.rollback()
    return ApiKey(row["name"], row["role"], row["deployment_id"]) if row else None


def list_keys(conn: psycopg.Connection, *, include_revoked: bool = False) -> list[dict[str, Any]]:
    """Every key's holder, role, binding and dates, identified by the start of its sha256 (never the key)."""
    rows = conn.execute(
        "SELECT left(key_sha256, 16) AS key_id, name, role, deployment_id, created_at, revoked_at FROM api_keys"
        + ("" if include_revoked else " WHERE revoked_at IS NULL") + " ORDER BY created_at").fetchall()
    conn.rollback()
    return rows


def revoke(conn: psycopg.Connection, key_or_id: str, actor: Actor) -> dict[str, Any]:
    """Revoke by the raw key, its sha256, or the key id `lfr apikey list` shows (the sha256's first 16 hex)."""
    actor.require("admin", "system", to="revoke an API key")
    if key_or_id.startswith(PREFIX):
        pattern = key_hash(key_or_id)
    elif re.fullmatch(r"[0-9a-f]{16,64}", key_or_id):
        pattern = key_or_id + "%"
    else:
        raise NotFound("no active API key with that value (give the key, its sha256 or its key id)")
    with conn.transaction():
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
