"""Who is calling the ingress: a camera, with a key that only posts frames to its one deployment, or a
signed-in person, with a bearer token from the identity provider (lfr_core/identity/tokens.py) whose roles the
database gives (lfr_core/identity/people.py). Both are checked before anything is looked up, and both caches are
bounded, since their keys come from the client.

Only people sign in: a login that is not a member of lfr_person, is disabled, or is a superuser gets no
token, and a token naming one (issued before, or by the force's provider) is refused as no sign-in (401).
A signed-out token (POST /v1/auth/logout) is refused by every replica until it expires: its id is looked
up in the database on every request, never cached as valid."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials

from lfr_core.config import Settings
from lfr_core.deployments import camera_keys as apikeys
from lfr_core.errors import NotSignedIn
from lfr_core.identity import people, sessions, tokens
from lfr_core.identity.model import Actor

Db = Callable[..., Awaitable[Any]]  # runs fn(conn, *args) on the service's connection, in a thread
CACHE_ENTRIES = 4096
WRONG_PASSWORD = "wrong name or password, or the person is disabled"  # one answer, whichever it was


class _Expiring(OrderedDict):
    """A small TTL cache that forgets its oldest entries first."""

    def __init__(self, ttl_s: float) -> None:
        super().__init__()
        self.ttl_s = ttl_s

    def fresh(self, key: str) -> Any:
        hit = self.get(key)
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def keep(self, key: str, value: Any) -> None:
        self[key] = (value, time.monotonic() + self.ttl_s)
        self.move_to_end(key)
        while len(self) > CACHE_ENTRIES:
            self.popitem(last=False)


class Access:
    def __init__(self, settings: Settings, db: Db, cache_s: float) -> None:
        self.settings = settings
        self.db = db
        self._cameras = _Expiring(cache_s)
        self._people = _Expiring(cache_s)
        self._revoked = _Expiring(24 * 3600.0)  # revoked ids seen here; a revocation is never taken back

    async def camera(self, raw: str | None, deployment_id: uuid.UUID) -> apikeys.ApiKey:
        """The camera key, bound to this deployment; an unknown deployment and another one answer alike."""
        if not raw:
            raise HTTPException(401, "missing X-API-Key header (a camera key)", headers={"WWW-Authenticate": "API-Key"})
        digest = apikeys.key_hash(raw)
        key = self._cameras.fresh(digest)
        if key is None:
            key = await self.db(apikeys.verify, raw) or False
            self._cameras.keep(digest, key)
        if not key:
            raise HTTPException(401, "unknown or revoked camera key", headers={"WWW-Authenticate": "API-Key"})
        if key.deployment_id != deployment_id:
            raise HTTPException(403, f"camera key {key.name} is bound to another deployment")
        return key

    def _bearer(self, credentials: HTTPAuthorizationCredentials | None) -> tokens.Verified:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "sign in first: send Authorization: Bearer <token> (POST /v1/auth/token)",
                                headers={"WWW-Authenticate": "Bearer"})
        return tokens.verify(self.settings, credentials.credentials)  # InvalidToken: 401 (ray_apps/ingress/errors.py)

    async def _signed_out(self, token: tokens.Verified) -> bool:
        if token.token_id is None:
            return False
        if self._revoked.fresh(token.token_id):
            return True
        if await self.db(tokens.is_revoked, token.token_id):
            self._revoked.keep(token.token_id, True)
            return True
        return False

    async def _signed_in(self, credentials: HTTPAuthorizationCredentials | None) -> tuple[tokens.Verified, list[str]]:
        """A valid token, not signed out, naming a person who may sign in now, and that person's roles."""
        token = self._bearer(credentials)
        if await self._signed_out(token):
            raise HTTPException(401, "this sign-in token was signed out; sign in again",
                                headers={"WWW-Authenticate": "Bearer"})
        held = self._people.fresh(token.name)
        if held is None:
            held = await self.db(people.signed_in_roles, token.name)  # disabled, or no person: none
            self._people.keep(token.name, held)
        if not held:
            raise HTTPException(401, f"{token.name} may not sign in here (not a person of this platform, or disabled)",
                                headers={"WWW-Authenticate": "Bearer"})
        return token, held

    async def person(self, credentials: HTTPAuthorizationCredentials | None, *roles: str) -> Actor:
        """The signed-in person, in the first of `roles` they hold; 401 without a valid sign-in (no token, a
        signed-out one, or one naming no one who may sign in now), 403 without one of the roles."""
        token, held = await self._signed_in(credentials)
        role = next((r for r in roles if r in held), None) if roles else held[0]
        if role is None:
            raise HTTPException(403, f"{token.name} ({', '.join(held)}) may not do this; it needs the role "
                                     f"{' or '.join(roles)}")
        return Actor(token.name, role)

    async def sign_in(self, username: str, password: str) -> tuple[str, int]:
        """The local issuer: PostgreSQL checks the password of a person who may sign in; the token names them
        (404 when the force's OIDC provider signs people in instead). Any other login (the database
        administrator, a service's) answers as a wrong password does, so this route tests no one else's."""
        if self.settings.identity.jwks_url:
            raise HTTPException(404, "sign in through the force's identity provider")
        if not await self.db(people.may_sign_in, username):
            raise NotSignedIn(WRONG_PASSWORD)
        try:
            conn = await asyncio.to_thread(sessions.connect_as, self.settings, username, password)
        except NotSignedIn as e:
            raise NotSignedIn(WRONG_PASSWORD) from e  # the database's reason would tell which one it was
        conn.close()
        if not await self.db(people.signed_in_roles, username):
            raise HTTPException(403, f"{username} holds no role on this platform")
        return tokens.issue(self.settings, username)

    async def sign_out(self, credentials: HTTPAuthorizationCredentials | None) -> tokens.Verified:
        """Revoke the caller's own token until it expires; 401 for a token that is no sign-in (already
        signed out, expired, naming no person), as on every other route."""
        token, _ = await self._signed_in(credentials)
        await self.db(tokens.revoke, token)
        if token.token_id is not None:
            self._revoked.keep(token.token_id, True)
        return token
