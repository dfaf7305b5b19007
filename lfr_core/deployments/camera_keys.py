"""Camera keys for the live service: random tokens shown once, stored only as sha256, each bound to the one
deployment whose frames it may post. A key does nothing else: people sign in (lfr_core/identity/people.py)."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.deployments import queries
from lfr_core.deployments import service as deployments
from lfr_core.deployments.model import ApiKey
from lfr_core.errors import InvalidInput, NotFound
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting

CAMERA = "camera"
PREFIX = "lfr_"


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
        queries.insert_camera_key(conn, key_hash(raw), name.strip(), CAMERA, dep)
        audit.append(conn, actor=actor.name, role=actor.role, action="apikey.create", object_type="api_key",
                     object_id=key_hash(raw)[:16], details={"name": name, "role": CAMERA, "deployment_id": str(dep)})
    return raw


def verify(conn: psycopg.Connection, raw: str) -> ApiKey | None:
    """The key's holder, or None for an unknown or revoked key."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    return queries.key_holder(conn, key_hash(raw), CAMERA)


def list_keys(conn: psycopg.Connection, actor: Actor, *, include_revoked: bool = False) -> list[dict[str, Any]]:
    """Every key's holder, role, binding and dates, identified by the start of its sha256 (never the key)."""
    actor.require("admin", "system", to="list camera keys")
    return queries.listed_keys(conn, include_revoked=include_revoked)


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
        digests = queries.unrevoked_key_digests(conn, pattern)
        if len(digests) != 1:
            raise NotFound("no active API key with that value" if not digests else "that key id matches several keys")
        digest = digests[0]
        row = queries.revoke_key(conn, digest)
        audit.append(conn, actor=actor.name, role=actor.role, action="apikey.revoke", object_type="api_key",
                     object_id=digest[:16], details=dict(row))
    return row
