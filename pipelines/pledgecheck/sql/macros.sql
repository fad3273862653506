-- Engine-specific helpers (DuckDB). Everything a check needs beyond portable SQL lives here,
-- so a port to another engine replaces this file, not the checks.
-- IP addresses: the inet extension is not available offline, so addresses are parsed by hand.

-- IPv6 address to its 8 hex groups (as text), expanding '::'; NULL if it is not IPv6-shaped.
create or replace macro ipv6_groups(ip) as (
    case
        when ip is null or strpos(ip, ':') = 0 or not regexp_full_match(lower(ip), '[0-9a-f:]+') then null
        when len(string_split(lower(ip), '::')) > 2 then null
        when len(string_split(lower(ip), '::')) = 1 then string_split(lower(ip), ':')
        else list_concat(
            list_filter(string_split(string_split(lower(ip), '::')[1], ':'), lambda g: g <> ''),
            list_transform(range(greatest(0, 8
                - len(list_filter(string_split(string_split(lower(ip), '::')[1], ':'), lambda g: g <> ''))
                - len(list_filter(string_split(string_split(lower(ip), '::')[2], ':'), lambda g: g <> '')))), lambda x: '0'),
            list_filter(string_split(string_split(lower(ip), '::')[2], ':'), lambda g: g <> ''))
    end
);

create or replace macro ip_kind(ip) as (
    case
        when regexp_full_match(ip, '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])')
            then 'ipv4'
        when len(ipv6_groups(ip)) = 8
             and len(list_filter(ipv6_groups(ip), lambda g: not regexp_full_match(g, '[0-9a-f]{1,4}'))) = 0
             and (strpos(ip, '::') > 0 or len(string_split(ip, ':')) = 8)
            then 'ipv6'
    end
);

-- IPv4 truncated to /24 (last octet 0); IPv6 truncated to /48 (last 80 bits, groups 4-8, zero).
create or replace macro ip_is_truncated(ip) as (
    case ip_kind(ip)
        when 'ipv4' then split_part(ip, '.', 4) = '0'
        when 'ipv6' then len(list_filter(ipv6_groups(ip)[4:8], lambda g: ltrim(g, '0') <> '')) = 0
    end
);

-- Payment cards: Luhn checksum over a digit string.
create or replace macro luhn_ok(d) as (
    list_sum(list_transform(range(length(d)), lambda i:
        case when i % 2 = 0 then cast(substr(d, length(d) - i, 1) as integer)
             else cast(substr(d, length(d) - i, 1) as integer) * 2
                  - case when cast(substr(d, length(d) - i, 1) as integer) >= 5 then 9 else 0 end
        end)) % 10 = 0
);

-- Brand of a digit string by issuer prefix and length (NULL: not a card number of a known brand).
create or replace macro card_brand(d) as (
    case
        when regexp_full_match(d, '4([0-9]{12}|[0-9]{15}|[0-9]{18})') then 'visa'
        when length(d) = 16 and (regexp_matches(d, '^5[1-5]')
             or cast(substr(d, 1, 4) as integer) between 2221 and 2720) then 'mastercard'
        when length(d) = 15 and regexp_matches(d, '^3[47]') then 'amex'
        when length(d) between 16 and 19 and regexp_matches(d, '^(6011|65|64[4-9])') then 'discover'
        when length(d) between 14 and 19 and regexp_matches(d, '^(36|30[0-5]|3[89])') then 'diners'
        when length(d) between 16 and 19 and cast(substr(d, 1, 4) as integer) between 3528 and 3589 then 'jcb'
        when length(d) between 16 and 19 and regexp_matches(d, '^62') then 'unionpay'
        when length(d) between 12 and 19 and regexp_matches(d, '^(50|5[6-8]|6[0-9])') then 'maestro'
    end
);

-- Whether a text is long enough to hold a card number: the shortest has 12 digits (the length
-- card_count's patterns below require). Lets a scan skip short texts before any regex.
create or replace macro card_candidate(txt) as (length(txt) >= 12);

-- Number of full card numbers in a text: maximal digit runs (single space or dash separators
-- allowed), 12-19 digits, a known brand and a valid Luhn checksum; decimal numbers
-- (e.g. 47.69230769230769) are blanked first.
create or replace macro card_count(txt) as (
    -- fast path: most texts have no run of 12 digits (separators allowed) at all
    case when txt is null or not regexp_matches(txt, '[0-9](?:[ -]?[0-9]){11}') then 0 else
    len(list_filter(
        list_transform(regexp_extract_all(regexp_replace(txt, '[0-9]*\.[0-9]+', ' ', 'g'), '[0-9](?:[ -]?[0-9])*'),
                       lambda r: regexp_replace(r, '[ -]', '', 'g')),
        lambda d: length(d) between 12 and 19 and card_brand(d) is not null and luhn_ok(d)))
    end
);

-- An e-mail address anywhere in a text (the pattern of pledgecheck.detectors.EMAIL).
create or replace macro has_email(txt) as (
    regexp_matches(txt, '(^|[^A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}($|[^A-Za-z0-9-])')
);

-- Adaptive password hash formats (bcrypt, argon2, scrypt, PBKDF2).
create or replace macro is_adaptive_hash(h) as (
    regexp_full_match(h, '\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}')
    or regexp_matches(h, '^\$argon2(id|i|d)\$')
    or regexp_matches(h, '^(\$scrypt\$|\$7\$)')
    or regexp_matches(h, '^(pbkdf2_sha(256|512)\$|\$pbkdf2-sha(256|512)\$)')
);
