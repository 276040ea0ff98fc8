//! PostgreSQL roles (docs/operations.md "PostgreSQL roles"), on the throwaway
//! cluster: the owner role migrates, `deploy/postgres/serving-role.sql`
//! grants the serving role what the hub needs, and the hub serves as that
//! role, checking the migrations instead of applying them. The serving role
//! reads and appends to the audit tables and can do nothing else to them:
//! not alter them, switch their triggers off, truncate, delete, update or
//! drop them.

use referral_hub_domain::{
    audit::{Action, Entry, Outcome, Severity},
    ids::OrgId,
    sample,
    timestamps::UnixMicros,
};
use referral_hub_e2e::{
    HEALTH_ORG, OPERATOR_ORG, SOCIAL_WELFARE_ORG, TestDb, TestHub, follow_up, next_entry, postgres_roles::RoleDatabase,
    submitted, unlimited,
};
use referral_hub_proto::v1::{
    AckDeliveryRequest, FollowUpAction as A, GetMessageRequest, MessageStatus as S, StreamInboxRequest,
    UpdateOrganisationRequest, inbox_entry::Item,
};
use referral_hub_store::StoreError;
use sqlx::{Executor, PgConnection};

/// The audit tables: the serving role may read and append to them, no more.
/// (`audit_head`, the chain head every append moves, is checked apart.)
/// Those a migration has not created yet are passed over.
const APPEND_ONLY: &[&str] = &["audit_log", "audit_tree_nodes", "audit_tree_heads", "audit_signing_keys"];

