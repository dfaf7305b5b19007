"""API keys for the live service: random tokens shown once, stored only as sha256, each with a role and
(for operators) the one deployment it may act on."""

from __future__ import annotations

import hashlib
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


def revoke(conn: psycopg.Connection, raw_or_hash: str, actor: Actor) -> dict[str, Any]:
    actor.require("admin", "system", to="revoke an API key")
    digest = raw_or_hash if len(raw_or_hash) == 64 and not raw_or_hash.startswith(PREFIX) else key_hash(raw_or_hash)
    with conn.transaction():
        row = conn.execute("UPDATE api_keys SET revoked_at = now() WHERE key_sha256 = %s AND revoked_at IS NULL "
                           "RETURNING name, role", (digest,)).fetchone()
        if row is None:
            raise NotFound("no active API key with that value")
        audit.append(conn, actor=actor.name, role=actor.role, action="apikey.revoke", object_type="api_key",
                     object_id=digest[:16], details=dict(row))
    return row
