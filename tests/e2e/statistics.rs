//! Statistics from clear metadata, over whole ended months, disaggregated,
//! with small cells suppressed; and the differencing attack of issue 26,
//! which no longer learns anything.

use referral_hub_domain::{sample, wire::submit_message_request::Payload};
use referral_hub_e2e::{
    Backend, HEALTH_ORG, OVERSIGHT_ORG, SOCIAL_WELFARE_ORG, TestHub, bad_fields, follow_up, month_statistics, submitted,
};
use referral_hub_proto::v1::{
    DataCategory, Dimension, FollowUpAction, GetStatisticsRequest, GetStatisticsResponse, Period, StatisticsCell,
    StatisticsScope, SubmitMessageRequest,
};
use referral_hub_server::clock::Clock as _;
use tonic::Code;

const SCHOOL_ORG: &str = "demo-school-hlaing";

fn cells(list: &[StatisticsCell]) -> Vec<(Vec<String>, String)> {
    list.iter().map(|c| (c.key.clone(), c.count.clone())).collect()
}

fn hub_wide(request: GetStatisticsRequest) -> GetStatisticsRequest {
    GetStatisticsRequest { scope: StatisticsScope::Hub as i32, ..request }
}

fn with_sex(mut request: SubmitMessageRequest, sex: &str) -> SubmitMessageRequest {
    let Some(Payload::Referral(referral)) = request.payload.as_mut() else { unreachable!() };
    referral.child.as_mut().unwrap().sex = sex.into();
    request
}

async fn counts_are_grouped_and_small_cells_suppressed(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    // 7 girls and 2 boys, all 5-9 (the sample child), concerns neglect + physical violence.
    for i in 0..9 {
        let sex = if i >= 7 { "male" } else { "female" };
        submitted(&mut health, with_sex(sample::submit(&format!("s{i}"), SOCIAL_WELFARE_ORG), sex)).await;
    }
    let month = hub.end_the_month_of(hub.clock.now());
    let period = |group_by: &[Dimension], area: &str| GetStatisticsRequest {
        area: area.into(),
        ..hub_wide(month_statistics(month, group_by))
    };
    let mut oversight = hub.stats(OVERSIGHT_ORG, &["oversight"]).await;

    let by_sex = oversight.get_statistics(period(&[Dimension::Sex], "")).await.unwrap().into_inner();
    // 2 boys is under 5; alone it could be recovered as 9 - 7, so the girls' cell is hidden too.
    assert_eq!(
        cells(&by_sex.cells),
        vec![(vec!["female".to_owned()], "<5".to_owned()), (vec!["male".into()], "<5".into())]
    );
    assert_eq!((by_sex.total.as_str(), by_sex.threshold), ("9", 5));

    let by_concern = oversight
        .get_statistics(period(&[Dimension::Concern, Dimension::AgeBand], "MM/YGN"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        cells(&by_concern.cells),
        vec![
            (vec!["neglect".to_owned(), "5-9".to_owned()], "9".to_owned()),
            (vec!["physical_violence".into(), "5-9".into()], "9".into()),
        ]
    );
    let pair = oversight.get_statistics(period(&[Dimension::SectorPair], "")).await.unwrap().into_inner();
    assert_eq!(pair.cells[0].key, vec!["SECTOR_HEALTH>SECTOR_SOCIAL_WELFARE".to_owned()]);
    let elsewhere = oversight.get_statistics(period(&[Dimension::Sex], "TH")).await.unwrap().into_inner();
    assert_eq!((elsewhere.total.as_str(), elsewhere.cells.len()), ("<5", 0), "an area cut below 5 shows nothing");

    // The sender's auditor sees its own messages; the receiver's, by what
    // describes the child, only what it sent (nothing), by the rest all it received.
    let mut health_auditor = hub.stats(HEALTH_ORG, &["auditor"]).await;
    let own = health_auditor.get_statistics(month_statistics(month, &[Dimension::Sex])).await.unwrap().into_inner();
    assert_eq!((cells(&own.cells), own.total), (cells(&by_sex.cells), by_sex.total.clone()));
    let mut welfare_auditor = hub.stats(SOCIAL_WELFARE_ORG, &["auditor"]).await;
    let about_children = welfare_auditor.get_statistics(month_statistics(month, &[Dimension::Sex])).await.unwrap();
    assert_eq!((about_children.get_ref().total.as_str(), about_children.get_ref().cells.len()), ("<5", 0));
    let received = welfare_auditor.get_statistics(month_statistics(month, &[Dimension::Kind])).await.unwrap();
    assert_eq!(cells(&received.get_ref().cells), [(vec!["MESSAGE_KIND_SERVICE_REFERRAL".to_owned()], "9".to_owned())]);

    let bad = oversight.get_statistics(GetStatisticsRequest { group_by: vec![99], ..Default::default() }).await;
    assert_eq!(bad_fields(&bad.unwrap_err()), vec!["period", "from", "group_by[0]"]);
    let denied = health_auditor.get_statistics(period(&[], "")).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "the hub-wide scope is oversight's");
    for roles in [&["referrer"][..], &["supervisor"]] {
        let mut other = hub.stats(HEALTH_ORG, roles).await;
        let denied = other.get_statistics(month_statistics(month, &[])).await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{roles:?}");
    }
}

