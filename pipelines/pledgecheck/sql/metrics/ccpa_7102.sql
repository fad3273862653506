-- metric: ccpa_7102
-- measures: the yearly request metrics CCPA regulations (11 CCR 7102) require businesses with
--           10M+ California consumers to publish: per request type, requests received,
--           complied with in whole or in part, denied, and median and mean days to respond.
-- scope: requests from California (jurisdiction US-CA) received in the calendar year $year.
-- days to respond: from receipt to completion, in calendar days (fractional), completed ones.
with requests as (
    select
        case request_type
            when 'access' then 'know'
            when 'portability' then 'know'
            when 'erasure' then 'delete'
            when 'rectification' then 'correct'
            when 'opt_out' then 'opt-out of sale/sharing'
            when 'limit' then 'limit use of sensitive personal information'
        end as request_kind,
        outcome,
        received_at,
        completed_at
    from data_subject_requests
    where jurisdiction = 'US-CA'
      and year(received_at) = $year
)
select
    request_kind,
    count(*) as received,
    count(*) filter (where completed_at is not null and outcome in ('complied', 'partial')) as complied_in_whole_or_part,
    count(*) filter (where completed_at is not null and outcome = 'denied') as denied,
    count(*) filter (where completed_at is null) as pending,
    round(quantile_cont(date_diff('second', received_at, completed_at) / 86400.0, 0.5)
          filter (where completed_at is not null), 1) as median_days_to_respond,
    round(avg(date_diff('second', received_at, completed_at) / 86400.0)
          filter (where completed_at is not null), 1) as mean_days_to_respond
from requests
where request_kind is not null
group by request_kind
order by request_kind
