-- check: minimum_retention
-- measures: records deleted too early: a deletion recorded before the minimum retention period
--           (from the record's anchor) had run out; measure: days early.
-- semantics: docs/CHECKS.md#minimum_retention
-- verifies:
--   lustmonster.order-records-not-deleted-before-7y
--   lustmonster.payment-records-kept-at-least-7y
with scoped as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        {{ anchor }} as start_at,
        {{ deleted }} as deleted_at,
        {{ earliest_expr }} as earliest,
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }}
)
select
    subject_id,
    record_id,
    case
        when start_at is null then 'null_time'
        when cast(start_at as date) > {{ as_of }} then 'future'
        when deleted_at is null then 'kept'
        when cast(deleted_at as date) < earliest then 'deleted_early'
        else 'deleted_after_minimum'
    end as reason,
    case when deleted_at is not null and cast(deleted_at as date) < earliest
         then cast(date_diff('day', cast(deleted_at as date), earliest) as double) end as measure,
    segment,
    cast(date_trunc('month', start_at) as date) as period
from scoped
