-- check: minimum_age
-- measures: subjects younger than the minimum age at the anchor (e.g. at sign-up).
-- semantics: docs/CHECKS.md#minimum_age
-- verifies:
--   jespionne.website-for-adults
--   lustmonster.adults-18-plus
--   lustmonster.age-declaration-18
--   lustmonster.no-data-from-under-18
with scoped as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        date_of_birth,
        cast({{ anchor }} as date) as at_date,
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }}
)
select
    subject_id,
    record_id,
    case when date_of_birth is null then 'no_date_of_birth' when at_date is null then 'null_time'
         when at_date > {{ as_of }} then 'future'
         when at_date < {{ add("date_of_birth", min_age) }} then 'under_age' else 'of_age' end as reason,
    cast(date_diff('day', date_of_birth, at_date) / 365.25 as double) as measure,
    segment,
    cast(date_trunc('month', at_date) as date) as period
from scoped
