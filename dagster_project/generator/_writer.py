"""Landing-zone files of one feed: format, column order, extra columns, and the injected defects.

Clean lines of CSV and JSONL files are built with pyarrow string kernels over a whole day at once;
only the few defective lines are touched one by one (their number is bounded by the defect rate).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_project.generator._text import INDUSTRIES, join
from dagster_project.ingest.feeds import FEEDS, FILE_FORMATS, REASON_CODES, Feed

NUMERIC_KINDS = ("int", "money", "number")
TIME_KINDS = ("timestamp", "date", "month")
LINE_KINDS = frozenset({"bad_encoding", "truncated_line", "malformed_line"})
FILE_KINDS = frozenset({"missing_column", "unreadable_file"})
# kinds that need one clean row of the file (the first and the last line are never used)
ROW_KINDS = frozenset(
    {
        "missing_value",
        "bad_timestamp",
        "bad_number",
        "out_of_range",
        "bad_enum",
        "bad_encoding",
        "malformed_line",
        "duplicate_row",
        "conflicting_key",
    }
)
BAD_TIME = {
    "timestamp": (
        "2025-13-45 25:61:00",
        "31/12/2025",
        "yesterday",
        "2025-02-30T10:00:00",
        "2025-06-01T24:30:00",
    ),
    "date": ("2025-13-45", "31/12/2025", "yesterday", "2025-02-30"),
    "month": ("2025-13", "13/2025", "next month", "2025-00"),
}
BAD_NUMBER = {
    "money": ("12.345", "12,5元", "abc", "1.2.3"),
    "int": ("9.5", "ten", "12abc"),
    "number": ("abc", "12,5", "1.2.3"),
}
BAD_ENUM = {
    "customer_type": ("vip", "enterprise"),
    "channel_type": ("online", "offline"),
    "sub_type": ("tv", "newspaper"),
    ("channels", "status"): ("closed", "deleted"),
    ("orders", "status"): ("PAID", "shipped", "pending"),
    "stage": ("negotiation", "contacted"),
    "is_referral": ("yes", "maybe"),
    "category": ("misc", "refund"),
    "severity": ("urgent", "critical"),
}
# invalid UTF-8 byte strings (GBK-encoded Chinese and a stray BOM); all bytes >= 0x80
BAD_BYTES = ("华东".encode("gbk"), "张伟".encode("gbk"), b"\xff\xfe", "质量问题".encode("gbk"))
ID_COLUMN = {
    "customers": ("customer_id", "C"),
    "channels": ("channel_id", "CH"),
    "channel_activity": ("channel_id", "CH"),
    "leads": ("lead_id", "L"),
    "orders": ("order_id", "O"),
    "surveys": ("response_id", "R"),
    "complaints": ("ticket_id", "T"),
    "sales_targets": ("channel_id", "CH"),
}
MAX_EXTRA_FILES = 2  # per kind, feed and day (missing_column and unreadable_file files)
MIN_EXPOSURE = 30  # a file counts as at least this many rows for the defect rate (small feeds)


def _money_plus_one(v: str | None) -> str:
    return f"{Decimal(v or '1.00') + Decimal('1.00'):.2f}"


def _next_of(values: tuple[str, ...]) -> Callable[[str | None], str]:
    return lambda v: values[(values.index(v) + 1) % len(values)] if v in values else values[0]


# conflicting_key: the column changed in the copy and how (the result is a different valid value)
CONFLICT: dict[str, tuple[str, Callable[[str | None], str]]] = {
    "customers": ("name", lambda v: (v or "客户") + "（更新）"),
    "channels": ("channel_name", lambda v: (v or "渠道") + "（旧）"),
    "channel_activity": ("visits", lambda v: str(int(v or 0) + 1)),
    "leads": ("industry", _next_of(INDUSTRIES)),
    "orders": ("amount", _money_plus_one),
    "surveys": ("comment", lambda v: (v or "") + "。"),
    "complaints": ("severity", _next_of(("low", "medium", "high"))),
    "sales_targets": ("new_customers_target", lambda v: str(int(v or 0) + 1)),
}

for _b in BAD_BYTES:
    assert min(_b) >= 0x80
    try:
        _b.decode("utf-8")
        raise AssertionError(_b)
    except UnicodeDecodeError:
        pass


def applicable_kinds(feed: Feed) -> list[str]:
    kinds = {"unreadable_file", "missing_column", "bad_encoding", "truncated_line", "malformed_line"}
    kinds |= {"missing_value", "duplicate_row", "conflicting_key"}
    if any(c.kind in TIME_KINDS and c.required for c in feed.columns):
        kinds.add("bad_timestamp")
    if any(c.kind in NUMERIC_KINDS for c in feed.columns):
        kinds.add("bad_number")
    if any(c.min_value is not None or c.max_value is not None for c in feed.columns):
        kinds.add("out_of_range")
    if any(c.kind in ("enum", "bool") for c in feed.columns):
        kinds.add("bad_enum")
    return [k for k in REASON_CODES if k in kinds]


class DefectScheduler:
    """How many defects of which kind go into each file of a feed.

    The count follows defect_rate x rows (at least MIN_EXPOSURE rows per file, and with a carried
    remainder, so small feeds get their share too). The kinds are dealt in rounds: each round is a
    shuffled bag of every applicable kind, so every kind occurs before any repeats, in no fixed
    pattern. A kind that does not fit the file (e.g. a line defect in a Parquet file) stays in the
    bag for a later file.
    """

    def __init__(self, feed: Feed, rate: float, rng: np.random.Generator) -> None:
        self.kinds = applicable_kinds(feed)
        self.rate = rate
        self.rng = rng
        self.bag: list[str] = []
        self.acc = 0.0

    def _deal(self) -> None:
        self.bag += [self.kinds[i] for i in self.rng.permutation(len(self.kinds))]

    def plan(self, n: int, fmt: str) -> list[str]:
        if self.rate <= 0 or n == 0:
            return []
        self.acc += self.rate * max(n, MIN_EXPOSURE) * self.rng.uniform(0.5, 1.5)
        k = int(self.acc)
        self.acc -= k
        out: list[str] = []
        rows_left = max(0, (n - 2) // 2)
        truncated = False
        extra_files = {k: MAX_EXTRA_FILES for k in FILE_KINDS}

        def fits(kind: str) -> bool:
            if kind in LINE_KINDS and fmt == "parquet":
                return False
            if kind in FILE_KINDS and extra_files[kind] < 1:
                return False
            if kind == "truncated_line" and (truncated or n < 3):
                return False
            return not (kind in ROW_KINDS and rows_left < 1)

        for _ in range(k):
            if not any(fits(kind) for kind in self.bag):
                self._deal()
            chosen = next((i for i, kind in enumerate(self.bag) if fits(kind)), None)
            if chosen is None:
                break
            kind = self.bag.pop(chosen)
            out.append(kind)
            rows_left -= kind in ROW_KINDS
            truncated |= kind == "truncated_line"
            if kind in FILE_KINDS:
                extra_files[kind] -= 1
        return out


# -- text of CSV and JSONL lines -----------------------------------------------------------------------
def _csv_field(v: str | None) -> str:
    if v is None:
        return ""
    if "," in v or '"' in v:
        return '"' + v.replace('"', '""') + '"'
    return v


def _json_value(v: str | None, as_bool: bool) -> str:
    if v is None:
        return "null"
    if as_bool and v in ("true", "false"):
        return v
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _csv_quote(a: pa.Array) -> pa.Array:
    need = pc.or_(pc.match_substring(a, ","), pc.match_substring(a, '"'))
    if not pc.any(need).as_py():
        return a
    quoted = join('"', pc.replace_substring(a, '"', '""'), '"')
    return pc.if_else(need, quoted, a)


def _json_escape(a: pa.Array) -> pa.Array:
    if not pc.any(pc.or_(pc.match_substring(a, "\\"), pc.match_substring(a, '"'))).as_py():
        return a
    return pc.replace_substring(pc.replace_substring(a, "\\", "\\\\"), '"', '\\"')


def _buffer(arr: pa.Array) -> tuple[memoryview, np.ndarray]:
    """The data buffer of a string array without nulls and the offsets of each element."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    return memoryview(data if data is not None else b""), offs.astype(np.int64)


