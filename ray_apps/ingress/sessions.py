"""Signing in and out through the live API, and who is signed in (ray_apps/ingress/access.py checks each)."""

from __future__ import annotations

from fastapi import APIRouter, Form

from lfr_core.identity import people
from ray_apps.ingress.context import Credentials, Ctx, Person
from ray_apps.ingress.contract import NO_NUL, Me, SignedOut, Token, errors

router = APIRouter()


@router.post("/v1/auth/token", summary="Sign in (the platform's local issuer; OAuth2 password form)",
             response_model=Token, responses=errors(401, 403, 404, 422, 503))
async def sign_in(ctx: Ctx, username: str = Form(min_length=1, max_length=63, pattern=NO_NUL),
                  password: str = Form(min_length=1, max_length=1024, pattern=NO_NUL)) -> Token:
    token, lifetime = await ctx.access.sign_in(username, password)
    return Token(access_token=token, expires_in=lifetime)


@router.post("/v1/auth/logout", summary="Sign out: this token is refused everywhere until it expires",
             response_model=SignedOut, responses=errors(401, 422, 503))
async def sign_out(ctx: Ctx, auth: Credentials) -> SignedOut:
    token = await ctx.access.sign_out(auth)
    return SignedOut(refused_until=token.expires_at)


@router.get("/v1/me", summary="Who is signed in, with their roles", response_model=Me,
            responses=errors(401, 403, 503))
async def me(ctx: Ctx, actor: Person) -> Me:
    return Me(name=actor.name, roles=await ctx.db(people.signed_in_roles, actor.name))