async fn response_times_are_counted_in_deadline_bands(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    let mut welfare = hub.messages(SOCIAL_WELFARE_ORG, &["receiver"]).await;
    let start = hub.clock.now();
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(submitted(&mut health, sample::submit(&format!("t{i}"), SOCIAL_WELFARE_ORG)).await.id);
    }
    // 7 acknowledged after 30 minutes (and 6 of them accepted then), 5 after 2 hours.
    hub.clock.advance(time::Duration::minutes(30));
    for (i, id) in ids.iter().enumerate() {
        if i == 7 {
            hub.clock.advance(time::Duration::minutes(90));
        }
        welfare.post_follow_up(follow_up(id, FollowUpAction::Acknowledge, &format!("ack{i}"))).await.unwrap();
        if i < 6 {
            welfare.post_follow_up(follow_up(id, FollowUpAction::Accept, &format!("acc{i}"))).await.unwrap();
        }
    }
    let month = hub.end_the_month_of(start);
    let mut oversight = hub.stats(OVERSIGHT_ORG, &["oversight"]).await;
    let ask = |dimension| hub_wide(month_statistics(month, &[dimension]));
    let ack = oversight.get_statistics(ask(Dimension::TimeToAcknowledge)).await.unwrap().into_inner();
    assert_eq!(
        cells(&ack.cells),
        vec![(vec!["1h-1d".to_owned()], "5".to_owned()), (vec!["<1h".to_owned()], "7".to_owned())]
    );
    let accept = oversight.get_statistics(ask(Dimension::TimeToAccept)).await.unwrap().into_inner();
    assert_eq!(
        cells(&accept.cells),
        vec![(vec!["<1h".to_owned()], "6".to_owned()), (vec!["not yet".to_owned()], "6".to_owned())]
    );
}

