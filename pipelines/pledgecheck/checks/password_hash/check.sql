-- check: password_hash
-- measures: stored passwords not in an adaptive hash format (bcrypt, argon2, scrypt, PBKDF2).
-- semantics: docs/CHECKS.md#password_hash
-- verifies:
--   lustmonster.passwords-adaptive-hash
--   lustmonster.passwords-hashed-account-data
select
    {{ subject }} as subject_id,
    {{ record_id }} as record_id,
    case when {{ column }} is null then 'no_password'
         when is_adaptive_hash({{ column }}) then 'adaptive_hash'
         when regexp_full_match({{ column }}, '[0-9a-fA-F]{32}') then 'md5_like'
         when regexp_full_match({{ column }}, '[0-9a-fA-F]{40}|[0-9a-fA-F]{64}') then 'fast_hash'
         else 'not_a_known_hash' end as reason,
    null::double as measure,
    {{ segment }} as segment,
    null::date as period
from {{ table }}
where {{ scope }}
