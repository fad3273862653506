-- check: ip_truncation
-- measures: IP addresses kept in full (not truncated to /24 for IPv4, /48 for IPv6) once
--           older than the identifiable window.
-- semantics: docs/CHECKS.md#ip_truncation
-- verifies:
--   livejasmin.hotjar-ip-anonymized
--   lustmonster.analytics-anonymized-ip-ranges
--   lustmonster.analytics-anonymized-upon-collection
--   lustmonster.analytics-avoid-pii
--   lustmonster.ga-anonymization-enabled
--   lustmonster.ga-ip-anonymization
--   lustmonster.ga-ip-anonymized-cookies
--   lustmonster.security-ip-truncated-after-30d
--   xconfessions.analytics-cookie-anonymous
--   xconfessions.country-cookie-anonymous
with scoped as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        {{ column }} as ip,
        {{ anchor }} as anchor_at,
        {{ segment }} as segment
    from {{ table }}
    where {{ scope }}
),
-- each distinct address is classified once and rows are matched to it: addresses repeat
-- (6M tracker fires carry 400k addresses at 10M events). `any_value` keeps the parsing above
-- the grouping (the optimizer would otherwise push it below, onto every row).
classes as (
    select v, ip_kind(one) as kind, ip_is_truncated(one) as truncated
    from (select ip as v, any_value(ip) as one from scoped where ip is not null group by 1)
),
classified as (
    select s.*, c.kind, c.truncated
    from scoped s
    left join classes c on c.v = s.ip
)
select
    subject_id,
    record_id,
    case
        when kind is null then 'not_an_ip'
        when anchor_at is null then 'null_time'
        when cast(anchor_at as date) > {{ as_of }} then 'future'
        when truncated then 'truncated'
        {% if p.after.amount > 0 %}when {{ add("cast(anchor_at as date)", p.after) }} > {{ as_of }} then 'within_window'{% endif %}
        else 'full_' || kind
    end as reason,
    null::double as measure,
    coalesce(kind, 'invalid') as segment,
    cast(date_trunc('month', anchor_at) as date) as period
from classified
