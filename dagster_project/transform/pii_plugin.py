"""dbt-duckdb plugin (dbt/profiles.yml): hands the personal-data key to DuckDB as session variables.

Every connection dbt opens on the warehouse resolves the key (dagster_project/pii_key.py), stops when
the warehouse was built with another key, records the key's fingerprint on first use, and sets the
HMAC's padded keys as the variables the `pii_pseudonym` macro reads. The key is never in SQL text, so
no compiled file, log line or dbt artifact holds it.
"""

from __future__ import annotations

from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

from dagster_project import pii_key
from dagster_project.resources import owner_only


class Plugin(BasePlugin):
    def initialize(self, plugin_config):
        self._key: bytes | None = None

    def _resolve(self) -> bytes:
        if self._key is None:
            self._key = pii_key.resolve_key(Path(self.creds.path))
        return self._key

    def configure_connection(self, conn):
        key = self._resolve()
        owner_only(Path(self.creds.path))  # the warehouse holds personal data in clear
        pii_key.check_key(conn, key, record=True)
        pii_key.set_key_variables(conn, key)

    def configure_cursor(self, cursor):
        pii_key.set_key_variables(cursor, self._resolve())
