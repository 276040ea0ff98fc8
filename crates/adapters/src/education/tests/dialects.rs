//! CSV batches as spreadsheets save them: each dialect of the same batch
//! gives exactly the referrals the plain comma-separated UTF-8 batch gives.
//! The reference is built here from the golden batch (tests/fixtures/
//! education/concerns.csv) with the names the dialect fixture uses, so a
//! wrongly decoded name or a list split on the wrong separator shows.

use super::adapter;
use crate::testing::fixture;
use crate::{Adapter, Inbound};

const PATH: &str = "/education/concerns.csv";

/// The golden batch with `names` swapped in, as plain comma-separated UTF-8.
fn reference(names: &[(&str, &str)]) -> Vec<Inbound> {
    let mut text = String::from_utf8(fixture("education/concerns.csv")).expect("UTF-8");
    for (from, to) in names {
        text = text.replace(&format!(",{from},"), &format!(",{to},"));
    }
    adapter().inbound(PATH, text.as_bytes()).expect("the reference batch is valid")
}

fn given_names(inbound: &[Inbound]) -> Vec<String> {
    inbound
        .iter()
        .map(|i| match i {
            Inbound::Submit(request) => match &request.payload {
                Some(referral_hub_domain::wire::submit_message_request::Payload::Referral(r)) => {
                    r.child.as_ref().map(|c| format!("{} {}", c.given_name, c.family_name)).unwrap_or_default()
                }
                _ => String::new(),
            },
            Inbound::FollowUp(_) => String::new(),
        })
        .collect()
}

/// The golden batch rewritten with `separator` (quoting as a spreadsheet does).
fn with_separator(separator: u8) -> Vec<u8> {
    let golden = fixture("education/concerns.csv");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(golden.as_slice());
    let mut writer =
        csv::WriterBuilder::new().delimiter(separator).terminator(csv::Terminator::CRLF).from_writer(vec![]);
    for record in reader.records() {
        writer.write_record(&record.expect("golden rows read")).expect("rows write");
    }
    writer.into_inner().expect("flushed")
}

#[test]
fn an_excel_semicolon_export_in_windows_1252_with_accented_names_reads_like_the_golden_batch() {
    let expected = reference(&[("Kyaw", "Zoë"), ("Zin", "Müller-Ñúñez"), ("Hnin", "François"), ("Wai", "Œuvray")]);
    assert_eq!(&given_names(&expected)[..2], ["Zoë Müller-Ñúñez", "François Œuvray"]);
    let export = fixture("education/concerns-excel-semicolon-windows-1252.csv");
    assert!(std::str::from_utf8(&export).is_err(), "the fixture is Windows-1252, not UTF-8");
    assert_eq!(adapter().inbound(PATH, &export).expect("accepted"), expected);
}

#[test]
fn a_utf_16_unicode_text_export_with_tabs_and_myanmar_names_reads_like_the_golden_batch() {
    let expected = reference(&[("Kyaw", "ကျော်"), ("Zin", "ဇင်"), ("Hnin", "နှင်း"), ("Wai", "ဝေ")]);
    let export = fixture("education/concerns-unicode-text-utf-16le.txt");
    assert!(export.starts_with(&[0xFF, 0xFE]), "UTF-16LE with its byte-order mark");
    assert_eq!(adapter().inbound(PATH, &export).expect("accepted"), expected);
    // The same text big-endian.
    let units = export[2..].chunks_exact(2).flat_map(|pair| [pair[1], pair[0]]);
    let big_endian: Vec<u8> = [0xFE, 0xFF].into_iter().chain(units).collect();
    assert_eq!(adapter().inbound(PATH, &big_endian).expect("accepted"), expected);
}

#[test]
fn semicolon_and_tab_separated_utf_8_with_or_without_a_byte_order_mark_read_like_the_golden_batch() {
    let expected = reference(&[]);
    for separator in [b',', b';', b'\t'] {
        let batch = with_separator(separator);
        let with_bom: Vec<u8> = b"\xEF\xBB\xBF".iter().chain(&batch).copied().collect();
        for bytes in [batch, with_bom] {
            let got = adapter().inbound(PATH, &bytes);
            assert_eq!(got.as_ref().ok(), Some(&expected), "separator {:?}", char::from(separator));
        }
    }
}

#[test]
fn a_byte_order_mark_that_lies_is_refused_as_the_whole_document() {
    let mut batch = b"\xFF\xFE".to_vec();
    batch.extend_from_slice(b"request_id\n"); // 11 bytes: no whole number of UTF-16 units
    let violations = adapter().inbound(PATH, &batch).expect_err("odd UTF-16");
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].element, "document");
    assert!(violations[0].description.contains("UTF-16"));
}
