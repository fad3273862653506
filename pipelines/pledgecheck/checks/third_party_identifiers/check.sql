-- check: third_party_identifiers
-- measures: rows shared with third parties that carry direct identifiers (name, e-mail,
--           address, payment data, IP address).
-- semantics: docs/CHECKS.md#third_party_identifiers
-- verifies:
--   livejasmin.webmasters-cannot-access-personal-data
--   livejasmin.webmasters-no-direct-identifiers
--   livejasmin.webmasters-only-non-identifying-info
--   lustmonster.ccpa-does-not-sell
--   lustmonster.ccpa-no-sale
--   lustmonster.no-sale-or-rent
--   xcams.no-sale-or-transfer-to-third-parties
--   xconfessions.no-sale-of-personal-data
with flagged as (
    select
        {{ subject }} as subject_id,
        {{ record_id }} as record_id,
        [{% for c in columns %}case when {{ c.ident }} is not null and trim(cast({{ c.ident }} as varchar)) <> '' then {{ c.label }} end{% if not loop.last %}, {% endif %}{% endfor %}] as found,
        {{ segment }} as segment,
        {{ anchor }} as anchor_at
    from {{ table }}
    where {{ scope }}
)
select
    subject_id,
    record_id,
    coalesce(list_filter(found, lambda x: x is not null)[1], 'none') as reason,
    cast(len(list_filter(found, lambda x: x is not null)) as double) as measure,
    segment,
    cast(date_trunc('month', anchor_at) as date) as period
from flagged
