"""Ed25519 keys kept as PEM files (the audit checkpoint signer, the local sign-in issuer): read, or in the
embedded setup made on first use, 0600, with the public key beside them."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lfr_core.errors import InvalidInput


def ed25519_private_key(private: Path, public: Path, *, may_create: bool, missing: str) -> Ed25519PrivateKey:
    """The key at `private`. Without one, `may_create` makes it: written whole to a temporary file and
    linked into place, so two processes starting at once both end up with the one that won (a second key
    would leave whatever the first signed unverifiable); otherwise InvalidInput(`missing`)."""
    if not private.exists():
        if not may_create:
            raise InvalidInput(missing)
        private.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        tmp = private.with_name(f".{private.name}.{os.getpid()}")
        tmp_public = public.with_name(f".{public.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        tmp_public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))
        try:
            os.link(tmp, private)
        except FileExistsError:
            tmp_public.unlink()
        else:
            os.replace(tmp_public, public)
            return key
        finally:
            tmp.unlink()
    loaded = serialization.load_pem_private_key(private.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InvalidInput(f"{private} holds a {type(loaded).__name__}, not an Ed25519 private key")
    return loaded
