//! The canonical JSON implementation (serde_jcs) against RFC 8785's own examples.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

#[test]
fn rfc8785_section_3_2_2_example() {
    let input = r#"{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
    let v: serde_json::Value = serde_json::from_str(input).unwrap();
    let want = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(serde_jcs::to_string(&v).unwrap(), want);
}

#[test]
fn rfc8785_section_3_2_3_sorting_example() {
    let input = r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"#;
    let v: serde_json::Value = serde_json::from_str(input).unwrap();
    let got = serde_jcs::to_string(&v).unwrap();
    let order: Vec<&str> = [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small",
        "Euro Sign",
        "Emoji",
        "Hebrew",
    ]
    .to_vec();
    let positions: Vec<usize> = order.iter().map(|k| got.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{got}");
    assert!(
        got.starts_with("{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\""),
        "{got}"
    );
}

proptest::proptest! {
    /// The SET payload's fast path writes exactly what the general
    /// canonicalizer writes: for real shapes (base64 bodies, hex ids) and
    /// for strings that need escaping and integers past 2^53 (which take
    /// the general path).
    #[test]
    fn set_payload_fast_path_equals_the_canonicalizer(
        body in proptest::prop_oneof![
            "[A-Za-z0-9+/=]{0,200}",
            proptest::prelude::any::<String>(),
            "[ -~\"\\\\\u{7f}\u{80}\u{2028}]{0,20}",
        ],
        log_id in proptest::prop_oneof!["[0-9a-f]{64}", proptest::prelude::any::<String>()],
        time in proptest::prop_oneof![
            0i64..=i64::from(u32::MAX),
            proptest::prelude::any::<i64>(),
            Just((1i64 << 53) - 1),
            Just(1i64 << 53),
            Just(-(1i64 << 53)),
        ],
        index in proptest::prop_oneof![
            0u64..=u64::from(u32::MAX),
            proptest::prelude::any::<u64>(),
            Just((1u64 << 53) - 1),
            Just(1u64 << 53),
        ],
    ) {
        use attest_rekor::verify::hazmat::{set_payload, set_payload_jcs};
        proptest::prop_assert_eq!(
            set_payload(&body, time, &log_id, index),
            set_payload_jcs(&body, time, &log_id, index)
        );
    }
}

use proptest::strategy::Just;
