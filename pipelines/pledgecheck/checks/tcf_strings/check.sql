-- check: tcf_strings
-- measures: stored TCF v2 consent strings that do not decode, break TCF v2.2 rules, or do not
--           say what the consent record they are stored with says (reason per string).
-- semantics: docs/CHECKS.md#tcf_strings
-- verifies:
--   livejasmin.personalization-banner-signal-valid
--   lustmonster.consent-logs-valid-tcf
with scoped as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        "ts" as recorded_at,
        "action" as action,
        {{ column }} as tc,
        case "purpose"
            {% for m in purposes %}when {{ m.purpose }} then {{ m.ids }}
            {% endfor %}else null
        end as tcf_purposes,
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }} and {{ column }} is not null and trim({{ column }}) <> ''
),
-- each distinct string is decoded once (consent managers repeat strings: day-precision times,
-- a few purpose and vendor sets); `any_value` keeps the decoding above the grouping
decoded as (
    select tc, tcf_decode(any_value(tc)) as d from scoped group by tc
),
judged as (
    select s.*, x.d,
        case
            when d.error is not null then d.error
            when d.created > d.last_updated then 'created_after_updated'
            when cast(d.last_updated as date) > cast(recorded_at as date) then 'updated_after_record'
            when d.created >= {{ v22_from }} and d.policy_version < 4 then 'outdated_policy_version'
            -- TCF v2.2 (policy version 4): purposes 3-6 need consent, never legitimate interest
            when d.policy_version >= 4 and list_has_any(d.purposes_li, [3, 4, 5, 6]) then 'li_for_consent_only_purpose'
            when action = 'granted' and not list_has_all(d.purposes_consent, tcf_purposes) then 'grant_missing_in_string'
            when action = 'withdrawn' and list_has_any(d.purposes_consent, tcf_purposes) then 'withdrawal_missing_in_string'
            else 'valid'
        end as reason
    from scoped s
    join decoded x using (tc)
)
select
    subject_id,
    record_id,
    reason,
    null::double as measure,
    segment,
    cast(date_trunc('month', recorded_at) as date) as period
from judged
