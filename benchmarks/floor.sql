-- The raw-DuckDB floor: the four core marts (mart_customer_rfm, mart_channel_funnel, mart_nps,
-- mart_channel_health) straight from the landing files, in one script, with no orchestration, no
-- quarantine and no checks. What a careful engineer would write by hand; the pipeline's cost is
-- measured against it. The definitions are the models' (models/marts/_marts.yml) and the readings of
-- docs/mart_rules.md; benchmarks/run.py checks that the result equals the published marts.
--
-- Variables (set by benchmarks/floor.py): landing (landing-zone root), seeds (the seeds/ folder),
-- as_of (DATE: the last arrival day read; D of the marts), tz (the business time zone).
-- Assumes clean CSV files (the bench generates them with --defect-rate 0): every line is a valid
-- record, so nothing is quarantined and no value needs checking.
--
-- The files are read as text and split in SQL: DuckDB's read_csv with union_by_name (the columns are
-- in a different order in about half the files) binds every file on its own, which costs more than
-- the rest of the script at 730 files per feed; read_text + string_split reads them 10-20x faster and
-- gives each record's line number, the last tie-breaker of the contract's supersede rule.

-- -- helpers ---------------------------------------------------------------------------------------
create or replace temp macro arrival_day(path) as
    cast(regexp_extract(path, '/(\d{4}-\d{2}-\d{2})/[^/]+$', 1) as date);
