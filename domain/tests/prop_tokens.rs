//! Property tests of the buyer-token verifier: arbitrary text, arbitrary payloads signed with
//! the right secret and single-character changes to a good token never panic and are never
//! accepted unless they are the token the mall signed; every valid claim set round-trips.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::chat::buyer_token::{
    BuyerClaims, MAX_BUYER_ID_CHARS, MAX_NAME_CHARS, MAX_UNIT_CHARS, TOKEN_VERSION, sign, verify,
    verify_within,
};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use sha2::Sha256;

const SECRET: &[u8] = b"property-test-secret-shared-with-the-mall";
const NOW: i64 = 1_900_000_000;

fn claims_strategy() -> impl Strategy<Value = BuyerClaims> {
    (
        any::<i64>(),
        "[A-Za-z0-9一-龥]{1,64}",
        "[^\\u{0}]{1,32}",
        "[^\\u{0}]{0,64}",
        NOW..NOW + 86_400,
    )
        .prop_filter("names have a visible character", |(_, id, name, _, _)| {
            !id.trim().is_empty() && !name.trim().is_empty()
        })
        .prop_map(|(supplier_id, buyer_id, name, unit, exp)| BuyerClaims {
            v: TOKEN_VERSION,
            supplier_id,
            buyer_id,
            name,
            unit,
            exp,
        })
}

/// Signs arbitrary payload bytes with the right secret, as a mall with a bug would.
fn sign_raw(payload: &[u8]) -> String {
    let payload = URL_SAFE_NO_PAD.encode(payload);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET).expect("any key length");
    mac.update(payload.as_bytes());
    format!(
        "{payload}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics_and_is_never_accepted(text in any::<String>()) {
        prop_assert!(verify(SECRET, &text, NOW).is_err());
        prop_assert!(verify_within(SECRET, &text, NOW, 86_400).is_err());
    }

    #[test]
    fn token_shaped_text_is_never_accepted(text in "[A-Za-z0-9_.-]{0,200}") {
        prop_assert!(verify(SECRET, &text, NOW).is_err());
    }

    #[test]
    fn signed_garbage_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        // Correctly signed, but not valid claims: refused with a message, no panic.
        let _ = verify(SECRET, &sign_raw(&payload), NOW);
    }

    #[test]
    fn valid_claims_round_trip(claims in claims_strategy()) {
        let token = sign(SECRET, &claims);
        let back = verify_within(SECRET, &token, NOW, 86_400);
        let within_limits = claims.buyer_id.chars().count() <= MAX_BUYER_ID_CHARS
            && claims.name.chars().count() <= MAX_NAME_CHARS
            && claims.unit.chars().count() <= MAX_UNIT_CHARS;
        if within_limits {
            prop_assert_eq!(back.expect("a valid token"), claims);
        } else {
            prop_assert!(back.is_err());
        }
    }

    #[test]
    fn one_changed_character_is_refused(claims in claims_strategy(), at in any::<prop::sample::Index>(), with in "[A-Za-z0-9_.-]") {
        let token = sign(SECRET, &claims);
        let i = at.index(token.len());
        let mut changed = token.clone();
        changed.replace_range(i..=i, &with);
        if changed != token {
            prop_assert!(verify(SECRET, &changed, NOW).is_err(), "{changed}");
        }
    }

    #[test]
    fn a_lifetime_over_the_limit_is_refused(claims in claims_strategy(), extra in 1i64..10_000_000) {
        let mut long = claims;
        long.exp = NOW + 86_400 + extra;
        let token = sign(SECRET, &long);
        prop_assert!(verify(SECRET, &token, NOW).is_ok() || long.buyer_id.chars().count() > MAX_BUYER_ID_CHARS);
        prop_assert!(verify_within(SECRET, &token, NOW, 86_400).is_err());
    }
}
