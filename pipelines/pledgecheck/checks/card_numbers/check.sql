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
{#- One table `t` (checks.render unions the tables' searches, or the runner compacts them one
    by one). A text is searched once per distinct value (most columns repeat values: user
    agents, paths, referrers...), and rows are matched to the values found. `any_value` keeps the search above
    the grouping (the optimizer would otherwise push it below, onto every row). Texts too short
    to hold a card number (`card_candidate`) are not grouped at all. A table's own key column is
    unique (duplicates are quarantined at ingest): grouping it saves nothing, and at 100M events
    its hash table of unique ids outgrew the memory limit and spilled, so it is searched row by
    row; so is every column on an engine that prefers it (Spark: each join back is a shuffle). Each column's hit is computed once (`hit_<i>`) and read by reason and measure. #}
select
    subject_id,
    record_id,
    coalesce({% for c in t.columns %}case when hit_{{ loop.index }} then {{ c.label }} end, {% endfor %}'none') as reason,
    cast({% for c in t.columns %}cast(hit_{{ loop.index }} as integer){% if not loop.last %} + {% endif %}{% endfor %} as double) as measure,
    {{ t.label }} as segment,
    null::date as period
from (
    select
        {{ t.subject }} as subject_id,
        {{ t.record_id }} as record_id,
        {% for c in t.columns %}{% if c.row_by_row %}coalesce(card_candidate(x.{{ c.ident }}) and card_count(x.{{ c.ident }}) > 0, false){% else %}coalesce(h{{ loop.index }}.hit, false){% endif %} as hit_{{ loop.index }}{% if not loop.last %},
        {% endif %}{% endfor %}
    from {{ t.ident }} x
    {% for c in t.columns %}{% if not c.row_by_row %}left join (
        select v, true as hit
        from (select {{ c.ident }} as v, any_value({{ c.ident }}) as one from {{ t.ident }}
              where card_candidate({{ c.ident }}) group by 1)
        where card_count(one) > 0
    ) h{{ loop.index }} on x.{{ c.ident }} = h{{ loop.index }}.v
    {% endif %}{% endfor %}
)
