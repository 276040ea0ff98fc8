//! Where a separated-child alert goes: the one choice the callers of submit
//! make beyond the request itself.

use referral_hub_domain::wire::Organisation;

/// Where a separated-child alert goes.
#[derive(Debug, PartialEq)]
pub(crate) enum Route {
    /// To the area's social welfare lead agency, found in the directory.
    Directory,
    /// To the organisation an admin chose for an alert kept unrouted.
    Chosen(Organisation),
}
