//! Aggregate counts for statistics, from clear metadata columns only: the
//! payload is never read. Suppression of small cells is the domain's.

use sqlx::Row;

use referral_hub_domain::{ids::OrgId, statistics::Cell, timestamps::UnixMicros};

use crate::{Result, Store};

/// What statistics can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Message kind.
    Kind,
    /// Sender sector > receiver sector.
    SectorPair,
    /// Protection concern (a message with two concerns counts in both).
    Concern,
    /// Risk level.
    Risk,
    /// Current status.
    Outcome,
    /// Child's sex.
    Sex,
    /// Child's age band.
    AgeBand,
    /// Child's displacement status.
    Displacement,
    /// How long the receiver took to acknowledge, in bands (`<1h` … `>=7d`, `not yet`).
    TimeToAcknowledge,
    /// How long the receiver took to accept, in bands.
    TimeToAccept,
}

/// Bands of a response time: `<1h`, `1h-1d`, `1d-3d`, `3d-7d`, `>=7d`, or
/// `not yet`. They follow the default deadlines, so a band says which
/// deadline was met.
const DURATION_BANDS: [&str; 6] = ["<1h", "1h-1d", "1d-3d", "3d-7d", ">=7d", "not yet"];

/// The SQL band of the time from creation to `column` (µs).
fn duration_band(column: &str) -> String {
    const HOUR: i64 = 3_600_000_000;
    const DAY: i64 = 24 * HOUR;
    let [under_hour, under_day, under_3d, under_7d, longer, never] = DURATION_BANDS;
    format!(
        "CASE WHEN {column} IS NULL THEN '{never}' \
         WHEN {column} - m.created_at < {HOUR} THEN '{under_hour}' \
         WHEN {column} - m.created_at < {DAY} THEN '{under_day}' \
         WHEN {column} - m.created_at < {} THEN '{under_3d}' \
         WHEN {column} - m.created_at < {} THEN '{under_7d}' ELSE '{longer}' END",
        3 * DAY,
        7 * DAY
    )
}

impl Dimension {
    fn column(self) -> String {
        match self {
            Dimension::Kind => "m.kind".into(),
            Dimension::SectorPair => "coalesce(m.sender_sector, '') || '>' || coalesce(m.recipient_sector, '')".into(),
            Dimension::Concern => "c.concern".into(),
            Dimension::Risk => "m.risk_level".into(),
            Dimension::Outcome => "m.status".into(),
            Dimension::Sex => "coalesce(m.sex, '')".into(),
            Dimension::AgeBand => "coalesce(m.age_band, '')".into(),
            Dimension::Displacement => "coalesce(m.displacement, '')".into(),
            Dimension::TimeToAcknowledge => duration_band("m.acknowledged_at"),
            Dimension::TimeToAccept => duration_band("m.accepted_at"),
        }
    }
}

/// Whose messages are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Population {
    /// Every organisation's.
    Hub,
    /// Those the organisation sent or received.
    SentOrReceivedBy(OrgId),
    /// Those the organisation sent.
    SentBy(OrgId),
}

/// Which messages to count: created in `[from, to)`, in `area` or below it,
/// of `population`.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    /// Whose messages.
    pub population: Population,
    /// Area code path; empty for everywhere.
    pub area: String,
    /// From.
    pub from: UnixMicros,
    /// Until (excluded).
    pub to: UnixMicros,
    /// Grouping, in order.
    pub group_by: Vec<Dimension>,
}

const SCOPE: &str = "m.created_at >= $1 AND m.created_at < $2 \
    AND ($3 = '' OR m.area = $3 OR substr(m.area, 1, length($3) + 1) = $3 || '/') \
    AND ($4 = '' OR m.sender_org = $4 OR ($5 = 1 AND m.recipient_org = $4))";

impl Population {
    /// The organisation (`$4`, empty for the hub) and whether its received messages count (`$5`).
    fn parameters(&self) -> (&str, i64) {
        match self {
            Population::Hub => ("", 0),
            Population::SentOrReceivedBy(org) => (org, 1),
            Population::SentBy(org) => (org, 0),
        }
    }
}

impl Store {
    /// Counts of distinct messages per combination of the grouping values, and the total.
    pub async fn statistics(&self, query: &StatsQuery) -> Result<(Vec<Cell>, u64)> {
        let (org, received) = query.population.parameters();
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM messages m WHERE {SCOPE}"))
            .bind(query.from.get())
            .bind(query.to.get())
            .bind(&query.area)
            .bind(org)
            .bind(received)
            .fetch_one(&self.pools.read)
            .await?;
        let total = u64::try_from(total).unwrap_or(0);
        if query.group_by.is_empty() {
            return Ok((vec![], total));
        }
        let columns: Vec<String> =
            query.group_by.iter().enumerate().map(|(i, d)| format!("{} AS d{i}", d.column())).collect();
        let group: Vec<String> = (0..query.group_by.len()).map(|i| format!("d{i}")).collect();
        let join = if query.group_by.contains(&Dimension::Concern) {
            "JOIN message_concerns c ON c.message_id = m.id"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {}, count(DISTINCT m.id) AS n FROM messages m {join} WHERE {SCOPE} GROUP BY {} ORDER BY {}",
            columns.join(", "),
            group.join(", "),
            group.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(query.from.get())
            .bind(query.to.get())
            .bind(&query.area)
            .bind(org)
            .bind(received)
            .fetch_all(&self.pools.read)
            .await?;
        let cells = rows
            .iter()
            .map(|row| {
                let key = (0..query.group_by.len()).map(|i| row.try_get::<String, _>(i)).collect::<Result<_, _>>()?;
                let count: i64 = row.try_get("n")?;
                Ok(Cell { key, count: u64::try_from(count).unwrap_or(0) })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((cells, total))
    }
}
