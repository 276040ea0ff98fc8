//! `referralhub.v1.StatsService`: counts for oversight from clear metadata,
//! with small cells suppressed by the domain's rule.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    roles::Role,
    statistics::suppress,
    timestamps::micros_of,
    validation::{AREA_RULE, FieldViolation, is_area_path},
    wire::{
        Dimension as WireDimension, GetStatisticsRequest, GetStatisticsResponse, StatisticsCell,
        stats_service_server::StatsService,
    },
};
use referral_hub_store::{Dimension, StatsQuery};

use crate::{
    error::ApiError,
    hub::{Hub, detail},
};

/// Counts under this are shown as `<5` (security.md "Privacy").
pub const SUPPRESSION_THRESHOLD: u64 = 5;

/// The StatsService implementation.
pub struct StatsApi {
    hub: Arc<Hub>,
}

impl StatsApi {
    /// A service over the shared hub state.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

#[tonic::async_trait]
impl StatsService for StatsApi {
    async fn get_statistics(
        &self,
        request: Request<GetStatisticsRequest>,
    ) -> Result<Response<GetStatisticsResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Supervisor, Role::Auditor]).await?;
        let request = request.into_inner();
        let mut violations = Vec::new();
        let mut fail = |field: &str, description: &str| {
            violations.push(FieldViolation { field: field.into(), description: description.into() })
        };
        if !request.area.is_empty() && !is_area_path(&request.area) {
            fail("area", AREA_RULE);
        }
        let (from, to) = match (&request.from, &request.to) {
            (Some(from), Some(to)) if micros_of(from) < micros_of(to) => (micros_of(from), micros_of(to)),
            _ => {
                fail("to", "from and to are required, from before to");
                (0, 0)
            }
        };
        if request.group_by.len() > 3 {
            fail("group_by", "at most 3 dimensions");
        }
        let group_by: Vec<Dimension> = request
            .group_by
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let dimension = dimension(*d);
                if dimension.is_none() {
                    violations.push(FieldViolation {
                        field: format!("group_by[{i}]"),
                        description: "unknown dimension".into(),
                    });
                }
                dimension
            })
            .collect();
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations).into());
        }
        let mut entry = self.hub.entry(&caller, Action::AuditQueried, Outcome::Success, Severity::Info);
        entry.detail = detail(&[("rpc", "GetStatistics".into()), ("area", request.area.clone().into())]);
        self.hub.store.audit(vec![entry]).await.map_err(ApiError::from)?;
        let query = StatsQuery { area: request.area, from, to, group_by };
        let (cells, total) = self.hub.store.statistics(&query).await.map_err(ApiError::from)?;
        let (cells, total) = suppress(cells, total, SUPPRESSION_THRESHOLD);
        Ok(Response::new(GetStatisticsResponse {
            cells: cells.into_iter().map(|c| StatisticsCell { key: c.key, count: c.count }).collect(),
            total,
            threshold: SUPPRESSION_THRESHOLD as u32,
        }))
    }
}

fn dimension(value: i32) -> Option<Dimension> {
    Some(match WireDimension::try_from(value).ok()? {
        WireDimension::Kind => Dimension::Kind,
        WireDimension::SectorPair => Dimension::SectorPair,
        WireDimension::Concern => Dimension::Concern,
        WireDimension::Risk => Dimension::Risk,
        WireDimension::Outcome => Dimension::Outcome,
        WireDimension::Sex => Dimension::Sex,
        WireDimension::AgeBand => Dimension::AgeBand,
        WireDimension::Displacement => Dimension::Displacement,
        WireDimension::TimeToAcknowledge => Dimension::TimeToAcknowledge,
        WireDimension::TimeToAccept => Dimension::TimeToAccept,
        WireDimension::Unspecified => return None,
    })
}
