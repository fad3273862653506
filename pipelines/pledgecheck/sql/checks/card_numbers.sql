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
{#- A text is searched once per distinct value (most columns repeat values: user agents, paths,
    referrers...), and rows are matched to the values found. `any_value` keeps the search above
    the grouping (the optimizer would otherwise push it below, onto every row). Texts shorter
    than 12 characters cannot hold a card number and are not grouped at all. A table's own key
    column is unique (duplicates are quarantined at ingest): grouping it saves nothing, and at
    100M events its hash table of unique ids outgrew the memory limit and spilled, so it is
    searched row by row. #}
{% macro hit(c, i) %}{% if c.unique %}coalesce(length(x.{{ c.ident }}) >= 12 and card_count(x.{{ c.ident }}) > 0, false){% else %}coalesce(h{{ i }}.hit, false){% endif %}{% endmacro %}
{% if not loop.first %}union all{% endif %}
select
    {{ t.subject }} as subject_id,
    {{ t.record_id }} as record_id,
    case when {% for c in t.columns %}{{ hit(c, loop.index) }}{% if not loop.last %} or {% endif %}{% endfor %}
         then 'violation' else 'ok' end as outcome,
    coalesce({% for c in t.columns %}case when {{ hit(c, loop.index) }} then {{ c.label }} end, {% endfor %}'none') as reason,
    cast({% for c in t.columns %}cast({{ hit(c, loop.index) }} as integer){% if not loop.last %} + {% endif %}{% endfor %} as double) as measure,
    {{ t.label }} as segment,
    null::date as period
from {{ t.ident }} x
{% for c in t.columns %}{% if not c.unique %}left join (
    select v, true as hit
    from (select {{ c.ident }} as v, any_value({{ c.ident }}) as one from {{ t.ident }}
          where length({{ c.ident }}) >= 12 group by 1)
    where card_count(one) > 0
) h{{ loop.index }} on x.{{ c.ident }} = h{{ loop.index }}.v
{% endif %}{% endfor %}
{% endfor %}
