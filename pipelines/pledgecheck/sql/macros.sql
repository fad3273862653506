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

-- Payment cards (luhn_ok, card_brand, card_candidate, card_count) are generated from the one
-- brand table in pledgecheck/cards.py and appended to this file by checks.macros_sql().

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
