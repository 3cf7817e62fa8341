"""Each quarantine reason code, from hand-written files through the real loader and DuckDB."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.ingest.feeds import FEEDS, REASON_CODES
from dagster_project.ingest.loader import ensure_raw_schema, ingest_partition

DAY = date(2025, 3, 2)
HEADER = "order_id,customer_id,channel_id,order_ts,amount,status,updated_at,ship_region,is_referral"
GOOD = "{id},C1,CH01,2025-03-02T10:00:00,100.50,paid,2025-03-02T10:00:00+08:00,华东,false"


def _good(order_id: str) -> str:
    return GOOD.format(id=order_id)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'Asia/Shanghai'")
    ensure_raw_schema(c)
    yield c
    c.close()


def _write(root: Path, name: str, content: bytes) -> None:
    folder = root / "orders" / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


def _ingest(con, root: Path):
    return ingest_partition(con, root, "orders", DAY, datetime(2025, 3, 3, tzinfo=UTC))


def _quarantine(con) -> list[tuple]:
    return con.execute(
        "SELECT line_number, reason_code, reason FROM raw.quarantine ORDER BY source_file, line_number"
    ).fetchall()


CASES = {
    "bad_timestamp": (_good("O2").replace("2025-03-02T10:00:00,", "2025-13-45 25:61:00,", 1), "order_ts"),
    "bad_number": (_good("O2").replace("100.50", "12.345"), "amount"),
    "out_of_range": (_good("O2").replace("100.50", "-3.00"), "amount"),
    "bad_enum": (_good("O2").replace(",false", ",yes"), "is_referral"),
    "missing_value": (_good("O2").replace(",C1,", ",,"), "customer_id"),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_value_reason_names_column_and_value(con, tmp_path, code):
    line, column = CASES[code]
    _write(tmp_path, "a.csv", f"{HEADER}\n{_good('O1')}\n{line}\n{_good('O3')}\n".encode())
    result = _ingest(con, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    [(line_number, reason_code, reason)] = _quarantine(con)
    assert (line_number, reason_code) == (3, code)
    assert column in reason


def test_integer_with_decimals_is_bad_number_not_rounded(con, tmp_path):
    folder = tmp_path / "surveys" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "s.csv").write_text(
        "response_id,customer_id,submitted_at,nps_score,csat_score\n"
        "R1,C1,2025-03-02T10:00:00,9.5,4\nR2,C1,2025-03-02T10:00:00,11,4\nR3,C1,2025-03-02T10:00:00,10,\n"
    )
    result = ingest_partition(con, tmp_path, "surveys", DAY, datetime(2025, 3, 3, tzinfo=UTC))
    assert result.reasons == {"bad_number": 1, "out_of_range": 1}
    assert con.execute("SELECT response_id, nps_score, csat_score FROM raw.surveys").fetchall() == [("R3", 10, None)]


def test_structural_reasons_csv(con, tmp_path):
    lines = [
        HEADER.encode(),
        _good("O1").encode(),
        _good("O2").encode().replace(b"C1", b"C\xff\xfe"),  # not UTF-8
        b"O3,C1,CH01,2025-03-02T10:00:00,1.00,paid",  # too few fields
        b'O4,C1,"CH01,2025-03-02T10:00:00,1.00,paid,2025-03-02T10:00:00,x,false',  # open quote
        _good("O1").encode(),  # duplicate of line 2
        _good("O5").encode(),
        _good("O5").replace("100.50", "100.60").encode(),  # same key, other contents
        b"O6,C1,CH01,2025-03-02T1",  # truncated last line, no final newline
    ]
    _write(tmp_path, "a.csv", b"\n".join(lines))
    result = _ingest(con, tmp_path)
    assert result.rows_read == 8 and result.rows_loaded == 1
    assert [(n, code) for n, code, _ in _quarantine(con)] == [
        (3, "bad_encoding"),
        (4, "malformed_line"),
        (5, "malformed_line"),
        (6, "duplicate_row"),
        (7, "conflicting_key"),
        (8, "conflicting_key"),
        (9, "truncated_line"),
    ]


def test_missing_column_quarantines_every_line(con, tmp_path):
    header = HEADER.replace("amount,", "")
    rows = [_good(f"O{i}").replace("100.50,", "") for i in range(3)]
    _write(tmp_path, "a.csv", ("\n".join([header, *rows]) + "\n").encode())
    result = _ingest(con, tmp_path)
    assert result.reasons == {"missing_column": 3}
    assert all("amount" in reason for _, _, reason in _quarantine(con))


def test_jsonl_and_parquet_and_unreadable(con, tmp_path):
    good = (
        '{"order_id": "J1", "customer_id": "C1", "channel_id": "CH01", "order_ts": "2025-03-02T02:00:00Z",'
        ' "amount": 9.5, "status": "paid", "updated_at": "2025-03-02T02:00:00Z", "is_referral": true}'
    )
    _write(tmp_path, "b.jsonl", f'{good}\n["not", "an object"]\n{good.replace("J1", "J2")}\n{{"order_id": "J3'.encode())
    table = pa.table({c: [v] for c, v in zip(HEADER.split(","), _good("P1").split(","), strict=True)})
    pq.write_table(table, tmp_path / "orders" / DAY.isoformat() / "c.parquet")
    _write(tmp_path, "d.parquet", b"this is not parquet")
    _write(tmp_path, "e.xlsx", b"PK\x03\x04")
    result = _ingest(con, tmp_path)
    by_file = {f.source_file.rsplit("/", 1)[1]: f for f in result.files}
    assert by_file["b.jsonl"].reasons == {"malformed_line": 1, "truncated_line": 1}
    assert by_file["c.parquet"].rows_loaded == 1
    assert by_file["d.parquet"].reasons == {"unreadable_file": 1}
    assert by_file["e.xlsx"].reasons == {"unreadable_file": 1}
    amounts = dict(con.execute("SELECT order_id, CAST(amount AS VARCHAR) FROM raw.orders").fetchall())
    assert amounts == {"J1": "9.50", "J2": "9.50", "P1": "100.50"}


def test_every_reason_code_is_tested_here():
    tested = set(CASES) | {
        "bad_encoding", "malformed_line", "truncated_line", "duplicate_row", "conflicting_key",
        "missing_column", "unreadable_file",
    }
    assert tested == set(REASON_CODES)


def test_naive_timestamp_is_local_time(con, tmp_path):
    _write(tmp_path, "a.csv", f"{HEADER}\n{_good('O1')}\n".encode())
    _ingest(con, tmp_path)
    utc = con.execute("SELECT CAST(timezone('UTC', order_ts) AS VARCHAR) FROM raw.orders").fetchone()[0]
    assert utc == "2025-03-02 02:00:00"


def test_reingest_replaces_partition_exactly(con, tmp_path):
    _write(tmp_path, "a.csv", f"{HEADER}\n{_good('O1')}\n{CASES['bad_enum'][0]}\n".encode())
    _ingest(con, tmp_path)
    cols = ", ".join(c for c in FEEDS["orders"].column_names)
    snapshot = con.execute(f"SELECT {cols}, _source_file, _line_number FROM raw.orders ORDER BY ALL").fetchall()
    _ingest(con, tmp_path)
    again = con.execute(f"SELECT {cols}, _source_file, _line_number FROM raw.orders ORDER BY ALL").fetchall()
    assert snapshot == again
    assert con.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM raw.ingest_log").fetchone()[0] == 1


def test_empty_day_is_recorded(con, tmp_path):
    result = _ingest(con, tmp_path)
    assert result.rows_read == 0 and result.files == []
    assert con.execute("SELECT source_file, rows_read FROM raw.ingest_log").fetchall() == [(None, 0)]


def test_quoted_fields_and_plain_lines_in_one_file_parse_alike(con, tmp_path):
    """Lines without a double quote are split on commas, the others by the CSV field expression:
    a quoted comma, a doubled quote and an empty field must come out the same either way."""
    quoted = '"O2","C1",CH01,2025-03-02T10:00:00,"1,234.00",paid,2025-03-02T10:00:00+08:00,"East ""A"", B",false'
    plain = "O3,C1,CH01,2025-03-02T10:00:00,7.00,paid,2025-03-02T10:00:00+08:00,,false"
    _write(tmp_path, "a.csv", f"{HEADER}\n{_good('O1')}\n{quoted}\n{plain}\n".encode())
    result = _ingest(con, tmp_path)
    # "1,234.00" is one field (kept whole, so it is not an amount with at most two decimals)
    assert (result.rows_read, result.rows_loaded, result.reasons) == (3, 2, {"bad_number": 1})
    assert _quarantine(con)[0][:2] == (3, "bad_number")
    assert "'1,234.00'" in _quarantine(con)[0][2]
    rows = con.execute("SELECT order_id, amount, ship_region FROM raw.orders ORDER BY order_id").fetchall()
    assert [(r[0], str(r[1]), r[2]) for r in rows] == [("O1", "100.50", "华东"), ("O3", "7.00", None)]


def test_quoted_region_with_comma_and_doubled_quote_loads(con, tmp_path):
    line = '"O2",C1,CH01,2025-03-02T10:00:00,5.00,paid,2025-03-02T10:00:00+08:00,"East ""A"", B",false'
    _write(tmp_path, "a.csv", f"{HEADER}\n{line}\n{_good('O3')}\n".encode())
    result = _ingest(con, tmp_path)
    assert (result.rows_read, result.rows_loaded) == (2, 2)
    assert con.execute("SELECT ship_region FROM raw.orders WHERE order_id = 'O2'").fetchall() == [('East "A", B',)]
