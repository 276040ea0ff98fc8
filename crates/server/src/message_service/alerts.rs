//! Separated-child alerts no lead agency covered: an admin lists them and
//! routes each to an organisation of its choice. The alert then becomes the
//! sender's message, under the sender's request id and consent, exactly as if
//! the directory had found the receiver.

use prost::Message as _;

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    ids::{MessageId, OrgId},
    roles::Role,
    validation,
    wire::{
        ListUnroutedAlertsRequest, ListUnroutedAlertsResponse, OrganisationStatus, RouteAlertRequest,
        RouteAlertResponse, SubmitMessageRequest, UnroutedAlert,
    },
};
use referral_hub_store::StoreError;

use super::{MessageApi, route::Route};
use crate::{
    auth::Caller,
    convert,
    error::{ApiError, invalid},
    hub::detail,
    paging::{next_page_token, page_size},
};

impl MessageApi {
    pub(super) async fn list_unrouted(
        &self,
        request: ListUnroutedAlertsRequest,
    ) -> Result<ListUnroutedAlertsResponse, ApiError> {
        let limit = page_size(request.page_size, 50, 100);
        let after = Some(request.page_token.as_str()).filter(|t| !t.is_empty());
        let found = self.hub.store.waiting_alerts(after, limit).await?;
        let next_page_token = next_page_token(&found, limit, |a| a.id.clone());
        let alerts = found
            .into_iter()
            .map(|a| UnroutedAlert {
                alert_id: a.id,
                sender_org_id: a.sender_org.into(),
                request_id: a.request_id.into(),
                area: a.area,
                received_at: Some(a.received_at.timestamp()),
            })
            .collect();
        Ok(ListUnroutedAlertsResponse { alerts, next_page_token })
    }

    pub(super) async fn route_alert(
        &self,
        admin: &Caller,
        request: RouteAlertRequest,
    ) -> Result<RouteAlertResponse, ApiError> {
        let violations = validation::validate_ids(&[
            ("alert_id", &request.alert_id),
            ("recipient_org_id", &request.recipient_org_id),
        ]);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let store = &self.hub.store;
        let alert = store.unrouted_alert(&request.alert_id).await?.ok_or(ApiError::NotFound("unrouted alert"))?;
        if let Some(routed) = &alert.routed_message_id {
            // A retry of the same routing is answered with its message; another receiver is refused.
            let message = store.message(routed).await?.ok_or(ApiError::NotFound("routed message"))?;
            if message.recipient_org != request.recipient_org_id {
                return Err(ApiError::FailedPrecondition {
                    kind: "ALERT_ALREADY_ROUTED",
                    subject: alert.id,
                    description: format!("already routed as message {routed}"),
                });
            }
            return Ok(RouteAlertResponse { message: Some(convert::message(&message)?) });
        }
        let receiver = match store.organisation(&OrgId::from(request.recipient_org_id.as_str())).await? {
            Some(org) if org.status() == OrganisationStatus::Active && org.id != alert.sender_org => org,
            _ => return Err(invalid("recipient_org_id", "an active organisation other than the sender")),
        };
        let sender_org = store.organisation(&alert.sender_org).await?.ok_or(ApiError::NotFound("sender"))?;
        let body = SubmitMessageRequest::decode(alert.body.as_slice())
            .map_err(|_| ApiError::Store(StoreError::Corrupt { column: "unrouted_alerts.body" }))?;
        // The message is the sender's: its consent records, its request id.
        let sender = Caller {
            org: alert.sender_org.clone(),
            subject: alert.sender_subject.clone(),
            roles: [Role::Referrer].into(),
            facts: admin.facts.clone(),
            sector: sender_org.sector(),
            operator: false,
        };
        let submitted = self.submit(&sender, body, &Route::Chosen(receiver)).await?;
        let message = submitted.message.ok_or(ApiError::Aborted)?;
        let entry = self
            .hub
            .entry(admin, Action::AlertRouted, Outcome::Success, Severity::High)
            .about(&message.id, "MESSAGE_KIND_SEPARATED_CHILD_ALERT")
            .with_detail(detail(&[
                ("alert_id", alert.id.clone().into()),
                ("to", message.recipient_org_id.clone().into()),
            ]));
        store.mark_alert_routed(&alert.id, &MessageId::from(message.id.as_str()), entry).await?;
        tracing::info!(alert_id = %alert.id, message_id = %message.id, "kept alert routed by an admin");
        Ok(RouteAlertResponse { message: Some(message) })
    }
}
