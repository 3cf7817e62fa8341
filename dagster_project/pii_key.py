"""The key of the personal-data pseudonyms (issue 18): HMAC-SHA256 under SALESMP_PII_KEY, or a
random key generated into an owner-only file beside the warehouse. Not yet wired into dbt or
`salesmp run` (see the branch report)."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

DEV_KEY = "salesmp-dev-key-not-for-production"
KEY_FILE_NAME = "pii.key"


class PiiKeyError(RuntimeError):
    pass


def _dev_mode_allowed() -> bool:
    return os.environ.get("SALESMP_PII_DEV_MODE") in {"demo", "test"}


def resolve_key(warehouse: Path) -> bytes:
    """The key: SALESMP_PII_KEY, else the file beside the warehouse (created 0600 on first use)."""
    value = os.environ.get("SALESMP_PII_KEY")
    if value:
        if value == DEV_KEY and not _dev_mode_allowed():
            raise PiiKeyError(
                "SALESMP_PII_KEY is the development default, which is refused outside `make demo` "
                "and the tests; set a secret key or unset it to generate one beside the warehouse."
            )
        return value.encode()
    path = Path(warehouse).parent / KEY_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def fingerprint(key: bytes) -> str:
    """A value stored with the warehouse to detect a changed key; reveals nothing of the key."""
    return hashlib.sha256(b"salesmp-pii-key-fingerprint|" + key).hexdigest()[:16]


def hmac_pads(key: bytes) -> tuple[str, str]:
    """The HMAC inner and outer padded keys (RFC 2104) in hex, for the SQL pii_pseudonym macro."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    return (bytes(b ^ 0x36 for b in padded).hex(), bytes(b ^ 0x5C for b in padded).hex())
