//! Reads the Prometheus text exposition format, strictly enough that a
//! malformed line fails the test that scraped it.

use std::collections::BTreeMap;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name, e.g. `referral_hub_messages_total`.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// Every sample of a scrape, with the declared type of each metric family.
#[derive(Debug, Default)]
pub struct Scrape {
    /// The samples, in order.
    pub samples: Vec<Sample>,
    /// `# TYPE` declarations: family name to type.
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// The value of the sample `name` whose labels include `labels` (the sum if several match).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v)))
            .map(|s| s.value)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }
}

/// Parses a scrape; panics on a line that is not a comment, a blank, or `name{labels} value`.
pub fn parse(text: &str) -> Scrape {
    let mut scrape = Scrape::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(declaration) = line.strip_prefix("# TYPE ") {
            let (family, kind) = declaration.split_once(' ').unwrap_or_else(|| panic!("bad TYPE line: {line}"));
            scrape.types.insert(family.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            number => number.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                (name, labels_of(body, line))
            }
        };
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        scrape.samples.push(Sample { name: name.to_owned(), labels, value });
    }
    scrape
}

/// `a="x",b="y"` (values without escaped quotes, as the hub's labels are codes).
fn labels_of(body: &str, line: &str) -> BTreeMap<String, String> {
    body.split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or_else(|| panic!("bad label: {line}"));
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            (key.to_owned(), value.unwrap_or_else(|| panic!("unquoted label: {line}")).to_owned())
        })
        .collect()
}
