"""The feed contract: every landing-zone feed, its columns, types, rules and key.

This module is the single place the contract lives in code. The README's feed contract
(docs/feed_contract.md) describes the same thing for people; the loader, the raw table DDL,
the generator and the tests all read the column lists from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# Reason codes of raw.quarantine, in the order they are tested: the first that applies wins.
REASON_CODES: tuple[str, ...] = (
    "unreadable_file",
    "missing_column",
    "bad_encoding",
    "truncated_line",
    "malformed_line",
    "missing_value",
    "bad_timestamp",
    "bad_number",
    "out_of_range",
    "bad_enum",
    "duplicate_row",
    "conflicting_key",
)

FILE_FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")


@dataclass(frozen=True)
class Column:
    """One contract column.

    kind is one of: text, enum, timestamp, date, month, int, money, number, bool.
    money is DECIMAL(18,2) with at most two decimals; number is a DOUBLE; month is YYYY-MM.
    """

    name: str
    kind: str = "text"
    required: bool = False
    enum: tuple[str, ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    min_exclusive: bool = False

    @property
    def sql_type(self) -> str:
        return {
            "text": "VARCHAR",
            "enum": "VARCHAR",
            "timestamp": "TIMESTAMPTZ",
            "date": "DATE",
            "month": "DATE",
            "int": "BIGINT",
            "money": "DECIMAL(18,2)",
            "number": "DOUBLE",
            "bool": "BOOLEAN",
        }[self.kind]


@dataclass(frozen=True)
class Feed:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    has_updated_at: bool = field(default=False)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


ZERO = Decimal(0)
SUB_TYPES = (
    "exhibition",
    "showroom",
    "field_visit",
    "website",
    "wecom_community",
    "head_distributor",
    "growth_distributor",
    "agent",
    "cross_industry",
    "ecommerce",
    "live_commerce",
    "vertical_platform",
    "referral",
)

FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        Feed(
            "customers",
            (
                Column("customer_id", required=True),
                Column("customer_type", "enum", enum=("b2b", "b2c")),
                Column("name"),
                Column("phone"),
                Column("email"),
                Column("region"),
                Column("industry"),
                Column("signup_ts", "timestamp"),
                Column("updated_at", "timestamp", required=True),
            ),
            key=("customer_id",),
            description="Customer master records; a changed customer arrives again.",
            has_updated_at=True,
        ),
        Feed(
            "channels",
            (
                Column("channel_id", required=True),
                Column("channel_name"),
                Column("channel_type", "enum", required=True, enum=("direct", "partner", "platform")),
                Column("sub_type", "enum", enum=SUB_TYPES),
                Column("region"),
                Column("authorized_regions"),
                Column("status", "enum", enum=("active", "paused", "terminated")),
                Column("updated_at", "timestamp", required=True),
            ),
            key=("channel_id",),
            description="Daily snapshot of the channel master.",
            has_updated_at=True,
        ),
        Feed(
            "channel_activity",
            (
                Column("activity_date", "date", required=True),
                Column("channel_id", required=True),
                Column("visits", "int", min_value=ZERO),
                Column("avg_visit_seconds", "number", min_value=ZERO),
                Column("inquiries", "int", min_value=ZERO),
                Column("carts", "int", min_value=ZERO),
                Column("spend", "money", min_value=ZERO),
            ),
            key=("activity_date", "channel_id"),
            description="Daily traffic and spend per channel.",
        ),
        Feed(
            "leads",
            (
                Column("lead_id", required=True),
                Column("channel_id", required=True),
                Column(
                    "stage",
                    "enum",
                    required=True,
                    enum=("created", "qualified", "proposal", "won", "lost"),
                ),
                Column("stage_ts", "timestamp", required=True),
                Column("customer_id"),
                Column("industry"),
            ),
            key=("lead_id", "stage"),
            description="One row per lead stage reached.",
        ),
        Feed(
            "orders",
            (
                Column("order_id", required=True),
                Column("customer_id", required=True),
                Column("channel_id", required=True),
                Column("order_ts", "timestamp", required=True),
                Column("amount", "money", required=True, min_value=ZERO, min_exclusive=True),
                Column("status", "enum", required=True, enum=("paid", "refunded", "cancelled")),
                Column("updated_at", "timestamp", required=True),
                Column("ship_region"),
                Column("is_referral", "bool"),
            ),
            key=("order_id",),
            description="Orders; a refund or cancellation arrives again with the new status.",
            has_updated_at=True,
        ),
        Feed(
            "surveys",
            (
                Column("response_id", required=True),
                Column("customer_id", required=True),
                Column("channel_id"),
                Column("submitted_at", "timestamp", required=True),
                Column("nps_score", "int", required=True, min_value=ZERO, max_value=Decimal(10)),
                Column("csat_score", "int", min_value=Decimal(1), max_value=Decimal(5)),
                Column("comment"),
            ),
            key=("response_id",),
            description="NPS / CSAT survey answers.",
        ),
        Feed(
            "complaints",
            (
                Column("ticket_id", required=True),
                Column("customer_id", required=True),
                Column("channel_id"),
                Column("opened_at", "timestamp", required=True),
                Column("first_response_at", "timestamp"),
                Column("resolved_at", "timestamp"),
                Column(
                    "category",
                    "enum",
                    enum=("quality", "delivery", "service", "billing", "other"),
                ),
                Column("severity", "enum", enum=("low", "medium", "high")),
                Column("updated_at", "timestamp", required=True),
            ),
            key=("ticket_id",),
            description="Customer-voice tickets; a ticket arrives again when answered and when resolved.",
            has_updated_at=True,
        ),
        Feed(
            "sales_targets",
            (
                Column("month", "month", required=True),
                Column("channel_id", required=True),
                Column("revenue_target", "money", min_value=ZERO),
                Column("new_customers_target", "int", min_value=ZERO),
            ),
            key=("month", "channel_id"),
            description="Monthly revenue and new-customer targets per channel.",
        ),
    )
}

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_source_file", "VARCHAR"),
    ("_line_number", "BIGINT"),
    ("_partition_date", "DATE"),
    ("_ingested_at", "TIMESTAMPTZ"),
)

QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("feed", "VARCHAR"),
    ("partition_date", "DATE"),
    ("source_file", "VARCHAR"),
    ("line_number", "BIGINT"),
    ("reason_code", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("raw_record", "VARCHAR"),
    ("_ingested_at", "TIMESTAMPTZ"),
)

INGEST_LOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("feed", "VARCHAR"),
    ("partition_date", "DATE"),
    ("source_file", "VARCHAR"),
    ("file_format", "VARCHAR"),
    ("rows_read", "BIGINT"),
    ("rows_loaded", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("extra_columns", "VARCHAR"),
    ("_ingested_at", "TIMESTAMPTZ"),
)


def raw_table_ddl(feed: Feed) -> str:
    cols = [f"{c.name} {c.sql_type}" for c in feed.columns]
    cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS raw.{feed.name} (\n    " + ",\n    ".join(cols) + "\n)"


def raw_schema_ddl() -> list[str]:
    """Every statement that creates the raw schema (idempotent)."""
    stmts = ["CREATE SCHEMA IF NOT EXISTS raw"]
    stmts += [raw_table_ddl(f) for f in FEEDS.values()]
    for table, cols in (("quarantine", QUARANTINE_COLUMNS), ("ingest_log", INGEST_LOG_COLUMNS)):
        body = ",\n    ".join(f"{n} {t}" for n, t in cols)
        stmts.append(f"CREATE TABLE IF NOT EXISTS raw.{table} (\n    {body}\n)")
    return stmts
