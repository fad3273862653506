"""ip_truncation: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

AS_OF = date(2026, 6, 15)


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
