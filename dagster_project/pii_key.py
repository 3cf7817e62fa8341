"""The key of the personal-data pseudonyms.

Names, phones and e-mails leave staging as HMAC-SHA256 pseudonyms under a secret key that is never in
the repository: `SALESMP_PII_KEY`, or, when it is unset, a random key generated on the first run into
`pii.key` beside the warehouse (owner-only). The key reaches DuckDB as two session variables set by
the dbt-duckdb plugin (transform/pii_plugin.py), so it is never written into compiled SQL, logs or
dbt artifacts. A fingerprint of the key is stored in the warehouse (`salesmp_meta.pii_key`): a run
with another key stops instead of mixing pseudonyms of two keys, unless told to re-key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from dagster_project.errors import UserError
from dagster_project.sql import table_exists

# Known, public values: refused as keys outside the demo's and the tests' own fixtures.
DEV_KEY = "salesmp-dev-key-not-for-production"
OLD_DEV_SALT = "salesmp-dev-salt-not-for-production"
KEY_FILE_NAME = "pii.key"
MIN_KEY_CHARS = 16
META_TABLE = "salesmp_meta.pii_key"
# Session variables the pii_pseudonym macro reads (hex of the HMAC's padded keys).
IPAD_VARIABLE = "salesmp_pii_ipad"
OPAD_VARIABLE = "salesmp_pii_opad"


class PiiKeyError(UserError):
    pass


def _dev_mode_allowed() -> bool:
    return os.environ.get("SALESMP_PII_DEV_MODE") in {"demo", "test"}


def key_file(warehouse: Path) -> Path:
    return Path(warehouse).parent / KEY_FILE_NAME


def resolve_key(warehouse: Path) -> bytes:
    """The key: SALESMP_PII_KEY, else the file beside the warehouse (created 0600 on first use)."""
    if os.environ.get("SALESMP_PII_SALT"):
        raise PiiKeyError(
            "SALESMP_PII_SALT is no longer read: personal data is now pseudonymised with a keyed hash; "
            "unset it and set SALESMP_PII_KEY to a secret (or leave that unset to generate a key beside "
            "the warehouse)."
        )
    value = os.environ.get("SALESMP_PII_KEY")
    if value:
        if value in {DEV_KEY, OLD_DEV_SALT} and not _dev_mode_allowed():
            raise PiiKeyError(
                "SALESMP_PII_KEY is the development default written in this repository, which anyone can "
                "read; set a secret key of your own, or unset it to generate one beside the warehouse."
            )
        if len(value) < MIN_KEY_CHARS and not _dev_mode_allowed():
            raise PiiKeyError(
                f"SALESMP_PII_KEY has {len(value)} characters; use a random secret of at least "
                f"{MIN_KEY_CHARS} (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)."
            )
        return value.encode()
    path = key_file(warehouse)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PiiKeyError(
            f"The PII key file {path} can be read by other users (mode {mode:04o}); "
            f"make it owner-only with `chmod 600 {path}`."
        )
    key = path.read_text().strip()
    if len(key) < MIN_KEY_CHARS:
        raise PiiKeyError(f"The PII key file {path} holds {len(key)} characters; it needs at least {MIN_KEY_CHARS}.")
    return key.encode()


def fingerprint(key: bytes) -> str:
    """A value stored with the warehouse to detect a changed key; reveals nothing of the key."""
    return hashlib.sha256(b"salesmp-pii-key-fingerprint|" + key).hexdigest()[:16]


def hmac_pads(key: bytes) -> tuple[str, str]:
    """The HMAC inner and outer padded keys (RFC 2104) in hex, for the SQL pii_pseudonym macro."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    return (bytes(b ^ 0x36 for b in padded).hex(), bytes(b ^ 0x5C for b in padded).hex())


def rekey_requested() -> bool:
    return os.environ.get("SALESMP_PII_REKEY") == "1"


def stored_fingerprint(con) -> str | None:
    """The fingerprint recorded in the warehouse `con` is connected to, None before the first run."""
    schema, table = META_TABLE.split(".")
    exists = table_exists(con, schema, table)
    if not exists:
        return None
    row = con.execute(f"SELECT fingerprint FROM {META_TABLE} ORDER BY recorded_at DESC LIMIT 1").fetchone()
    return row[0] if row else None


def changed_key_error(stored: str, current: str) -> PiiKeyError:
    return PiiKeyError(
        f"The PII key differs from the one this warehouse was built with (fingerprint {current}, "
        f"recorded {stored}); its pseudonyms would mix two keys. Restore the old key, or re-key every "
        "pseudonym on purpose with `salesmp run --rekey`."
    )


def check_key(con, key: bytes, *, record: bool) -> None:
    """Stop when the warehouse holds another key's fingerprint (unless re-keying); record it if asked."""
    current = fingerprint(key)
    stored = stored_fingerprint(con)
    if stored == current:
        return
    if stored is not None and not rekey_requested():
        raise changed_key_error(stored, current)
    if record:
        con.execute("CREATE SCHEMA IF NOT EXISTS salesmp_meta")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (fingerprint VARCHAR NOT NULL, "
            "recorded_at TIMESTAMP WITH TIME ZONE NOT NULL)"
        )
        con.execute(f"INSERT INTO {META_TABLE} VALUES (?, now())", [current])


def set_key_variables(con, key: bytes) -> None:
    ipad, opad = hmac_pads(key)  # hex only: safe to inline
    con.execute(f"SET VARIABLE {IPAD_VARIABLE} = '{ipad}'")
    con.execute(f"SET VARIABLE {OPAD_VARIABLE} = '{opad}'")


def preflight(warehouse: Path, *, tz: str) -> None:
    """Resolve the key and compare it with the warehouse's, before any work: one sentence if refused."""
    from dagster_project.resources import connect_duckdb

    key = resolve_key(warehouse)
    if not Path(warehouse).exists():
        return
    con = connect_duckdb(Path(warehouse), tz=tz, memory_limit="256MB", threads=1, read_only=True)
    try:
        check_key(con, key, record=False)
    finally:
        con.close()
