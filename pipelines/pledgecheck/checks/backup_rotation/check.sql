-- check: backup_rotation
-- measures: backups still holding an erased subject longer than the promised rotation after
--           the erasure completed (days held beyond the rotation).
-- semantics: docs/CHECKS.md#backup_rotation
-- verifies:
--   livejasmin.backups-usually-30-days
--   livejasmin.erasure-backups-usually-30-days
--   livejasmin.profile-data-no-copies
--   lustmonster.backup-rotation-90d
with erased as (
    {{ erased }}
),
copies as (
    select b.account_id as subject_id, b.backup_id || '/' || b.account_id as record_id,
           b.purged_at, e.erased_at,
           {{ add("cast(e.erased_at as date)", p.rotation) }} as rotate_by
    from backups b
    join erased e on e.subject_id = b.account_id
    where b.taken_at <= e.erased_at
)
select
    subject_id,
    record_id,
    case when rotate_by >= {{ as_of }} then 'within_rotation'
         when purged_at is null then 'still_held'
         when cast(purged_at as date) > rotate_by then 'purged_late' else 'purged_in_time' end as reason,
    case when rotate_by < {{ as_of }} and (purged_at is null or cast(purged_at as date) > rotate_by)
         then cast(date_diff('day', rotate_by, coalesce(cast(purged_at as date), {{ as_of }})) as double) end as measure,
    'all' as segment,
    cast(date_trunc('month', erased_at) as date) as period
from copies