class FeedWriter:
    """Writes every file of one feed and returns its ground truth per day."""

    def __init__(self, out: Path, name: str, seed: int, file_format: str, defect_rate: float, clock) -> None:
        self.out = out
        self.name = name
        self.feed = FEEDS[name]
        self.fi = list(FEEDS).index(name)
        self.seed = seed
        self.file_format = file_format
        self.clock = clock
        self.scheduler = DefectScheduler(self.feed, defect_rate, np.random.default_rng([seed, self.fi, 7777]))
        self.main_seq = 0
        self.extra_seq = 0
        self.corrupt_seq = 0
        self.fresh_seq = 0
        self.bool_cols = {c.name for c in self.feed.columns if c.kind == "bool"}

    # ---------------------------------------------------------------------------------------------------
    def write(self, table: pa.Table, arrival: np.ndarray, tick: Callable[[], None]) -> dict:
        days = self.clock.days
        bounds = np.searchsorted(arrival, np.arange(days + 1), side="left")
        truth: dict[str, dict] = {}
        for d in range(days):
            lo, hi = int(bounds[d]), int(bounds[d + 1])
            if hi > lo:
                truth[self.clock.date_of(d).isoformat()] = self._write_day(d, table.slice(lo, hi - lo))
            tick()
        return truth

    def _fmt(self, seq: int) -> str:
        if self.file_format == "mixed":
            return FILE_FORMATS[(self.fi + seq) % len(FILE_FORMATS)]
        return self.file_format

    def _write_day(self, d: int, part: pa.Table) -> dict:
        rng = np.random.default_rng([self.seed, self.fi, d, 1])
        day = self.clock.date_of(d)
        folder = self.out / self.name / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        n = part.num_rows
        fmt = self._fmt(self.main_seq)
        self.main_seq += 1
        kinds = self.scheduler.plan(n, fmt)
        files: dict[str, dict] = {}

        cols = list(self.feed.column_names)
        if rng.random() < 0.5:
            cols = [cols[i] for i in rng.permutation(len(cols))]
        extra = None
        if rng.random() < 0.2:
            extra = ("_export_batch", f"{self.name[:3].upper()}-{day:%Y%m%d}-{int(rng.integers(1, 100)):02d}")
            cols.insert(int(rng.integers(0, len(cols) + 1)), extra[0])
        json_bools = bool(rng.random() < 0.5)
        absent = bool(rng.random() < 0.3)

        row_kinds = [k for k in kinds if k not in FILE_KINDS]
        table, line_edits, counts = self._inject(part, row_kinds, rng)
        if absent and any(table.column(c).null_count == table.num_rows for c in self.feed.column_names):
            absent = False
        fname = f"{self.name}_{day:%Y%m%d}.{fmt}"
        self._write_file(folder / fname, fmt, table, cols, extra, json_bools, absent, line_edits)
        files[fname] = {"format": fmt, "rows_written": table.num_rows, "defects": counts}

        for kind in (k for k in kinds if k in FILE_KINDS):
            if kind == "missing_column":
                fname, entry = self._missing_column_file(folder, part, rng)
            else:
                fname, entry = self._corrupt_file(folder, rng)
            files[fname] = entry
        total: dict[str, int] = {}
        for entry in files.values():
            for k, v in entry["defects"].items():
                total[k] = total.get(k, 0) + v
        return {
            "rows_written": sum(e["rows_written"] for e in files.values()),
            "defects": dict(sorted(total.items())),
            "files": files,
        }

    # -- defects inside the main file ----------------------------------------------------------------------
    def _inject(self, part: pa.Table, kinds: list[str], rng: np.random.Generator):
        n = part.num_rows
        counts: dict[str, int] = {}
        if not kinds:
            return part, [], counts
        # each row defect gets its own row, never the first or the last line (the last one is kept
        # for truncated_line); copies are inserted after their source and before the last line
        slots = [k for k in kinds if k in ROW_KINDS]
        rows = rng.choice(np.arange(1, n - 1), size=len(slots), replace=False).tolist() if slots else []
        assigned = list(zip(slots, rows, strict=True))
        sources, positions = [], []
        for kind, row in assigned:
            if kind in ("duplicate_row", "conflicting_key"):
                sources.append(int(row))
                positions.append(int(rng.integers(row + 1, n)))  # inserted before this original row
        final_idx = np.insert(np.arange(n), positions, sources) if sources else np.arange(n)
        tags = np.insert(np.full(n, -1), positions, np.arange(len(sources))) if sources else np.full(n, -1)
        pos_of = np.flatnonzero(tags == -1)
        ins_pos = {int(tags[p]): int(p) for p in np.flatnonzero(tags >= 0)}
        table = part.take(pa.array(final_idx)) if sources else part

        edits: dict[str, dict[int, str | None]] = {}
        line_edits: list[tuple[int, str, object]] = []

        def edit(col: str, pos: int, value: str | None) -> None:
            edits.setdefault(col, {})[pos] = value

        def value(col: str, row: int) -> str | None:
            return part.column(col)[row].as_py()

        cols = self.feed.columns
        j = 0
        for kind, row in assigned:
            pos = int(pos_of[row])
            counts[kind] = counts.get(kind, 0) + (2 if kind == "conflicting_key" else 1)
            if kind == "missing_value":
                edit(str(rng.choice(self.feed.required)), pos, None)
            elif kind == "bad_timestamp":
                c = cols_pick(rng, [c for c in cols if c.kind in TIME_KINDS and c.required])
                edit(c.name, pos, str(rng.choice(BAD_TIME[c.kind])))
            elif kind == "bad_number":
                c = cols_pick(rng, [c for c in cols if c.kind in NUMERIC_KINDS])
                edit(c.name, pos, str(rng.choice(BAD_NUMBER[c.kind])))
            elif kind == "out_of_range":
                c = cols_pick(rng, [c for c in cols if c.min_value is not None or c.max_value is not None])
                edit(c.name, pos, _out_of_range(c, value(c.name, row), rng))
            elif kind == "bad_enum":
                c = cols_pick(rng, [c for c in cols if c.kind in ("enum", "bool")])
                bad = BAD_ENUM.get((self.name, c.name)) or BAD_ENUM[c.name]
                edit(c.name, pos, str(rng.choice(bad)))
            elif kind == "bad_encoding":
                text = [c for c in cols if c.kind == "text" and not c.required] or [
                    c for c in cols if c.kind == "text"
                ]
                c = cols_pick(rng, text)
                token = f"@@BADENC{pos}@@"
                edit(c.name, pos, token)
                line_edits.append(
                    (pos, "bad_encoding", (token, BAD_BYTES[int(rng.integers(len(BAD_BYTES)))]))
                )
            elif kind == "malformed_line":
                line_edits.append((pos, "malformed_line", int(rng.integers(0, 3))))
            elif kind == "duplicate_row":
                j += 1
            elif kind == "conflicting_key":
                col, change = CONFLICT[self.name]
                edit(col, ins_pos[j], change(value(col, row)))
                j += 1
        if "truncated_line" in kinds:
            counts["truncated_line"] = 1
            line_edits.append((table.num_rows - 1, "truncated_line", float(rng.uniform(0.3, 0.8))))
        for col, changes in edits.items():
            i = table.schema.get_field_index(col)
            arr = table.column(i).combine_chunks()
            mask = np.zeros(table.num_rows, dtype=bool)
            keys = sorted(changes)
            mask[keys] = True
            arr = pc.replace_with_mask(arr, pa.array(mask), pa.array([changes[k] for k in keys], pa.string()))
            table = table.set_column(i, col, arr)
        return table, sorted(line_edits), dict(sorted(counts.items()))

    # -- file writers --------------------------------------------------------------------------------------
    def _columns(self, table: pa.Table, cols: list[str], extra: tuple[str, str] | None) -> list[pa.Array]:
        out = []
        for c in cols:
            if extra is not None and c == extra[0]:
                out.append(pa.array(np.full(table.num_rows, extra[1], dtype=object), pa.string()))
            else:
                out.append(table.column(c).combine_chunks())
        return out

    def _write_file(self, path, fmt, table, cols, extra, json_bools, absent, line_edits) -> None:
        arrays = self._columns(table, cols, extra)
        if fmt == "parquet":
            pq.write_table(pa.table(dict(zip(cols, arrays, strict=True))), path)
            return
        if table.num_rows == 0:
            path.write_bytes((",".join(cols) + "\n").encode() if fmt == "csv" else b"")
            return
        if fmt == "csv":
            lines = pc.binary_join_element_wise(
                *[_csv_quote(a) for a in arrays], ",", null_handling="replace", null_replacement=""
            )
            header = (",".join(cols) + "\n").encode()
        else:
            parts = []
            for c, a in zip(cols, arrays, strict=True):
                a = _json_escape(a)
                val = join('"', a, '"')
                if json_bools and c in self.bool_cols:
                    val = pc.if_else(pc.is_in(a, value_set=pa.array(["true", "false"])), a, val)
                if not absent:
                    val = pc.fill_null(val, "null")
                parts.append(join(f'"{c}":', val))
            lines = join("{", pc.binary_join_element_wise(*parts, ",", null_handling="skip"), "}")
            header = b""
        lines = join(lines, "\n")
        data, offs = _buffer(lines)
        pieces: list[bytes | memoryview] = [header]
        prev = int(offs[0])
        for pos, kind, arg in line_edits:
            start, end = int(offs[pos]), int(offs[pos + 1])
            pieces.append(data[prev:start])
            line = bytes(data[start:end])
            values = [a[pos].as_py() for a in arrays]
            pieces.append(self._broken_line(fmt, kind, arg, line, cols, values, json_bools))
            prev = end
        pieces.append(data[prev : int(offs[-1])])
        with open(path, "wb") as fh:
            for p in pieces:
                fh.write(p)

    def _broken_line(self, fmt, kind, arg, line: bytes, cols, values, json_bools) -> bytes:
        if kind == "bad_encoding":
            token, bad = arg
            return line.replace(token.encode(), bad)
        if fmt == "csv":
            fields = [_csv_field(v) for v in values]
            if kind == "malformed_line":
                if arg == 0:
                    fields = fields + ["EXTRA"]
                elif arg == 1:
                    fields = fields + ["EXTRA", "MORE"]
                else:
                    fields = fields[:-1]
                return (",".join(fields) + "\n").encode()
            # truncated: some complete fields, then part of an unquoted field, no line end
            m = len(fields)
            j = max(1, min(m - 2, int(arg * (m - 1))))
            tail = fields[j] if not fields[j].startswith('"') else ""
            return (",".join(fields[:j]) + "," + tail[: len(tail) // 2]).encode()
        pairs = [(c, v) for c, v in zip(cols, values, strict=True)]
        body = ",".join(f'"{c}":{_json_value(v, json_bools and c in self.bool_cols)}' for c, v in pairs)
        if kind == "malformed_line":
            if arg == 0:
                text = json.dumps([v for _, v in pairs], ensure_ascii=False)
            elif arg == 1:
                text = "{" + body
            else:
                text = "{" + ",".join(f"'{c}': '{v}'" for c, v in pairs) + "}"
            return (text + "\n").encode()
        text = "{" + body + "}"
        return text[: max(1, int(len(text) * arg))].encode()

    # -- extra files ---------------------------------------------------------------------------------------
    def _missing_column_file(self, folder: Path, part: pa.Table, rng: np.random.Generator):
        m = int(min(part.num_rows, rng.integers(1, 4)))
        src = np.sort(rng.choice(part.num_rows, size=m, replace=False))
        rows = part.take(pa.array(src))
        col, prefix = ID_COLUMN[self.name]
        fresh = [f"{prefix}X{self.fresh_seq + i + 1:05d}" for i in range(m)]
        self.fresh_seq += m
        rows = rows.set_column(rows.schema.get_field_index(col), col, pa.array(fresh, pa.string()))
        drop = str(rng.choice(self.feed.required))
        cols = [c for c in self.feed.column_names if c != drop]
        fmt = self._fmt(self.extra_seq + 1)
        self.extra_seq += 1
        fname = f"{self.name}_extra_{self.extra_seq}.{fmt}"
        self._write_file(folder / fname, fmt, rows, cols, None, False, False, [])
        return fname, {"format": fmt, "rows_written": m, "defects": {"missing_column": m}}

    def _corrupt_file(self, folder: Path, rng: np.random.Generator):
        self.corrupt_seq += 1
        fname = f"{self.name}_corrupt_{self.corrupt_seq}.parquet"
        junk = b"\x00\x13" + rng.bytes(int(rng.integers(64, 1024)))
        (folder / fname).write_bytes(junk)
        return fname, {"format": "parquet", "rows_written": 1, "defects": {"unreadable_file": 1}}


def cols_pick(rng: np.random.Generator, columns: list):
    return columns[int(rng.integers(len(columns)))]


def _out_of_range(c, v: str | None, rng: np.random.Generator) -> str:
    """A value of the column's type outside its allowed range."""
    if c.max_value is not None:
        lo, hi = int(c.min_value) - 1, int(c.max_value) + 1
        return str(lo if rng.random() < 0.5 else hi)
    if c.kind == "money":
        if c.min_exclusive and rng.random() < 0.5:
            return "0.00"
        return "-" + v if v and Decimal(v) > 0 else "-5.00"
    if c.kind == "int":
        return "-" + v if v and int(v) > 0 else "-1"
    return "-" + v if v and Decimal(v) > 0 else "-1.5"
