//! Bad-input rules (docs/security.md "Bad input"): every field has bounds, and a message is
//! refused whole with *every* bad field named, not just the first.

use time::{Date, macros::format_description};

use crate::consent::ConsentPolicy;
use crate::push_policy::PushPolicy;
use crate::taxonomy::{self, Code, Taxonomies};
use crate::wire::{
    AgreementKind, Attachment, Caregiver, CaregiverExclusion, CaregiverNotAsked, ChildDetails, ChildRef,
    ConsentDecision, ConsentMethod, ConsentTerms, ConsenterRole, DataCategory, DeliveryChannel, FollowUpAction,
    Location, Organisation, OrganisationStatus, PostFollowUpRequest, Priority, Purpose, RiskLevel, Sector,
    ServiceReferral, SubmitMessageRequest, submit_message_request::Payload,
};

mod alert;
mod transfer;

pub use transfer::derive_hub_fields;

/// One bad field: its path in the request and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Dotted path, e.g. `referral.child.date_of_birth` or `referral.protection_concerns[1]`.
    pub field: String,
    /// What is wrong, in words a developer of the calling system can act on.
    pub description: String,
}

/// What validation needs besides the request: code lists, limits and the
/// consent policy from configuration.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The code lists messages must use.
    pub taxonomies: Taxonomies,
    /// Largest attachment a referral may reference, in bytes.
    pub max_attachment_bytes: u64,
    /// Age policy, need-to-know table and legal bases.
    pub consent: ConsentPolicy,
    /// The jurisdiction's minimum age of criminal responsibility, in years:
    /// a child younger than this at the events is flagged in a justice
    /// transfer by the hub, never by the sender.
    pub minimum_age_of_criminal_responsibility: u32,
    /// Which push endpoints an organisation may register (and push delivery reach).
    pub push: PushPolicy,
}

/// The minimum age of criminal responsibility the UN Committee on the Rights
/// of the Child recommends as the least (General Comment No. 24, 2019).
pub const DEFAULT_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY: u32 = 14;

impl Default for Rules {
    fn default() -> Self {
        Self {
            taxonomies: Taxonomies::default(),
            max_attachment_bytes: 25 * 1024 * 1024,
            consent: ConsentPolicy::default(),
            minimum_age_of_criminal_responsibility: DEFAULT_MINIMUM_AGE_OF_CRIMINAL_RESPONSIBILITY,
            push: PushPolicy::default(),
        }
    }
}

const ID_MAX: usize = 128;
const NAME_MAX: usize = 200;
const SHORT_TEXT_MAX: usize = 500;
const REASON_MAX: usize = 2000;
const TEXT_MAX: usize = 4000;
const LIST_MAX: usize = 10;

/// Checks a SubmitMessage request against every rule; empty when it is valid.
/// `today` bounds dates of birth (not in the future, under 18).
pub fn validate_submit(request: &SubmitMessageRequest, rules: &Rules, today: Date) -> Vec<FieldViolation> {
    let mut check = Check::default();
    check.request_id("request_id", &request.request_id);
    let alert = matches!(request.payload, Some(Payload::SeparatedChildAlert(_)));
    if !alert {
        check.token("recipient_org_id", &request.recipient_org_id);
    } else if !request.recipient_org_id.is_empty() {
        check.fail("recipient_org_id", "must be empty for a separated-child alert: the hub routes it");
    }
    if !request.re_referral_of.is_empty() {
        check.token("re_referral_of", &request.re_referral_of);
        if !matches!(request.payload, Some(Payload::Referral(_))) {
            check.fail("re_referral_of", "only a service referral can be re-referred");
        }
    }
    match &request.child {
        Some(child) => check.child_ref("child", child),
        None => check.fail("child", "required"),
    }
    if !request.consent_id.is_empty() {
        check.token("consent_id", &request.consent_id);
    }
    if let Some(terms) = &request.consent {
        check.consent_terms("consent", terms, today);
    }
    if let Some(claim) = &request.legal_basis {
        if !rules.consent.legal_bases.contains(&claim.basis) {
            check.fail("legal_basis.basis", format!("one of {}", rules.consent.legal_bases.join(", ")));
        }
        let length = claim.justification.trim().chars().count();
        if !(20..=REASON_MAX).contains(&length) {
            check.fail("legal_basis.justification", format!("required: 20-{REASON_MAX} characters"));
        }
        if request.consent.is_some() || !request.consent_id.is_empty() {
            check.fail("legal_basis", "cannot be combined with consent or consent_id");
        }
    }
    match &request.payload {
        Some(Payload::Referral(referral)) => check.referral(referral, rules, today),
        Some(Payload::CaseTransfer(transfer)) => check.transfer(transfer, rules, today),
        Some(Payload::SeparatedChildAlert(alert)) => check.alert(alert, rules, today),
        None => check.fail("payload", "required: one of `referral`, `case_transfer`, `separated_child_alert`"),
    }
    check.violations
}

