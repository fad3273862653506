-- check: k_anonymity
-- measures: cells of aggregates shared with third parties that describe fewer than k people.
-- semantics: docs/CHECKS.md#k_anonymity
-- verifies:
--   jespionne.aggregate-statistics-not-identifying
--   lustmonster.aggregates-not-identifying
--   lustmonster.aggregates-not-reidentifiable
--   xconfessions.aggregates-checked-before-sharing
--   xconfessions.anonymized-aggregates-do-not-identify
select
    null::varchar as subject_id,
    {{ record_id }} as record_id,
    case when {{ count_column }} < {{ k }} then 'below_k' else 'at_least_k' end as reason,
    cast({{ count_column }} as double) as measure,
    {{ segment }} as segment,
    cast(date_trunc('month', {{ anchor }}) as date) as period
from {{ table }}
where {{ scope }} and {{ count_column }} > 0
