//! The service directory: organisations with their sector, areas and services.

use sqlx::{Any, Row, Transaction, any::AnyRow};

use referral_hub_domain::{audit::Entry, ids::OrgId};

use referral_hub_domain::wire::{DeliveryChannel, DirectoryNotice, Organisation, OrganisationStatus, Sector};

use crate::{OrganisationSearch, Result, Store, rows};

const ORGANISATION_COLUMNS: &str = "o.id, o.name, o.sector, o.channel, o.status, o.areas, o.services, o.lead_agency_areas, o.push_endpoint, \
     o.client_certificate_sha256";

impl Store {
    /// Registers `org`, or replaces it if its id is already registered. For
    /// seeding (dev mode, tests); admin changes go through
    /// [`Store::change_organisation`], which audits and tells the organisation.
    pub async fn upsert_organisation(&self, org: &Organisation) -> Result<()> {
        let mut tx = self.pools.write.begin().await?;
        Self::write_organisation_tx(&mut tx, org).await?;
        tx.commit().await?;
        self.shared.directory_cache.forget(&org.id);
        Ok(())
    }

    /// Writes `change` if the organisation's entry is still exactly
    /// `change.before` (`None`: not registered), with its audit entry and the
    /// notice in the organisation's inbox, all in one transaction. The check
    /// runs under the audit chain head's lock, which every writer takes first,
    /// so the before that the audit entry records is the one replaced.
    pub async fn change_organisation(&self, change: DirectoryChange<'_>) -> Result<DirectoryWrite> {
        let DirectoryChange { before, after, mut audit, notice } = change;
        let mut tx = self.pools.write.begin().await?;
        let mut head = Self::lock_audit_head(&mut tx).await?;
        let row = sqlx::query(&organisation_by_id()).bind(&after.id).fetch_optional(&mut *tx).await?;
        let current = row.as_ref().map(organisation).transpose()?;
        if current.as_ref() != before {
            return Ok(DirectoryWrite::Stale(current));
        }
        Self::write_organisation_tx(&mut tx, after).await?;
        self.append_audit(&mut tx, &mut head, std::slice::from_mut(&mut audit)).await?;
        self.append_notice(&mut tx, &after.id, notice).await?;
        tx.commit().await?;
        self.shared.directory_cache.forget(&after.id);
        self.shared.notifier.notify(&after.id);
        Ok(DirectoryWrite::Written)
    }

