"""Join codes, instructor keys and participant ids: random, hard to guess, never sequential.

- A **join code** is what a class reads off the projector and types on a phone: 8 characters
  from a 23-character alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V), so
  23⁸ ≈ 7.8 · 10¹⁰ codes. With a few hundred live classes, a random guess hits one with a
  chance below 10⁻⁸; a code only lets you answer, never see results.
- An **instructor key** is a 256-bit secret (``secrets.token_urlsafe(32)``). Only its SHA-256
  digest is stored; a plain hash is enough because the key is random, not a password.
- A **participant id** is a 128-bit random token. It identifies a browser, not a person.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# Unambiguous on a projector and a phone keyboard: letters and digits minus 0 O 1 I L 2 Z 5 S 8 B U V.
ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CODE_LENGTH = 8
_CODE_RE = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def new_code() -> str:
    """A fresh join code (uniqueness is checked by the store)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str | None:
    """What a student typed, as a join code (upper case, spaces and dashes dropped), or None
    when it cannot be one. Typing a look-alike (o for 0, ...) simply gives no class."""
    if text is None:
        return None
    cleaned = re.sub(r"[\s-]", "", str(text)).upper()
    return cleaned if _CODE_RE.match(cleaned) else None


def pretty_code(code: str) -> str:
    """The code as shown on the projector: ``ACDE-FGHJ`` is easier to read aloud."""
    return f"{code[:4]}-{code[4:]}"


def new_key() -> str:
    return secrets.token_urlsafe(32)


def new_participant_id() -> str:
    return secrets.token_urlsafe(16)


def is_token(text: str | None) -> bool:
    """Whether ``text`` has the shape of a key or participant id (nothing else is looked up)."""
    return bool(text) and bool(_TOKEN_RE.match(str(text)))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str | None, digest: str) -> bool:
    if not key:
        return False
    return hmac.compare_digest(hash_key(str(key)), digest)