/// The rules that depend on who receives the message: a case transfer to a
/// JUSTICE organisation must carry the child-friendly handling block.
pub fn validate_for_receiver(request: &SubmitMessageRequest, receiver: Sector) -> Vec<FieldViolation> {
    let mut check = Check::default();
    if let Some(Payload::CaseTransfer(transfer)) = &request.payload
        && receiver == Sector::Justice
        && transfer.justice.is_none()
    {
        check.fail("case_transfer.justice", "required for a transfer to a JUSTICE organisation");
    }
    check.violations
}

/// Checks a PostFollowUp request; empty when it is valid. The life-cycle rules
/// (who may move what from which state) are in [`crate::lifecycle`].
pub fn validate_follow_up(request: &PostFollowUpRequest) -> Vec<FieldViolation> {
    let mut check = Check::default();
    check.request_id("request_id", &request.request_id);
    check.token("message_id", &request.message_id);
    let action = FollowUpAction::try_from(request.action).unwrap_or(FollowUpAction::Unspecified);
    let needs = |a: FollowUpAction| action == a;
    check.text(
        "reason",
        &request.reason,
        needs(FollowUpAction::Decline) || needs(FollowUpAction::Withdraw),
        REASON_MAX,
    );
    check.text("note", &request.note, needs(FollowUpAction::Note), TEXT_MAX);
    check.text("outcome", &request.outcome, needs(FollowUpAction::Complete), TEXT_MAX);
    match (&request.appointment_at, needs(FollowUpAction::ScheduleAppointment)) {
        (None, true) => check.fail("appointment_at", "required for SCHEDULE_APPOINTMENT"),
        (Some(t), _) if !(0..1_000_000_000).contains(&t.nanos) => check.fail("appointment_at", "nanos out of range"),
        _ => {}
    }
    if !request.next_review_date.is_empty() && parse_date(&request.next_review_date).is_none() {
        check.fail("next_review_date", "must be a date YYYY-MM-DD");
    }
    match action {
        FollowUpAction::Unspecified => check.fail("action", "required: one of the FollowUpAction values"),
        FollowUpAction::ConsentWithdrawn | FollowUpAction::Overdue => {
            check.fail("action", "CONSENT_WITHDRAWN and OVERDUE are sent by the hub only")
        }
        _ => {}
    }
    check.violations
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

/// Collects violations as the request is walked.
#[derive(Default)]
struct Check {
    violations: Vec<FieldViolation>,
}

impl Check {
    fn fail(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation { field: field.into(), description: description.into() });
    }

    /// An identifier: 1-128 characters of letters, digits, `.`, `_`, `:`, `-`.
    fn token(&mut self, field: &str, value: &str) {
        self.identifier(field, value, "");
    }

    /// A client's idempotency key: an identifier that may also hold '/',
    /// since agencies' own document ids (adapters use them as keys) often do.
    fn request_id(&mut self, field: &str, value: &str) {
        self.identifier(field, value, "/");
    }

    fn identifier(&mut self, field: &str, value: &str, also: &str) {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-') || also.contains(c);
        if value.is_empty() {
            self.fail(field, "required");
        } else if value.len() > ID_MAX || !value.chars().all(ok_char) {
            let also = also.chars().map(|c| format!(", '{c}'")).collect::<String>();
            self.fail(field, format!("must be 1-{ID_MAX} letters, digits, '.', '_', ':', '-'{also}"));
        }
    }

    /// Free text: optional or required, bounded, no control characters but line breaks and tabs.
    fn text(&mut self, field: &str, value: &str, required: bool, max: usize) {
        if value.trim().is_empty() {
            if required {
                self.fail(field, "required");
            }
        } else if value.chars().count() > max {
            self.fail(field, format!("at most {max} characters"));
        } else if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            self.fail(field, "must not contain control characters");
        }
    }

    fn code(&mut self, field: &str, value: &str, list: &[Code], required: bool) {
        if value.is_empty() {
            if required {
                self.fail(field, format!("required: one of {}", taxonomy::allowed(list)));
            }
        } else if !taxonomy::contains(list, value) {
            self.fail(field, format!("unknown code `{}`; allowed: {}", shown(value), taxonomy::allowed(list)));
        }
    }

    fn codes(&mut self, field: &str, values: &[String], list: &[Code]) {
        if values.is_empty() {
            self.fail(field, format!("at least one of {}", taxonomy::allowed(list)));
        } else if values.len() > LIST_MAX {
            self.fail(field, format!("at most {LIST_MAX} codes"));
        }
        for (i, value) in values.iter().enumerate() {
            let path = format!("{field}[{i}]");
            if values[..i].contains(value) {
                self.fail(path, "repeats an earlier code");
            } else {
                self.code(&path, value, list, true);
            }
        }
    }

    fn child_ref(&mut self, at: &str, child: &ChildRef) {
        self.text(&format!("{at}.local_id"), &child.local_id, true, ID_MAX);
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-');
        if child.link_key.len() > ID_MAX || !child.link_key.chars().all(ok_char) {
            self.fail(format!("{at}.link_key"), format!("at most {ID_MAX} letters, digits, '_' or '-'"));
        }
        if !child.national_id.is_empty() {
            let normalised = crate::link_key::normalise(&child.national_id);
            if !(4..=64).contains(&normalised.chars().count()) || child.national_id.len() > 128 {
                self.fail(format!("{at}.national_id"), "4-64 letters or digits (spaces, dashes and dots are ignored)");
            }
            if !child.link_key.is_empty() {
                self.fail(format!("{at}.national_id"), "give national_id or link_key, not both");
            }
        }
    }

    fn consent_terms(&mut self, at: &str, t: &ConsentTerms, today: Date) {
        match &t.child {
            Some(child) => self.child_ref(&format!("{at}.child"), child),
            None => self.fail(format!("{at}.child"), "required"),
        }
        self.consenters(at, t);
        self.consent_scope(at, t);
        self.consent_period(at, t, today);
        if !known(t.method, ConsentMethod::try_from) {
            self.fail(format!("{at}.method"), "required: VERBAL or WRITTEN");
        }
        let written = t.method() == ConsentMethod::Written;
        self.text(&format!("{at}.form_reference"), &t.form_reference, written, NAME_MAX);
    }

    /// Who agreed, and the child's age the agreement is judged against.
    fn consenters(&mut self, at: &str, t: &ConsentTerms) {
        if t.consenters.is_empty() || t.consenters.len() > LIST_MAX {
            self.fail(format!("{at}.consenters"), format!("1-{LIST_MAX} people"));
        }
        for (i, c) in t.consenters.iter().enumerate() {
            if !known(c.role, ConsenterRole::try_from) || !known(c.kind, AgreementKind::try_from) {
                self.fail(format!("{at}.consenters[{i}]"), "role and kind are required");
            }
            if c.role() == ConsenterRole::BestInterestsDecision
                && t.caregiver_not_asked() == CaregiverNotAsked::Unspecified
            {
                self.fail(
                    format!("{at}.caregiver_not_asked"),
                    "a best-interests decision needs the reason the caregiver was not asked",
                );
            }
        }
        if t.child_age_years > 17 {
            self.fail(format!("{at}.child_age_years"), "must be 0-17");
        }
        if CaregiverNotAsked::try_from(t.caregiver_not_asked).is_err() {
            self.fail(format!("{at}.caregiver_not_asked"), "unknown value");
        }
    }

    /// The decision, and to whom, for what and which categories it applies.
    fn consent_scope(&mut self, at: &str, t: &ConsentTerms) {
        if !known(t.decision, ConsentDecision::try_from) {
            self.fail(format!("{at}.decision"), "required: PERMIT or DENY");
        }
        if t.recipient_sectors.is_empty() && t.recipient_org_ids.is_empty() {
            self.fail(format!("{at}.recipient_sectors"), "name at least one recipient sector or organisation");
        }
        for (i, sector) in t.recipient_sectors.iter().enumerate() {
            if !known(*sector, Sector::try_from) {
                self.fail(format!("{at}.recipient_sectors[{i}]"), "unknown sector");
            }
        }
        for (i, org) in t.recipient_org_ids.iter().enumerate() {
            self.token(&format!("{at}.recipient_org_ids[{i}]"), org);
        }
        if t.purposes.is_empty() || t.purposes.iter().any(|p| !known(*p, Purpose::try_from)) {
            self.fail(format!("{at}.purposes"), "at least one purpose, each a known value");
        }
        let permit = t.decision() == ConsentDecision::Permit;
        if (permit && t.categories.is_empty()) || t.categories.iter().any(|c| !known(*c, DataCategory::try_from)) {
            self.fail(format!("{at}.categories"), "at least one category for a permit, each a known value");
        }
    }

    /// Until when the consent holds: given, not past, after its start.
    fn consent_period(&mut self, at: &str, t: &ConsentTerms, today: Date) {
        let today_start = today.midnight().assume_utc().unix_timestamp();
        match &t.expires_at {
            None => self.fail(format!("{at}.expires_at"), "required"),
            Some(until) if until.seconds < today_start => {
                self.fail(format!("{at}.expires_at"), "must not be in the past")
            }
            Some(until) if t.valid_from.as_ref().is_some_and(|from| from.seconds >= until.seconds) => {
                self.fail(format!("{at}.expires_at"), "must be after valid_from")
            }
            Some(_) => {}
        }
    }

    fn referral(&mut self, r: &ServiceReferral, rules: &Rules, today: Date) {
        let t = &rules.taxonomies;
        self.codes("referral.protection_concerns", &r.protection_concerns, &t.protection_concerns);
        self.risk("referral.risk_level", r.risk_level);
        self.codes("referral.requested_services", &r.requested_services, &t.services);
        self.text("referral.reason", &r.reason, true, TEXT_MAX);
        if !matches!(Priority::try_from(r.priority), Ok(Priority::Routine | Priority::Urgent | Priority::Emergency)) {
            self.fail("referral.priority", "required: ROUTINE, URGENT or EMERGENCY");
        }
        match &r.child {
            Some(child) => self.child_details("referral.child", child, t, today),
            None => self.fail("referral.child", "required"),
        }
        if let Some(caregiver) = &r.caregiver {
            self.caregiver("referral.caregiver", caregiver);
        }
        if let Some(location) = &r.current_location {
            self.location("referral.current_location", location);
        }
        self.text("referral.safety_concerns", &r.safety_concerns, false, TEXT_MAX);
        self.text("referral.child_views", &r.child_views, false, TEXT_MAX);
        self.text("referral.notes", &r.notes, false, TEXT_MAX);
        self.attachments("referral.attachments", &r.attachments, rules.max_attachment_bytes);
    }

    fn risk(&mut self, field: &str, value: i32) {
        if !matches!(RiskLevel::try_from(value), Ok(RiskLevel::High | RiskLevel::Medium | RiskLevel::Low)) {
            self.fail(field, "required: HIGH, MEDIUM or LOW");
        }
    }

    fn attachments(&mut self, at: &str, attachments: &[Attachment], max_bytes: u64) {
        if attachments.len() > LIST_MAX {
            self.fail(at, format!("at most {LIST_MAX} attachments"));
        }
        for (i, attachment) in attachments.iter().enumerate() {
            self.attachment(&format!("{at}[{i}]"), attachment, max_bytes);
        }
    }

    /// A phone number, optional: at most 50 digits, spaces, '+', '-', '(' or ')'.
    fn phone(&mut self, field: &str, value: &str) {
        let phone_char = |ch: char| ch.is_ascii_digit() || matches!(ch, '+' | ' ' | '-' | '(' | ')');
        if value.len() > 50 || !value.chars().all(phone_char) {
            self.fail(field, "at most 50 digits, spaces, '+', '-', '(' or ')'");
        }
    }

    /// An ISO 639 language code: 2-3 lowercase letters.
    fn language(&mut self, field: &str, value: &str) {
        if !(2..=3).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_lowercase()) {
            self.fail(field, "must be an ISO 639 code: 2-3 lowercase letters");
        }
    }

    /// A date, optional or required: YYYY-MM-DD, not after `today`.
    fn past_date(&mut self, field: &str, value: &str, required: bool, today: Date) {
        match (value, parse_date(value)) {
            ("", _) if required => self.fail(field, "required: a date YYYY-MM-DD"),
            ("", _) => {}
            (_, None) => self.fail(field, "must be a date YYYY-MM-DD"),
            (_, Some(date)) if date > today => self.fail(field, "must not be in the future"),
            (_, Some(_)) => {}
        }
    }

    fn child_details(&mut self, at: &str, child: &ChildDetails, t: &Taxonomies, today: Date) {
        self.text(&format!("{at}.given_name"), &child.given_name, false, NAME_MAX);
        self.text(&format!("{at}.family_name"), &child.family_name, false, NAME_MAX);
        self.code(&format!("{at}.sex"), &child.sex, &t.sex, true);
        let dob_field = format!("{at}.date_of_birth");
        match (child.date_of_birth.as_str(), child.estimated_age_years) {
            ("", None) => self.fail(dob_field, "date_of_birth or estimated_age_years is required"),
            ("", Some(_)) => {}
            (text, _) => match parse_date(text) {
                None => self.fail(dob_field, "must be a date YYYY-MM-DD"),
                Some(dob) if dob > today => self.fail(dob_field, "must not be in the future"),
                Some(dob) if years_between(dob, today) >= 18 => {
                    self.fail(dob_field, "the child must be under 18 (ages 0-17)")
                }
                Some(_) => {}
            },
        }
        if child.estimated_age_years.is_some_and(|age| age > 17) {
            self.fail(format!("{at}.estimated_age_years"), "must be 0-17");
        }
        if child.languages.len() > LIST_MAX {
            self.fail(format!("{at}.languages"), format!("at most {LIST_MAX} languages"));
        }
        for (i, language) in child.languages.iter().enumerate() {
            self.language(&format!("{at}.languages[{i}]"), language);
        }
        self.text(&format!("{at}.disability"), &child.disability, false, REASON_MAX);
        self.code(&format!("{at}.displacement_status"), &child.displacement_status, &t.displacement, false);
        let nationality = &child.nationality;
        if !nationality.is_empty() && (nationality.len() != 2 || !nationality.chars().all(|c| c.is_ascii_uppercase())) {
            self.fail(format!("{at}.nationality"), "must be an ISO 3166-1 alpha-2 code: two uppercase letters");
        }
    }

    fn caregiver(&mut self, at: &str, c: &Caregiver) {
        self.text(&format!("{at}.relationship"), &c.relationship, true, 100);
        self.text(&format!("{at}.name"), &c.name, false, NAME_MAX);
        self.text(&format!("{at}.address"), &c.address, false, SHORT_TEXT_MAX);
        self.phone(&format!("{at}.phone"), &c.phone);
        let exclusion = CaregiverExclusion::try_from(c.exclusion).unwrap_or(CaregiverExclusion::Unspecified);
        if exclusion == CaregiverExclusion::Unspecified {
            self.fail(format!("{at}.exclusion"), "required: NOT_EXCLUDED or the reason for excluding the caregiver");
        }
    }

    fn location(&mut self, at: &str, l: &Location) {
        if !l.area_code.is_empty() && !is_area_path(&l.area_code) {
            self.fail(format!("{at}.area_code"), AREA_RULE);
        }
        self.text(&format!("{at}.description"), &l.description, false, SHORT_TEXT_MAX);
    }

    fn attachment(&mut self, at: &str, a: &Attachment, max_bytes: u64) {
        if !a.uri.starts_with("https://") || a.uri.len() > 2000 || a.uri.chars().any(char::is_whitespace) {
            self.fail(format!("{at}.uri"), "required: an https:// URI of at most 2000 characters");
        }
        // RFC 6838 names, `type/subtype`, each of letters, digits and
        // `!#$&-^_.+`, then any parameters (`; charset=utf-8`).
        let name = |part: &str| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        let (essence, parameters) = a.media_type.split_once(';').unwrap_or((&a.media_type, ""));
        let (kind, sub) = essence.split_once('/').unwrap_or_default();
        let parameters_ok = parameters.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if !name(kind) || !name(sub) || !parameters_ok || a.media_type.len() > 100 {
            self.fail(format!("{at}.media_type"), "required: a media type such as application/pdf");
        }
        if a.size_bytes > max_bytes {
            self.fail(format!("{at}.size_bytes"), format!("at most {max_bytes} bytes"));
        }
        self.text(&format!("{at}.description"), &a.description, false, SHORT_TEXT_MAX);
    }
}

