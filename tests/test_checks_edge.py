"""Hand-built edge cases for every check family; expected counts worked out by hand."""
from datetime import date

import numpy as np
import pytest

from pledgecheck import runner

AS_OF = date(2026, 6, 15)


def ticket(tid, acc, created, last=None, abuse=None):
    return {"ticket_id": tid, "account_id": acc, "created_at": created, "last_message_at": last,
            "abuse_flag": abuse, "channel": "email"}


def hold(hid, acc, starts, ends=None, scope="support_tickets"):
    return {"hold_id": hid, "account_id": acc, "scope_table": scope, "starts_at": starts, "ends_at": ends,
            "reason": "litigation"}


RET = {"id": "ret", "check": "retention",
       "params": {"table": "support_tickets", "from": "last_communication", "period": "3 years",
                  "exceptions": ["legal_hold", "abuse"]}}


def test_retention_boundaries_and_legal_holds(evaluate_in):
    rows = [
        ticket("1", "a1", "2023-06-15T10:00:00Z"),               # expires 2026-06-15 == as-of: ok
        ticket("2", "a2", "2023-06-14T23:59:59Z"),               # expired yesterday: violation
        ticket("3", "a3", "2020-01-01T00:00:00Z", "2023-07-01T00:00:00Z"),  # last message counts: ok
        ticket("4", "a4", "2020-01-01T00:00:00Z"),               # hold ends on as-of: exempt
        ticket("5", "a5", "2020-01-01T00:00:00Z"),               # hold ended the day before: violation
        ticket("6", "a6", "2020-01-01T00:00:00Z"),               # hold starts on as-of: exempt
        ticket("7", "a7", "2020-01-01T00:00:00Z"),               # hold on another table: violation
        ticket("8", "a8", "2020-01-01T00:00:00Z", abuse="true"),  # abuse exemption
        ticket("9", "a9", "2030-01-01T00:00:00Z"),               # future date: unknown
        ticket("10", "a10", "2020-01-01T00:00:00Z"),             # hold scope 'all': exempt
        ticket("11", "a11", "2020-02-29T12:00:00+05:00"),        # 2020-02-29T07:00Z +3y = 2023-02-28: violation
    ]
    holds = [hold("h4", "a4", "2025-01-01T00:00:00Z", "2026-06-15T08:00:00Z"),
             hold("h5", "a5", "2025-01-01T00:00:00Z", "2026-06-14T23:00:00Z"),
             hold("h6", "a6", "2026-06-15T00:00:00Z"),
             hold("h7", "a7", "2025-01-01T00:00:00Z", scope="orders"),
             hold("h10", "a10", "2025-01-01T00:00:00Z", scope="all")]
    r = evaluate_in({"support_tickets": rows, "legal_holds": holds}, [RET], AS_OF)["ret"]
    assert r.by_reason == {"within_period": 2, "past_due": 4, "legal_hold": 3, "abuse": 1, "future": 1}
    assert (r.violations, r.exempt, r.population, r.unknown) == (4, 4, 10, 1)
    # days past due: ticket 2 expired 2026-06-14 -> 1 day; ticket 11 on 2023-02-28 -> 1203 days;
    # tickets 5 and 7 on 2023-01-01 -> 1261 days
    assert r.measure["violation_max"] == 1261
    assert [h["violations"] for h in r.histogram if h["violations"]] and sum(
        h["violations"] for h in r.histogram) == 4


def consent(cid, subj, purpose, action, ts):
    return {"consent_id": cid, "subject_id": subj, "purpose": purpose, "action": action, "ts": ts}


def send(sid, acc, ts, channel="email", sensitive=None):
    return {"send_id": sid, "account_id": acc, "sent_at": ts, "channel": channel, "jurisdiction": "EU",
            "uses_sensitive_data": sensitive}


