//! `referralhub.v1.StatsService`: counts for oversight from clear metadata,
//! over one whole ended period, with small cells suppressed by the domain's
//! rule against the table's marginals (docs/security.md "Statistics").

use std::sync::Arc;

use tonic::{Request, Response, Status};

use referral_hub_domain::{
    audit::{Action, Outcome, Severity},
    roles::Role,
    statistics::{Cube, Period, PeriodRequest, PeriodUnit, describes_the_child, publish, whole_period},
    timestamps::UnixMicros,
    timestamps::micros_of,
    validation::{AREA_RULE, FieldViolation, is_area_path},
    wire::{
        Dimension as WireDimension, GetStatisticsRequest, GetStatisticsResponse, Period as WirePeriod, StatisticsCell,
        StatisticsScope, stats_service_server::StatsService,
    },
};
use referral_hub_store::{Dimension, Population, StatsQuery};

use crate::{
    auth::Caller,
    clock::micros,
    error::ApiError,
    hub::{Hub, detail},
};

/// Counts under this are shown as `<5` (docs/security.md "Statistics").
pub const SUPPRESSION_THRESHOLD: u64 = 5;

/// The StatsService implementation.
pub struct StatsApi {
    hub: Arc<Hub>,
    /// The one period unit this hub publishes: units that nest (a month and
    /// its days) could be differenced.
    period: PeriodUnit,
}

impl StatsApi {
    /// A service over the shared hub state, publishing periods of `period`.
    pub fn new(hub: Arc<Hub>, period: PeriodUnit) -> Self {
        Self { hub, period }
    }
}

/// A request that passed validation.
struct Asked {
    period: Period,
    group_by: Vec<(WireDimension, Dimension)>,
    hub_wide: bool,
}

#[tonic::async_trait]
impl StatsService for StatsApi {
    async fn get_statistics(
        &self,
        request: Request<GetStatisticsRequest>,
    ) -> Result<Response<GetStatisticsResponse>, Status> {
        let caller = self.hub.caller(&request, &[Role::Auditor, Role::Oversight]).await?;
        let request = request.into_inner();
        let asked = self.validate(&request)?;
        if asked.hub_wide {
            self.hub.require(&caller, &[Role::Oversight]).await?;
        }
        let mut entry = self.hub.entry(&caller, Action::AuditQueried, Outcome::Success, Severity::Info);
        entry.detail = detail(&[
            ("rpc", "GetStatistics".into()),
            ("area", request.area.clone().into()),
            ("scope", if asked.hub_wide { "hub" } else { "own organisation" }.into()),
            ("from", asked.period.start.into()),
        ]);
        self.hub.store.audit(vec![entry]).await.map_err(ApiError::from)?;
        let cube = self.cube(&caller, &request.area, &asked).await?;
        let answer = publish(&cube, SUPPRESSION_THRESHOLD);
        Ok(Response::new(GetStatisticsResponse {
            cells: answer.cells.into_iter().map(|c| StatisticsCell { key: c.key, count: c.count }).collect(),
            total: answer.total,
            threshold: SUPPRESSION_THRESHOLD as u32,
        }))
    }
}

impl StatsApi {
    /// Every violation of `request`, or what it asks for.
    fn validate(&self, request: &GetStatisticsRequest) -> Result<Asked, ApiError> {
        let mut violations = Vec::new();
        if !request.area.is_empty() && !is_area_path(&request.area) {
            violations.push(FieldViolation { field: "area".into(), description: AREA_RULE.into() });
        }
        let asked_period = PeriodRequest {
            unit: period_unit(request.period),
            from: request.from.as_ref().map(micros_of),
            to: request.to.as_ref().map(micros_of),
        };
        let period = whole_period(asked_period, self.period, micros(self.hub.clock.now()))
            .map_err(|refused| violations.extend(refused))
            .ok();
        if request.group_by.len() > 3 {
            violations.push(FieldViolation { field: "group_by".into(), description: "at most 3 dimensions".into() });
        }
        let group_by: Vec<(WireDimension, Dimension)> = request
            .group_by
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let dimension = WireDimension::try_from(*d).ok().and_then(|w| Some((w, dimension(w)?)));
                if dimension.is_none() {
                    violations.push(FieldViolation {
                        field: format!("group_by[{i}]"),
                        description: "unknown dimension".into(),
                    });
                }
                dimension
            })
            .collect();
        let hub_wide = match StatisticsScope::try_from(request.scope) {
            Ok(StatisticsScope::Hub) => true,
            Ok(StatisticsScope::Unspecified | StatisticsScope::OwnOrganisation) => false,
            Err(_) => {
                violations.push(FieldViolation { field: "scope".into(), description: "unknown scope".into() });
                false
            }
        };
        match period {
            Some(period) if violations.is_empty() => Ok(Asked { period, group_by, hub_wide }),
            _ => Err(ApiError::InvalidArgument(violations)),
        }
    }

    /// The counts of the population asked for, by every subset of its dimensions.
    async fn cube(&self, caller: &Caller, area: &str, asked: &Asked) -> Result<Cube, ApiError> {
        let about_the_child = asked.group_by.iter().any(|(wire, _)| describes_the_child(*wire));
        let population = match (asked.hub_wide, about_the_child) {
            (true, _) => Population::Hub,
            (false, true) => Population::SentBy(caller.org.clone()),
            (false, false) => Population::SentOrReceivedBy(caller.org.clone()),
        };
        let mut cube = Cube { total: 0, tables: Vec::with_capacity(1 << asked.group_by.len()) };
        for mask in 0..1usize << asked.group_by.len() {
            let group_by =
                asked.group_by.iter().enumerate().filter(|(b, _)| mask & (1 << b) != 0).map(|(_, (_, d))| *d).collect();
            let query = StatsQuery {
                population: population.clone(),
                area: area.to_owned(),
                from: UnixMicros::new(asked.period.start),
                to: UnixMicros::new(asked.period.end),
                group_by,
            };
            let (cells, total) = self.hub.store.statistics(&query).await?;
            if mask == 0 {
                cube.total = total;
            }
            cube.tables.push(cells);
        }
        Ok(cube)
    }
}

fn period_unit(value: i32) -> Option<PeriodUnit> {
    match WirePeriod::try_from(value).ok()? {
        WirePeriod::Day => Some(PeriodUnit::Day),
        WirePeriod::Week => Some(PeriodUnit::Week),
        WirePeriod::Month => Some(PeriodUnit::Month),
        WirePeriod::Unspecified => None,
    }
}

fn dimension(value: WireDimension) -> Option<Dimension> {
    Some(match value {
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
