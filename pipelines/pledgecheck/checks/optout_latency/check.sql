-- check: optout_latency
-- measures: marketing sends after the subject opted out (beyond the promised grace), unless
--           the subject opted in again in between; days from opt-out to the send.
-- semantics: docs/CHECKS.md#optout_latency
-- verifies:
--   jespionne.email-opt-out-any-time
--   livejasmin.direct-marketing-optout-consent-settings
--   livejasmin.objection-stop-marketing-emails
--   livejasmin.unsubscribe-link-email
--   lustmonster.optout-any-time
--   lustmonster.optout-object-direct-marketing-immediately
--   lustmonster.optout-respected-immediately
--   lustmonster.optout-suppression-list
--   lustmonster.optout-withdraw-consent-any-time
--   xcams.bulletin-optout-my-account
--   xcams.direct-marketing-objection
--   xconfessions.optout-any-time
--   xconfessions.optout-few-days
--   xconfessions.optout-stop-any-time
--   xconfessions.right-to-stop-direct-marketing
with sends as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        sent_at,
        channel,
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }}
),
late as (
    select s.record_id, max(u.ts) as optout_at
    from sends s
    join unsubscribes u
      on u.account_id = s.subject_id
     and u.channel in (s.channel, 'all')
     and {{ add_ts("u.ts", p.grace) }} < s.sent_at
    where not exists (
        select 1 from consent_events c
        where c.subject_id = s.subject_id and c.purpose = 'marketing_email' and c.action = 'granted'
          and c.ts > u.ts and c.ts <= s.sent_at)
    group by s.record_id
)
select
    s.subject_id,
    s.record_id,
    case when s.sent_at is null then 'null_time'
         when cast(s.sent_at as date) > {{ as_of }} then 'future'
         when l.optout_at is not null then 'sent_after_optout' else 'no_optout' end as reason,
    case when l.optout_at is not null then date_diff('second', l.optout_at, s.sent_at) / 86400.0 end as measure,
    s.segment,
    cast(date_trunc('month', s.sent_at) as date) as period
from sends s
left join late l on l.record_id = s.record_id
