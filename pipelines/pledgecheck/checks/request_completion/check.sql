-- check: request_completion
-- measures: requests of a right for which the policy states no deadline that are neither
--           completed nor open for a recorded reason (awaiting identity verification, an
--           extension notified); measure: days from the start to completion or to the as-of date.
-- semantics: docs/CHECKS.md#request_completion
-- verifies:
--   jespionne.access-deletion-correction-requests-completed
--   xcams.access-and-modification-requests-completed
--   xconfessions.access-requests-completed
--   xconfessions.correction-requests-completed
--   xconfessions.deletion-requests-completed
--   xconfessions.portability-requests-completed
select
    {{ subject }} as subject_id,
    {{ record_id }} as record_id,
    case
        when {{ start }} is null then 'not_started'
        when cast({{ start }} as date) > {{ as_of }} then 'future'
        when {{ end }} is not null then 'completed'
{%- for r in pending %}
        when {{ r.expr }} is null then {{ r.reason }}
{%- endfor %}
{%- for r in recorded %}
        when {{ r.expr }} is not null then {{ r.reason }}
{%- endfor %}
        else 'open_without_reason'
    end as reason,
    case when {{ end }} is not null then date_diff('second', {{ start }}, {{ end }}) / 86400.0
         else date_diff('second', {{ start }}, cast({{ as_of }} as timestamp)) / 86400.0 end as measure,
    {{ segment }} as segment,
    cast(date_trunc('month', {{ start }}) as date) as period
from {{ table }}
where {{ scope }}
