-- check: column_empty
-- measures: values in a column that must stay empty (e.g. a stored CVV).
-- semantics: docs/CHECKS.md#column_empty
-- verifies:
--   livejasmin.card-cvv-not-held
--   livejasmin.no-sensitive-data-in-marketing
--   lustmonster.ccpa-no-sensitive-personal-information
--   lustmonster.ccpa-no-sensitive-processing
--   lustmonster.no-cvv
--   lustmonster.no-cvv-processors
--   lustmonster.no-special-category-data
--   xconfessions.no-ccv
select
    {{ subject }} as subject_id,
    {{ record_id }} as record_id,
    case when {{ column }} is not null and trim(cast({{ column }} as varchar)) <> '' then 'value_present' else 'empty' end as reason,
    null::double as measure,
    {{ segment }} as segment,
    null::date as period
from {{ table }}
where {{ scope }}
