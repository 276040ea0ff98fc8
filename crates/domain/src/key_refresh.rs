//! When an identity provider's key set (JWKS) is fetched again: when its
//! cache headers say it goes stale (within a floor and a ceiling, so a
//! provider cannot make the hub fetch every second or keep a key a month),
//! soon again after a failed fetch, and early when a token names a key the
//! hub does not know (a provider's new signing key), but then at most once
//! per cooldown: such tokens cost nothing to send, and nothing may be spent
//! on an unauthenticated caller beyond a bounded number of fetches.
//! Pure functions of Unix seconds, so the refresher is tested by moving a clock.

/// The shortest time a fetched key set is kept before it is fetched again,
/// whatever its headers say (`no-cache`, `max-age=0`, an `Expires` in the past).
pub const FLOOR_SECONDS: u64 = 300;

/// The longest time a fetched key set is kept without fetching it again.
pub const CEILING_SECONDS: u64 = 24 * 3600;

/// How long a key set without cache headers is kept.
pub const DEFAULT_SECONDS: u64 = 3600;

/// How soon a fetch is tried again after one failed (the last good set stays in use).
pub const AFTER_FAILURE_SECONDS: u64 = 60;

/// The least time between two fetches asked for by unknown key ids.
pub const UNKNOWN_KID_COOLDOWN_SECONDS: u64 = 60;

/// The cache headers of a key set's answer, as far as they decide its freshness.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheHeaders<'a> {
    /// `Cache-Control`.
    pub cache_control: Option<&'a str>,
    /// `Expires`, Unix seconds (`Some(i64::MIN)` when present but not a date: already expired).
    pub expires: Option<i64>,
    /// `Date`, Unix seconds: the server's now, against which `Expires` is read.
    pub date: Option<i64>,
}

/// Seconds a key set answered with `headers` at `now` stays fresh, between
/// [`FLOOR_SECONDS`] and [`CEILING_SECONDS`]. `max-age` wins over `Expires`
/// (RFC 9111 §5.3); `no-cache` and `no-store` mean the floor.
pub fn freshness(headers: &CacheHeaders<'_>, now: i64) -> u64 {
    let directives = headers.cache_control.map(|value| value.split(',').map(|d| d.trim().to_ascii_lowercase()));
    let mut max_age = None;
    for directive in directives.into_iter().flatten() {
        if directive == "no-cache" || directive == "no-store" {
            return FLOOR_SECONDS;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = Some(seconds.trim_matches('"').parse::<u64>().unwrap_or(0));
        }
    }
    let seconds = match (max_age, headers.expires) {
        (Some(seconds), _) => seconds,
        (None, Some(expires)) => u64::try_from(expires.saturating_sub(headers.date.unwrap_or(now))).unwrap_or(0),
        (None, None) => DEFAULT_SECONDS,
    };
    seconds.clamp(FLOOR_SECONDS, CEILING_SECONDS)
}

/// What the refresher should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Nothing: the key set is fresh and no unknown key id may be looked up yet.
    NotYet,
    /// Fetch: the key set has gone stale (or the last fetch failed long enough ago).
    Stale,
    /// Fetch: a token named an unknown key id and the cooldown has passed.
    UnknownKid,
}

/// When the key set was last fetched and when it is due again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSchedule {
    /// Unix seconds of the last fetch, successful or not.
    last_fetch: i64,
    /// Unix seconds from which the set is stale.
    due: i64,
}

