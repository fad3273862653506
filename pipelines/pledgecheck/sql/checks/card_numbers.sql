-- check: card_numbers
-- measures: records holding full card numbers (Luhn-valid, known brand and length) in any
--           text column; measure = how many of the record's columns hold one.
-- semantics: docs/CHECKS.md#card_numbers
-- verifies:
--   livejasmin.card-numbers-not-held
--   lustmonster.no-card-numbers-on-servers
--   lustmonster.no-card-numbers-payment-tokens
--   lustmonster.no-full-card-numbers
--   lustmonster.no-full-card-numbers-processors
--   lustmonster.saved-methods-tokenized-only
--   xconfessions.no-full-card-number
{% for t in tables %}
{% if not loop.first %}union all{% endif %}
select
    {{ t.subject }} as subject_id,
    {{ t.record_id }} as record_id,
    case when len(hits) > 0 then 'violation' else 'ok' end as outcome,
    coalesce(hits[1], 'none') as reason,
    cast(len(hits) as double) as measure,
    {{ t.label }} as segment,
    null::date as period
from (
    select *,
        list_filter([{% for c in t.columns %}case when card_count({{ c.ident }}) > 0 then {{ c.label }} end{% if not loop.last %}, {% endif %}{% endfor %}], lambda x: x is not null) as hits
    from {{ t.ident }}
)
{% endfor %}
