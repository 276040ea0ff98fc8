//! A database on the throwaway PostgreSQL cluster set up as
//! docs/operations.md "PostgreSQL roles" says: an owner role that migrates
//! it, and a serving role the hub runs as, given its privileges by
//! `deploy/postgres/serving-role.sql` through `psql`, as the operator does.
//! Both roles log in and neither is a superuser; the cluster trusts local
//! connections, so a URL names a role by its user alone.

use std::{path::PathBuf, process::Command};

use sqlx::{Connection, Executor, PgConnection};

use referral_hub_store::Store;

/// The grants file the operator runs as the owner after every `migrate`.
pub fn grants_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/postgres/serving-role.sql")
}

/// A fresh database owned by a role of its own, and the role the hub serves
/// as. Both roles and the database are new names on the shared cluster, so
/// tests running at once do not meet; they go with the cluster.
pub struct RoleDatabase {
    server: String,
    /// The database's name.
    pub database: String,
    /// The role that owns the database and its schema, and migrates it.
    pub owner: String,
    /// The role the hub serves as.
    pub serving: String,
}

impl RoleDatabase {
    /// Creates the two roles (LOGIN, NOSUPERUSER) and an empty database owned
    /// by the owner, in which no role but its owner may create tables (the
    /// setup step of docs/operations.md).
    pub async fn create() -> RoleDatabase {
        let server = std::env::var("REFERRAL_HUB_TEST_POSTGRES_URL").expect(
            "PostgreSQL tests need REFERRAL_HUB_TEST_POSTGRES_URL; run ./scripts/test, which starts a throwaway server",
        );
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        let roles = RoleDatabase {
            server,
            database: format!("hub_roles_{suffix}"),
            owner: format!("hub_owner_{suffix}"),
            serving: format!("hub_serving_{suffix}"),
        };
        let mut admin = PgConnection::connect(&roles.server).await.expect("connect to the test PostgreSQL server");
        for statement in [
            format!("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", roles.owner),
            format!("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", roles.serving),
            format!("CREATE DATABASE {} OWNER {}", roles.database, roles.owner),
        ] {
            admin.execute(statement.as_str()).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        let mut database = PgConnection::connect(&roles.url_as(&superuser(&roles.server))).await.expect("connect");
        database.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC").await.expect("revoke CREATE from PUBLIC");
        roles
    }

    /// The database's URL for `role`.
    pub fn url_as(&self, role: &str) -> String {
        let (_, host) = self.server.split_once('@').expect("a URL with a user");
        let (host, _) = host.rsplit_once('/').expect("a URL with a database name");
        format!("postgres://{role}@{host}/{}", self.database)
    }

    /// The URL the owner migrates with.
    pub fn owner_url(&self) -> String {
        self.url_as(&self.owner)
    }

    /// The URL the hub serves with.
    pub fn serving_url(&self) -> String {
        self.url_as(&self.serving)
    }

    /// Applies every migration as the owner (what `referral-hub migrate` does).
    pub async fn migrate(&self) {
        let store = Store::connect(&self.owner_url()).await.expect("connect as the owner");
        store.migrate().await.expect("the owner migrates");
        store.close().await;
    }

    /// Runs the grants file as the owner with `psql`, as docs/operations.md
    /// shows; panics with psql's output if it fails.
    pub fn grant(&self) {
        let bin = std::env::var("REFERRAL_HUB_TEST_PG_BIN").expect("REFERRAL_HUB_TEST_PG_BIN; run ./scripts/test");
        let output = Command::new(PathBuf::from(bin).join("psql"))
            .args(["-X", "-q", "-v", &format!("serving_role={}", self.serving), "-f"])
            .arg(grants_file())
            .arg(self.owner_url())
            .output()
            .expect("run psql");
        let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "the grants file fails: {said}");
    }

    /// A connection as `role`.
    pub async fn connect_as(&self, role: &str) -> PgConnection {
        PgConnection::connect(&self.url_as(role)).await.unwrap_or_else(|e| panic!("connect as {role}: {e}"))
    }
}

/// The user of the server URL: the cluster's superuser.
fn superuser(server: &str) -> String {
    let (_, rest) = server.split_once("://").expect("a URL");
    let (user, _) = rest.split_once('@').expect("a URL with a user");
    user.to_owned()
}
