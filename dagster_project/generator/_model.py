"""The business simulation: channels, customers, orders, leads, surveys, complaints, activity, targets.

Everything is vectorised over numpy arrays; the only Python loops run over channels, months or
versions of the channel master (a few dozen items). The result is, per feed, the text of every
record (pyarrow string arrays in contract column order), its arrival day and a sort key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.generator._channels import (
    CATALOG,
    CHANNEL_TYPE,
    STATUSES,
    SUB_NAMES,
    SUB_TYPES,
    ChannelPlan,
    plan_channels,
    sub_param,
)
from dagster_project.generator._clock import DAY, Clock
from dagster_project.generator._text import (
    COMMENTS,
    COMPANY_CORE,
    INDUSTRIES,
    INDUSTRY_W,
    MAIL_DOMAINS,
    REGION_W,
    REGIONS,
    SURNAMES,
    choose,
    company_names,
    id_width,
    join,
    mask_members,
    null_where,
    person_names,
    phones,
    pick,
    region_mask_text,
    s_id,
    s_int,
    s_money,
    s_tenths,
)
from dagster_project.generator.profiles import PROFILES, Profile

PRE_PERIOD_SHARE = 0.6  # customers who signed up before the period (initial export on day 0)
CHURN_SHARE = 0.15
CANCEL_RATE = 0.015
OUT_OF_REGION = 0.04  # partner orders shipped outside the authorized regions
HOURS_B2C = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2, 2.5, 3, 3.2, 3.4, 3, 3, 3.2, 3.3, 3.5, 4, 4.8, 5.5, 6, 5, 3]
)
HOURS_B2B = np.array(
    [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.5, 5, 6, 6, 3, 4, 6, 6, 5.5, 4, 2, 1, 0.6, 0.4, 0.3, 0.2]
)


@dataclass
class FeedRows:
    """Every record of one feed: contract columns as text, arrival day, order within the day."""

    columns: dict[str, pa.Array]
    arrival: np.ndarray
    sort_key: np.ndarray


def _lags(rng: np.random.Generator, n: int, p_late: float) -> np.ndarray:
    """Arrival delay in days: 0 mostly, a day or more for a few records."""
    late = rng.random(n) < p_late
    lag = np.where(rng.random(n) < 0.7, 1, rng.integers(2, 6, n))
    return np.where(late, lag, 0).astype(np.int64)


def _sod(rng: np.random.Generator, hours: np.ndarray, n: int) -> np.ndarray:
    return choose(rng, hours, n) * 3600 + rng.integers(0, 3600, n)


def _draw_days(rng: np.random.Generator, cw: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A day in [lo, hi) per element, weighted by the cumulative day weights cw (len days + 1)."""
    u = cw[lo] + rng.random(len(lo)) * (cw[hi] - cw[lo])
    d = np.searchsorted(cw, u, side="right") - 1
    return np.clip(d, lo, np.maximum(hi - 1, lo))


