-- check: consent_coverage
-- measures: events (marketing sends, tracker and pixel fires, personalization) without a valid
--           consent for the purpose at that instant: an as-of join per subject and purpose.
-- semantics: docs/CHECKS.md#consent_coverage
-- verifies:
--   jespionne.email-only-after-opt-in
--   livejasmin.hotjar-optout
--   livejasmin.improvement-cookies-consent
--   livejasmin.personalization-cookie-consent
--   livejasmin.personalization-member-optout
--   livejasmin.sensitive-data-personalization-consent
--   livejasmin.sensitive-data-personalization-optout
--   livejasmin.sensitive-data-private-chat-consent
--   livejasmin.sensitive-data-purchases-consent
--   lustmonster.advertising-cookies-affirmative-consent
--   lustmonster.advertising-measurement-consent
--   lustmonster.analytics-cookies-opt-in-eu-uk
--   lustmonster.analytics-tools-consent
--   lustmonster.ccpa-no-cross-context-ads-without-opt-in
--   lustmonster.cookie-consent-12m-advertising
--   lustmonster.cookie-consent-12m-analytics
--   lustmonster.cookie-consent-12m-functional
--   lustmonster.cookie-consent-12m-personalization
--   lustmonster.email-tracking-pixels-consent
--   lustmonster.email-tracking-pixels-opt-in
--   lustmonster.marketing-cookies-disabled-by-default
--   lustmonster.marketing-email-never-without-opt-in
--   lustmonster.marketing-email-opt-in
--   lustmonster.marketing-only-if-opted-in
--   lustmonster.meta-pixel-opt-in
--   lustmonster.meta-pixel-opted-in-only
--   lustmonster.newsletter-only-with-consent
--   lustmonster.session-replay-consent
--   lustmonster.session-replay-prior-consent
--   lustmonster.sms-marketing-explicit-consent
--   xcams.marketing-permission-recorded
--   xconfessions.marketing-email-only-after-signup
with events as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        {{ event_time }} as event_at,
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }}
),
consents as (
    -- one state per subject and instant: a withdrawal and a grant at the same instant,
    -- the withdrawal wins
    select subject_id, ts as consent_at,
           case when bool_or(action = 'withdrawn') then 'withdrawn' else 'granted' end as state
    from consent_events
    where purpose = {{ purpose }}
    group by subject_id, ts
),
resolved as (
    select e.*, c.state, c.consent_at
    from events e
    asof left join consents c
      on c.subject_id = e.subject_id and c.consent_at <= e.event_at
)
select
    subject_id,
    record_id,
    case
        when event_at is null then 'null_time'
        when cast(event_at as date) > {{ as_of }} then 'future'
        when state is null then 'no_consent'
        when state = 'withdrawn' then 'withdrawn'
        {% if p.validity %}when event_at >= {{ add_ts("consent_at", p.validity) }} then 'expired'{% endif %}
        else 'covered'
    end as reason,
    case when consent_at is not null then date_diff('second', consent_at, event_at) / 86400.0 end as measure,
    segment,
    cast(date_trunc('month', event_at) as date) as period
from resolved
