//! What `serve --dev` prints: a loud warning, a token for each demo agency
//! (the variables docs/connect/*.md use), and grpcurl commands that work when
//! pasted.

use std::{net::SocketAddr, path::Path};

use referral_hub_server::{
    clock::{Clock, SystemClock},
    demo::{COURT_ORG, HEALTH_ORG, OPERATOR_ORG, POLICE_ORG, SCHOOL_ORG, SOCIAL_WELFARE_ORG},
    keys::{HubKey, TokenRequest},
};

use crate::CliError;

/// A referral with its consent that grpcurl can send as is (proto JSON).
const DEMO_REFERRAL: &str = r#"{"request_id":"demo-1","recipient_org_id":"demo-social-welfare-yangon","child":{"local_id":"HF-0001"},"consent":{"child":{"local_id":"HF-0001"},"consenters":[{"role":"CONSENTER_ROLE_CAREGIVER","kind":"AGREEMENT_KIND_CONSENT"},{"role":"CONSENTER_ROLE_CHILD","kind":"AGREEMENT_KIND_ASSENT"}],"child_age_years":9,"decision":"CONSENT_DECISION_PERMIT","recipient_sectors":["SECTOR_SOCIAL_WELFARE"],"purposes":["PURPOSE_SERVICE_PROVISION"],"categories":["DATA_CATEGORY_IDENTITY","DATA_CATEGORY_PROTECTION_CONCERN","DATA_CATEGORY_DEMOGRAPHIC"],"expires_at":"2030-01-01T00:00:00Z","method":"CONSENT_METHOD_VERBAL"},"referral":{"protection_concerns":["neglect"],"risk_level":"RISK_LEVEL_MEDIUM","requested_services":["case_management"],"reason":"Child often left alone for days.","priority":"PRIORITY_URGENT","child":{"sex":"female","estimated_age_years":9}}}"#;

/// Prints the dev banner with ready-to-paste tokens and commands.
/// `claims`: the issuer, the audience and the tokens' lifetime (the hub's maximum).
pub fn print_banner(
    key: &HubKey,
    (issuer, audience, lifetime): (&str, &str, std::time::Duration),
    address: SocketAddr,
    data_dir: &Path,
) -> Result<(), CliError> {
    let ttl = time::Duration::try_from(lifetime).unwrap_or(time::Duration::hours(24));
    let token = |org: &str, roles: &[&str]| {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let request = TokenRequest { issuer, audience, subject: "dev-worker", org, roles: &roles, ttl };
        key.issue(&request, SystemClock.now())
    };
    let health = token(HEALTH_ORG, &["referrer", "receiver"])?;
    let welfare = token(SOCIAL_WELFARE_ORG, &["referrer", "receiver", "supervisor"])?;
    let school = token(SCHOOL_ORG, &["referrer", "receiver"])?;
    // A mandatory report (a legal basis) is the station commander's: supervisor.
    let police = token(POLICE_ORG, &["referrer", "receiver", "supervisor"])?;
    let court = token(COURT_ORG, &["referrer", "receiver"])?;
    let operator = token(OPERATOR_ORG, &["admin", "oversight"])?;
    eprintln!(
        r#"
################################################################################
#  referral-hub DEV MODE: no TLS, generated keys, demo organisations.          #
#  Loopback only. NEVER use dev mode with real children's data.                #
################################################################################
data directory: {data}   listening on: {address}

# Tokens (valid {hours} hours, the hub's --max-token-lifetime-hours):
export HEALTH_TOKEN={health}
export WELFARE_TOKEN={welfare}
# The school, the police station and the juvenile court (docs/connect/):
export SCHOOL_TOKEN={school}
export POLICE_TOKEN={police}
export COURT_TOKEN={court}
export HUB=http://{address}
# The hub operator (directory changes, unrouted alerts, oversight):
export OPERATOR_TOKEN={operator}

# What the hub offers (reflection, no proto files needed):
grpcurl -plaintext {address} list

# Submit a referral from the health centre to social welfare:
grpcurl -plaintext -H "authorization: Bearer $HEALTH_TOKEN" -d '{DEMO_REFERRAL}' {address} referralhub.v1.MessageService/SubmitMessage

# Open social welfare's inbox (streams; Ctrl-C to stop):
grpcurl -plaintext -H "authorization: Bearer $WELFARE_TOKEN" -d '{{}}' {address} referralhub.v1.MessageService/StreamInbox

# More tokens: referral-hub token issue --data-dir {data} --org ORG_ID --roles referrer,receiver
"#,
        data = data_dir.display(),
        hours = lifetime.as_secs() / 3600,
    );
    Ok(())
}
