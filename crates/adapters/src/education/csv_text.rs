//! The text of a CSV batch as spreadsheets save it: the character encoding
//! (UTF-8 with or without a byte-order mark, UTF-16 little- or big-endian
//! with its mark, which is what Excel's "Unicode text" writes, and
//! Windows-1252, the "ANSI" code page Excel uses for plain CSV in western
//! locales) and the separator (`,`, `;` where the decimal mark is a comma,
//! or a tab), sniffed from the header row.

use std::borrow::Cow;

/// Why the bytes are not text in any encoding a batch may use.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(super) enum TextError {
    /// A UTF-8 byte-order mark followed by bytes that are not UTF-8.
    #[error("starts with a UTF-8 byte-order mark but is not UTF-8 text")]
    NotUtf8,
    /// A UTF-16 byte-order mark followed by an odd number of bytes or a lone surrogate.
    #[error("starts with a UTF-16 byte-order mark but is not UTF-16 text")]
    NotUtf16,
}

/// The batch as text. A byte-order mark decides the encoding and is
/// dropped; without one, UTF-8 when the bytes are UTF-8, else Windows-1252.
/// Trying UTF-8 first misreads nothing real: a Windows-1252 file with a
/// letter beyond ASCII is practically never valid UTF-8, and every byte is a
/// character in Windows-1252, so that last guess cannot fail.
pub(super) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, TextError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).map(Cow::Borrowed).map_err(|_| TextError::NotUtf8);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(_) => Ok(Cow::Owned(bytes.iter().map(|b| windows_1252(*b)).collect())),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<Cow<'_, str>, TextError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(TextError::NotUtf16);
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units).collect::<Result<String, _>>().map(Cow::Owned).map_err(|_| TextError::NotUtf16)
}

/// Windows-1252 as the WHATWG Encoding Standard defines it: Latin-1 but for
/// 0x80-0x9F, where it has typographic characters (the five bytes it leaves
/// undefined stand for the C1 controls of the same number).
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The separator of the batch: whichever of `,` `;` and tab occurs most
/// often in the header row outside quotes (column names contain none of
/// them); a comma when the header has none (a single column).
pub(super) fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in header.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            _ => counts.iter_mut().filter(|(s, _)| *s == byte).for_each(|(_, n)| *n += 1),
        }
    }
    // The first of the most frequent, so a tie (never seen in practice) stays a comma.
    counts.iter().rev().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map_or(b',', |(s, _)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_a_spreadsheet_saves_reads_as_the_same_text() {
        let text = "given_name;family_name\r\nZoë;Müller–Ñúñez €\r\n";
        let utf16le: Vec<u8> = [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        let bom: Vec<u8> = b"\xEF\xBB\xBF".iter().chain(text.as_bytes()).copied().collect();
        let cp1252 = b"given_name;family_name\r\nZo\xEB;M\xFCller\x96\xD1\xFA\xF1ez \x80\r\n";
        for bytes in [text.as_bytes(), &bom, &utf16le, &utf16be, cp1252] {
            assert_eq!(decode(bytes).as_deref(), Ok(text));
        }
    }

    #[test]
    fn a_byte_order_mark_that_lies_is_refused() {
        assert_eq!(decode(b"\xEF\xBB\xBFM\xFCller"), Err(TextError::NotUtf8));
        assert_eq!(decode(b"\xFF\xFEa\x00b"), Err(TextError::NotUtf16));
        assert_eq!(decode(b"\xFF\xFE\x00\xD8a\x00"), Err(TextError::NotUtf16), "a lone high surrogate");
    }

    #[test]
    fn the_separator_is_the_header_s() {
        assert_eq!(separator("request_id,risk\na;b,c"), b',');
        assert_eq!(separator("request_id;risk;notes\n\"a,b\";c;d"), b';');
        assert_eq!(separator("request_id\trisk\n"), b'\t');
        assert_eq!(separator("\"odd,name\";risk\n"), b';', "quoted separators do not count");
        assert_eq!(separator("request_id\n1"), b',');
    }
}
