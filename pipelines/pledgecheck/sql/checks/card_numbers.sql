-- check: card_numbers
-- measures: full card numbers (Luhn-valid, known brand and length) in any text column.
--           One violation row per (row, column) holding a number; one ok row per clean row.
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
    case when hit is null then 'ok' else 'violation' end as outcome,
    coalesce(hit, 'none') as reason,
    null::double as measure,
    {{ t.label }} as segment,
    null::date as period
from (
    select *, unnest(case when len(hits) = 0 then [null] else hits end) as hit
    from (
        select *,
            list_filter([{% for c in t.columns %}case when card_count({{ c.ident }}) > 0 then {{ c.label }} end{% if not loop.last %}, {% endif %}{% endfor %}], lambda x: x is not null) as hits
        from {{ t.ident }}
    )
)
{% endfor %}
