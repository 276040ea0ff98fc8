//! The entries of an inbound Bundle, found by type and by reference, so that
//! each resource reader gets its resource with its FHIRPath.

use serde_json::Value;

use super::json::{El, Issues};
use super::naming;

/// A parsed Bundle: its root and its entries' resources.
pub(super) struct Bundle<'a> {
    pub root: El<'a>,
    entries: Vec<(&'a str, El<'a>)>,
}

impl<'a> Bundle<'a> {
    /// Reads `Bundle.entry[*]`, naming entries without a resource.
    pub fn parse(value: &'a Value, issues: &mut Issues) -> Self {
        let root = El::root(value, "Bundle");
        let mut entries = vec![];
        for entry in root.array("entry", issues) {
            let full_url = entry.str("fullUrl", issues);
            if let Some(resource) = entry.req_object("resource", issues) {
                entries.push((full_url, resource));
            }
        }
        Self { root, entries }
    }

    /// Every resource of `kind`, in entry order.
    pub fn all(&self, kind: &str) -> Vec<El<'a>> {
        self.entries
            .iter()
            .filter(|(_, r)| r.value.get("resourceType") == Some(&kind.into()))
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The one resource of `kind`; a second one is named, a missing one too when `required`.
    pub fn one(&self, kind: &str, required: bool, issues: &mut Issues) -> Option<El<'a>> {
        let found = self.all(kind);
        if let Some(extra) = found.get(1) {
            issues.add(extra.path.clone(), format!("a second {kind}: the Bundle must have at most one"));
        }
        if found.is_empty() && required {
            issues.add("Bundle.entry", format!("needs a {kind} entry"));
        }
        found.into_iter().next()
    }

    /// The `fullUrl` of the entry holding `resource`; empty when it has none.
    pub fn full_url(&self, resource: &El) -> &'a str {
        self.entries.iter().find(|(_, r)| r.path == resource.path).map_or("", |(url, _)| url)
    }

    /// The hub organisation a Reference names: an Organization entry of the
    /// Bundle with an identifier of system `sid/organisation`, a literal
    /// `Organization/<id>` outside it, or a logical reference by that identifier.
    pub fn organisation(&self, reference: &El<'a>, issues: &mut Issues) -> Option<&'a str> {
        let hub_id = |identifiers: Vec<El<'a>>, issues: &mut Issues| {
            let system = naming("organisation");
            let found =
                identifiers.into_iter().find(|i| i.value.get("system").and_then(|s| s.as_str()) == Some(&system));
            found.map(|i| i.str("value", issues)).filter(|v| !v.is_empty())
        };
        match self.resolve(reference, issues) {
            Some(entry) if entry.value["resourceType"] == "Organization" => {
                let found = hub_id(entry.array("identifier", issues), issues);
                if found.is_none() {
                    let wanted =
                        format!("needs an identifier of system {} (the hub's organisation id)", naming("organisation"));
                    issues.add(format!("{}.identifier", entry.path), wanted);
                }
                found
            }
            Some(_) => None,
            None => match reference_id(reference.str("reference", issues), "Organization") {
                Some(id) => Some(id),
                None => hub_id(reference.object("identifier", issues).into_iter().collect(), issues),
            },
        }
    }

    /// The entry a Reference element points at: by fullUrl, or `Type/id`.
    pub fn resolve(&self, reference: &El<'a>, issues: &mut Issues) -> Option<El<'a>> {
        let target = reference.str("reference", issues);
        self.entries
            .iter()
            .find(|(full_url, r)| {
                let local = format!(
                    "{}/{}",
                    r.value["resourceType"].as_str().unwrap_or(""),
                    r.value["id"].as_str().unwrap_or("")
                );
                !target.is_empty()
                    && (*full_url == target || local == target || full_url.ends_with(&format!("/{target}")))
            })
            .map(|(_, r)| r.clone())
    }
}

/// The id at the end of a literal reference `.../Type/id`, when its type is `kind`.
pub(super) fn reference_id<'t>(reference: &'t str, kind: &str) -> Option<&'t str> {
    let mut parts = reference.trim_end_matches('/').rsplit('/');
    let id = parts.next()?;
    (parts.next() == Some(kind) && !id.is_empty()).then_some(id)
}
