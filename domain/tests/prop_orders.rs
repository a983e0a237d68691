//! Property tests of the orders input parsers: the yuan parsers (arbitrary text never panics,
//! fen → text → fen round-trips), the picture URL check (never panics, accepts only http(s) and
//! site paths), and the whole .xlsx importer on arbitrary bytes, a damaged template and a
//! template with damaged XML parts (never panics).
//! The cell readers of the importer are tested inside `domain/src/orders/import/sheet.rs` (`mod prop`).

mod common;

use common::sheet::rebuild_zip;
use domain::orders::import::parse_orders_xlsx;
use domain::orders::money::{format_fen, yuan_number_to_fen, yuan_text_to_fen};
use domain::orders::{orders_template_xlsx, safe_picture_url};
use proptest::prelude::*;

/// The largest amount the text parser takes: 12 integer digits and 2 decimals.
const MAX_TEXT_FEN: i64 = 99_999_999_999_999;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn money_parsers_never_panic(text in any::<String>(), value in any::<f64>()) {
        if let Ok(fen) = yuan_text_to_fen(&text) {
            prop_assert!((0..=MAX_TEXT_FEN).contains(&fen), "{text:?} → {fen}");
        }
        if let Ok(fen) = yuan_number_to_fen(value) {
            prop_assert!(fen >= 0, "{value} → {fen}");
        }
    }

    #[test]
    fn money_like_text_never_panics(text in "[ ¥￥+,.0-9-]{0,30}") {
        if let Ok(fen) = yuan_text_to_fen(&text) {
            prop_assert!((0..=MAX_TEXT_FEN).contains(&fen), "{text:?} → {fen}");
        }
    }

    #[test]
    fn fen_round_trips_through_text(fen in 0..=MAX_TEXT_FEN) {
        prop_assert_eq!(yuan_text_to_fen(&format_fen(fen)), Ok(fen));
        let plain = format!("{}.{:02}", fen / 100, fen % 100);
        prop_assert_eq!(yuan_text_to_fen(&plain), Ok(fen));
    }

    /// A number cell holding an amount of at most two decimals reads back as the same fen (Excel
    /// keeps 15 significant digits, so every amount the text parser takes is covered).
    #[test]
    fn fen_round_trips_through_a_number_cell(fen in 0..=MAX_TEXT_FEN) {
        let value = fen as f64 / 100.0;
        prop_assert_eq!(yuan_number_to_fen(value), Ok(fen), "{}", value);
    }

    #[test]
    fn picture_check_never_panics_and_accepts_only_safe_urls(url in any::<String>()) {
        assert_safe(&url)?;
    }

    #[test]
    fn picture_check_on_url_like_text(
        scheme in prop_oneof![
            Just(""), Just("http://"), Just("https://"), Just("HTTPS://"), Just("/"), Just("//"),
            Just("javascript:"), Just("JavaScript:"), Just("data:"), Just("data:image/png;base64,"),
            Just(" javascript:"), Just("\tjavascript:"), Just("vbscript:"), Just("file://"),
        ],
        rest in "[a-zA-Z0-9:/@?#&=%._ <>\"'\\\\-]{0,60}",
    ) {
        assert_safe(&format!("{scheme}{rest}"))?;
    }

    /// Arbitrary bytes, with and without the zip signature, are refused with a reason.
    #[test]
    fn importer_takes_arbitrary_bytes(mut bytes in proptest::collection::vec(any::<u8>(), 0..4096), zip in any::<bool>()) {
        if zip {
            let mut with = b"PK\x03\x04".to_vec();
            with.append(&mut bytes);
            bytes = with;
        }
        if let Err(err) = parse_orders_xlsx(&bytes) {
            prop_assert!(!err.user_message().is_empty());
        }
    }

    /// The template with a few bytes changed anywhere: read or refused, never a panic.
    #[test]
    fn importer_takes_a_damaged_template(
        changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = template();
        for (at, byte) in changes {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Err(err) = parse_orders_xlsx(&bytes) {
            prop_assert!(!err.user_message().is_empty());
        }
    }
}

/// The template's XML parts (sheet, shared strings, workbook, styles) with bytes changed,
/// packed again so the zip itself is sound: whatever calamine makes of them, the importer
/// answers without a panic.
fn template_with_xml_changed(part: usize, changes: &[(prop::sample::Index, u8)]) -> Vec<u8> {
    const PARTS: [&str; 4] = [
        "xl/worksheets/sheet1.xml",
        "xl/sharedStrings.xml",
        "xl/workbook.xml",
        "xl/styles.xml",
    ];
    rebuild_zip(&template(), |name, mut data| {
        if name == PARTS[part % PARTS.len()] && !data.is_empty() {
            for (at, byte) in changes {
                let i = at.index(data.len());
                data[i] = *byte;
            }
        }
        data
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn importer_takes_damaged_xml(
        part in 0usize..4,
        changes in proptest::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop_oneof![any::<u8>(), Just(b'<'), Just(b'>'), Just(b'"'), Just(b'9'), Just(b'/')],
            ),
            1..6,
        ),
    ) {
        let bytes = template_with_xml_changed(part, &changes);
        if let Err(err) = parse_orders_xlsx(&bytes) {
            prop_assert!(!err.user_message().is_empty());
        }
    }
}

/// A sheet whose `<dimension ref>` runs backwards or names row 0 made calamine 0.38 panic
/// (an overflow in `get_dimension`, found by `importer_takes_damaged_xml`): the importer
/// refuses the file in Chinese instead.
#[test]
fn a_backwards_or_zero_dimension_is_refused_not_a_panic() {
    for dimension in ["A0", "A0:J0", "J9:A1", "A1:A0", "B2:A1"] {
        let bytes = rebuild_zip(&template(), |name, data| {
            if name != "xl/worksheets/sheet1.xml" {
                return data;
            }
            let xml = String::from_utf8(data).expect("utf-8");
            let start = xml.find("<dimension ref=\"").expect("a dimension") + 16;
            let end = start + xml[start..].find('"').expect("its end");
            format!("{}{dimension}{}", &xml[..start], &xml[end..]).into_bytes()
        });
        if let Err(err) = parse_orders_xlsx(&bytes) {
            assert!(!err.user_message().is_empty(), "{dimension}");
        }
    }
}

fn template() -> Vec<u8> {
    orders_template_xlsx().expect("template")
}

fn assert_safe(url: &str) -> Result<(), TestCaseError> {
    if let Some(kept) = safe_picture_url(url) {
        let lower = kept.to_ascii_lowercase();
        prop_assert!(
            lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with('/'),
            "{url:?} accepted as {kept:?}"
        );
        prop_assert!(!lower.starts_with("//"), "{url:?}");
        prop_assert!(
            !lower.starts_with("data:") && !lower.starts_with("javascript:"),
            "{url:?}"
        );
        prop_assert!(
            !kept
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>\"'`\\".contains(c)),
            "{url:?}"
        );
    }
    Ok(())
}

#[test]
fn the_template_parses() {
    assert_eq!(parse_orders_xlsx(&template()).expect("template parses"), 2);
}