def test_consent_as_of_join(evaluate_in):
    consents = [
        consent("c1", "a1", "marketing_email", "granted", "2025-01-01T00:00:00Z"),
        consent("c2", "a2", "marketing_email", "granted", "2025-01-01T00:00:00Z"),
        consent("c3", "a2", "marketing_email", "withdrawn", "2025-03-01T00:00:00Z"),
        consent("c4", "a3", "marketing_email", "granted", "2024-01-01T00:00:00Z"),
        consent("c5", "a4", "marketing_email", "granted", "2025-05-01T00:00:00Z"),
        consent("c6", "a4", "marketing_email", "withdrawn", "2025-05-01T00:00:00Z"),  # same instant: withdrawal wins
        consent("c7", "a5", "analytics", "granted", "2025-01-01T00:00:00Z"),           # other purpose only
        consent("c8", "a6", "marketing_email", "withdrawn", "2025-01-01T00:00:00Z"),
        consent("c9", "a6", "marketing_email", "granted", "2025-02-01T00:00:00Z"),     # re-granted
    ]
    sends = [
        send("s1", "a1", "2025-06-01T00:00:00Z"),   # covered
        send("s2", "a1", "2026-01-01T00:00:00Z"),   # 12 months validity expired on 2026-01-01: expired
        send("s3", "a2", "2025-02-01T00:00:00Z"),   # covered before withdrawal
        send("s4", "a2", "2025-03-01T00:00:00Z"),   # at the withdrawal instant: withdrawn
        send("s5", "a3", "2024-06-01T00:00:00Z"),   # covered
        send("s6", "a4", "2025-06-01T00:00:00Z"),   # tie: withdrawn
        send("s7", "a5", "2025-06-01T00:00:00Z"),   # no marketing consent at all
        send("s8", "a7", "2025-06-01T00:00:00Z"),   # subject with no consent record: no_consent
        send("s9", "a6", "2025-03-01T00:00:00Z"),   # re-granted: covered
        send("s10", "a1", "2024-12-31T23:59:59Z"),  # before the grant: no_consent
    ]
    pledge = {"id": "c", "kind": "consent", "check": "consent_coverage",
              "params": {"table": "marketing_sends", "purpose": "marketing_email", "validity": "12 months"}}
    r = evaluate_in({"consent_events": consents, "marketing_sends": sends}, [pledge], AS_OF)["c"]
    assert r.by_reason == {"covered": 4, "expired": 1, "withdrawn": 2, "no_consent": 3}
    assert r.violations == 6 and r.population == 10
    assert abs(r.coverage - 0.4) < 1e-9
    # distributions are those of the raw rows (days from the consent in force to the send;
    # no consent in force: no measure), 31 twice so that a compact row stands for two
    days = {"s1": 151, "s2": 365, "s3": 31, "s4": 0, "s5": 152, "s6": 31, "s9": 28}
    bad = [days[s] for s in ("s2", "s4", "s6")]
    every = list(days.values())
    expected = {"p50": np.quantile(every, 0.5), "p95": np.quantile(every, 0.95), "mean": np.mean(every),
                "violation_p50": np.quantile(bad, 0.5), "violation_p95": np.quantile(bad, 0.95),
                "violation_mean": np.mean(bad), "violation_max": max(bad)}
    assert r.measure == pytest.approx({k: round(float(v), 4) for k, v in expected.items()})
    assert sum(b["violations"] + b["others"] for b in r.histogram) == len(every)


def test_consent_threshold_below_one(evaluate_in):
    consents = [consent("c1", "a1", "advertising", "granted", "2025-01-01T00:00:00Z")]
    fires = [{"event_id": str(i), "ts": "2025-06-01T00:00:00Z", "subject_id": "a1" if i < 9 else "a2",
              "tracker": "meta_pixel", "purpose": "advertising"} for i in range(10)]
    pledges = [{"id": "p90", "kind": "consent", "check": "consent_coverage",
                "params": {"table": "tracker_events", "purpose": "advertising", "threshold": 0.9}},
               {"id": "p95", "kind": "consent", "check": "consent_coverage",
                "params": {"table": "tracker_events", "purpose": "advertising", "threshold": 0.95}}]
    r = evaluate_in({"consent_events": consents, "tracker_events": fires}, pledges, AS_OF)
    assert r["p90"].status == "kept" and r["p95"].status == "broken"