/// Every privilege a table can be granted.
const PRIVILEGES: &[&str] = &["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];

/// What the serving role tries against the audit log; PostgreSQL refuses
/// each with `insufficient_privilege` (42501): it owns none of the tables,
/// triggers or functions, may create nothing in the schema, and has only
/// SELECT and INSERT on the log (SELECT and UPDATE on its head).
const REFUSED: &[&str] = &[
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate",
    "DROP TRIGGER audit_log_no_change ON audit_log",
    "TRUNCATE audit_log",
    "DROP TABLE audit_log",
    "DELETE FROM audit_log",
    "UPDATE audit_log SET detail = ''",
    "ALTER TABLE audit_log ADD COLUMN note TEXT",
    "ALTER TABLE audit_log RENAME TO audit_log_before",
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "DROP FUNCTION audit_log_append_only() CASCADE",
    "SET session_replication_role = replica",
    "CREATE TABLE audit_log_copy (seq BIGINT)",
    "TRUNCATE audit_head",
    "DELETE FROM audit_head",
    "DROP TABLE audit_head",
    "ALTER TABLE audit_head DISABLE TRIGGER ALL",
    "DELETE FROM _sqlx_migrations",
];

/// A database migrated by its owner and granted by the grants file.
async fn granted() -> RoleDatabase {
    let roles = RoleDatabase::create().await;
    roles.migrate().await;
    roles.grant();
    roles
}

fn entry(i: i64) -> Entry {
    Entry::new(UnixMicros::new(1_800_000_000_000_000 + i), Action::MessageRead, Outcome::Success, Severity::Info)
        .by(HEALTH_ORG, "", String::new())
        .about(&format!("m-{i}"), "")
}

async fn count(connection: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(connection).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serving_role_cannot_alter_disable_truncate_or_drop_the_audit_log() {
    let roles = granted().await;
    let db = TestDb::checked(&roles.serving_url()).await.expect("the migrated, granted database is accepted");
    for i in 0..3 {
        db.store.audit(vec![entry(i)]).await.expect("the serving role appends");
    }

    let mut serving = roles.connect_as(&roles.serving).await;
    let mut allowed = Vec::new();
    for statement in REFUSED {
        match serving.execute(*statement).await {
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42501") => {}
            other => allowed.push(format!("{statement}: {other:?}")),
        }
    }
    assert!(allowed.is_empty(), "the serving role was not refused:\n{}", allowed.join("\n"));

    // Everything is as it was: the triggers on, the entries there, the chain whole.
    let mut owner = roles.connect_as(&roles.owner).await;
    let enabled = "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND tgenabled = 'O'";
    assert_eq!(count(&mut owner, enabled).await, 2, "audit_log_no_change and audit_log_no_truncate are on");
    assert_eq!(count(&mut serving, "SELECT count(*) FROM audit_log").await, 3);
    assert_eq!(db.store.verify_audit(1, None).await.unwrap().expect("intact").checked, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grants_cover_every_table_and_give_the_audit_tables_read_and_append_only_to_the_role() {
    let roles = granted().await;
    // Run again, as after every migrate: the same privileges, no error.
    roles.grant();
    let mut owner = roles.connect_as(&roles.owner).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::TEXT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    let mut privileges = Vec::new();
    for table in &tables {
        let mut held = Vec::new();
        for privilege in PRIVILEGES {
            let has: bool = sqlx::query_scalar("SELECT has_table_privilege($1, $2::regclass, $3)")
                .bind(&roles.serving)
                .bind(table)
                .bind(privilege)
                .fetch_one(&mut owner)
                .await
                .unwrap();
            if has {
                held.push(*privilege);
            }
        }
        privileges.push((table.as_str(), held));
    }
    let unnamed: Vec<_> = privileges.iter().filter(|(_, held)| !held.contains(&"SELECT")).collect();
    assert!(unnamed.is_empty(), "tables deploy/postgres/serving-role.sql does not name: {unnamed:?}");
    for (table, held) in &privileges {
        let expected: &[&str] = match *table {
            "audit_head" => &["SELECT", "UPDATE"],
            "_sqlx_migrations" => &["SELECT"],
            table if APPEND_ONLY.contains(&table) => &["SELECT", "INSERT"],
            _ => continue,
        };
        assert_eq!(held, expected, "{table}");
    }
    let never: Vec<_> = privileges
        .iter()
        .filter(|(_, held)| held.iter().any(|p| ["TRUNCATE", "REFERENCES", "TRIGGER"].contains(p)))
        .collect();
    assert!(never.is_empty(), "no table is the serving role's to truncate or trigger on: {never:?}");
    let owned =
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)";
    assert_eq!(count(&mut roles.connect_as(&roles.serving).await, owned).await, 0, "the serving role owns nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_serves_as_the_serving_role_checking_the_migrations() {
    let roles = granted().await;
    let db = TestDb::checked(&roles.serving_url()).await.expect("the migrated, granted database is accepted");
    let hub = TestHub::start_on(db, None, unlimited()).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let mut inbox = welfare.stream_inbox(StreamInboxRequest::default()).await.unwrap().into_inner();

    let sent = submitted(&mut health, sample::submit("as-the-serving-role", SOCIAL_WELFARE_ORG)).await;
    let entry = next_entry(&mut inbox).await;
    let Some(Item::Message(received)) = entry.item else { panic!("expected the message") };
    assert_eq!(received.id, sent.id);
    welfare.ack_delivery(AckDeliveryRequest { position: entry.position }).await.unwrap();
    let accepted = welfare.post_follow_up(follow_up(&sent.id, A::Accept, "accept-1")).await.unwrap().into_inner();
    assert_eq!(accepted.message.unwrap().status(), S::Accepted);
    let read = health.get_message(GetMessageRequest { message_id: sent.id.clone() }).await.unwrap().into_inner();
    assert_eq!((read.message.unwrap().status(), read.follow_ups.len()), (S::Accepted, 1), "read back");

    // A directory change: the entry's lists replaced, a notice in its inbox.
    let mut operator = hub.directory(OPERATOR_ORG, &["admin"]).await;
    let welfare_office = hub.db.store.organisation(&OrgId::new(SOCIAL_WELFARE_ORG)).await.unwrap();
    let mut changed = welfare_office.expect("the welfare office");
    changed.services.push("family_tracing".into());
    operator.update_organisation(UpdateOrganisationRequest { organisation: Some(changed) }).await.unwrap();
    assert!(matches!(next_entry(&mut inbox).await.item, Some(Item::DirectoryNotice(_))));

    let verified = hub.db.store.verify_audit(1, None).await.unwrap().expect("the chain is whole");
    assert!(verified.checked >= 5, "submit, release, ack, follow-up and change audited: {}", verified.checked);
    let mut owner = roles.connect_as(&roles.owner).await;
    let by_hub = "SELECT count(*) FROM audit_log WHERE message_id <> ''";
    assert!(count(&mut owner, by_hub).await >= 3, "the hub appended as the serving role");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_as_the_role_refuses_a_database_not_migrated_or_not_granted() {
    let roles = RoleDatabase::create().await;
    let refused = TestDb::checked(&roles.serving_url()).await.err().expect("an empty database is refused");
    let StoreError::NotMigrated(gaps) = &refused else { panic!("{refused}") };
    assert_eq!(gaps.pending.first(), Some(&1), "{gaps}");
    let said = refused.to_string();
    assert!(said.contains("run `referral-hub migrate` with this binary as the owner role"), "{said}");
    let mut owner = roles.connect_as(&roles.owner).await;
    let tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'";
    assert_eq!(count(&mut owner, tables).await, 0, "checking migrated nothing");

    roles.migrate().await;
    let refused = TestDb::checked(&roles.serving_url()).await.err().expect("not granted yet");
    assert!(matches!(refused, StoreError::MigrationsUnreadable(_)), "{refused}");
    assert!(refused.to_string().contains("deploy/postgres/serving-role.sql"), "{refused}");

    roles.grant();
    TestDb::checked(&roles.serving_url()).await.expect("migrated and granted");
}
