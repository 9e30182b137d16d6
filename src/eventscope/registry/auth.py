"""Who may do what: HTTP Basic users with hashed passwords, bearer tokens, and roles.

Three roles, each including the one before: ``read`` (every ``GET``, lookups and
compatibility checks), ``write`` (registering schemas), ``admin`` (deleting, changing
levels and modes).  A users file (TOML) lists them::

    [users.ci]
    password = "scrypt:16384:8:1:…"   # eventscope registry hash-password
    role = "write"

    [tokens.deploy-bot]
    sha256 = "9f86d0…"                # printf %s "$TOKEN" | sha256sum
    role = "admin"

Passwords are kept as scrypt hashes (:func:`hashlib.scrypt`, the standard library's
memory-hard function), tokens as SHA-256 digests (a token is random, long and needs no
stretching).  A verified ``Authorization`` header is remembered by its digest, so the
deliberately slow scrypt runs once per credential, not once per request.

Anonymous requests get the ``anonymous`` role, or nothing (401).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import tomllib
from pathlib import Path

ROLES = ("read", "write", "admin")
_SCRYPT = (2**14, 8, 1)  # n, r, p: OWASP's minimum for scrypt
_REMEMBERED = 1024


class UsersFileError(ValueError):
    """A users file that cannot be read, naming the file and the entry."""


def hash_password(password: str) -> str:
    """``scrypt:n:r:p:salt:hash`` for a users file."""
    n, r, p = _SCRYPT
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p)
    return ":".join(
        [
            "scrypt",
            str(n),
            str(r),
            str(p),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def _password_matches(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split(":")
    computed = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


def allows(role: str | None, needed: str) -> bool:
    return role is not None and ROLES.index(role) >= ROLES.index(needed)


class Access:
    """The roles of a registry's users and tokens, and of anonymous requests."""

    def __init__(
        self,
        passwords: dict[str, tuple[str, str]],
        tokens: dict[str, str],
        anonymous: str | None = None,
    ) -> None:
        self.passwords = passwords  # user -> (scrypt hash, role)
        self.tokens = tokens  # SHA-256 hex of a token -> role
        self.anonymous = anonymous
        self._remembered: dict[str, str] = {}  # digest of a verified header -> role
        self._lock = threading.Lock()

    def role(self, authorization: str | None) -> str | None:
        """The role an ``Authorization`` header (or its absence) grants; ``None``: none."""
        if not authorization:
            return self.anonymous
        key = hashlib.sha256(authorization.encode()).hexdigest()
        with self._lock:
            if key in self._remembered:
                return self._remembered[key]
        role = self._verify(authorization)
        if role is not None:
            with self._lock:
                if len(self._remembered) >= _REMEMBERED:
                    self._remembered.pop(next(iter(self._remembered)))
                self._remembered[key] = role
        return role

    def _verify(self, authorization: str) -> str | None:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return self.tokens.get(hashlib.sha256(credentials.strip().encode()).hexdigest())
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(credentials.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        entry = self.passwords.get(user)
        if entry is None or not _password_matches(password, entry[0]):
            return None
        return entry[1]


def load_access(path: Path | str | None, anonymous: str | None) -> Access:
    """The users and tokens of ``path`` (none without a file), and the anonymous role."""
    if anonymous is not None and anonymous not in ROLES:
        raise UsersFileError(f"anonymous role {anonymous!r} is not one of {', '.join(ROLES)}")
    if path is None:
        return Access({}, {}, anonymous)
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsersFileError(f"{path}: cannot read the users file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsersFileError(f"{path}: not TOML: {exc}") from None
    passwords: dict[str, tuple[str, str]] = {}
    for name, entry in _table(data, "users", path).items():
        where = f"{path}: users.{name}"
        hashed = entry.get("password")
        if (
            not isinstance(hashed, str)
            or len(hashed.split(":")) != 6
            or not hashed.startswith("scrypt:")
        ):
            raise UsersFileError(
                f"{where}.password: a hash from `eventscope registry hash-password` is required"
            )
        passwords[name] = (hashed, _role(entry, where))
    tokens: dict[str, str] = {}
    for name, entry in _table(data, "tokens", path).items():
        where = f"{path}: tokens.{name}"
        digest = entry.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64:
            raise UsersFileError(f"{where}.sha256: the token's SHA-256, 64 hex digits, is required")
        tokens[digest.lower()] = _role(entry, where)
    return Access(passwords, tokens, anonymous)


def _table(data: dict[str, object], name: str, path: Path) -> dict[str, dict[str, object]]:
    table = data.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise UsersFileError(f"{path}: [{name}.NAME] tables are expected")
    return table  # type: ignore[return-value]


def _role(entry: dict[str, object], where: str) -> str:
    role = entry.get("role")
    if role not in ROLES:
        raise UsersFileError(f"{where}.role: one of {', '.join(ROLES)} is required")
    return str(role)
