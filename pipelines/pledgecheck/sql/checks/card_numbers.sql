-- check: card_numbers
-- measures: full card numbers (Luhn-valid, known brand and length) in any text column.
--           One violation row per (row, column) holding a number; one ok row per clean row.
-- semantics: docs/CHECKS.md#card_numbers
-- verifies: (see pledges below; kept in sync by tests/test_traceability.py)
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
