"""optout_latency: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

from rows import consent, send

AS_OF = date(2026, 6, 15)


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
