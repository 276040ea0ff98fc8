//! Case transfers and their child-friendly justice handling block
//! (docs/domain.md "2. Case transfer").

use time::Date;

use super::{Check, ID_MAX, LIST_MAX, NAME_MAX, REASON_MAX, Rules, SHORT_TEXT_MAX, TEXT_MAX, known};
use crate::wire::{
    CaseTransfer, JusticeCaseType, JusticeHandling, SubmitMessageRequest, submit_message_request::Payload,
};

impl Check {
    pub(super) fn transfer(&mut self, t: &CaseTransfer, rules: &Rules, today: Date) {
        let taxonomies = &rules.taxonomies;
        self.codes("case_transfer.protection_concerns", &t.protection_concerns, &taxonomies.protection_concerns);
        self.risk("case_transfer.risk_level", t.risk_level);
        self.text("case_transfer.reason", &t.reason, true, TEXT_MAX);
        match &t.child {
            Some(child) => self.child_details("case_transfer.child", child, taxonomies, today),
            None => self.fail("case_transfer.child", "required"),
        }
        if let Some(caregiver) = &t.caregiver {
            self.caregiver("case_transfer.caregiver", caregiver);
        }
        if let Some(location) = &t.current_location {
            self.location("case_transfer.current_location", location);
        }
        self.text("case_transfer.case_summary", &t.case_summary, false, TEXT_MAX);
        self.text("case_transfer.safety_concerns", &t.safety_concerns, false, TEXT_MAX);
        self.text("case_transfer.child_views", &t.child_views, false, TEXT_MAX);
        self.attachments("case_transfer.attachments", &t.attachments, rules.max_attachment_bytes);
        if let Some(justice) = &t.justice {
            self.justice("case_transfer.justice", justice, today);
        }
    }

    fn justice(&mut self, at: &str, j: &JusticeHandling, today: Date) {
        if !known(j.case_type, JusticeCaseType::try_from) {
            self.fail(
                format!("{at}.case_type"),
                "required: VICTIM, WITNESS, IN_CONFLICT_WITH_THE_LAW or CARE_AND_PROTECTION",
            );
        }
        match j.age_at_events_years {
            None => self.fail(format!("{at}.age_at_events_years"), "required: 0-17"),
            Some(age) if age > 17 => self.fail(format!("{at}.age_at_events_years"), "must be 0-17"),
            Some(_) => {}
        }
        if j.below_minimum_age_of_criminal_responsibility {
            self.fail(
                format!("{at}.below_minimum_age_of_criminal_responsibility"),
                "set by the hub from age_at_events_years and the configured minimum age; leave it unset",
            );
        }
        self.text(&format!("{at}.custody_or_placement"), &j.custody_or_placement, false, SHORT_TEXT_MAX);
        if j.guardians.len() > LIST_MAX {
            self.fail(format!("{at}.guardians"), format!("at most {LIST_MAX} people"));
        }
        for (i, g) in j.guardians.iter().enumerate() {
            let at = format!("{at}.guardians[{i}]");
            self.text(&format!("{at}.name"), &g.name, true, NAME_MAX);
            self.text(&format!("{at}.relationship"), &g.relationship, true, 100);
            self.text(&format!("{at}.conflict_note"), &g.conflict_note, g.conflict_of_interest, SHORT_TEXT_MAX);
        }
        self.text(&format!("{at}.legal_representative"), &j.legal_representative, false, NAME_MAX);
        self.text(&format!("{at}.support_person"), &j.support_person, false, NAME_MAX);
        let language = format!("{at}.interpreter_language");
        match (j.interpreter_needed, j.interpreter_language.as_str()) {
            (true, "") => self.fail(language, "required when an interpreter is needed"),
            (true, code) => self.language(&language, code),
            (false, "") => {}
            (false, _) => self.fail(language, "only when interpreter_needed is set"),
        }
        self.text(&format!("{at}.disability_accommodations"), &j.disability_accommodations, false, REASON_MAX);
        if j.interview_references.len() > LIST_MAX {
            self.fail(format!("{at}.interview_references"), format!("at most {LIST_MAX} references"));
        }
        for (i, reference) in j.interview_references.iter().enumerate() {
            self.text(&format!("{at}.interview_references[{i}]"), reference, true, NAME_MAX);
        }
        if (j.interviews_recorded as usize) < j.interview_references.len() {
            self.fail(format!("{at}.interviews_recorded"), "at least the number of interview_references");
        }
        if j.do_not_reinterview && j.interviews_recorded == 0 {
            self.fail(
                format!("{at}.do_not_reinterview"),
                "needs at least one recorded interview (interviews_recorded)",
            );
        }
        self.text(&format!("{at}.medical_examination_reference"), &j.medical_examination_reference, false, ID_MAX);
        self.past_date(&format!("{at}.rights_informed_on"), &j.rights_informed_on, false, today);
        let informed = !j.rights_informed_on.is_empty();
        self.text(&format!("{at}.rights_informed_by"), &j.rights_informed_by, informed, NAME_MAX);
        self.text(&format!("{at}.child_views"), &j.child_views, false, TEXT_MAX);
    }
}

/// Fills in what the hub, not the sender, decides: whether the child was
/// below the minimum age of criminal responsibility at the events. Run on a
/// valid request, before it is stored.
pub fn derive_hub_fields(request: &mut SubmitMessageRequest, rules: &Rules) {
    if let Some(Payload::CaseTransfer(CaseTransfer { justice: Some(j), .. })) = &mut request.payload {
        j.below_minimum_age_of_criminal_responsibility =
            j.age_at_events_years.is_some_and(|age| age < rules.minimum_age_of_criminal_responsibility);
    }
}
