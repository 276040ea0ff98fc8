//! Where a token says who its bearer is. The hub's own tokens carry `org` and
//! `roles` at the top; identity providers put them where they put them
//! (Keycloak's `realm_access.roles`, Entra's `roles`, a mapper's `org` or a
//! directory extension's `extn.org`), so each issuer has a profile naming
//! its claims by path.

use serde_json::Value;

/// A claim by dotted path (`realm_access.roles`). At each level a member
/// whose own name is the rest of the path wins (`extn.org` is one claim in
/// Entra's tokens), else the path descends at its first dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath(String);

impl ClaimPath {
    /// The path `path`; empty segments (`a..b`, a leading dot) are refused.
    pub fn parse(path: &str) -> Result<ClaimPath, String> {
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!("claim path {path:?}: names separated by single dots"));
        }
        Ok(ClaimPath(path.to_owned()))
    }

    /// The value at this path in `claims`, if there is one.
    pub fn find<'a>(&self, claims: &'a Value) -> Option<&'a Value> {
        let mut here = claims;
        let mut rest = self.0.as_str();
        loop {
            let object = here.as_object()?;
            if let Some(value) = object.get(rest) {
                return Some(value);
            }
            let (head, tail) = rest.split_once('.')?;
            here = object.get(head)?;
            rest = tail;
        }
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who issues the tokens a key verifies, for whom, and where their claims are.
#[derive(Debug, Clone)]
pub struct TokenProfile {
    /// `iss` the tokens must carry.
    pub issuer: String,
    /// `aud` the tokens must carry (one of, when an array).
    pub audience: String,
    /// Where the organisation is: a string, or an array of exactly one.
    pub org: ClaimPath,
    /// Where the roles are: an array of strings, or one string of space-separated names.
    pub roles: ClaimPath,
}

impl TokenProfile {
    /// The hub's own tokens: `org` and `roles` at the top.
    pub fn own(issuer: &str, audience: &str) -> TokenProfile {
        TokenProfile {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            org: ClaimPath("org".into()),
            roles: ClaimPath("roles".into()),
        }
    }

    /// The organisation the token names, if it names exactly one.
    pub fn org_of(&self, claims: &Value) -> Option<String> {
        let org = match self.org.find(claims)? {
            Value::String(org) => org,
            Value::Array(orgs) if orgs.len() == 1 => orgs[0].as_str()?,
            _ => return None,
        };
        (!org.is_empty()).then(|| org.to_owned())
    }

    /// The role names the token carries, or `None` when the claim is absent
    /// or neither a string nor an array of strings.
    pub fn roles_of(&self, claims: &Value) -> Option<Vec<String>> {
        match self.roles.find(claims)? {
            Value::String(roles) => Some(roles.split_whitespace().map(str::to_owned).collect()),
            Value::Array(roles) => roles.iter().map(|r| r.as_str().map(str::to_owned)).collect(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(org: &str, roles: &str) -> TokenProfile {
        let paths = (ClaimPath::parse(org).unwrap(), ClaimPath::parse(roles).unwrap());
        TokenProfile { org: paths.0, roles: paths.1, ..TokenProfile::own("i", "a") }
    }

    #[test]
    fn claims_are_found_by_path_as_keycloak_and_entra_place_them() {
        let keycloak =
            json!({ "org": "demo-health-hlaing", "realm_access": { "roles": ["referrer", "offline_access"] } });
        let profile_k = profile("org", "realm_access.roles");
        assert_eq!(profile_k.org_of(&keycloak).as_deref(), Some("demo-health-hlaing"));
        assert_eq!(profile_k.roles_of(&keycloak).unwrap(), ["referrer", "offline_access"]);

        let entra = json!({ "extn.org": ["demo-police-hlaing"], "roles": ["receiver"], "scp": "a b" });
        let profile_e = profile("extn.org", "roles");
        assert_eq!(profile_e.org_of(&entra).as_deref(), Some("demo-police-hlaing"), "a dotted member name");
        assert_eq!(profile_e.roles_of(&entra).unwrap(), ["receiver"]);
        assert_eq!(profile("extn.org", "scp").roles_of(&entra).unwrap(), ["a", "b"], "space-separated");
    }

    #[test]
    fn an_ambiguous_or_missing_claim_names_nobody() {
        let p = profile("org", "roles");
        assert_eq!(p.org_of(&json!({ "org": ["a", "b"] })), None, "two organisations");
        assert_eq!(p.org_of(&json!({ "org": "" })), None);
        assert_eq!(p.org_of(&json!({ "org": 7 })), None);
        assert_eq!(p.org_of(&json!({})), None);
        assert_eq!(p.roles_of(&json!({ "roles": ["a", 1] })), None);
        assert_eq!(p.roles_of(&json!({})), None);
        assert_eq!(profile("a.b", "roles").org_of(&json!({ "a": "x" })), None, "no descent into a string");
    }

    #[test]
    fn a_path_has_no_empty_names() {
        for bad in ["", ".", "a..b", ".a", "a."] {
            assert!(ClaimPath::parse(bad).is_err(), "{bad:?}");
        }
    }
}