/// How an area path must look, for error messages.
pub const AREA_RULE: &str =
    "must be an area code path such as MM/YGN/Hlaing: 1-10 segments of letters, digits, '_' or '-'";

/// Whether `path` is an area code path such as `MM/YGN/Hlaing`.
pub fn is_area_path(path: &str) -> bool {
    let segments: Vec<_> = path.split('/').collect();
    segments.len() <= 10
        && segments.iter().all(|s| {
            (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        })
}

/// Whether an enum field holds a known, non-zero value.
fn known<T>(value: i32, parse: impl Fn(i32) -> Result<T, prost::UnknownEnumValue>) -> bool {
    value != 0 && parse(value).is_ok()
}

/// Checks a RecordConsent request's terms; empty when they are valid.
pub fn validate_consent(request_id: &str, terms: Option<&ConsentTerms>, today: Date) -> Vec<FieldViolation> {
    let mut check = Check::default();
    check.request_id("request_id", request_id);
    match terms {
        Some(terms) => check.consent_terms("terms", terms, today),
        None => check.fail("terms", "required"),
    }
    check.violations
}

/// Checks a directory entry: every field has bounds, services come from the
/// taxonomy, an organisation leads only areas it covers, and a push endpoint
/// is one `rules.push` admits.
pub fn validate_organisation(org: &Organisation, rules: &Rules) -> Vec<FieldViolation> {
    let taxonomies = &rules.taxonomies;
    let mut check = Check::default();
    check.token("organisation.id", &org.id);
    check.text("organisation.name", &org.name, true, NAME_MAX);
    if !known(org.sector, Sector::try_from) {
        check.fail("organisation.sector", "required: HEALTH, EDUCATION, POLICE, JUSTICE, SOCIAL_WELFARE or OTHER");
    }
    if org.areas.is_empty() || org.areas.len() > 100 {
        check.fail("organisation.areas", "1-100 area code paths");
    }
    for (i, area) in org.areas.iter().enumerate() {
        if !is_area_path(area) {
            check.fail(format!("organisation.areas[{i}]"), AREA_RULE);
        }
    }
    if org.services.len() > 50 {
        check.fail("organisation.services", "at most 50 service codes");
    }
    for (i, service) in org.services.iter().enumerate() {
        check.code(&format!("organisation.services[{i}]"), service, &taxonomies.services, true);
    }
    for (i, area) in org.lead_agency_areas.iter().enumerate() {
        let covered = org.areas.iter().any(|a| area == a || area.starts_with(&format!("{a}/")));
        if !is_area_path(area) || !covered {
            check.fail(format!("organisation.lead_agency_areas[{i}]"), "an area path the organisation covers");
        }
    }
    if !known(org.channel, DeliveryChannel::try_from) {
        check.fail("organisation.channel", "required: PULL or PUSH");
    }
    match (org.channel(), org.push_endpoint.as_str()) {
        (DeliveryChannel::Push, _) if org.sector() == Sector::Other => {
            check.fail("organisation.channel", "OTHER organisations pull: no sector adapter writes for them")
        }
        (DeliveryChannel::Push, "") => check.fail("organisation.push_endpoint", "required for PUSH"),
        (DeliveryChannel::Push, url) => {
            if let Err(refusal) = rules.push.registrable(url) {
                check.fail("organisation.push_endpoint", refusal.to_string())
            }
        }
        (_, "") => {}
        _ => check.fail("organisation.push_endpoint", "only for PUSH"),
    }
    if !known(org.status, OrganisationStatus::try_from) {
        check.fail("organisation.status", "required: ACTIVE or SUSPENDED");
    }
    let fingerprint = &org.client_certificate_sha256;
    if !fingerprint.is_empty()
        && (fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    {
        check
            .fail("organisation.client_certificate_sha256", "64 lowercase hex digits (SHA-256 of the DER certificate)");
    }
    check.violations
}

/// Checks identifiers (request ids, message ids, organisation ids): each
/// required, 1-128 letters, digits, '.', '_', ':' or '-'.
pub fn validate_ids(fields: &[(&str, &str)]) -> Vec<FieldViolation> {
    let mut check = Check::default();
    for (field, value) in fields {
        check.token(field, value);
    }
    check.violations
}

/// Checks a free-text reason (withdrawals): required, bounded.
pub fn validate_reason(field: &str, reason: &str) -> Vec<FieldViolation> {
    let mut check = Check::default();
    check.text(field, reason, true, REASON_MAX);
    check.violations
}

/// Whole years from `from` to `to`.
pub(crate) fn years_between(from: Date, to: Date) -> i32 {
    let years = to.year() - from.year();
    if (to.month() as u8, to.day()) < (from.month() as u8, from.day()) { years - 1 } else { years }
}

/// A rejected code echoed back, cut short so an error never carries a long value.
fn shown(value: &str) -> String {
    value.chars().take(40).collect()
}

#[cfg(test)]
mod tests;