create or replace temp macro local_date(ts) as cast(timezone(getvariable('tz'), ts) as date);
create or replace temp macro month_of(d) as cast(date_trunc('month', d) as date);
create or replace temp macro month_end(m) as cast(last_day(m) as date);
create or replace temp macro month_number(m) as year(m) * 12 + month(m);
create or replace temp macro ratio(num, den) as cast(num as double) / nullif(cast(den as double), 0);
create or replace temp macro cents(amount) as cast(amount * 100 as hugeint);
-- whole numbers divided, halves away from zero; NULL when the denominator is not positive
create or replace temp macro div_half_away(num, den) as
    case when den > 0 then
        sign(cast(num as hugeint)) * ((2 * abs(cast(num as hugeint)) + cast(den as hugeint)) // (2 * cast(den as hugeint)))
    end;
create or replace temp macro money_from_cents(c) as cast(cast(c as hugeint) * 0.01 as decimal(18, 2));
create or replace temp macro money_div(amount, den) as money_from_cents(div_half_away(cents(amount), den));
-- ceil(buckets * cume_dist()) from integer window counts
create or replace temp macro score(k, n) as (5 * k + n - 1) // n;

-- the fields of one CSV line as text; a field in double quotes may hold commas and doubled quotes
create or replace temp macro csv_fields(line) as
    case
        when contains(line, '"') then list_transform(
            regexp_extract_all(line || ',', '("(?:[^"]|"")*"|[^,"]*),', 1),
            lambda f: case when f like '"%' then replace(f[2:-2], '""', '"') else f end
        )
        else string_split(line, ',')
    end;

-- every record of a feed that arrived on or before as_of: its file, arrival day and line number, and
-- rec = {header, fields} (the header split once per file); csv_value(rec, 'column') is the column's
-- value, trimmed, '' as NULL
create or replace temp macro feed(name) as table
    with files as (
        select filename, arrival_day(filename) as arrival_day, string_split(content, chr(10)) as lines
        from read_text(getvariable('landing') || '/' || name || '/*/*.csv')
        where arrival_day(filename) <= getvariable('as_of')
    ),
    records as (
        select
            filename,
            arrival_day,
            csv_fields(rtrim(lines[1], chr(13))) as header,
            unnest(lines[2:]) as line,
            generate_subscripts(lines[2:], 1) + 1 as line_number
        from files
    )
    select
        filename,
        arrival_day,
        line_number,
        {'header': header, 'fields': csv_fields(rtrim(line, chr(13)))} as rec
    from records
    where trim(line) <> '';
create or replace temp macro csv_value(rec, name) as nullif(trim(rec.fields[list_position(rec.header, name)]), '');

create or replace temp table thresholds as
select threshold_name, cast(threshold_value as decimal(18, 6)) as threshold_value
from read_csv(getvariable('seeds') || '/mart_thresholds.csv', all_varchar = true);
create or replace temp macro threshold(name) as
    (select threshold_value from thresholds where threshold_name = name);

create or replace temp table benchmarks as
select channel_type, cast(visit_to_order_rate as double) as visit_to_order_rate, cast(win_rate as double) as win_rate
from read_csv(getvariable('seeds') || '/channel_type_benchmarks.csv', all_varchar = true);

create or replace temp table stage_order as
select stage, cast(stage_order as bigint) as stage_order, lower(is_funnel_stage) = 'true' as is_funnel_stage
from read_csv(getvariable('seeds') || '/lead_stage_order.csv', all_varchar = true);

create or replace temp table segment_map as
select cast(r_score as bigint) as r_score, cast(fm_score as bigint) as fm_score, rfm_segment
from read_csv(getvariable('seeds') || '/rfm_segment_map.csv', all_varchar = true);

-- -- inputs: the latest record per key, then the as-of filters -----------------------------------------
create or replace temp table purchases as
with records as (
    select
        csv_value(rec, 'order_id') as order_id,
        csv_value(rec, 'customer_id') as customer_id,
        csv_value(rec, 'channel_id') as channel_id,
        cast(csv_value(rec, 'order_ts') as timestamptz) as order_ts,
        cast(csv_value(rec, 'amount') as decimal(18, 2)) as amount,
        csv_value(rec, 'status') as status,
        cast(csv_value(rec, 'updated_at') as timestamptz) as updated_at,
        arrival_day,
        filename,
        line_number
    from feed('orders')
),
latest as (
    select
        order_id,
        arg_max(
            {'customer_id': customer_id, 'channel_id': channel_id, 'order_ts': order_ts, 'amount': amount, 'status': status},
            {'updated_at': updated_at, 'arrival_day': arrival_day, 'filename': filename, 'line_number': line_number}
        ) as r
    from records
    group by order_id
)
select
    order_id,
    r.customer_id,
    r.channel_id,
    r.order_ts,
    local_date(r.order_ts) as order_date,
    month_of(local_date(r.order_ts)) as order_month,
    r.amount
from latest
where r.status = 'paid' and local_date(r.order_ts) <= getvariable('as_of');

create or replace temp table activity as
with records as (
    select
        cast(csv_value(rec, 'activity_date') as date) as activity_date,
        csv_value(rec, 'channel_id') as channel_id,
        cast(csv_value(rec, 'visits') as bigint) as visits,
        cast(csv_value(rec, 'avg_visit_seconds') as double) as avg_visit_seconds,
        cast(csv_value(rec, 'inquiries') as bigint) as inquiries,
        cast(csv_value(rec, 'carts') as bigint) as carts,
        cast(csv_value(rec, 'spend') as decimal(18, 2)) as spend,
        arrival_day,
        filename,
        line_number
    from feed('channel_activity')
),
latest as (
    select
        activity_date,
        channel_id,
        arg_max(
            {'visits': visits, 'avg_visit_seconds': avg_visit_seconds, 'inquiries': inquiries, 'carts': carts, 'spend': spend},
            {'arrival_day': arrival_day, 'filename': filename, 'line_number': line_number}
        ) as r
    from records
    group by activity_date, channel_id
)
select
    channel_id,
    month_of(activity_date) as month,
    cast(sum(coalesce(r.visits, 0)) as bigint) as visits,
    cast(sum(coalesce(r.inquiries, 0)) as bigint) as inquiries,
    cast(sum(coalesce(r.carts, 0)) as bigint) as carts,
    cast(sum(coalesce(r.spend, 0)) as decimal(18, 2)) as spend,
    sum(cast(r.visits * r.avg_visit_seconds as decimal(38, 9))) as visit_seconds,
    sum(case when r.avg_visit_seconds is not null then r.visits end) as timed_visits
from latest
where activity_date <= getvariable('as_of')
group by channel_id, month_of(activity_date);

create or replace temp table leads as
with records as (
    select
        csv_value(rec, 'lead_id') as lead_id,
        csv_value(rec, 'stage') as stage,
        csv_value(rec, 'channel_id') as channel_id,
        cast(csv_value(rec, 'stage_ts') as timestamptz) as stage_ts,
        arrival_day,
        filename,
        line_number
    from feed('leads')
),
latest as (
    select
        lead_id,
        stage,
        arg_max(
            {'channel_id': channel_id, 'stage_ts': stage_ts},
            {'arrival_day': arrival_day, 'filename': filename, 'line_number': line_number}
        ) as r
    from records
    group by lead_id, stage
),
stage_rows as (
    select
        latest.lead_id,
        latest.stage,
        latest.r.channel_id as channel_id,
        latest.r.stage_ts as stage_ts,
        local_date(latest.r.stage_ts) as stage_date,
        stage_order.stage_order,
        stage_order.is_funnel_stage
    from latest
    inner join stage_order on latest.stage = stage_order.stage
    where local_date(latest.r.stage_ts) <= getvariable('as_of')
),
per_lead as (
    -- the earliest stage row (by stage_ts, then funnel order) gives the channel
    select
        lead_id,
        arg_min(channel_id, {'stage_ts': stage_ts, 'stage_order': stage_order}) as channel_id,
        coalesce(
            max(stage_date) filter (where stage = 'created'),
            arg_min(stage_date, {'stage_ts': stage_ts, 'stage_order': stage_order})
        ) as created_date,
        max(stage_order) filter (where is_funnel_stage) as furthest_stage_order,
        max(stage_date) filter (where stage = 'won') as won_date
    from stage_rows
    group by lead_id
)
select
    channel_id,
    month_of(created_date) as month,
    coalesce(furthest_stage_order >= (select stage_order from stage_order where stage = 'qualified'), false)
        as reached_qualified,
    coalesce(furthest_stage_order >= (select stage_order from stage_order where stage = 'proposal'), false)
        as reached_proposal,
    coalesce(furthest_stage_order >= (select stage_order from stage_order where stage = 'won'), false) as reached_won,
    won_date - created_date as cycle_days
from per_lead;

-- the channel type of the latest channel-master record; 'unknown' for a channel the master never sent
create or replace temp table channel_types as
select
    csv_value(rec, 'channel_id') as channel_id,
    arg_max(
        csv_value(rec, 'channel_type'),
        {
            'updated_at': cast(csv_value(rec, 'updated_at') as timestamptz),
            'arrival_day': arrival_day, 'filename': filename, 'line_number': line_number
        }
    ) as channel_type
from feed('channels')
group by csv_value(rec, 'channel_id');

-- -- mart_customer_rfm ---------------------------------------------------------------------------------
create or replace table mart_customer_rfm as
with purchase_days as (
    select customer_id, order_date, count(*) as orders, sum(amount) as revenue
    from purchases
    group by customer_id, order_date
),
customers as (
    select
        customer_id,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        sum(orders) as frequency,
        sum(revenue) as monetary,
        count(*) as purchase_day_count,
        sum(revenue) - arg_min(revenue, order_date) as repeat_revenue,
        coalesce(sum(revenue) filter (where order_date >= getvariable('as_of') - 364), 0) as revenue_365d
    from purchase_days
    group by customer_id
),
figures as (
    select
        customer_id,
        getvariable('as_of') as as_of_date,
        getvariable('as_of') - last_purchase_date as recency_days,
        cast(frequency as bigint) as frequency,
        cast(monetary as decimal(18, 2)) as monetary,
        money_div(monetary, frequency) as avg_order_value,
        first_purchase_date,
        last_purchase_date,
        purchase_day_count - 1 as repeat_frequency,
        last_purchase_date - first_purchase_date as recency_btyd,
        getvariable('as_of') - first_purchase_date as t_days,
        coalesce(money_div(repeat_revenue, purchase_day_count - 1), 0.00::decimal(18, 2)) as repeat_monetary_avg,
        cast(revenue_365d as decimal(18, 2)) as revenue_365d
    from customers
),
scored as (
    select
        *,
        score(count(*) over (order by recency_days desc), count(*) over ()) as r_score,
        score(count(*) over (order by frequency), count(*) over ()) as f_score,
        score(count(*) over (order by monetary), count(*) over ()) as m_score
    from figures
)
select
    scored.customer_id,
    scored.as_of_date,
    scored.recency_days,
    scored.frequency,
    scored.monetary,
    scored.avg_order_value,
    scored.first_purchase_date,
    scored.last_purchase_date,
    scored.repeat_frequency,
    scored.recency_btyd,
    scored.t_days,
    scored.repeat_monetary_avg,
    scored.r_score,
    scored.f_score,
    scored.m_score,
    cast(ceil((scored.f_score + scored.m_score) / 2.0) as bigint) as fm_score,
    segment_map.rfm_segment,
    case
        when scored.revenue_365d >= threshold('strategic_revenue_365d') then 'strategic'
        when scored.f_score >= threshold('growth_min_f_score') then 'growth'
        else 'potential'
    end as customer_tier,
    scored.revenue_365d
from scored
left join segment_map
    on scored.r_score = segment_map.r_score
    and cast(ceil((scored.f_score + scored.m_score) / 2.0) as bigint) = segment_map.fm_score;

-- -- the rows of both channel marts: (channel_id, month) with activity, a purchase or a lead cohort ---
create or replace temp table channel_months as
select channel_id, month, month_end(month) as month_end, month_number(month) as month_number
from (
    select channel_id, month from activity
    union
    select channel_id, order_month from purchases
    union
    select channel_id, month from leads
);

-- -- mart_channel_funnel -------------------------------------------------------------------------------
create or replace table mart_channel_funnel as
with sales as (
    select channel_id, order_month as month, count(*) as orders, count(distinct customer_id) as buyers
    from purchases
    group by channel_id, order_month
),
-- a buyer of the month repeats when its second purchase through the channel is dated by the month's end
second_purchase as (
    select customer_id, channel_id, min(order_date, 2)[2] as second_date
    from purchases
    group by customer_id, channel_id
    having count(*) >= 2
),
repeat_buyers as (
    select buyers.channel_id, buyers.month, count(*) as repeat_buyers
    from (select distinct channel_id, order_month as month, customer_id from purchases) as buyers
    inner join second_purchase
        on buyers.customer_id = second_purchase.customer_id and buyers.channel_id = second_purchase.channel_id
    where second_purchase.second_date <= month_end(buyers.month)
    group by buyers.channel_id, buyers.month
),
cohorts as (
    select
        channel_id,
        month,
        count(*) as leads_created,
        count(*) filter (where reached_qualified) as leads_qualified,
        count(*) filter (where reached_proposal) as leads_proposal,
        count(*) filter (where reached_won) as leads_won,
        cast(quantile_cont(cycle_days, 0.5) as double) as cycle_days_median,
        cast(quantile_cont(cycle_days, 0.9) as double) as cycle_days_p90
    from leads
    group by channel_id, month
),
funnel as (
    select
        channel_months.channel_id,
        channel_months.month,
        coalesce(channel_types.channel_type, 'unknown') as channel_type,
        coalesce(activity.visits, 0) as visits,
        ratio(activity.visit_seconds, activity.timed_visits) as avg_visit_seconds,
        coalesce(activity.inquiries, 0) as inquiries,
        coalesce(activity.carts, 0) as carts,
        coalesce(sales.orders, 0) as orders,
        coalesce(sales.buyers, 0) as buyers,
        coalesce(repeat_buyers.repeat_buyers, 0) as repeat_buyers,
        coalesce(cohorts.leads_created, 0) as leads_created,
        coalesce(cohorts.leads_qualified, 0) as leads_qualified,
        coalesce(cohorts.leads_proposal, 0) as leads_proposal,
        coalesce(cohorts.leads_won, 0) as leads_won,
        cohorts.cycle_days_median,
        cohorts.cycle_days_p90
    from channel_months
    left join activity using (channel_id, month)
    left join sales using (channel_id, month)
    left join repeat_buyers using (channel_id, month)
    left join cohorts using (channel_id, month)
    left join channel_types using (channel_id)
)
select
    funnel.channel_id,
    funnel.month,
    funnel.channel_type,
    funnel.visits,
    funnel.avg_visit_seconds,
    funnel.inquiries,
    funnel.carts,
    funnel.orders,
    funnel.buyers,
    funnel.repeat_buyers,
    ratio(funnel.inquiries, funnel.visits) as inquiry_rate,
    ratio(funnel.carts, funnel.visits) as cart_rate,
    ratio(funnel.orders, funnel.inquiries) as close_rate,
    ratio(funnel.orders, funnel.visits) as visit_to_order_rate,
    ratio(funnel.repeat_buyers, funnel.buyers) as repeat_rate,
    funnel.leads_created,
    funnel.leads_qualified,
    funnel.leads_proposal,
    funnel.leads_won,
    ratio(funnel.leads_qualified, funnel.leads_created) as qualified_rate,
    ratio(funnel.leads_proposal, funnel.leads_qualified) as proposal_rate,
    ratio(funnel.leads_won, funnel.leads_proposal) as won_rate,
    ratio(funnel.leads_won, funnel.leads_created) as win_rate,
    funnel.cycle_days_median,
    funnel.cycle_days_p90,
    funnel.cycle_days_median <= threshold('cycle_target_days') as cycle_within_target,
    ratio(funnel.orders, funnel.visits) < benchmarks.visit_to_order_rate
        or ratio(funnel.leads_won, funnel.leads_created) < benchmarks.win_rate as below_benchmark
from funnel
left join benchmarks using (channel_type);

-- -- mart_channel_health -------------------------------------------------------------------------------
create or replace table mart_channel_health as
with first_purchases as (
    select
        customer_id,
        arg_min(channel_id, {'order_ts': order_ts, 'order_id': order_id}) as channel_id,
        min(order_date) as first_purchase_date
    from purchases
    group by customer_id
),
sales as (
    select channel_id, order_month as month, count(*) as orders, sum(amount) as revenue
    from purchases
    group by channel_id, order_month
),
new_customers as (
    select channel_id, month_of(first_purchase_date) as month, count(*) as new_customers
    from first_purchases
    group by channel_id, month_of(first_purchase_date)
),
acquired_per_day as (
    select channel_id, first_purchase_date as day, count(*) as customers
    from first_purchases
    group by channel_id, first_purchase_date
),
-- every purchase is dated on or after its buyer's first purchase, so the cohort's revenue in the
-- window is the revenue of the channel's acquired customers dated in the window
cohort_revenue_per_day as (
    select first_purchases.channel_id, purchases.order_date as day, sum(purchases.amount) as revenue
    from purchases
    inner join first_purchases on purchases.customer_id = first_purchases.customer_id
    group by first_purchases.channel_id, purchases.order_date
),
clv_cohorts as (
    select
        channel_months.channel_id,
        channel_months.month,
        (select coalesce(sum(customers), 0) from acquired_per_day as a
         where a.channel_id = channel_months.channel_id and a.day <= channel_months.month_end) as clv_cohort_customers,
        (select coalesce(sum(revenue), 0) from cohort_revenue_per_day as r
         where r.channel_id = channel_months.channel_id
           and r.day between channel_months.month_end - 364 and channel_months.month_end) as clv_cohort_revenue
    from channel_months
),
figures as (
    select
        channel_months.channel_id,
        channel_months.month,
        channel_months.month_number,
        coalesce(channel_types.channel_type, 'unknown') as channel_type,
        cast(coalesce(activity.spend, 0) as decimal(18, 2)) as spend,
        coalesce(activity.visits, 0) as visits,
        coalesce(sales.orders, 0) as orders,
        coalesce(new_customers.new_customers, 0) as new_customers,
        cast(coalesce(sales.revenue, 0) as decimal(18, 2)) as revenue,
        cast(clv_cohorts.clv_cohort_customers as bigint) as clv_cohort_customers,
        cast(clv_cohorts.clv_cohort_revenue as decimal(18, 2)) as clv_cohort_revenue
    from channel_months
    left join activity using (channel_id, month)
    left join sales using (channel_id, month)
    left join new_customers using (channel_id, month)
    left join clv_cohorts using (channel_id, month)
    left join channel_types using (channel_id)
),
ratios as (
    select
        *,
        money_div(spend, new_customers) as cac,
        ratio(cents(revenue), cents(spend)) as roi,
        ratio(orders, visits) as conversion,
        money_from_cents(div_half_away(
            cents(clv_cohort_revenue)
            * cast(threshold('gross_margin') * 1000000 as hugeint)
            * cast(threshold('expected_lifetime_years') * 1000000 as hugeint),
            clv_cohort_customers * 1000000000000
        )) as clv
    from figures
),
flagged as (
    select *, cac > threshold('cac_clv_ratio') * clv as cac_over_30pct_clv
    from ratios
),
-- consecutive flagged months: month number minus the rank among flagged rows is constant along a run
streaks as (
    select
        channel_id,
        month,
        row_number() over (partition by channel_id, run_id order by month) as cac_trigger_streak
    from (
        select channel_id, month, month_number - row_number() over (partition by channel_id order by month) as run_id
        from flagged
        where cac_over_30pct_clv
    )
),
roi_ranks as (
    select
        channel_id,
        month,
        rank() over (partition by month order by roi desc) as roi_rank,
        count(*) over (partition by month) as channels_with_roi
    from flagged
    where roi is not null
)
select
    flagged.channel_id,
    flagged.month,
    flagged.channel_type,
    flagged.spend,
    flagged.new_customers,
    flagged.cac,
    flagged.revenue,
    flagged.roi,
    flagged.orders,
    flagged.visits,
    flagged.conversion,
    flagged.clv_cohort_customers,
    flagged.clv_cohort_revenue,
    flagged.clv,
    flagged.cac_over_30pct_clv,
    coalesce(streaks.cac_trigger_streak, 0) as cac_trigger_streak,
    coalesce(streaks.cac_trigger_streak, 0) >= threshold('cac_trigger_months') as optimisation_required,
    flagged.conversion < benchmarks.visit_to_order_rate as conversion_below_benchmark,
    coalesce(roi_ranks.roi_rank <= ceil(threshold('roi_top_share') * roi_ranks.channels_with_roi), false)
        as roi_top_20pct
from flagged
left join streaks using (channel_id, month)
left join roi_ranks using (channel_id, month)
left join benchmarks using (channel_type);

-- -- mart_nps ------------------------------------------------------------------------------------------
create or replace table mart_nps as
with records as (
    select
        csv_value(rec, 'response_id') as response_id,
        csv_value(rec, 'customer_id') as customer_id,
        csv_value(rec, 'channel_id') as channel_id,
        cast(csv_value(rec, 'submitted_at') as timestamptz) as submitted_at,
        cast(csv_value(rec, 'nps_score') as bigint) as nps_score,
        cast(csv_value(rec, 'csat_score') as bigint) as csat_score,
        arrival_day,
        filename,
        line_number
    from feed('surveys')
),
latest as (
    select
        response_id,
        arg_max(
            {'customer_id': customer_id, 'channel_id': channel_id, 'submitted_at': submitted_at,
             'nps_score': nps_score, 'csat_score': csat_score},
            {'arrival_day': arrival_day, 'filename': filename, 'line_number': line_number}
        ) as r
    from records
    group by response_id
),
answers as (
    select
        response_id,
        r.customer_id,
        r.channel_id,
        r.submitted_at,
        month_of(local_date(r.submitted_at)) as month,
        r.nps_score,
        r.csat_score
    from latest
    where local_date(r.submitted_at) <= getvariable('as_of')
),
latest_per_customer as (
    select * from answers
    qualify row_number() over (partition by customer_id, month order by submitted_at desc, response_id desc) = 1
),
latest_per_customer_channel as (
    select * from answers
    where channel_id is not null
    qualify row_number() over (
        partition by customer_id, month, channel_id order by submitted_at desc, response_id desc
    ) = 1
),
-- the tier of mart_customer_tiers: customers of the customers feed; 'potential' for everyone else
known_customers as (
    select distinct csv_value(rec, 'customer_id') as customer_id from feed('customers')
),
counted as (
    select 'channel' as grain, channel_id, null::varchar as customer_tier, month, nps_score, csat_score
    from latest_per_customer_channel
    union all
    select 'all', null, null, month, nps_score, csat_score
    from latest_per_customer
    union all
    select
        'tier',
        null,
        case when known_customers.customer_id is not null then coalesce(rfm.customer_tier, 'potential')
            else 'potential' end,
        latest_per_customer.month,
        latest_per_customer.nps_score,
        latest_per_customer.csat_score
    from latest_per_customer
    left join known_customers on latest_per_customer.customer_id = known_customers.customer_id
    left join mart_customer_rfm as rfm on latest_per_customer.customer_id = rfm.customer_id
),
monthly as (
    select
        grain,
        coalesce(channel_id, customer_tier, 'all') as grain_key,
        channel_id,
        customer_tier,
        month,
        count(*) as responses,
        count(*) filter (where nps_score >= 9) as promoters,
        count(*) filter (where nps_score between 7 and 8) as passives,
        count(*) filter (where nps_score <= 6) as detractors,
        count(*) filter (where csat_score >= 4) as csat_satisfied,
        count(csat_score) as csat_answers
    from counted
    group by grain, channel_id, customer_tier, month
),
scored as (
    select
        *,
        cast(100 * (promoters - detractors) as double) / responses as nps,
        cast(promoters as double) / responses as promoter_share,
        cast(detractors as double) / responses as detractor_share
    from monthly
)
select
    scored.grain,
    scored.grain_key,
    scored.channel_id,
    scored.customer_tier,
    scored.month,
    scored.responses,
    scored.promoters,
    scored.passives,
    scored.detractors,
    scored.nps,
    100 * 1.96 * sqrt(
        (scored.promoter_share + scored.detractor_share
         - (scored.promoter_share - scored.detractor_share) * (scored.promoter_share - scored.detractor_share))
        / scored.responses
    ) as nps_moe_95,
    scored.responses < threshold('nps_low_sample') as low_sample,
    ratio(scored.csat_satisfied, scored.csat_answers) as csat,
    scored.nps - previous.nps as nps_change
from scored
left join scored as previous
    on scored.grain = previous.grain
    and scored.grain_key = previous.grain_key
    and previous.month = cast(scored.month - interval 1 month as date);
