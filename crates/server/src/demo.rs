//! The demo directory dev mode seeds: one organisation per sector, all in
//! Yangon's Hlaing township, so a newcomer can send a referral at once.

use referral_hub_domain::wire::{DeliveryChannel, Organisation, OrganisationStatus, Sector};
use referral_hub_store::{Store, StoreError};

/// Id of the demo health centre (the usual first sender).
pub const HEALTH_ORG: &str = "demo-health-hlaing";
/// Id of the demo social welfare office (the usual first receiver, lead agency for Yangon).
pub const SOCIAL_WELFARE_ORG: &str = "demo-social-welfare-yangon";

/// Id of the demo school (sends concerns as CSV batches).
pub const SCHOOL_ORG: &str = "demo-school-hlaing";

/// Id of the demo police station (files mandatory reports).
pub const POLICE_ORG: &str = "demo-police-hlaing";

/// Id of the demo juvenile court (the receiver of case transfers to justice).
pub const COURT_ORG: &str = "demo-court-yangon";

/// Id of the demo hub operator (a ministry IT unit): dev mode names it with
/// `--operator-org`, so its `admin` manages the whole directory.
pub const OPERATOR_ORG: &str = "demo-hub-operator";

/// The demo organisations.
pub fn organisations() -> Vec<Organisation> {
    let org = |id: &str, name: &str, sector: Sector, area: &str, services: &[&str], lead: &[&str]| Organisation {
        id: id.into(),
        name: name.into(),
        sector: sector as i32,
        areas: vec![area.into()],
        services: services.iter().map(|s| s.to_string()).collect(),
        lead_agency_areas: lead.iter().map(|s| s.to_string()).collect(),
        channel: DeliveryChannel::Pull as i32,
        status: OrganisationStatus::Active as i32,
        push_endpoint: String::new(),
        client_certificate_sha256: String::new(),
    };
    vec![
        org(
            HEALTH_ORG,
            "Hlaing Township Health Centre",
            Sector::Health,
            "MM/YGN/Hlaing",
            &["health_care", "mhpss"],
            &[],
        ),
        org(
            SOCIAL_WELFARE_ORG,
            "Department of Social Welfare, Yangon Region",
            Sector::SocialWelfare,
            "MM/YGN",
            &["case_management", "family_tracing", "alternative_care", "mhpss"],
            &["MM/YGN"],
        ),
        org(
            SCHOOL_ORG,
            "Hlaing Basic Education High School No. 1",
            Sector::Education,
            "MM/YGN/Hlaing",
            &["education"],
            &[],
        ),
        org(POLICE_ORG, "Hlaing Township Police Station", Sector::Police, "MM/YGN/Hlaing", &["police_protection"], &[]),
        org(COURT_ORG, "Yangon Region Juvenile Court", Sector::Justice, "MM/YGN", &["justice", "legal_aid"], &[]),
        org(OPERATOR_ORG, "Ministry IT Unit (hub operator)", Sector::Other, "MM", &[], &[]),
        org(
            "demo-community-hlaing",
            "Hlaing Community Child Protection Group",
            Sector::Other,
            "MM/YGN/Hlaing",
            &["case_management"],
            &[],
        ),
    ]
}

/// Registers (or refreshes) every demo organisation.
pub async fn seed(store: &Store) -> Result<(), StoreError> {
    for org in organisations() {
        store.upsert_organisation(&org).await?;
    }
    Ok(())
}
