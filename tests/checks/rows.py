"""Row builders shared by the check edge cases (one row of a contract table each)."""


def ticket(tid, acc, created, last=None, abuse=None):
    return {"ticket_id": tid, "account_id": acc, "created_at": created, "last_message_at": last,
            "abuse_flag": abuse, "channel": "email"}


def hold(hid, acc, starts, ends=None, scope="support_tickets"):
    return {"hold_id": hid, "account_id": acc, "scope_table": scope, "starts_at": starts, "ends_at": ends,
            "reason": "litigation"}


def consent(cid, subj, purpose, action, ts):
    return {"consent_id": cid, "subject_id": subj, "purpose": purpose, "action": action, "ts": ts}


def send(sid, acc, ts, channel="email", sensitive=None):
    return {"send_id": sid, "account_id": acc, "sent_at": ts, "channel": channel, "jurisdiction": "EU",
            "uses_sensitive_data": sensitive}


def accounts_born_around_leap_days() -> list[dict]:
    """Accounts for the age and password cases: ages at sign-up around 18 (29 February births)
    and one password hash format each."""
    return [
        {"account_id": "a1", "jurisdiction": "EU", "created_at": "2024-02-28T10:00:00Z", "date_of_birth": "2006-02-28",
         "password_hash": "$2b$12$" + "a" * 53},                      # turns 18 on 2024-02-28: ok; bcrypt
        {"account_id": "a2", "jurisdiction": "EU", "created_at": "2024-02-27T10:00:00Z", "date_of_birth": "2006-02-28",
         "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"},        # 17: under age; md5
        {"account_id": "a3", "jurisdiction": "EU", "created_at": "2024-02-28T10:00:00Z", "date_of_birth": "2004-02-29",
         "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$abc$def"},  # 19: ok
        {"account_id": "a4", "jurisdiction": "EU", "created_at": "2022-02-28T10:00:00Z", "date_of_birth": "2004-02-29",
         "password_hash": "hunter2"},   # born 29 Feb: 18 on 2022-02-28 (clamped): ok; plaintext
        {"account_id": "a5", "jurisdiction": "EU", "created_at": "2022-02-27T10:00:00Z", "date_of_birth": "2004-02-29"},
    ]


def erasure_world() -> dict[str, list[dict]]:
    """Erasures (completed, recent, failed), leftover tickets and backups around them."""
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
    return {"erasure_log": erasures, "support_tickets": tickets, "backups": backups}