def test_optout_grace_and_regrant(evaluate_in):
    unsubs = [{"unsubscribe_id": "u1", "account_id": "a1", "ts": "2025-01-10T00:00:00Z", "channel": "email"},
              {"unsubscribe_id": "u2", "account_id": "a2", "ts": "2025-01-10T00:00:00Z", "channel": "all"},
              {"unsubscribe_id": "u3", "account_id": "a3", "ts": "2025-01-10T00:00:00Z", "channel": "sms"}]
    consents = [consent("c1", "a2", "marketing_email", "granted", "2025-02-01T00:00:00Z")]
    sends = [send("s1", "a1", "2025-01-12T00:00:00Z"),   # within 3 days: ok
             send("s2", "a1", "2025-01-13T00:00:01Z"),   # after 3 days: violation
             send("s3", "a2", "2025-01-20T00:00:00Z"),   # violation
             send("s4", "a2", "2025-02-10T00:00:00Z"),   # re-granted: ok
             send("s5", "a3", "2025-03-01T00:00:00Z"),   # opted out of sms only: ok
             send("s6", "a3", "2025-03-01T00:00:00Z", channel="sms")]  # violation
    pledge = {"id": "o", "kind": "consent", "check": "optout_latency", "params": {"grace": "3 days"}}
    r = evaluate_in({"unsubscribes": unsubs, "consent_events": consents, "marketing_sends": sends}, [pledge],
                    AS_OF)["o"]
    assert (r.violations, r.population) == (3, 6)


def test_ip_truncation(evaluate_in):
    ips = ["203.0.113.7", "203.0.113.0", "2001:db8:abcd::", "2001:db8:abcd:12::1", "2001:0db8:abcd:0000:0000:0000:0000:0000",
           "not-an-ip", "999.1.1.1", "::"]
    fires = [{"event_id": str(i), "ts": "2025-06-01T00:00:00Z", "subject_id": "a", "tracker": "google_analytics",
              "purpose": "analytics", "ip": ip} for i, ip in enumerate(ips)]
    fires.append({"event_id": "x", "ts": "2025-06-01T00:00:00Z", "subject_id": "a", "tracker": "hotjar",
                  "purpose": "analytics", "ip": "198.51.100.9"})  # other tracker: out of scope
    pledge = {"id": "ip", "kind": "anonymization", "check": "ip_truncation",
              "params": {"table": "tracker_events", "where": {"tracker": "google_analytics"}}}
    r = evaluate_in({"tracker_events": fires}, [pledge], AS_OF)["ip"]
    assert r.by_reason == {"full_ipv4": 1, "full_ipv6": 1, "truncated": 4, "not_an_ip": 2}


def test_card_numbers_every_brand_and_no_false_positives(evaluate_in):
    comments = {
        "visa": "pay with 4111 1111 1111 1111 please",
        "mc2": "card 2221-0000-0000-0009",
        "amex": "378282246310005",
        "discover": "6011111111111117",
        "jcb": "3530111333300000",
        "diners": "30569309025904",
        "unionpay": "6200000000000005",
        "masked": "4111 **** **** 1111",
        "masked2": "411111XXXXXX1111",
        "last4": "card ending 1111",
        "luhn_bad": "4111 1111 1111 1112",
        "long_run": "order 41111111111111110000000",
        "two": "4111111111111111 and 5555555555554444",
        "maestro12": "501234567896",        # 12 characters, the shortest text that can hold a card
        "eleven": "50123456789",
    }
    orders = [{"order_id": k, "account_id": "a", "ordered_at": "2025-01-01T00:00:00Z", "amount": "1.00",
               "currency": "EUR", "comment": v} for k, v in comments.items()]
    pledge = {"id": "cards", "kind": "minimization", "check": "card_numbers", "params": {"tables": ["orders"]}}
    r = evaluate_in({"orders": orders}, [pledge], AS_OF)["cards"]
    # 9 rows with numbers (visa, mc2, amex, discover, jcb, diners, unionpay, two, maestro12); 6 clean
    assert r.violations == 9
    assert r.population == 15


