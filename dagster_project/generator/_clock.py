"""Calendar and time-zone arithmetic of the generator, vectorised over numpy arrays.

Every instant is an int64 count of seconds since 1970-01-01 UTC ("epoch"). A *local* time is the
wall-clock time in the landing zone's time zone, written as seconds since 1970-01-01 as if that
wall clock were UTC. Day numbers are relative to the first day of the generated period (day 0).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400
EPOCH = dt.date(1970, 1, 1)
HISTORY_DAYS = 4 * 366  # how far before the period a timestamp may lie (customers signed up earlier)
FUTURE_DAYS = 120  # how far after the period an event may be computed (then it is not written)
OFFSET_STEP = 900  # resolution of the offset table, seconds

# Chinese New Year (first day of the lunar year) per Gregorian year.
CNY = {
    2019: "02-05",
    2020: "01-25",
    2021: "02-12",
    2022: "02-01",
    2023: "01-22",
    2024: "02-10",
    2025: "01-29",
    2026: "02-17",
    2027: "02-06",
    2028: "01-26",
    2029: "02-13",
    2030: "02-03",
    2031: "01-23",
    2032: "02-11",
}

# Timestamp forms: 0 = local time with offset, 1 = UTC with Z, 2 = naive local time.
FORM_OFFSET, FORM_UTC, FORM_NAIVE = 0, 1, 2
FORM_P = (0.55, 0.30, 0.15)

_TIME_TABLE: pa.Array | None = None


def _time_table() -> pa.Array:
    global _TIME_TABLE
    if _TIME_TABLE is None:
        s = np.arange(DAY)
        hh, mm, ss = s // 3600, (s // 60) % 60, s % 60
        two = np.array([f"{i:02d}" for i in range(60)], dtype=object)
        _TIME_TABLE = pa.array(two[hh] + ":" + two[mm] + ":" + two[ss], pa.string())
    return _TIME_TABLE


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    m = abs(seconds) // 60
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


class Clock:
    """The period (start day, number of days) and the time zone, with vectorised conversions."""

    def __init__(self, start: dt.date, days: int, tz: str) -> None:
        self.start = start
        self.days = days
        self.zone = ZoneInfo(tz)
        self.day0 = (start - EPOCH).days  # epoch day number of the period's first local day
        self.lo_day = self.day0 - HISTORY_DAYS - 2
        self.hi_day = self.day0 + days + FUTURE_DAYS + 2
        self._build_offsets()
        dates = np.arange(self.lo_day, self.hi_day + 1).astype("datetime64[D]")
        self.date_table = pa.array(np.datetime_as_string(dates, unit="D").astype(object), pa.string())
        self.end_local = (self.day0 + days) * DAY  # local midnight after the last day

    # -- offsets -------------------------------------------------------------------------------------
    def _off(self, t: int) -> int:
        return int(dt.datetime.fromtimestamp(t, self.zone).utcoffset().total_seconds())

    def _build_offsets(self) -> None:
        lo = self.lo_day * DAY
        n_days = self.hi_day - self.lo_day + 1
        per_day = DAY // OFFSET_STEP
        daily = np.array([self._off(lo + i * DAY) for i in range(n_days + 1)], dtype=np.int64)
        table = np.repeat(daily[:-1], per_day)
        for i in np.flatnonzero(daily[:-1] != daily[1:]):
            base = lo + int(i) * DAY
            table[i * per_day : (i + 1) * per_day] = [
                self._off(base + k * OFFSET_STEP) for k in range(per_day)
            ]
        self._off_lo = lo
        self._off_table = table
        self.offsets = np.unique(table)
        self._offset_texts = [_offset_text(int(o)) for o in self.offsets]

    def off_at(self, epoch: np.ndarray) -> np.ndarray:
        """UTC offset in seconds in force at each instant."""
        i = (np.asarray(epoch, dtype=np.int64) - self._off_lo) // OFFSET_STEP
        return self._off_table[np.clip(i, 0, len(self._off_table) - 1)]

    # -- conversions ----------------------------------------------------------------------------------
    def local_to_epoch(self, local: np.ndarray) -> np.ndarray:
        local = np.asarray(local, dtype=np.int64)
        e = local - self.off_at(local - self.offsets[0])
        return local - self.off_at(e)

    def day_time_to_epoch(self, day: np.ndarray, sod: np.ndarray) -> np.ndarray:
        """Local day number (relative to day 0) and second of day -> epoch."""
        local = (np.asarray(day, dtype=np.int64) + self.day0) * DAY + np.asarray(sod, dtype=np.int64)
        return self.local_to_epoch(local)

    def local_day(self, epoch: np.ndarray) -> np.ndarray:
        """Local day number (relative to day 0) of each instant."""
        epoch = np.asarray(epoch, dtype=np.int64)
        return (epoch + self.off_at(epoch)) // DAY - self.day0

    def seconds_to_local_midnight(self, epoch: np.ndarray) -> np.ndarray:
        epoch = np.asarray(epoch, dtype=np.int64)
        local = epoch + self.off_at(epoch)
        return DAY - local % DAY

    # -- formatting -----------------------------------------------------------------------------------
    def forms(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(3, size=n, p=FORM_P).astype(np.int8)

    def fmt_ts(self, epoch: np.ndarray, form: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        """ISO 8601 text: `2025-03-01T10:15:00+08:00`, `2025-03-01T02:15:00Z` or `2025-03-01 10:15:00`.

        A naive form is only used where the local time is unambiguous (not near a DST change).
        """
        epoch = np.asarray(epoch, dtype=np.int64)
        if valid is not None:
            epoch = np.where(valid, epoch, self.day0 * DAY)
        off = self.off_at(epoch)
        form = np.asarray(form, dtype=np.int8)
        if len(self.offsets) > 1:
            ok = (off == self.off_at(epoch - 7200)) & (off == self.off_at(epoch + 7200))
            form = np.where((form == FORM_NAIVE) & ~ok, FORM_OFFSET, form)
        wall = np.where(form == FORM_UTC, epoch, epoch + off)
        d = wall // DAY
        date = self.date_table.take(np.clip(d - self.lo_day, 0, len(self.date_table) - 1))
        time = _time_table().take(wall - d * DAY)
        sep = pa.array(["T", " "]).take((form == FORM_NAIVE).astype(np.int8))
        suffixes = pa.array(["Z", "", *self._offset_texts])
        sidx = np.where(
            form == FORM_UTC, 0, np.where(form == FORM_NAIVE, 1, 2 + np.searchsorted(self.offsets, off))
        )
        out = pc.binary_join_element_wise(date, sep, time, suffixes.take(sidx), "")
        if valid is not None:
            out = pc.if_else(pa.array(valid), out, pa.scalar(None, pa.string()))
        return out

    def fmt_date(self, day: np.ndarray) -> pa.Array:
        """`YYYY-MM-DD` of local day numbers (relative to day 0)."""
        return self.date_table.take(np.asarray(day, dtype=np.int64) + self.day0 - self.lo_day)

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    # -- calendar -------------------------------------------------------------------------------------
    def calendar(self) -> dict[str, np.ndarray]:
        """Per day of the period: weekday (0 = Monday), month, day of month, year, days to CNY."""
        d = np.datetime64(self.start, "D") + np.arange(self.days)
        months = d.astype("datetime64[M]")
        year = months.astype("datetime64[Y]").astype(int) + 1970
        month = months.astype(int) % 12 + 1
        dom = (d - months.astype("datetime64[D]")).astype(int) + 1
        weekday = (d.astype(int) + 3) % 7
        cny = np.array(
            [np.datetime64(f"{y}-{CNY.get(int(y), '02-01')}") for y in range(year.min() - 1, year.max() + 2)]
        )
        dnum = d.astype(int)
        cnum = cny.astype("datetime64[D]").astype(int)
        dist = dnum[:, None] - cnum[None, :]
        # days after (negative: before) the nearest Chinese New Year
        to_cny = dist[np.arange(len(d)), np.abs(dist).argmin(axis=1)]
        mlen = (months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")
        return {
            "weekday": weekday,
            "month": month,
            "dom": dom,
            "year": year,
            "to_cny": to_cny,
            "month_len": mlen.astype(int),
            "month_index": months.astype(int),
        }

    def seasonality(self) -> tuple[np.ndarray, np.ndarray]:
        """Relative daily demand of consumers (b2c) and of businesses (b2b)."""
        c = self.calendar()
        wd, month, dom, cny = c["weekday"], c["month"], c["dom"], c["to_cny"]
        doy = (month - 1) * 30.5 + dom
        b2c = 1.0 + 0.25 * (wd >= 5) + 0.10 * np.cos(2 * np.pi * (doy - 330) / 365)
        b2c *= np.where((month == 11) & (dom <= 10), 1.6, 1.0)
        b2c *= np.where((month == 11) & (dom == 11), 5.0, 1.0)
        b2c *= np.where((month == 11) & ((dom == 12) | (dom == 13)), 1.5, 1.0)
        b2c *= np.where((month == 6) & (dom <= 17), 1.3, 1.0)
        b2c *= np.where((month == 6) & (dom == 18), 3.0, 1.0)
        b2c *= np.where((month == 12) & (dom == 12), 2.0, 1.0)
        b2c *= np.where((cny >= -10) & (cny <= -3), 0.7, 1.0)
        b2c *= np.where((cny >= -2) & (cny <= 7), 0.3, 1.0)
        b2b = np.select([wd == 5, wd == 6], [0.35, 0.2], 1.0)
        b2b = b2b * (1.0 + 0.12 * np.cos(2 * np.pi * (doy - 340) / 365))
        b2b *= np.where(dom >= c["month_len"] - 2, 1.3, 1.0)
        b2b *= np.where(np.isin(month, (3, 6, 9, 12)) & (dom >= c["month_len"] - 4), 1.3, 1.0)
        b2b *= np.where((month == 11) & (dom == 11), 1.5, 1.0)
        b2b *= np.where((cny >= -12) & (cny <= 14), 0.2, 1.0)
        b2b *= np.where((month == 8), 0.85, 1.0)
        return b2c, b2b
