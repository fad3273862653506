-- check: pseudonymized
-- measures: values of a column promised to be pseudonymized that still hold an e-mail address.
-- semantics: docs/CHECKS.md#pseudonymized
-- verifies:
--   livejasmin.marketing-statistics-pseudonymized-email
select
    {{ subject }} as subject_id,
    {{ record_id }} as record_id,
    case when {{ column }} is null or trim({{ column }}) = '' then 'blank'
         when has_email({{ column }}) then 'email_address' else 'pseudonym' end as reason,
    null::double as measure,
    {{ segment }} as segment,
    cast(date_trunc('month', {{ anchor }}) as date) as period
from {{ table }}
where {{ scope }}