def test_card_numbers_over_several_tables_one_table_at_a_time_equal_the_union(evaluate_in):
    """A multi-table card search is compacted table by table and merged; the result must be
    the one the single union query gives: counts, segments, measures and offenders, with a
    subject that holds cards in two tables and in two columns of one row."""
    orders = [{"order_id": f"o{i}", "account_id": acc, "ordered_at": "2025-01-01T00:00:00Z", "amount": "1.00",
               "currency": "EUR", "comment": text, "shipping_name": name}
              for i, (acc, text, name) in enumerate([("a", "4111 1111 1111 1111", "5555555555554444"),
                                                     ("a", "378282246310005", None), ("b", "no card", None),
                                                     ("c", "6011111111111117", None)])]
    tickets = [{"ticket_id": f"t{i}", "account_id": acc, "created_at": "2025-01-01T00:00:00Z", "body": text}
               for i, (acc, text) in enumerate([("a", "my card 4111-1111-1111-1111"), ("b", "hello"),
                                                ("d", "30569309025904"), (None, "4111111111111111")])]
    pledge = {"id": "cards", "kind": "minimization", "check": "card_numbers",
              "params": {"tables": ["orders", "support_tickets"]}}
    parts = evaluate_in({"orders": orders, "support_tickets": tickets}, [pledge], AS_OF)["cards"]

    real_render = runner.render

    def union_only(*args, **kwargs):
        rendered = real_render(*args, **kwargs)
        assert len(rendered.parts) == 2   # the path under test was taken above
        rendered.parts = []
        return rendered
    with pytest.MonkeyPatch.context() as mp:   # (test_spark reuses this test with evaluate_in only)
        mp.setattr(runner, "render", union_only)
        union = evaluate_in({"orders": orders, "support_tickets": tickets}, [pledge], AS_OF)["cards"]

    assert parts.to_dict() == union.to_dict()
    assert (parts.violations, parts.population) == (6, 8)
    assert {s["segment"]: s["violations"] for s in parts.by_segment} == {"orders": 3, "support_tickets": 3}
    # subject a: 3 rows in 2 tables, worst 2 columns in one row; the NULL subject is no offender
    assert [(o["violations"], o["worst"]) for o in parts.offenders] == [(3, 2.0), (1, 1.0), (1, 1.0)]


def test_password_k_usage_age_and_affiliates(evaluate_in):
    accounts = [
        {"account_id": "a1", "jurisdiction": "EU", "created_at": "2024-02-28T10:00:00Z", "date_of_birth": "2006-02-28",
         "password_hash": "$2b$12$" + "a" * 53},                      # turns 18 on 2024-02-28: ok; bcrypt
        {"account_id": "a2", "jurisdiction": "EU", "created_at": "2024-02-27T10:00:00Z", "date_of_birth": "2006-02-28",
         "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"},        # 17: under age; md5
        {"account_id": "a3", "jurisdiction": "EU", "created_at": "2024-02-28T10:00:00Z", "date_of_birth": "2004-02-29", "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$abc$def"},  # 19: ok
        {"account_id": "a4", "jurisdiction": "EU", "created_at": "2022-02-28T10:00:00Z", "date_of_birth": "2004-02-29",
         "password_hash": "hunter2"},   # born 29 Feb: 18 on 2022-02-28 (clamped): ok; plaintext
        {"account_id": "a5", "jurisdiction": "EU", "created_at": "2022-02-27T10:00:00Z", "date_of_birth": "2004-02-29"},
    ]
    pledges = [{"id": "pw", "kind": "security", "check": "password_hash", "params": {}},
               {"id": "age", "kind": "age", "check": "minimum_age", "params": {}}]
    r = evaluate_in({"accounts": accounts}, pledges, AS_OF)
    assert (r["pw"].violations, r["pw"].population, r["pw"].unknown) == (2, 4, 1)
    assert r["age"].violations == 2


