#!/usr/bin/env python3
"""Fills a stopped dev hub's SQLite database with N messages and inbox entries,
for the "submit latency with 1,000,000 stored messages vs 1,000" benchmark
(docs/benchmarks.md). Usage:

    referral-hub serve --dev --data-dir /tmp/bench-1m   # once, to create it; then stop it
    scripts/bulk-load-messages.py /tmp/bench-1m/referral-hub.db 1000000
"""
import sqlite3
import sys

path, count = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
base = 1_800_000_000_000_000
sender, receiver = "demo-health-hlaing", "demo-social-welfare-yangon"
db.executemany(
    "INSERT INTO messages (id, sender_org, sender_subject, recipient_org, request_id, request_hash, kind, status,"
    " risk_level, child_link_key, created_at, updated_at, acknowledge_by, respond_by, body)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    ((f"01900000-0000-7000-8000-{i:012x}", sender, "bulk", receiver, f"bulk-{i}", b"h" * 32,
      "MESSAGE_KIND_SERVICE_REFERRAL", "MESSAGE_STATUS_SUBMITTED", "RISK_LEVEL_MEDIUM", None,
      base + i, base + i, base + i, base + i, b"x" * 600) for i in range(count)),
)
db.executemany(
    "INSERT INTO inbox_entries (org_id, position, message_id, follow_up_id, created_at) VALUES (?,?,?,?,?)",
    ((receiver, i + 1, f"01900000-0000-7000-8000-{i:012x}", None, base + i) for i in range(count)),
)
db.execute("INSERT INTO inboxes (org_id, last_position, acked_position) VALUES (?, ?, 0)"
           " ON CONFLICT (org_id) DO UPDATE SET last_position = excluded.last_position", (receiver, count))
db.commit()
print(db.execute("SELECT count(*) FROM messages").fetchone()[0], "messages")
