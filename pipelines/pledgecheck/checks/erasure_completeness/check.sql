-- check: erasure_completeness
-- measures: personal data of an erased subject still present in a non-exempt table after the
--           erasure completed (+ grace); rows under a legal hold are exempt.
-- semantics: docs/CHECKS.md#erasure_completeness
-- verifies:
--   jespionne.account-deletion-removes-data
--   livejasmin.chargeback-data-gone-120-days-after-erasure
--   livejasmin.erasure-log-records-disassociated
--   livejasmin.erasure-request-deletes-data
--   livejasmin.log-records-disassociated
--   lustmonster.account-deletion-erases
--   lustmonster.erasure-non-exempt-data-removed
--   lustmonster.erasure-verified-request
--   xconfessions.delete-when-not-needed
with erased as (
    {{ erased }}
),
leftovers as (
{% for t in tables %}
    {% if not loop.first %}union all{% endif %}
    select {{ t.subject }} as subject_id, {{ t.record_id }} as record_id, {{ t.label }} as table_name,
           {{ t.anchor }} as created_at
    from {{ t.ident }}
    where {{ t.subject }} is not null
{% endfor %}
),
held as (
    select account_id as subject_id, scope_table
    from legal_holds
    where cast(starts_at as date) <= {{ as_of }}
      and (ends_at is null or cast(ends_at as date) >= {{ as_of }})
)
select
    l.subject_id,
    l.record_id,
    case when exists (select 1 from held h where h.subject_id = l.subject_id
                      and h.scope_table in (l.table_name, 'all')) then 'legal_hold' else 'not_erased' end as reason,
    cast(date_diff('day', cast(e.erased_at as date), {{ as_of }}) as double) as measure,
    l.table_name as segment,
    cast(date_trunc('month', e.erased_at) as date) as period
from leftovers l
join erased e on e.subject_id = l.subject_id
where l.created_at <= e.erased_at
  and {{ add("cast(e.erased_at as date)", p.grace) }} < {{ as_of }}