    /// Stores `notice` and appends it to `org`'s inbox at its next position
    /// (waking other replicas' streams on PostgreSQL at commit).
    async fn append_notice(&self, tx: &mut Transaction<'_, Any>, org: &str, notice: &DirectoryNotice) -> Result<()> {
        let at = notice.changed_at.as_ref().map_or(0, referral_hub_domain::timestamps::micros_of);
        sqlx::query("INSERT INTO directory_notices (id, org_id, created_at, body) VALUES ($1, $2, $3, $4)")
            .bind(&notice.id)
            .bind(org)
            .bind(at)
            .bind(prost::Message::encode_to_vec(notice))
            .execute(&mut **tx)
            .await?;
        let position: i64 = sqlx::query_scalar(
            "INSERT INTO inboxes (org_id, last_position, acked_position) VALUES ($1, 1, 0) \
             ON CONFLICT (org_id) DO UPDATE SET last_position = inboxes.last_position + 1 RETURNING last_position",
        )
        .bind(org)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO inbox_entries (org_id, position, message_id, follow_up_id, notice_id, created_at) \
             VALUES ($1, $2, NULL, NULL, $3, $4)",
        )
        .bind(org)
        .bind(position)
        .bind(&notice.id)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        if matches!(self.pools.backend, crate::Backend::Postgres) {
            let payload = format!("{} {org}", self.shared.notifier.replica());
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::notify::INBOX_CHANNEL)
                .bind(payload)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn write_organisation_tx(tx: &mut Transaction<'_, Any>, org: &Organisation) -> Result<()> {
        sqlx::query(
            "INSERT INTO organisations (id, name, sector, channel, status, areas, services, lead_agency_areas, \
             push_endpoint, client_certificate_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET name = $2, sector = $3, channel = $4, status = $5, areas = $6, \
             services = $7, lead_agency_areas = $8, push_endpoint = $9, client_certificate_sha256 = $10",
        )
        .bind(&org.id)
        .bind(&org.name)
        .bind(org.sector().as_str_name())
        .bind(org.channel().as_str_name())
        .bind(org.status().as_str_name())
        .bind(json(&org.areas))
        .bind(json(&org.services))
        .bind(json(&org.lead_agency_areas))
        .bind(&org.push_endpoint)
        .bind(&org.client_certificate_sha256)
        .execute(&mut **tx)
        .await?;
        for (table, column, values) in [
            ("organisation_areas", "area", &org.areas),
            ("organisation_services", "service", &org.services),
            ("organisation_lead_areas", "area", &org.lead_agency_areas),
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE org_id = $1")).bind(&org.id).execute(&mut **tx).await?;
            for value in values {
                sqlx::query(&format!("INSERT INTO {table} (org_id, {column}) VALUES ($1, $2) ON CONFLICT DO NOTHING"))
                    .bind(&org.id)
                    .bind(value)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// One organisation by id, active or not. Read on every call (token
    /// checks, recipients), so answered from a short-lived cache: a change made
    /// through this store is seen at once, one made by another replica within
    /// [`DIRECTORY_CACHE_TTL`].
    pub async fn organisation(&self, id: &OrgId) -> Result<Option<Organisation>> {
        if let Some(cached) = self.shared.directory_cache.get(id) {
            return Ok(cached);
        }
        let row = sqlx::query(&organisation_by_id()).bind(id.as_str()).fetch_optional(&self.pools.read).await?;
        let found = row.as_ref().map(organisation).transpose()?;
        self.shared.directory_cache.put(id, found.clone());
        Ok(found)
    }

    /// The active lead agency for `area`: the one leading the most specific
    /// area on its path (`MM/YGN/Hlaing`, else `MM/YGN`, else `MM`).
    pub async fn lead_agency(&self, area: &str) -> Result<Option<OrgId>> {
        let lead: Option<String> = sqlx::query_scalar(
            "SELECT la.org_id FROM organisation_lead_areas la JOIN organisations o ON o.id = la.org_id \
             WHERE o.status = $1 AND (la.area = $2 OR substr($2, 1, length(la.area) + 1) = la.area || '/') \
             ORDER BY length(la.area) DESC, la.org_id LIMIT 1",
        )
        .bind(OrganisationStatus::Active.as_str_name())
        .bind(area)
        .fetch_optional(&self.pools.read)
        .await?;
        Ok(lead.map(OrgId::from))
    }

    /// Where a separated-child alert about a child found in `area` goes: the
    /// active SOCIAL_WELFARE lead agency offering `service` (family tracing)
    /// that leads the most specific area on the path, walking up from `area`.
    pub async fn tracing_agency(&self, area: &str, service: &str) -> Result<Option<Organisation>> {
        let lead: Option<String> = sqlx::query_scalar(
            "SELECT la.org_id FROM organisation_lead_areas la JOIN organisations o ON o.id = la.org_id \
             WHERE o.status = $1 AND o.sector = $2 \
             AND EXISTS (SELECT 1 FROM organisation_services s WHERE s.org_id = o.id AND s.service = $3) \
             AND (la.area = $4 OR substr($4, 1, length(la.area) + 1) = la.area || '/') \
             ORDER BY length(la.area) DESC, la.org_id LIMIT 1",
        )
        .bind(OrganisationStatus::Active.as_str_name())
        .bind(Sector::SocialWelfare.as_str_name())
        .bind(service)
        .bind(area)
        .fetch_optional(&self.pools.read)
        .await?;
        match lead {
            Some(id) => self.organisation(&OrgId::from(id)).await,
            None => Ok(None),
        }
    }

    /// The organisation that registered the client certificate `sha256`, if any.
    pub async fn organisation_with_certificate(&self, sha256: &str) -> Result<Option<OrgId>> {
        // `<> ''` lets the partial index `organisations_by_certificate` serve it.
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT id FROM organisations WHERE client_certificate_sha256 = $1 AND client_certificate_sha256 <> '' LIMIT 1",
        )
        .bind(sha256)
        .fetch_optional(&self.pools.read)
        .await?;
        Ok(owner.map(OrgId::from))
    }

    /// Every registered organisation, suspended ones too, by id (for operators).
    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        let sql = format!("SELECT {ORGANISATION_COLUMNS} FROM organisations o ORDER BY o.id");
        let found = sqlx::query(&sql).fetch_all(&self.pools.read).await?;
        found.iter().map(organisation).collect()
    }

    /// One page of active organisations matching every given filter, by id.
    /// An organisation covering `MM/YGN` covers `MM/YGN/Hlaing`.
    pub async fn search_organisations(&self, search: &OrganisationSearch) -> Result<Vec<Organisation>> {
        let sql = format!(
            "SELECT {ORGANISATION_COLUMNS} FROM organisations o WHERE o.status = $1 \
             AND ($2 = '' OR EXISTS (SELECT 1 FROM organisation_services s WHERE s.org_id = o.id AND s.service = $2)) \
             AND ($3 = '' OR EXISTS (SELECT 1 FROM organisation_areas a WHERE a.org_id = o.id \
                  AND (a.area = $3 OR substr($3, 1, length(a.area) + 1) = a.area || '/'))) \
             AND ($4 = '' OR o.sector = $4) AND o.id > $5 ORDER BY o.id LIMIT $6"
        );
        let found = sqlx::query(&sql)
            .bind(OrganisationStatus::Active.as_str_name())
            .bind(search.service.clone().unwrap_or_default())
            .bind(search.area.clone().unwrap_or_default())
            .bind(search.sector.map(|s| s.as_str_name()).unwrap_or_default())
            .bind(search.after_id.as_deref().unwrap_or_default())
            .bind(i64::from(search.limit))
            .fetch_all(&self.pools.read)
            .await?;
        found.iter().map(organisation).collect()
    }
}

/// One organisation's row by id (`$1`).
fn organisation_by_id() -> String {
    format!("SELECT {ORGANISATION_COLUMNS} FROM organisations o WHERE o.id = $1")
}

fn organisation(row: &AnyRow) -> Result<Organisation> {
    let list = |column: &'static str| -> Result<Vec<String>> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|_| crate::StoreError::Corrupt { column })
    };
    Ok(Organisation {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        sector: rows::decode(row, "sector", Sector::from_str_name)? as i32,
        areas: list("areas")?,
        services: list("services")?,
        lead_agency_areas: list("lead_agency_areas")?,
        channel: rows::decode(row, "channel", DeliveryChannel::from_str_name)? as i32,
        status: rows::decode(row, "status", OrganisationStatus::from_str_name)? as i32,
        push_endpoint: row.try_get("push_endpoint")?,
        client_certificate_sha256: row.try_get("client_certificate_sha256")?,
    })
}

fn json(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

/// An audited change to one organisation's directory entry.
pub struct DirectoryChange<'a> {
    /// The entry the change was decided on; `None` for a registration.
    pub before: Option<&'a Organisation>,
    /// The entry as it is to be.
    pub after: &'a Organisation,
    /// The audit entry, with each changed field's before and after.
    pub audit: Entry,
    /// What the organisation is told in its inbox.
    pub notice: &'a DirectoryNotice,
}

/// What [`Store::change_organisation`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum DirectoryWrite {
    /// Written, audited, and the organisation told.
    Written,
    /// Nothing written: the entry is no longer the `before` the change was
    /// decided on; here is what it is now (`None`: not registered).
    Stale(Option<Organisation>),
}