impl RefreshSchedule {
    /// The schedule after a fetch at `now` whose answer stays fresh `fresh_for`
    /// seconds ([`freshness`]), or `None` if the fetch failed.
    pub fn after_fetch(now: i64, fresh_for: Option<u64>) -> RefreshSchedule {
        let wait = fresh_for.unwrap_or(AFTER_FAILURE_SECONDS);
        RefreshSchedule { last_fetch: now, due: now.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX)) }
    }

    /// Whether to fetch at `now`, given whether a token named an unknown key
    /// id since the last fetch.
    pub fn decide(&self, now: i64, unknown_kid_seen: bool) -> Refresh {
        let cooldown = i64::try_from(UNKNOWN_KID_COOLDOWN_SECONDS).unwrap_or(i64::MAX);
        if now >= self.due {
            Refresh::Stale
        } else if unknown_kid_seen && now >= self.last_fetch.saturating_add(cooldown) {
            Refresh::UnknownKid
        } else {
            Refresh::NotYet
        }
    }

    /// Unix seconds from which the set is stale.
    pub fn due(&self) -> i64 {
        self.due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(cache_control: Option<&'a str>, expires: Option<i64>, date: Option<i64>) -> CacheHeaders<'a> {
        CacheHeaders { cache_control, expires, date }
    }

    #[test]
    fn max_age_wins_and_is_kept_between_the_floor_and_the_ceiling() {
        assert_eq!(freshness(&headers(Some("max-age=86400, private"), None, None), 0), 86_400, "Entra's");
        assert_eq!(freshness(&headers(Some("public, max-age=600"), Some(10), Some(0)), 0), 600);
        assert_eq!(freshness(&headers(Some("max-age=5"), None, None), 0), FLOOR_SECONDS);
        assert_eq!(freshness(&headers(Some("max-age=9999999"), None, None), 0), CEILING_SECONDS);
        assert_eq!(freshness(&headers(Some("max-age=soon"), None, None), 0), FLOOR_SECONDS, "unparsable: stale");
        assert_eq!(freshness(&headers(Some("MAX-AGE=900"), None, None), 0), 900, "directives are case-insensitive");
    }

    #[test]
    fn no_cache_means_the_floor_and_no_headers_the_default() {
        assert_eq!(freshness(&headers(Some("no-cache"), None, None), 0), FLOOR_SECONDS, "Keycloak's");
        assert_eq!(freshness(&headers(Some("max-age=3600, no-store"), None, None), 0), FLOOR_SECONDS);
        assert_eq!(freshness(&headers(None, None, None), 0), DEFAULT_SECONDS);
        assert_eq!(freshness(&headers(Some("private"), None, None), 0), DEFAULT_SECONDS);
    }

    #[test]
    fn expires_is_read_against_the_server_s_date_else_now() {
        assert_eq!(freshness(&headers(None, Some(2_000), Some(200)), 1_000_000), 1_800);
        assert_eq!(freshness(&headers(None, Some(2_000), None), 200), 1_800);
        assert_eq!(freshness(&headers(None, Some(i64::MIN), None), 200), FLOOR_SECONDS, "not a date: stale");
        assert_eq!(freshness(&headers(None, Some(100), None), 200), FLOOR_SECONDS, "in the past");
    }

    #[test]
    fn a_set_is_fetched_when_stale_and_early_for_unknown_kids_once_per_cooldown() {
        let schedule = RefreshSchedule::after_fetch(1_000, Some(600));
        assert_eq!(schedule.decide(1_599, false), Refresh::NotYet);
        assert_eq!(schedule.decide(1_600, false), Refresh::Stale);
        assert_eq!(schedule.decide(1_600, true), Refresh::Stale);
        let cooldown = UNKNOWN_KID_COOLDOWN_SECONDS as i64;
        assert_eq!(schedule.decide(1_000 + cooldown - 1, true), Refresh::NotYet, "within the cooldown");
        assert_eq!(schedule.decide(1_000 + cooldown, true), Refresh::UnknownKid);
        assert_eq!(schedule.decide(1_000 + cooldown, false), Refresh::NotYet);
    }

    #[test]
    fn a_failed_fetch_is_tried_again_soon() {
        let schedule = RefreshSchedule::after_fetch(1_000, None);
        assert_eq!(schedule.due(), 1_000 + AFTER_FAILURE_SECONDS as i64);
        assert_eq!(schedule.decide(1_000 + AFTER_FAILURE_SECONDS as i64, false), Refresh::Stale);
    }
}