/// Issue 26: a school received one referral with IDENTITY consent only, and
/// compared `[t0, T)` with `[t0, T+1µs)` to read the withheld concern, sex
/// and age band. Every way of asking now says nothing about that child.
async fn statistics_cannot_be_differenced_to_read_what_consent_withheld(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let mut health = hub.messages(HEALTH_ORG, &["referrer"]).await;
    for i in 0..8 {
        submitted(&mut health, with_sex(sample::submit(&format!("w{i}"), SOCIAL_WELFARE_ORG), "female")).await;
    }
    let mut to_school = with_sex(sample::submit("school", SCHOOL_ORG), "male");
    to_school.consent.as_mut().unwrap().categories = vec![DataCategory::Identity as i32];
    submitted(&mut health, to_school).await;
    let sent_at = hub.clock.now();
    let t0 = referral_hub_domain::statistics::PeriodUnit::Month.start_of(sent_at);
    let micros = |at: time::OffsetDateTime, extra: i32| prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: i32::try_from(at.nanosecond()).unwrap() / 1000 * 1000 + extra * 1000,
    };
    let mut school = hub.stats(SCHOOL_ORG, &["auditor"]).await;
    let mut oversight = hub.stats(OVERSIGHT_ORG, &["oversight"]).await;
    let attack = |to| GetStatisticsRequest {
        from: Some(micros(t0, 0)),
        to: Some(to),
        group_by: vec![Dimension::Concern as i32, Dimension::Sex as i32, Dimension::AgeBand as i32],
        ..Default::default()
    };

    // The two windows of the attack: refused, whoever asks, with or without a unit.
    for to in [micros(sent_at, 0), micros(sent_at, 1)] {
        for period in [Period::Unspecified, Period::Month] {
            let request = GetStatisticsRequest { period: period as i32, ..attack(to) };
            let refused = school.get_statistics(request.clone()).await.unwrap_err();
            assert_eq!(refused.code(), Code::InvalidArgument);
            assert!(bad_fields(&refused).contains(&"to".to_owned()), "{refused:?}");
            let refused = oversight.get_statistics(hub_wide(request)).await.unwrap_err();
            assert_eq!(refused.code(), Code::InvalidArgument);
        }
    }
    // The closest aligned window, the month under way: refused until it ends;
    // a day of it, nested in the month, is not a unit this hub publishes.
    let this_month = month_statistics(t0, &[Dimension::Concern]);
    let refused = school.get_statistics(this_month.clone()).await.unwrap_err();
    assert_eq!(bad_fields(&refused), ["to"]);
    let a_day = GetStatisticsRequest { period: Period::Day as i32, ..this_month.clone() };
    let refused = oversight.get_statistics(hub_wide(a_day)).await.unwrap_err();
    assert_eq!(bad_fields(&refused)[0], "period");

    // Once the month has ended: the school's answers with the child and
    // without it (the month before) are the same, however it groups them.
    hub.end_the_month_of(sent_at);
    let before = referral_hub_domain::statistics::PeriodUnit::Month.start_of(t0 - time::Duration::days(1));
    let groupings: [&[Dimension]; 5] = [
        &[],
        &[Dimension::Concern],
        &[Dimension::Sex, Dimension::AgeBand],
        &[Dimension::Kind],
        &[Dimension::Kind, Dimension::Outcome, Dimension::SectorPair],
    ];
    for group_by in groupings {
        let with_child = school.get_statistics(month_statistics(t0, group_by)).await.unwrap().into_inner();
        let without = school.get_statistics(month_statistics(before, group_by)).await.unwrap().into_inner();
        assert_eq!(with_child, without, "{group_by:?}");
        assert_eq!(with_child, GetStatisticsResponse { cells: vec![], total: "<5".into(), threshold: 5 });
    }
    let hub_scope = school.get_statistics(hub_wide(month_statistics(t0, &[]))).await.unwrap_err();
    assert_eq!(hub_scope.code(), Code::PermissionDenied);

    // Oversight sees the month's real counts, but not the one boy.
    let by_sex = oversight.get_statistics(hub_wide(month_statistics(t0, &[Dimension::Sex]))).await.unwrap();
    assert_eq!(
        cells(&by_sex.get_ref().cells),
        [(vec!["female".to_owned()], "<5".to_owned()), (vec!["male".to_owned()], "<5".to_owned())]
    );
    assert_eq!(by_sex.get_ref().total, "9");
    let by_concern = oversight.get_statistics(hub_wide(month_statistics(t0, &[Dimension::Concern]))).await.unwrap();
    assert_eq!(
        cells(&by_concern.get_ref().cells),
        [(vec!["neglect".to_owned()], "9".to_owned()), (vec!["physical_violence".to_owned()], "9".to_owned())]
    );
    let by_both = [Dimension::Concern, Dimension::Sex];
    let joint = oversight.get_statistics(hub_wide(month_statistics(t0, &by_both))).await.unwrap().into_inner();
    assert!(joint.cells.iter().all(|c| c.count == "<5"), "the marginals show 8 + 1: {joint:?}");
}

referral_hub_e2e::on_both_backends!(
    counts_are_grouped_and_small_cells_suppressed,
    response_times_are_counted_in_deadline_bands,
    statistics_cannot_be_differenced_to_read_what_consent_withheld,
);
