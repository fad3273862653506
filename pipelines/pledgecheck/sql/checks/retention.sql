-- check: retention
-- measures: records kept past their retention period on the as-of date (days past due);
--           records under a legal hold or a row exemption are counted apart as exempt.
-- semantics: docs/CHECKS.md#retention
-- verifies: (see pledges below; kept in sync by tests/test_traceability.py)
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
        when d.anchor_at is null then 'unknown'
        when cast(d.anchor_at as date) > {{ as_of }} then 'unknown'
        when d.expires_on >= {{ as_of }} then 'ok'
        {% for ex in exceptions %}when {{ ex }} then 'exempt'
        {% endfor %}else 'violation'
    end as outcome,
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
