//! Yuan as people write them (the .xlsx sheet) to fen, and fen back to yuan text, with integer
//! arithmetic only: `12.35` is read as the digits `12` and `35`, never as a float that might be
//! 12.349999….

/// Parses a yuan amount of at most two decimals (`12`, `12.3`, `12.35`, `1,234.50`, `¥12.35`)
/// into fen. Negative amounts, more than two decimals and more than 12 integer digits are
/// refused with a Chinese reason.
pub fn yuan_text_to_fen(text: &str) -> Result<i64, String> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(['¥', '￥'])
        .chars()
        .filter(|c| *c != ',')
        .collect();
    if cleaned.starts_with('-') {
        return Err("金额不能为负数".to_owned());
    }
    let cleaned = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    let (int_part, frac_part) = match cleaned.split_once('.') {
        Some((i, f)) => (i, f),
        None => (cleaned, ""),
    };
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err("金额格式不正确，应为数字，如 12.50".to_owned());
    }
    if frac_part.len() > 2 {
        return Err("金额最多保留两位小数".to_owned());
    }
    if int_part.len() > 12 {
        return Err("金额超出上限".to_owned());
    }
    let yuan: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| "金额格式不正确".to_owned())?
    };
    let mut cents = frac_part.to_owned();
    while cents.len() < 2 {
        cents.push('0');
    }
    let cents: i64 = cents.parse().map_err(|_| "金额格式不正确".to_owned())?;
    yuan.checked_mul(100)
        .and_then(|f| f.checked_add(cents))
        .ok_or_else(|| "金额超出上限".to_owned())
}

/// A number cell's value as yuan: Excel keeps numbers as binary floats of 15 significant
/// digits, so the cell is first written as decimal text rounded to 6 places, or fewer when the
/// integer part is long (15 significant digits in all, at least 2 decimals: `0.1 + 0.2` →
/// `0.300000`, `9510232317.03` → `9510232317.03000`), then every digit after the second decimal
/// must be zero, and the text is parsed as decimal by [`yuan_text_to_fen`].
pub fn yuan_number_to_fen(value: f64) -> Result<i64, String> {
    if !value.is_finite() {
        return Err("金额格式不正确".to_owned());
    }
    if value < 0.0 {
        return Err("金额不能为负数".to_owned());
    }
    if value >= 1e12 {
        return Err("金额超出上限".to_owned());
    }
    // Past 15 significant digits a float's decimals are noise, not what was typed.
    let int_digits = format!("{:.0}", value.trunc()).len();
    let decimals = 15usize.saturating_sub(int_digits).clamp(2, 6);
    let text = format!("{value:.decimals$}");
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let (cents, rest) = frac_part.split_at(frac_part.len().min(2));
    if rest.chars().any(|c| c != '0') {
        return Err("金额最多保留两位小数".to_owned());
    }
    yuan_text_to_fen(&format!("{int_part}.{cents}"))
}

/// Fen as yuan with thousands separators: `123450` → `¥1,234.50` (the browser's text too).
pub use vocab::orders::format_fen;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_amounts() {
        assert_eq!(yuan_text_to_fen("12"), Ok(1200));
        assert_eq!(yuan_text_to_fen("12.3"), Ok(1230));
        assert_eq!(yuan_text_to_fen("12.35"), Ok(1235));
        assert_eq!(yuan_text_to_fen(" 1,234.50 "), Ok(123_450));
        assert_eq!(yuan_text_to_fen("¥0.07"), Ok(7));
        assert_eq!(yuan_text_to_fen(".5"), Ok(50));
        assert_eq!(yuan_text_to_fen("0"), Ok(0));
        assert!(yuan_text_to_fen("12.345").is_err());
        assert!(yuan_text_to_fen("-1").is_err());
        assert!(yuan_text_to_fen("abc").is_err());
        assert!(yuan_text_to_fen("").is_err());
        assert!(yuan_text_to_fen(".").is_err());
        assert!(yuan_text_to_fen("1e3").is_err());
        assert!(yuan_text_to_fen("1234567890123").is_err());
    }

    #[test]
    fn number_amounts_have_no_float_rounding_bugs() {
        assert_eq!(yuan_number_to_fen(0.1 + 0.2), Ok(30));
        assert_eq!(yuan_number_to_fen(19.99), Ok(1999));
        assert_eq!(yuan_number_to_fen(1.005 * 1000.0), Ok(100_500));
        assert_eq!(yuan_number_to_fen(4.35), Ok(435));
        assert_eq!(yuan_number_to_fen(1_234_567.89), Ok(123_456_789));
        assert_eq!(yuan_number_to_fen(12.0), Ok(1200));
        // Found by the property test: long amounts lost their cents to float noise.
        assert_eq!(yuan_number_to_fen(9_510_232_317.03), Ok(951_023_231_703));
        assert_eq!(
            yuan_number_to_fen(999_999_999_999.99),
            Ok(99_999_999_999_999)
        );
        assert!(yuan_number_to_fen(123_456_789.123).is_err());
        assert!(yuan_number_to_fen(12.345).is_err());
        assert!(yuan_number_to_fen(-0.01).is_err());
        assert!(yuan_number_to_fen(f64::NAN).is_err());
    }

    #[test]
    fn formats_fen() {
        assert_eq!(format_fen(0), "¥0.00");
        assert_eq!(format_fen(7), "¥0.07");
        assert_eq!(format_fen(123_450), "¥1,234.50");
        assert_eq!(format_fen(100_000_000), "¥1,000,000.00");
        assert_eq!(format_fen(-150), "-¥1.50");
    }
}
