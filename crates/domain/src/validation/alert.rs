//! Separated-child alerts (docs/domain.md "3. Separated-child alert").

use time::Date;

use super::{AREA_RULE, Check, LIST_MAX, NAME_MAX, REASON_MAX, Rules, SHORT_TEXT_MAX, TEXT_MAX, is_area_path, known};
use crate::wire::{SeparatedChildAlert, SeparationStatus, TracingConsent};

/// Family members an alert may list.
const FAMILY_MAX: usize = 20;
/// Where an alert's fields sit in the payload, for field violations.
const AT: &str = "separated_child_alert";

impl Check {
    pub(super) fn alert(&mut self, a: &SeparatedChildAlert, rules: &Rules, today: Date) {
        if !known(a.separation_status, SeparationStatus::try_from) {
            self.fail(format!("{AT}.separation_status"), "required: UNACCOMPANIED, SEPARATED or UNKNOWN");
        }
        match &a.child {
            Some(child) => self.child_details(&format!("{AT}.child"), child, &rules.taxonomies, today),
            None => self.fail(format!("{AT}.child"), "required"),
        }
        if a.nicknames.len() > LIST_MAX {
            self.fail(format!("{AT}.nicknames"), format!("at most {LIST_MAX} nicknames"));
        }
        for (i, nickname) in a.nicknames.iter().enumerate() {
            self.text(&format!("{AT}.nicknames[{i}]"), nickname, true, NAME_MAX);
        }
        self.text(&format!("{AT}.identifying_features"), &a.identifying_features, false, REASON_MAX);
        // Where the child was found routes the alert, so its area is required.
        match &a.found_at {
            Some(found) if is_area_path(&found.area_code) => self.location(&format!("{AT}.found_at"), found),
            Some(found) if !found.area_code.is_empty() => self.fail(format!("{AT}.found_at.area_code"), AREA_RULE),
            _ => self.fail(format!("{AT}.found_at.area_code"), "required: where the child was found routes the alert"),
        }
        self.past_date(&format!("{AT}.found_on"), &a.found_on, true, today);
        self.text(&format!("{AT}.found_by"), &a.found_by, false, NAME_MAX);
        self.alert_people(a, today);
        self.text(&format!("{AT}.urgent_medical_needs"), &a.urgent_medical_needs, false, REASON_MAX);
        self.risk(&format!("{AT}.risk_level"), a.risk_level);
        self.text(&format!("{AT}.child_wishes"), &a.child_wishes, false, TEXT_MAX);
        if !known(a.tracing_consent, TracingConsent::try_from) {
            self.fail(format!("{AT}.tracing_consent"), "required: GIVEN, REFUSED or NOT_YET_ASKED");
        }
    }

    /// The people around the child: carer, siblings, the separation, family to trace.
    fn alert_people(&mut self, a: &SeparatedChildAlert, today: Date) {
        if let Some(carer) = &a.current_carer {
            let at = format!("{AT}.current_carer");
            self.text(&format!("{at}.name"), &carer.name, false, NAME_MAX);
            self.text(&format!("{at}.relationship"), &carer.relationship, false, 100);
            self.phone(&format!("{at}.phone"), &carer.phone);
            self.text(&format!("{at}.address"), &carer.address, false, SHORT_TEXT_MAX);
        }
        if a.siblings_with_child.len() > LIST_MAX {
            self.fail(format!("{AT}.siblings_with_child"), format!("at most {LIST_MAX} siblings"));
        }
        for (i, sibling) in a.siblings_with_child.iter().enumerate() {
            self.text(&format!("{AT}.siblings_with_child[{i}].name"), &sibling.name, false, NAME_MAX);
            if sibling.age_years.is_some_and(|age| age > 30) {
                self.fail(format!("{AT}.siblings_with_child[{i}].age_years"), "must be 0-30");
            }
        }
        if let Some(separation) = &a.separation {
            let at = format!("{AT}.separation");
            self.past_date(&format!("{at}.date"), &separation.date, false, today);
            self.text(&format!("{at}.place"), &separation.place, false, SHORT_TEXT_MAX);
            self.text(&format!("{at}.reason"), &separation.reason, false, REASON_MAX);
        }
        if a.family_members.len() > FAMILY_MAX {
            self.fail(format!("{AT}.family_members"), format!("at most {FAMILY_MAX} people"));
        }
        for (i, member) in a.family_members.iter().enumerate() {
            let at = format!("{AT}.family_members[{i}]");
            self.text(&format!("{at}.name"), &member.name, true, NAME_MAX);
            self.text(&format!("{at}.relationship"), &member.relationship, true, 100);
            self.text(&format!("{at}.last_known_location"), &member.last_known_location, false, SHORT_TEXT_MAX);
            self.phone(&format!("{at}.phone"), &member.phone);
        }
    }
}
