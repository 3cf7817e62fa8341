"""Dagster's SQLite event log, writing a batch of asset events in one transaction.

A range run (a backfill of N days) materializes each raw feed for N partitions, and Dagster stores
one materialization event per partition. The stock SQLite storage opens, commits (fsync) and closes
its databases for every event - about 30 ms each here, minutes for a two-year backfill. Dagster
hands those events over as one batch when `DAGSTER_EVENT_BATCH_SIZE` is set; this storage then
writes the batch with one transaction on the run's database and one on the index database, doing
per event exactly what `SqliteEventLogStorage.store_event` does. Anything else is stored one by one.

`salesmp run` writes a `dagster.yaml` selecting this class for a new DAGSTER_HOME (same files and
layout as the default SQLite storage, so the UI reads them as usual).
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._serdes import ConfigurableClassData


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> BatchedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        asset_events = all(e.is_dagster_event and e.dagster_event_type in ASSET_EVENTS for e in events)
        if len(events) < 2 or not asset_events or len({e.run_id for e in events}) != 1:
            super().store_event_batch(events)  # one by one
            return
        statements = [self.prepare_insert_event(e) for e in events]
        with self.run_connection(events[0].run_id) as conn:
            for statement in statements:
                conn.execute(statement)
        # Mirrored in the cross-run index database, as store_event does for asset events.
        with self.index_transaction() as conn:
            for event, statement in zip(events, statements, strict=True):
                with db_result(conn, statement) as result:
                    event_id = result.inserted_primary_key[0]
                self._store_asset_event_tags(conn, [event], [event_id])
                self._store_asset_event(conn, event, event_id)
