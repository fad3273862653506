-- check: retention
-- measures: records kept past their retention period on the as-of date (days past due);
--           records under a legal hold or a row exemption are counted apart as exempt.
-- semantics: docs/CHECKS.md#retention
-- verifies:
--   livejasmin.audio-feed-6-months
--   livejasmin.erasure-financial-information-10-years-orders
--   livejasmin.erasure-financial-information-10-years-payments
--   livejasmin.financial-information-10-years-orders
--   livejasmin.financial-information-10-years-payments
--   lustmonster.retention-accounts-inactive-24m
--   lustmonster.retention-accounts-inactive-36m
--   lustmonster.retention-analytics-24m
--   lustmonster.retention-analytics-36m
--   lustmonster.retention-consent-logs-10y
--   lustmonster.retention-consent-withdrawal-2y
--   lustmonster.retention-contact-forms-12m
--   lustmonster.retention-newsletter-activity-24m
--   lustmonster.retention-orders-10y-some-jurisdictions
--   lustmonster.retention-orders-7y
--   lustmonster.retention-orders-7y-table
--   lustmonster.retention-orders-erasure-exception-10y
--   lustmonster.retention-orders-legal-records-10y
--   lustmonster.retention-payment-tokens-5y
--   lustmonster.retention-payments-10y-some-jurisdictions
--   lustmonster.retention-payments-7y
--   lustmonster.retention-security-36m
--   lustmonster.retention-security-60m
--   lustmonster.retention-support-24m
--   lustmonster.retention-support-3y
--   lustmonster.retention-support-3y-last-communication
--   lustmonster.retention-web-logs-30d
with scoped as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        {{ anchor }} as anchor_at,
        {% for ex in row_exemptions %}({{ ex.expr }}) as ex_{{ loop.index }},
        {% endfor %}
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }}
),
dated as (
    select *, {{ add("cast(anchor_at as date)", p.period) }} as expires_on
    from scoped
),
held as (
    select distinct account_id as subject_id
    from legal_holds
    where scope_table in ({{ table_name }}, 'all')
      and cast(starts_at as date) <= {{ as_of }}
      and (ends_at is null or cast(ends_at as date) >= {{ as_of }})
)
select
    d.subject_id,
    d.record_id,
    case
        when d.anchor_at is null then 'null_time'
        when cast(d.anchor_at as date) > {{ as_of }} then 'future'
        when d.expires_on >= {{ as_of }} then 'within_period'
        {% for ex in exceptions %}when {{ ex }} then {{ exception_names[loop.index0] }}
        {% endfor %}else 'past_due'
    end as reason,
    case when d.expires_on < {{ as_of }} then cast(date_diff('day', d.expires_on, {{ as_of }}) as double) end as measure,
    d.segment,
    cast(date_trunc('month', d.anchor_at) as date) as period
from dated d
left join held h on h.subject_id = d.subject_id