class Model:
    def __init__(
        self,
        clock: Clock,
        seed: int,
        customers: int,
        orders: int,
        tick: Callable[[str], None] = lambda _s: None,
        profile: Profile = PROFILES["default"],
    ) -> None:
        self.clock = clock
        self.profile = profile
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 20250101]))
        self.n_customers = customers
        self.n_orders = orders
        self.days = clock.days
        self.tick = tick
        b2c, b2b = profile.shape(clock.calendar(), *clock.seasonality())
        self.price = profile.price(clock.calendar())
        self.cw_b2c = np.concatenate([[0.0], np.cumsum(b2c)])
        self.cw_b2b = np.concatenate([[0.0], np.cumsum(b2b)])
        self.end_epoch = int(clock.local_to_epoch(np.array([clock.end_local]))[0])

    # -------------------------------------------------------------------------------------------------
    def build(self) -> dict[str, FeedRows]:
        ch = self.ch = plan_channels(
            self.rng,
            self.days,
            self._epoch1,
            early_order_days=self.profile.early_order_days,
            late_boost=self.profile.late_channel_boost,
        )
        self._channel_params()
        self._customers()
        self.tick("customers")
        leads = self._leads()
        self.tick("leads")
        self._finalise_customers()
        self._orders()
        self.tick("orders")
        feeds: dict[str, FeedRows] = {}
        feeds["customers"] = self._customer_rows()
        feeds["channels"] = self._channel_rows(ch)
        feeds["leads"] = leads()
        feeds["orders"] = self._order_rows()
        self.tick("order rows")
        complaints, complaint_info = self._complaints()
        feeds["complaints"] = complaints
        feeds["surveys"] = self._surveys(complaint_info)
        self.tick("surveys and complaints")
        feeds["channel_activity"] = self._activity()
        feeds["sales_targets"] = self._targets()
        self.tick("activity and targets")
        return feeds

    def _epoch1(self, day: int, sod: int) -> int:
        return int(self.clock.day_time_to_epoch(np.array([day]), np.array([sod]))[0])

    # -- channels ---------------------------------------------------------------------------------------
    def _channel_params(self) -> None:
        ch, rng = self.ch, self.rng
        self.ch_ids = pa.array(ch.ids, pa.string())
        boost = np.where(ch.ctype == 2, self.profile.platform_boost, 1.0)
        self.ch_b2b_w = sub_param("b2b_w")[ch.sub] * ch.factor * boost
        self.ch_b2c_w = sub_param("b2c_w")[ch.sub] * ch.factor * boost
        self.ch_aov = sub_param("aov")[ch.sub] * rng.lognormal(0.0, 0.15, ch.n)
        self.ch_nps = sub_param("nps")[ch.sub] + rng.normal(0.0, 0.25, ch.n)
        self.ch_refund = sub_param("refund")[ch.sub]
        self.ch_complaint = sub_param("complaint")[ch.sub]
        self.ch_lead_w = sub_param("lead_w")[ch.sub] * ch.factor
        self.always = (ch.order_start == 0) & (ch.term_day >= self.days) & (ch.pause_day >= self.days)
        self.is_referral_ch = np.array([CATALOG[i][1] == "referral" for i in range(ch.n)])
        self.is_partner = ch.ctype == 1

    def _available(self, chan: np.ndarray, day: np.ndarray, keep_paused: np.ndarray) -> np.ndarray:
        ch = self.ch
        ok = (day >= ch.order_start[chan]) & (day < ch.term_day[chan])
        paused = day >= ch.pause_day[chan]
        return ok & (~paused | keep_paused)

    def _fallback(self, b2b: np.ndarray) -> np.ndarray:
        """A channel that exists all period long, drawn by popularity."""
        out = np.empty(len(b2b), dtype=np.int64)
        for flag, w in ((True, self.ch_b2b_w), (False, self.ch_b2c_w)):
            m = b2b == flag
            out[m] = choose(self.rng, np.where(self.always, w, 0.0), int(m.sum()))
        return out

    # -- customers --------------------------------------------------------------------------------------
    def _customers(self) -> None:
        rng, n, days = self.rng, self.n_customers, self.days
        self.b2b = rng.random(n) < self.profile.b2b_share
        pre = rng.random(n) < PRE_PERIOD_SHARE
        self.region = choose(rng, REGION_W, n)
        self.industry = choose(rng, INDUSTRY_W, n)
        day = np.where(pre, -rng.integers(1, 3 * 365, n), 0)
        inp = ~pre
        lo = np.zeros(int(inp.sum()), dtype=np.int64)
        hi = np.full(len(lo), days, dtype=np.int64)
        d_b = _draw_days(rng, self.cw_b2b, lo, hi)
        d_c = _draw_days(rng, self.cw_b2c, lo, hi)
        day[inp] = np.where(self.b2b[inp], d_b, d_c)
        sod = np.where(self.b2b, _sod(rng, HOURS_B2B, n), _sod(rng, HOURS_B2C, n))
        self.signup = self.clock.day_time_to_epoch(day, sod)
        self.act = np.where(self.b2b, rng.lognormal(0.5, 1.0, n), rng.lognormal(0.0, 1.4, n))
        self.aov = np.where(
            self.b2b, rng.lognormal(np.log(2500), 0.85, n), rng.lognormal(np.log(150), 0.6, n)
        )
        self.sat = rng.normal(0.0, 0.8, n)
        self.churner = rng.random(n) < CHURN_SHARE
        self.churn_day = rng.uniform(0.1, 0.7, n) * days
        self.churn_tau = rng.uniform(25, 60, n)
        self.home = self._fallback(self.b2b)

    def _finalise_customers(self) -> None:
        """Customer ids in signup order, and everything derived from the final signup times."""
        order = np.argsort(self.signup, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.cust_rank = rank
        self.cust_ids = s_id("C", rank + 1, id_width(self.n_customers, 6))
        self.signup_day = self.clock.local_day(self.signup)

    # -- leads ------------------------------------------------------------------------------------------
    def _leads(self) -> Callable[[], FeedRows]:
        rng, clock, days, ch = self.rng, self.clock, self.days, self.ch
        n = max(10, int(round(self.n_customers * 0.6 * days / 365)))
        chan = choose(rng, self.ch_lead_w, n)
        cday = _draw_days(rng, self.cw_b2b, np.zeros(n, dtype=np.int64), np.full(n, days, dtype=np.int64))
        bad = ~self._available(chan, cday, rng.random(n) < 0.1)
        chan[bad] = choose(rng, np.where(self.always, self.ch_lead_w, 0.0), int(bad.sum()))
        created = clock.day_time_to_epoch(cday, _sod(rng, HOURS_B2B, n))
        funnel = np.array([SUB_TYPES[s].funnel for s in SUB_NAMES])[ch.sub[chan]]
        speed = sub_param("speed")[ch.sub[chan]]
        r = rng.random((3, n))
        qual = r[0] < funnel[:, 0]
        prop = qual & (r[1] < funnel[:, 1])
        won = prop & (r[2] < funnel[:, 2])

        def delay(median_days: float) -> np.ndarray:
            return (rng.lognormal(np.log(median_days), 0.75, n) * speed * DAY).astype(np.int64) + 600

        t_q = created + delay(2.5)
        t_p = t_q + delay(8.0)
        t_d = t_p + delay(18.0)
        lost_created = ~qual & (rng.random(n) < 0.7)
        lost_qual = qual & ~prop & (rng.random(n) < 0.8)
        t_lost = np.where(lost_created, created + delay(6.0), np.where(lost_qual, t_q + delay(10.0), t_d))
        has_lost = lost_created | lost_qual | (prop & ~won)
        last = days - 1
        in_q = qual & (clock.local_day(t_q) <= last)
        in_p = prop & in_q & (clock.local_day(t_p) <= last)
        in_won = won & in_p & (clock.local_day(t_d) <= last)
        in_lost = has_lost & (clock.local_day(t_lost) <= last) & (~qual | in_q) & (~prop | in_p)

        # won leads become new customers (70%) or map to an existing business customer
        customer = np.full(n, -1, dtype=np.int64)
        won_idx = np.flatnonzero(in_won)
        new = rng.random(len(won_idx)) < 0.7
        pool = np.flatnonzero(self.b2b & (self.signup >= self.clock.local_to_epoch(self.clock.day0 * DAY)))
        pool = rng.permutation(pool)
        k = min(int(new.sum()), len(pool))
        new_idx = won_idx[new][:k]
        cust_new = pool[:k]
        customer[new_idx] = cust_new
        gap = np.minimum(rng.integers(600, 2 * DAY, k), np.maximum(self.end_epoch - t_d[new_idx] - 1, 1))
        self.signup[cust_new] = t_d[new_idx] + gap
        self.home[cust_new] = chan[new_idx]
        lead_industry = choose(rng, INDUSTRY_W, n)
        self.industry[cust_new] = lead_industry[new_idx]
        rest = np.setdiff1d(won_idx, new_idx)
        if len(rest):
            cand = np.flatnonzero(self.b2b)
            if len(cand) == 0:
                cand = np.arange(self.n_customers)
            cand = cand[np.argsort(self.signup[cand], kind="stable")]
            count = np.searchsorted(self.signup[cand], t_d[rest], side="left")
            pick_i = np.minimum(
                (rng.random(len(rest)) * np.maximum(count, 1)).astype(np.int64), len(cand) - 1
            )
            customer[rest] = cand[pick_i]

        industry_null = rng.random(n) < 0.08
        forms = [clock.forms(rng, n) for _ in range(5)]

        def rows() -> FeedRows:
            lead_ids = s_id("L", np.argsort(np.argsort(created, kind="stable"), kind="stable") + 1, 6)
            ind = null_where(pick(INDUSTRIES, lead_industry), industry_null)
            parts = []
            stages = (
                ("created", np.ones(n, bool), created, forms[0]),
                ("qualified", in_q, t_q, forms[1]),
                ("proposal", in_p, t_p, forms[2]),
                ("won", in_won, t_d, forms[3]),
                ("lost", in_lost, t_lost, forms[4]),
            )
            for stage, mask, ts, form in stages:
                idx = np.flatnonzero(mask)
                cust = customer[idx]
                cid = self.cust_ids.take(np.maximum(cust, 0))
                cid = null_where(cid, cust < 0)
                parts.append(
                    (
                        {
                            "lead_id": lead_ids.take(idx),
                            "channel_id": self.ch_ids.take(chan[idx]),
                            "stage": pa.array(np.full(len(idx), stage, dtype=object), pa.string()),
                            "stage_ts": clock.fmt_ts(ts[idx], form[idx]),
                            "customer_id": cid,
                            "industry": ind.take(idx),
                        },
                        ts[idx],
                    )
                )
            return _concat(parts, rng, clock, p_late=0.03)

        return rows

    # -- orders -----------------------------------------------------------------------------------------
    def _orders(self) -> None:
        rng, clock, days, ch = self.rng, self.clock, self.days, self.ch
        target = self.n_orders
        b2b = self.b2b
        sday = np.clip(self.signup_day, 0, days)
        lo = np.where(b2b, self.cw_b2b[sday], self.cw_b2c[sday])
        hi = np.where(b2b, self.cw_b2b[days], self.cw_b2c[days])
        weight = self.act * (hi - lo)
        factor = 1.3
        while True:
            m_gen = int(target * factor) + 16
            counts = rng.multinomial(m_gen, weight / weight.sum())
            cust = np.repeat(np.arange(self.n_customers), counts)
            day = np.empty(m_gen, dtype=np.int64)
            ob = b2b[cust]
            for flag, cw in ((True, self.cw_b2b), (False, self.cw_b2c)):
                m = ob == flag
                day[m] = _draw_days(rng, cw, sday[cust[m]], np.full(int(m.sum()), days, dtype=np.int64))
            # several orders of one customer on one day
            sib = np.flatnonzero((rng.random(m_gen) < 0.05)[1:] & (cust[1:] == cust[:-1])) + 1
            day[sib] = day[sib - 1]
            # churners fade away
            over = day - self.churn_day[cust]
            keep = ~self.churner[cust] | (over <= 0)
            keep |= rng.random(m_gen) < np.exp(-np.maximum(over, 0) / self.churn_tau[cust])
            idx = np.flatnonzero(keep)
            if len(idx) >= target:
                break
            factor *= 1.2 * target / max(len(idx), 1)
        idx = np.sort(rng.choice(idx, size=target, replace=False))
        cust, day = cust[idx], day[idx]
        del counts, keep, over, idx
        m = target
        ob = b2b[cust]
        sod = np.where(ob, _sod(rng, HOURS_B2B, m), _sod(rng, HOURS_B2C, m))
        signup_sod = (self.signup[cust] + clock.off_at(self.signup[cust])) % DAY
        early = (day == self.signup_day[cust]) & (sod <= signup_sod)
        late_sod = signup_sod + 1 + (rng.random(m) * np.maximum(DAY - 2 - signup_sod, 0)).astype(np.int64)
        sod = np.where(early, np.minimum(late_sod, DAY - 1), sod)
        epoch = clock.day_time_to_epoch(day, sod)

        # channel: mostly the customer's home channel, else one by popularity
        chan = np.empty(m, dtype=np.int64)
        use_home = rng.random(m) < np.where(ob, 0.75, 0.6)
        for flag, w in ((True, self.ch_b2b_w), (False, self.ch_b2c_w)):
            sel = ob == flag
            chan[sel] = choose(rng, w, int(sel.sum()))
        chan = np.where(use_home, self.home[cust], chan)
        bad = ~self._available(chan, day, rng.random(m) < 0.15)
        chan[bad] = self._fallback(ob[bad])

        # amounts in integer cents
        fade = np.where(
            self.churner[cust] & (day > self.churn_day[cust]),
            np.exp(-(day - self.churn_day[cust]) / (1.5 * self.churn_tau[cust])),
            1.0,
        )
        yuan = self.aov[cust] * self.ch_aov[chan] * rng.lognormal(0.0, 0.45, m) * fade
        yuan = yuan * self.price[np.clip(day, 0, days - 1)]
        yuan = np.minimum(yuan, 5_000_000)
        b2c_cents = np.maximum(np.rint(yuan), 10) * 100 - np.where(rng.random(m) < 0.4, 10, 0)
        b2b_cents = np.maximum(np.rint(yuan), 100) * 100 + np.where(
            rng.random(m) < 0.3, rng.integers(0, 100, m), 0
        )
        cents = np.where(ob, b2b_cents, b2c_cents).astype(np.int64)

        # status
        u = rng.random(m)
        refund_p = self.ch_refund[chan] * np.where(ob, 0.5, 1.1)
        refund_p *= self.profile.refund_rate / max(float(refund_p.mean()) if m else 1.0, 1e-9)
        cancelled = u < CANCEL_RATE
        refunded = ~cancelled & (u < CANCEL_RATE + refund_p)
        refund_at = epoch + rng.integers(DAY, 20 * DAY + 1, m)
        cancel_at = epoch + np.minimum(rng.integers(120, 7200, m), clock.seconds_to_local_midnight(epoch) - 1)

        # ship region: partners ship inside their authorized regions, a few percent outside
        region = self.region[cust]
        pop, members = mask_members()
        rnd_region = choose(rng, REGION_W, m)
        ship = np.where(rng.random(m) < 0.96, region, rnd_region)
        partner = self.is_partner[chan]
        pi = np.flatnonzero(partner)
        dcl = np.clip(day[pi], 0, days - 1)
        mask_now = ch.auth[chan[pi], dcl]
        mask_before = ch.auth[chan[pi], np.maximum(dcl - 1, 0)]
        inside = mask_now & mask_before
        outside = ~(mask_now | mask_before) & 127
        bit = 1 << region[pi]
        go_out = (rng.random(len(pi)) < OUT_OF_REGION) & (outside != 0)
        u2 = rng.random(len(pi))
        in_pick = members[inside, (u2 * np.maximum(pop[inside], 1)).astype(np.int64)]
        out_pick = members[outside, (u2 * np.maximum(pop[outside], 1)).astype(np.int64)]
        in_region = np.where((inside & bit) != 0, region[pi], in_pick)
        out_region = np.where((outside & bit) != 0, region[pi], out_pick)
        ship[pi] = np.where(go_out, out_region, np.where(inside != 0, in_region, ship[pi]))
        ship_null = ~partner & (rng.random(m) < 0.003)

        referral = self.is_referral_ch[chan] | ((ch.ctype[chan] == 0) & (rng.random(m) < 0.02))
        referral_null = ~referral & (rng.random(m) < 0.01)

        # order ids in time order (then customer)
        base = (clock.lo_day - 1) * DAY
        if self.n_customers < 1 << 24:
            order = np.argsort(((epoch - base) << 24) | cust)
        else:
            order = np.lexsort((cust, epoch))
        self.o = {
            "cust": cust[order].astype(np.int32),
            "day": day[order].astype(np.int32),
            "epoch": epoch[order],
            "chan": chan[order].astype(np.int32),
            "cents": cents[order],
            "cancelled": cancelled[order],
            "refunded": refunded[order],
            "refund_at": refund_at[order],
            "cancel_at": cancel_at[order],
            "ship": ship[order].astype(np.int8),
            "ship_null": ship_null[order],
            "referral": referral[order],
            "referral_null": referral_null[order],
        }

    def _order_rows(self) -> FeedRows:
        """First record of every order (paid or cancelled) and the later refund record, sorted."""
        o, rng, clock, last = self.o, self.rng, self.clock, self.days - 1
        m = len(o["epoch"])
        first_upd = np.where(o["cancelled"], o["cancel_at"], o["epoch"])
        arr_a = np.minimum(clock.local_day(first_upd) + _lags(rng, m, 0.05), last)
        ref_day = clock.local_day(o["refund_at"])
        arr_b = np.maximum(np.minimum(ref_day + _lags(rng, m, 0.05), last), arr_a + 1)
        has_b = o["refunded"] & (ref_day <= last) & (arr_b <= last)
        bi = np.flatnonzero(has_b)
        # one entry per written record, in arrival order, before any text is built
        src = np.concatenate([np.arange(m), bi])
        is_b = np.concatenate([np.zeros(m, dtype=bool), np.ones(len(bi), dtype=bool)])
        upd = np.concatenate([first_upd, o["refund_at"][bi]])
        arrival = np.concatenate([arr_a, arr_b[bi]])
        del first_upd, arr_a, arr_b, ref_day, has_b, bi
        perm = np.argsort((arrival << 36) + (upd - (clock.lo_day - 1) * DAY), kind="stable")
        src, is_b, upd, arrival = src[perm], is_b[perm], upd[perm], arrival[perm]
        del perm
        order_form = clock.forms(rng, m)
        status = np.where(is_b, 2, o["cancelled"][src].astype(np.int64))
        columns = {
            "order_id": s_id("O", src + 1, id_width(m, 7)),
            "customer_id": self.cust_ids.take(o["cust"][src]),
            "channel_id": self.ch_ids.take(o["chan"][src]),
            "order_ts": clock.fmt_ts(o["epoch"][src], order_form[src]),
            "amount": s_money(o["cents"][src]),
            "status": pick(("paid", "cancelled", "refunded"), status),
            "updated_at": clock.fmt_ts(upd, clock.forms(rng, len(src))),
            "ship_region": null_where(pick(REGIONS, o["ship"][src]), o["ship_null"][src]),
            "is_referral": null_where(
                pick(("false", "true"), o["referral"][src].astype(np.int64)), o["referral_null"][src]
            ),
        }
        return FeedRows(columns, arrival, upd)

    # -- complaints -------------------------------------------------------------------------------------
    def _complaints(self) -> tuple[FeedRows, dict[str, np.ndarray]]:
        o, rng, clock, last = self.o, self.rng, self.clock, self.days - 1
        m = len(o["epoch"])
        refunded = o["refunded"]
        p = 0.012 * self.ch_complaint[o["chan"]] + 0.15 * refunded
        oi = np.flatnonzero(~o["cancelled"] & (rng.random(m) < p))
        k = len(oi)
        ep, ref = o["epoch"][oi], o["refund_at"][oi]
        opened = np.where(
            refunded[oi],
            ep + ((ref - ep) * rng.uniform(0.1, 0.9, k)).astype(np.int64),
            ep + rng.integers(4 * 3600, 8 * DAY, k),
        )
        keep = clock.local_day(opened) <= last
        oi, opened, k = oi[keep], opened[keep], int(keep.sum())
        order = np.argsort(opened, kind="stable")
        oi, opened = oi[order], opened[order]
        # first response clustered around 2 hours, resolution around 24 hours
        comp = choose(rng, np.array([0.15, 0.45, 0.10, 0.30]), k)
        resp = np.select(
            [comp == 0, comp == 1, comp == 2],
            [
                rng.integers(300, 3600, k),
                7200 - 1 - np.abs(rng.normal(0, 900, k)).astype(np.int64),
                np.full(k, 7200),
            ],
            7200 + 1 + np.abs(rng.normal(0, 2400, k)).astype(np.int64),
        )
        resp = np.maximum(resp, 60)
        rcomp = choose(rng, np.array([0.55, 0.07, 0.32, 0.06]), k)
        res = np.select(
            [rcomp == 0, rcomp == 1, rcomp == 2],
            [
                86400 - 1 - np.abs(rng.normal(0, 6 * 3600, k)).astype(np.int64),
                np.full(k, 86400),
                86400 + 1 + np.abs(rng.normal(0, 12 * 3600, k)).astype(np.int64),
            ],
            rng.integers(3 * DAY, 10 * DAY, k),
        )
        res = np.maximum(res, resp + 600)
        never = rng.random(k)
        responded = never >= 0.01
        resolved = never >= 0.03
        t1, t2 = opened + resp, opened + res
        r1 = responded & (clock.local_day(t1) <= last)
        r2 = resolved & r1 & (clock.local_day(t2) <= last)
        a0 = np.minimum(clock.local_day(opened) + _lags(rng, k, 0.04), last)
        a1 = np.maximum(np.minimum(clock.local_day(t1) + _lags(rng, k, 0.04), last), a0)
        a2 = np.maximum(np.minimum(clock.local_day(t2) + _lags(rng, k, 0.04), last), a1)
        w0 = ~r1 | (a0 < a1)
        w1 = r1 & (~r2 | (a1 < a2))
        w2 = r2
        refunded_c = refunded[oi]
        cat = np.where(
            refunded_c,
            choose(rng, np.array([0.45, 0.15, 0.10, 0.25, 0.05]), k),
            choose(rng, np.array([0.30, 0.30, 0.20, 0.10, 0.10]), k),
        )
        sev = np.where(
            self.b2b[o["cust"][oi]],
            choose(rng, np.array([0.35, 0.40, 0.25]), k),
            choose(rng, np.array([0.55, 0.33, 0.12]), k),
        )
        chan_null = rng.random(k) < 0.08
        base = {
            "ticket_id": s_id("T", np.arange(1, k + 1), 6),
            "customer_id": self.cust_ids.take(o["cust"][oi]),
            "channel_id": null_where(self.ch_ids.take(o["chan"][oi]), chan_null),
            "opened_at": clock.fmt_ts(opened, clock.forms(rng, k)),
            "first_response_at": clock.fmt_ts(t1, clock.forms(rng, k)),
            "resolved_at": clock.fmt_ts(t2, clock.forms(rng, k)),
            "category": pick(("quality", "delivery", "service", "billing", "other"), cat),
            "severity": pick(("low", "medium", "high"), sev),
        }
        up_form = clock.forms(rng, k)
        parts = []
        for state, (w, arrival, upd) in enumerate(((w0, a0, opened), (w1, a1, t1), (w2, a2, t2))):
            idx = np.flatnonzero(w)
            cols = {name: arr.take(idx) for name, arr in base.items()}
            none = pa.nulls(len(idx), pa.string())
            if state < 1:
                cols["first_response_at"] = none
            if state < 2:
                cols["resolved_at"] = none
            cols["updated_at"] = clock.fmt_ts(upd[idx], up_form[idx])
            parts.append((cols, arrival[idx], upd[idx]))
        names = list(base) + ["updated_at"]
        rows = FeedRows(
            {n: pa.concat_arrays([p[0][n] for p in parts]) for n in names},
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )
        return rows, {"order": oi, "opened": opened}

    # -- surveys ----------------------------------------------------------------------------------------
    def _surveys(self, complaint: dict[str, np.ndarray]) -> FeedRows:
        o, rng, clock, last = self.o, self.rng, self.clock, self.days - 1
        m = len(o["epoch"])
        ob = self.b2b[o["cust"]]
        si = np.flatnonzero(~o["cancelled"] & (rng.random(m) < np.where(ob, 0.10, 0.06)))
        opened = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(opened, complaint["order"], complaint["opened"])
        refund_at = np.where(o["refunded"], o["refund_at"], np.iinfo(np.int64).max)
        base = o["epoch"][si]
        had_refund_planned = o["refunded"][si] & (clock.local_day(refund_at[si]) <= last)
        had_complaint_planned = opened[si] < np.iinfo(np.int64).max
        base = np.where(had_refund_planned, np.maximum(base, refund_at[si]), base)
        base = np.where(had_complaint_planned, np.maximum(base, opened[si]), base)
        submitted = base + rng.integers(2 * 3600, 10 * DAY, len(si))
        keep = clock.local_day(submitted) <= last
        si, submitted = si[keep], submitted[keep]
        order = np.argsort(submitted, kind="stable")
        si, submitted = si[order], submitted[order]
        k = len(si)
        cust = o["cust"][si]
        # experience: this order was refunded / complained about, or the customer had a refund or a
        # complaint in the 90 days before answering
        this_refund = o["refunded"][si] & (refund_at[si] <= submitted)
        this_complaint = opened[si] <= submitted
        ri = np.flatnonzero(o["refunded"])
        base = (clock.lo_day - 1) * DAY
        recent_refund = _recent(o["cust"][ri], o["refund_at"][ri], cust, submitted, 90 * DAY, base)
        recent_complaint = _recent(
            o["cust"][complaint["order"]], complaint["opened"], cust, submitted, 90 * DAY, base
        )
        chan = o["chan"][si]
        mu = (
            self.ch_nps[chan]
            + self.sat[cust]
            - 2.5 * recent_refund
            - 3.0 * recent_complaint
            - 1.0 * (this_refund | this_complaint)
        )
        nps = np.clip(np.rint(mu + rng.normal(0, 1.5, k)), 0, 10).astype(np.int64)
        csat = np.clip(np.rint((nps + 1) / 2.2 + rng.normal(0, 0.5, k)), 1, 5).astype(np.int64)
        group = np.where(nps >= 9, 0, np.where(nps >= 7, 1, 2))
        bank = list(COMMENTS["promoter"]) + list(COMMENTS["passive"]) + list(COMMENTS["detractor"])
        sizes = np.array([len(COMMENTS["promoter"]), len(COMMENTS["passive"]), len(COMMENTS["detractor"])])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        comment = pick(bank, offsets[group] + (rng.random(k) * sizes[group]).astype(np.int64))
        cols = {
            "response_id": s_id("R", np.arange(1, k + 1), 6),
            "customer_id": self.cust_ids.take(cust),
            "channel_id": null_where(self.ch_ids.take(chan), rng.random(k) < 0.10),
            "submitted_at": clock.fmt_ts(submitted, clock.forms(rng, k)),
            "nps_score": s_int(nps),
            "csat_score": null_where(s_int(csat), rng.random(k) < 0.20),
            "comment": null_where(comment, rng.random(k) < 0.45),
        }
        arrival = np.minimum(clock.local_day(submitted) + _lags(rng, k, 0.05), last)
        return FeedRows(cols, arrival, submitted)

    # -- customers feed ---------------------------------------------------------------------------------
    def _customer_rows(self) -> FeedRows:
        rng, clock, n, last = self.rng, self.clock, self.n_customers, self.days - 1
        b2b = self.b2b
        person, surname = person_names(rng, n)
        company, core = company_names(rng, self.region)
        name = null_where(pc.if_else(pa.array(b2b), company, person), rng.random(n) < 0.005)
        mail_b2c = join(
            pick([s[1] for s in SURNAMES], surname),
            s_int(rng.integers(10, 1_000_000, n)),
            "@",
            pick(MAIL_DOMAINS, rng.integers(0, len(MAIL_DOMAINS), n)),
        )
        mail_b2b = join(
            pick(("sales", "info", "contact", "service"), rng.integers(0, 4, n)),
            "@",
            pick([c[1] for c in COMPANY_CORE], core),
            s_int(rng.integers(1, 1000, n)),
            pick((".com", ".cn", ".com.cn"), rng.integers(0, 3, n)),
        )
        email = pc.if_else(pa.array(b2b), mail_b2b, mail_b2c)
        email = null_where(email, rng.random(n) > np.where(b2b, 0.8, 0.55))
        phone0 = pc.if_else(pa.array(b2b), phones(rng, n, 0.3), phones(rng, n, 0.0))
        phone0 = null_where(phone0, rng.random(n) < 0.03)
        ctype = pick(("b2c", "b2b"), b2b.astype(np.int64))
        signup_ts = clock.fmt_ts(self.signup, clock.forms(rng, n))
        start_epoch = clock.local_to_epoch(np.array([clock.day0 * DAY]))[0]

        present = self.signup_day <= last
        pre = self.signup_day < 0
        upd0 = np.where(
            pre, self.signup + ((start_epoch - 1 - self.signup) * rng.random(n)).astype(np.int64), self.signup
        )
        a0 = np.where(pre, 0, np.minimum(self.signup_day + _lags(rng, n, 0.05), last))

        def change(a_prev, eligible, region, industry, phone):
            """One later change of region, industry or phone for some customers."""
            lo = a_prev + 1
            ok = eligible & (lo <= last)
            d = lo + (rng.random(n) * np.maximum(last - lo + 1, 1)).astype(np.int64)
            ep = clock.day_time_to_epoch(np.minimum(d, last), rng.integers(9 * 3600, 21 * 3600, n))
            arrival = np.minimum(clock.local_day(ep) + _lags(rng, n, 0.05), last)
            ok &= arrival > a_prev
            kind = choose(rng, np.array([0.45, 0.20, 0.35]), n)
            kind = np.where((kind == 1) & ~b2b, 2, kind)
            region = np.where(ok & (kind == 0), (region + rng.integers(1, 7, n)) % 7, region)
            industry = np.where(
                ok & (kind == 1), (industry + rng.integers(1, len(INDUSTRIES), n)) % len(INDUSTRIES), industry
            )
            phone = pc.if_else(pa.array(ok & (kind == 2)), phones(rng, n, 0.0), phone)
            return ok, ep, arrival, region, industry, phone

        r0, i0 = self.region.copy(), self.industry.copy()
        u = rng.random(n)
        ok1, ep1, a1, r1, i1, p1 = change(a0, present & (u < 0.13), r0, i0, phone0)
        ok2, ep2, a2, r2, i2, p2 = change(a1, ok1 & (u < 0.03), r1, i1, p1)
        upd_form = clock.forms(rng, n)
        parts = []
        for ok, upd, arrival, reg, ind, phone in (
            (present, upd0, a0, r0, i0, phone0),
            (ok1, ep1, a1, r1, i1, p1),
            (ok2, ep2, a2, r2, i2, p2),
        ):
            idx = np.flatnonzero(ok)
            cols = {
                "customer_id": self.cust_ids.take(idx),
                "customer_type": ctype.take(idx),
                "name": name.take(idx),
                "phone": phone.take(idx),
                "email": email.take(idx),
                "region": pick(REGIONS, reg[idx]),
                "industry": null_where(pick(INDUSTRIES, ind[idx]), ~b2b[idx]),
                "signup_ts": signup_ts.take(idx),
                "updated_at": clock.fmt_ts(upd[idx], upd_form[idx]),
            }
            parts.append((cols, arrival[idx], upd[idx]))
        names = list(parts[0][0])
        return FeedRows(
            {c: pa.concat_arrays([p[0][c] for p in parts]) for c in names},
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    # -- channels feed ----------------------------------------------------------------------------------
    def _channel_rows(self, ch: ChannelPlan) -> FeedRows:
        rng, clock, days = self.rng, self.clock, self.days
        v = np.array(ch.versions, dtype=np.int64)  # channel, from day, epoch, status, mask
        v = v[np.lexsort((v[:, 1], v[:, 0]))]
        texts = region_mask_text()
        partner = self.is_partner[v[:, 0]]
        vcols = {
            "channel_id": self.ch_ids.take(v[:, 0]),
            "channel_name": pa.array([CATALOG[i][0] for i in v[:, 0]], pa.string()),
            "channel_type": pa.array([CHANNEL_TYPE[CATALOG[i][1]] for i in v[:, 0]], pa.string()),
            "sub_type": pa.array([CATALOG[i][1] for i in v[:, 0]], pa.string()),
            "region": pa.array([CATALOG[i][2] for i in v[:, 0]], pa.string()),
            "authorized_regions": pa.array(
                [texts[m] if p else None for m, p in zip(v[:, 4], partner, strict=True)], pa.string()
            ),
            "status": pick(STATUSES, v[:, 3]),
            "updated_at": clock.fmt_ts(v[:, 2], clock.forms(rng, len(v))),
        }
        # version in force per channel and day
        vid = np.full((ch.n, days), -1, dtype=np.int64)
        for j, (c, d, *_rest) in enumerate(v):
            vid[c, d:] = j
        cc, dd = np.nonzero(vid >= 0)
        order = np.lexsort((cc, dd))
        cc, dd = cc[order], dd[order]
        take = vid[cc, dd]
        return FeedRows({k: a.take(take) for k, a in vcols.items()}, dd, cc)

    # -- channel activity -------------------------------------------------------------------------------
    def _activity(self) -> FeedRows:
        o, rng, clock, days, ch = self.o, self.rng, self.clock, self.days, self.ch
        n = ch.n
        day, chan = o["day"].astype(np.int64), o["chan"].astype(np.int64)
        ok = (day >= 0) & (day < days)
        key = chan[ok] * days + day[ok]
        orders = np.bincount(key, minlength=n * days).reshape(n, days)
        paid_cents = np.where(o["cancelled"], 0, o["cents"])[ok].astype(np.float64)
        revenue = np.bincount(key, weights=paid_cents, minlength=n * days).reshape(n, days) / 100.0
        dd = np.arange(days)[None, :]
        exists = (dd >= ch.master_start[:, None]) & (dd < ch.term_day[:, None])
        paused = dd >= ch.pause_day[:, None]
        active_days = np.maximum(exists.sum(axis=1), 1)
        mean_o = orders.sum(axis=1) / active_days
        conv = ch.conv[:, None]
        visits = np.rint((orders + 0.3 * mean_o[:, None] + 0.5) / conv * rng.lognormal(0, 0.12, (n, days)))
        events = np.zeros((n, days), dtype=bool)
        sub = np.array(SUB_NAMES)[ch.sub]
        for i in np.flatnonzero(sub == "exhibition"):
            for s in rng.integers(0, days, size=max(1, days // 120)):
                events[i, s : s + 3] = True
        visits = np.where(events, visits * 4, visits)
        visits = np.where(paused, np.rint(visits * 0.05), visits)
        visits = np.maximum(visits, orders).astype(np.int64)
        inq_rate = np.minimum(0.6, ch.conv * rng.uniform(3, 6, n))[:, None]
        inquiries = rng.binomial(visits, np.broadcast_to(inq_rate, visits.shape))
        carts = rng.binomial(inquiries, rng.uniform(0.35, 0.7, n)[:, None] * np.ones((1, days)))
        secs = sub_param("secs")[ch.sub][:, None] * rng.lognormal(0, 0.15, (n, days))
        tenths = np.rint(secs * 10).astype(np.int64)
        weekday = clock.calendar()["weekday"][None, :]
        u = rng.uniform(0.7, 1.3, (n, days))
        yuan = np.zeros((n, days))
        rules = {
            "exhibition": 1500 * u + events * rng.uniform(60_000, 150_000, (n, days)),
            "showroom": 4000 * u,
            "field_visit": np.where(weekday >= 5, 500, 3000) * u,
            "website": visits * rng.uniform(0.8, 1.5, (n, days)),
            "wecom_community": 500 * u,
            "referral": 50 * orders + 100 * u,
            "head_distributor": 0.06 * revenue,
            "growth_distributor": 0.10 * revenue,
            "agent": 0.12 * revenue,
            "cross_industry": 0.08 * revenue,
            "ecommerce": 0.05 * revenue + visits * 0.15 * u,
            "live_commerce": 0.20 * revenue + visits * 0.25 * u,
            "vertical_platform": 0.04 * revenue + visits * 0.10 * u,
        }
        for name, value in rules.items():
            rows = sub == name
            yuan[rows] = value[rows]
        yuan = np.where(paused, 0.0, yuan)
        spend = np.rint(yuan * 100).astype(np.int64)
        cc, dd2 = np.nonzero(exists)
        order = np.lexsort((cc, dd2))
        cc, dd2 = cc[order], dd2[order]
        cols = {
            "activity_date": clock.fmt_date(dd2),
            "channel_id": self.ch_ids.take(cc),
            "visits": s_int(visits[cc, dd2]),
            "avg_visit_seconds": s_tenths(tenths[cc, dd2]),
            "inquiries": s_int(inquiries[cc, dd2]),
            "carts": s_int(carts[cc, dd2]),
            "spend": s_money(spend[cc, dd2]),
        }
        arrival = np.minimum(dd2 + _lags(rng, len(cc), 0.03), days - 1)
        return FeedRows(cols, arrival, cc)

    # -- sales targets ----------------------------------------------------------------------------------
    def _targets(self) -> FeedRows:
        o, rng, clock, days, ch = self.o, self.rng, self.clock, self.days, self.ch
        cal = clock.calendar()
        mi = cal["month_index"] - cal["month_index"][0]
        n_months = int(mi[-1]) + 1
        starts = np.flatnonzero((cal["dom"] == 1) | (np.arange(days) == 0))
        covered = np.bincount(mi, minlength=n_months)
        month_len = np.zeros(n_months)
        month_len[mi] = cal["month_len"]
        ok = (o["day"] >= 0) & (o["day"] < days)
        purchase = ok & ~o["cancelled"] & ~o["refunded"]
        key = o["chan"][purchase] * n_months + mi[o["day"][purchase]]
        rev = np.bincount(key, weights=o["cents"][purchase] / 100.0, minlength=ch.n * n_months)
        rev = rev.reshape(ch.n, n_months) * (month_len / np.maximum(covered, 1))[None, :]
        # new customers: first purchase per customer
        pc_idx = np.flatnonzero(purchase)
        _, first = np.unique(o["cust"][pc_idx], return_index=True)
        fi = pc_idx[first]
        newc = np.bincount(o["chan"][fi] * n_months + mi[o["day"][fi]], minlength=ch.n * n_months)
        newc = newc.reshape(ch.n, n_months) * (month_len / np.maximum(covered, 1))[None, :]
        rows_c, rows_m, rows_d = [], [], []
        for d in starts:
            active = (ch.master_start <= d) & (ch.term_day > d)
            cs = np.flatnonzero(active)
            rows_c.append(cs)
            rows_m.append(np.full(len(cs), mi[d]))
            rows_d.append(np.full(len(cs), d))
        cc, mm, dd = np.concatenate(rows_c), np.concatenate(rows_m), np.concatenate(rows_d)
        k = len(cc)
        target = np.rint(rev[cc, mm] * rng.uniform(0.95, 1.3, k) / 100) * 10_000
        new_target = np.rint(newc[cc, mm] * rng.uniform(0.9, 1.5, k))
        cols = {
            "month": pc.utf8_slice_codeunits(clock.fmt_date(dd), 0, 7),
            "channel_id": self.ch_ids.take(cc),
            "revenue_target": s_money(target.astype(np.int64)),
            "new_customers_target": s_int(new_target.astype(np.int64)),
        }
        return FeedRows(cols, dd.astype(np.int64), cc)


def _recent(
    ev_cust: np.ndarray, ev_time: np.ndarray, cust: np.ndarray, at: np.ndarray, window: int, base: int
) -> np.ndarray:
    """Whether each (customer, time) had an event of that customer within `window` seconds before.

    Times must be later than `base` (and less than 2**34 s after it).
    """
    if len(ev_cust) == 0:
        return np.zeros(len(cust), dtype=bool)
    big = np.int64(1) << 34
    ev_key = np.sort(ev_cust.astype(np.int64) * big + (ev_time - base))
    q = cust.astype(np.int64) * big + (at - base)
    i = np.searchsorted(ev_key, q, side="right") - 1
    prev = ev_key[np.maximum(i, 0)]
    return (i >= 0) & (prev // big == cust) & (q - prev <= window)


def _concat(parts, rng, clock, p_late: float) -> FeedRows:
    """Stage rows of leads: arrival on the day the stage happens (a few later)."""
    names = list(parts[0][0])
    ts = np.concatenate([p[1] for p in parts])
    last = clock.days - 1
    arrival = np.minimum(clock.local_day(ts) + _lags(rng, len(ts), p_late), last)
    return FeedRows({n: pa.concat_arrays([p[0][n] for p in parts]) for n in names}, arrival, ts)