def test_erasure_and_backups(evaluate_in):
    erasures = [{"erasure_id": "e1", "account_id": "a1", "erased_at": "2026-01-01T00:00:00Z", "status": "completed"},
                {"erasure_id": "e2", "account_id": "a2", "erased_at": "2026-06-10T00:00:00Z", "status": "completed"},
                {"erasure_id": "e3", "account_id": "a3", "erased_at": "2026-01-01T00:00:00Z", "status": "failed"}]
    tickets = [ticket("t1", "a1", "2025-01-01T00:00:00Z"),   # leftover: violation
               ticket("t2", "a1", "2026-03-01T00:00:00Z"),   # created after the erasure: not a leftover
               ticket("t3", "a2", "2025-01-01T00:00:00Z"),   # erased 5 days ago, grace 30 days: not yet
               ticket("t4", "a3", "2025-01-01T00:00:00Z")]   # erasure failed: not erased
    backups = [{"backup_id": "b1", "account_id": "a1", "taken_at": "2025-12-01T00:00:00Z"},   # held: violation
               {"backup_id": "b2", "account_id": "a1", "taken_at": "2025-12-01T00:00:00Z",
                "purged_at": "2026-01-20T00:00:00Z"},                                         # purged in 30 days
               {"backup_id": "b3", "account_id": "a1", "taken_at": "2025-12-01T00:00:00Z",
                "purged_at": "2026-02-15T00:00:00Z"},                                         # purged late
               {"backup_id": "b4", "account_id": "a2", "taken_at": "2026-06-01T00:00:00Z"}]   # within rotation
    pledges = [{"id": "er", "kind": "erasure", "check": "erasure_completeness",
                "params": {"tables": ["support_tickets"], "grace": "30 days"}},
               {"id": "bk", "kind": "erasure", "check": "backup_rotation", "params": {"rotation": "30 days"}}]
    r = evaluate_in({"erasure_log": erasures, "support_tickets": tickets, "backups": backups}, pledges, AS_OF)
    assert r["er"].violations == 1
    assert r["bk"].by_reason == {"still_held": 1, "purged_in_time": 1, "purged_late": 1, "within_rotation": 1}


def test_k_anonymity_and_usage_limit(evaluate_in):
    cells = [{"share_id": "s", "cell_id": str(i), "recipient": "r", "shared_at": "2025-01-01T00:00:00Z",
              "member_count": n} for i, n in enumerate([1, 4, 5, 100, 0])]
    downloads = ([{"download_id": f"d{i}", "account_id": "a1", "downloaded_at": f"2025-01-{i + 1:02d}T10:00:00Z"}
                  for i in range(11)] +
                 [{"download_id": f"e{i}", "account_id": "a2", "downloaded_at": f"2025-01-{i + 1:02d}T10:00:00Z"}
                  for i in range(10)] +
                 [{"download_id": "f1", "account_id": "a1", "downloaded_at": "2025-01-31T23:30:00-02:00"}])  # Feb 1 UTC
    pledges = [{"id": "k", "kind": "sharing", "check": "k_anonymity", "params": {"k": 5}},
               {"id": "dl", "kind": "usage_limit", "check": "usage_limit", "params": {"max": 10}}]
    r = evaluate_in({"shared_aggregates": cells, "downloads": downloads}, pledges, AS_OF)
    assert (r["k"].violations, r["k"].population) == (2, 4)
    assert (r["dl"].violations, r["dl"].population) == (1, 3)

