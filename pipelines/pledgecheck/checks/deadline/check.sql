-- check: deadline
-- measures: requests, reports and incidents answered after their deadline, or still open past
--           it on the as-of date; open ones due soon; days to respond.
-- semantics: docs/CHECKS.md#deadline
-- verifies:
--   livejasmin.requests-one-month-plus-two
--   lustmonster.breach-notify-customers-72h
--   lustmonster.dsr-access-30d-verified
--   lustmonster.dsr-ccpa-45d-verified
--   lustmonster.dsr-ccpa-know-45d
--   lustmonster.dsr-deletion-30d
--   lustmonster.dsr-gdpr-aim-30d
--   lustmonster.dsr-gdpr-timelines-by-law-eu
--   lustmonster.dsr-gdpr-timelines-by-law-uk
--   lustmonster.dsr-respond-30d-complex-60d
--   lustmonster.dsr-verified-30d-ext-30d
--   lustmonster.minor-reports-7-business-days
--   lustmonster.vulnerability-ack-7-business-days
with scoped as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        {{ start }} as start_at,
        {{ end }} as end_at,
        {{ notice }} as notice_at,
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }}
),
due as (
    select *,
        {{ due_expr }} as due_base,
        {{ extended_expr }} as due_extended,
        {{ notice_deadline_expr }} as notice_deadline
    from scoped
),
final as (
    select *,
        case when notice_at is not null and cast(notice_at as date) <= notice_deadline
             then due_extended else due_base end as due_at
    from due
)
select
    subject_id,
    record_id,
    case
        when start_at is null then 'not_started'
        when cast(start_at as date) > {{ as_of }} then 'future'
        when end_at is not null and {{ end_cmp }} <= due_at then 'on_time'
        when end_at is not null then 'late'
        when due_at < {{ as_of_due }} then 'overdue'
        when due_at < {{ soon_due }} then 'due_soon'
        else 'open'
    end as reason,
    case when end_at is not null then date_diff('second', start_at, end_at) / 86400.0
         else date_diff('second', start_at, cast({{ as_of }} as timestamp)) / 86400.0 end as measure,
    segment,
    cast(date_trunc('month', start_at) as date) as period,
    due_at as due,
    due_base as due_original,
    due_extended
from final
