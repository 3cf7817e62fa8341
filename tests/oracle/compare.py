"""Compare a mart (actual, e.g. from dbt) with the oracle's frame (expected), key by key.

assert_frames_match(actual, expected, keys, money_cols=None, float_tol=1e-9, max_report=20)

- The columns compared are those of `expected`; `actual` may have more. A column of `expected`
  missing from `actual` fails.
- Rows are matched on `keys` (NULL keys match NULL keys). Duplicate keys on either side, keys only in
  expected ("missing") and keys only in actual ("extra") fail, with examples.
- NULL (None, NaN, NaT, pd.NA) equals NULL and nothing else.
- Money columns (given, or every column of `expected` holding decimal.Decimal) compare exactly as
  Decimal; an actual float there is a type error (it cannot be exact to the cent).
- Floats: math.isclose(a, b, rel_tol=float_tol, abs_tol=float_tol) (the absolute part only matters
  next to 0). Integers exactly. Booleans exactly (a bool is not a number here). Strings exactly.
  Dates and timestamps exactly (a DATE may arrive as datetime.date or a midnight Timestamp).
- On failure: one AssertionError listing every problem class and the first differing cells as
  `key | column | actual | expected`.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from decimal import Decimal

import numpy as np
import pandas as pd


def _is_null(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _norm_key(v):
    """A hashable, comparable form of a key value."""
    if _is_null(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        if v.tzinfo is None and v == v.normalize():
            return v.date()
        return v
    if isinstance(v, dt.datetime):
        if v.tzinfo is None and v.time() == dt.time(0):
            return v.date()
        return pd.Timestamp(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _key_sort(k: tuple):
    return tuple((x is None, type(x).__name__, x if x is not None else 0) for x in k)


def _fmt(v) -> str:
    if _is_null(v):
        return "NULL"
    return repr(v.item() if isinstance(v, np.generic) else v)


def _values_equal(a, e, money: bool, float_tol: float) -> tuple[bool, str]:
    """(equal?, reason when not)."""
    a_null, e_null = _is_null(a), _is_null(e)
    if a_null or e_null:
        return (a_null and e_null), "NULL vs value"
    if isinstance(a, np.generic):
        a = a.item()
    if isinstance(e, np.generic):
        e = e.item()
    if money or isinstance(e, Decimal):
        if isinstance(a, float) or isinstance(e, float):
            return False, "money as float (not exact)"
        if isinstance(a, bool) or isinstance(e, bool):
            return False, "type"
        try:
            return Decimal(str(a)) == Decimal(str(e)), "money"
        except ArithmeticError:
            return False, "not a number"
    if isinstance(e, bool) or isinstance(a, bool):
        return (isinstance(a, bool) and isinstance(e, bool) and a == e), "bool"
    if isinstance(e, str) or isinstance(a, str):
        return (isinstance(a, str) and isinstance(e, str) and a == e), "text"
    if isinstance(e, pd.Timestamp | dt.date) or isinstance(a, pd.Timestamp | dt.date):
        return _norm_key(a) == _norm_key(e), "date/time"
    if isinstance(e, numbers.Integral) and isinstance(a, numbers.Integral):
        return int(a) == int(e), "integer"
    if isinstance(a, numbers.Real) and isinstance(e, numbers.Real):
        if isinstance(a, Decimal) or isinstance(e, Decimal):
            a, e = float(a), float(e)
        return math.isclose(float(a), float(e), rel_tol=float_tol, abs_tol=float_tol), "float"
    return a == e, "value"


def assert_frames_match(
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    keys: list[str],
    money_cols: list[str] | None = None,
    float_tol: float = 1e-9,
    max_report: int = 20,
    name: str = "",
) -> None:
    label = f"[{name}] " if name else ""
    problems: list[str] = []

    missing_cols = [c for c in expected.columns if c not in actual.columns]
    if missing_cols:
        problems.append(f"columns missing from actual: {missing_cols}")
    for k in keys:
        if k not in expected.columns:
            raise ValueError(f"key column {k!r} is not a column of expected")
    if any(k not in actual.columns for k in keys):
        raise AssertionError(
            f"{label}actual lacks key columns {[k for k in keys if k not in actual.columns]}; "
            f"its columns: {list(actual.columns)}"
        )
    compare_cols = [c for c in expected.columns if c not in keys and c in actual.columns]

    if money_cols is None:
        money_cols = [c for c in expected.columns if expected[c].map(lambda v: isinstance(v, Decimal)).any()]
    money = set(money_cols)

    def index(df: pd.DataFrame, side: str) -> dict[tuple, int]:
        out: dict[tuple, int] = {}
        dups: list[tuple] = []
        for i, row in enumerate(zip(*(df[k] for k in keys), strict=True)):
            key = tuple(_norm_key(v) for v in row)
            if key in out:
                dups.append(key)
            out[key] = i
        if dups:
            problems.append(f"{side} has {len(dups)} duplicate keys, e.g. {dups[:5]}")
        return out

    a_idx = index(actual, "actual")
    e_idx = index(expected, "expected")
    missing = sorted(set(e_idx) - set(a_idx), key=_key_sort)
    extra = sorted(set(a_idx) - set(e_idx), key=_key_sort)
    if missing:
        problems.append(
            f"{len(missing)} keys {keys} in expected but not in actual (missing), "
            f"first: {missing[:max_report]}"
        )
    if extra:
        problems.append(
            f"{len(extra)} keys {keys} in actual but not in expected (extra), first: {extra[:max_report]}"
        )

    diffs: list[str] = []
    n_diffs = 0
    diff_cols: dict[str, int] = {}
    common = sorted(set(a_idx) & set(e_idx), key=_key_sort)
    a_cols = {c: actual[c].tolist() for c in compare_cols}
    e_cols = {c: expected[c].tolist() for c in compare_cols}
    for key in common:
        ai, ei = a_idx[key], e_idx[key]
        for c in compare_cols:
            av, ev = a_cols[c][ai], e_cols[c][ei]
            ok, why = _values_equal(av, ev, c in money, float_tol)
            if not ok:
                n_diffs += 1
                diff_cols[c] = diff_cols.get(c, 0) + 1
                if len(diffs) < max_report:
                    key_txt = ", ".join(f"{k}={_fmt(v)}" for k, v in zip(keys, key, strict=True))
                    diffs.append(f"  {key_txt} | {c} | actual={_fmt(av)} | expected={_fmt(ev)} ({why})")
    if n_diffs:
        problems.append(
            f"{n_diffs} differing values in {len(diff_cols)} columns {diff_cols} "
            f"over {len(common)} common rows; first {len(diffs)}:\n" + "\n".join(diffs)
        )
    if problems:
        raise AssertionError(
            f"{label}frames differ (actual {len(actual)} rows, expected {len(expected)} rows):\n- "
            + "\n- ".join(problems)
        )
