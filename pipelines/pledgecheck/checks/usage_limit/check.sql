-- check: usage_limit
-- measures: subjects over a usage limit in a calendar month or year (e.g. downloads).
-- semantics: docs/CHECKS.md#usage_limit
-- verifies:
--   xconfessions.downloads-10-per-calendar-month
with grouped as (
    select
        {{ subject }} as subject_id,
        cast(date_trunc({{ unit }}, {{ anchor }}) as date) as period,
        count(*) as n
    from {{ table }}
    where {{ scope }} and {{ anchor }} is not null
      and cast({{ anchor }} as date) <= {{ as_of }}  -- events after the as-of date are not assessed
    group by all
)
select
    subject_id,
    subject_id || '/' || cast(period as varchar) as record_id,
    case when n > {{ max }} then 'over_limit' else 'within_limit' end as reason,
    cast(n as double) as measure,
    'all' as segment,
    period
from grouped
