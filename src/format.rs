//! How figures are printed: significant digits, never NaN or ∞ on screen, ± standard errors.

/// `x` with `sig` significant digits, in plain or scientific notation as fits; "—" if not finite.
pub fn sig(x: f64, sig: usize) -> String {
    digits(x, sig, true)
}

/// `sig` keeping trailing zeros, so that a table's columns show the same number of significant
/// digits ("9.190" beside "9.189", not "9.19").
pub fn sig_fixed(x: f64, sig: usize) -> String {
    digits(x, sig, false)
}

fn digits(x: f64, sig: usize, trim: bool) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let a = x.abs();
    let tidy = |s: String| if trim { trim_zeros(s) } else { s };
    if (1e-4..1e5).contains(&a) {
        let mut digits = (sig as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
        // Kept zeros: the rounded value may gain a digit (9.9996 → 10.00), so count from it.
        let rounded: f64 = format!("{a:.digits$}").parse().unwrap_or(a);
        if !trim && rounded >= 10f64.powi(a.log10().floor() as i32 + 1) && digits > 0 {
            digits -= 1;
        }
        tidy(format!("{x:.digits$}"))
    } else {
        let s = format!("{x:.*e}", sig.saturating_sub(1));
        // 1.230e-5 → 1.23e-5 (trimmed)
        match s.split_once('e') {
            Some((m, e)) => format!("{}e{}", tidy(m.to_string()), e),
            None => s,
        }
    }
}

/// A table cell: the value with `sig` digits and, for Monte Carlo, its standard error with two.
pub fn cell(value: f64, se: Option<f64>) -> String {
    match se {
        Some(s) if s.is_finite() && s > 0.0 => format!("{} ± {}", sig_fixed(value, 4), sig(s, 2)),
        _ => sig_fixed(value, 4),
    }
}

/// A squared figure (bias², variance, MSE) as the page shows it, in the readout and in the plots'
/// descriptions alike: an exact value below `floor` (rounding noise of an exact zero) is "0"; a
/// debiased Monte-Carlo bias² that came out below zero (an unbiased estimator's sampling noise) is
/// "≈ 0 (± s.e.)".
pub fn squared(value: f64, se: Option<f64>, floor: f64) -> String {
    match se.filter(|s| s.is_finite() && *s > 0.0) {
        None if value.abs() <= floor => "0".to_string(),
        Some(s) if value < 0.0 => format!("≈ 0 (± {})", sig(s, 2)),
        _ => cell(value, se),
    }
}

/// "1 parameter", "3 parameters".
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        t.to_string()
    } else {
        s
    }
}

/// `value ± 2·stderr` style text: "0.0251 ± 0.0007" (the ± is the standard error).
pub fn with_se(value: f64, se: Option<f64>) -> String {
    match se {
        Some(s) if s.is_finite() && s > 0.0 => format!("{} ± {}", sig(value, 4), sig(s, 2)),
        _ => sig(value, 4),
    }
}

/// A method label for tables: "exact", "quadrature", "MC (n = 25,600)".
pub fn method(method: &str, samples: Option<u64>) -> String {
    match (method, samples) {
        ("monte-carlo", Some(n)) => format!("Monte Carlo, n = {}", thousands(n)),
        ("monte-carlo", None) => "Monte Carlo".into(),
        (m, _) => m.to_string(),
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A title inside a sentence: its first letter lower-cased when it starts an ordinary word
/// ("Bias² and variance" → "bias² and variance"), nothing else touched ("E[f]", "ST" stay).
pub fn in_sentence(title: &str) -> String {
    let mut chars = title.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_ascii_uppercase() && b.is_ascii_lowercase() => {
            format!("{}{}", a.to_ascii_lowercase(), &title[1..])
        }
        _ => title.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(0.0196612, 4), "0.01966");
        assert_eq!(sig(-0.3621, 3), "-0.362");
        assert_eq!(sig(1.0, 4), "1");
        assert_eq!(sig(123.456, 4), "123.5");
        assert_eq!(sig(2.09987e-4, 4), "0.00021");
        assert_eq!(sig(2.09987e-5, 4), "2.1e-5");
        assert_eq!(sig(1.2345e-7, 3), "1.23e-7");
        assert_eq!(sig(f64::NAN, 3), "—");
        assert_eq!(sig(f64::INFINITY, 3), "—");
        assert_eq!(sig(0.0, 3), "0");
        assert_eq!(sig(4.5e6, 3), "4.5e6");
    }

    #[test]
    fn table_cells_keep_their_digits() {
        assert_eq!(sig_fixed(9.19, 4), "9.190");
        assert_eq!(sig_fixed(9.189, 4), "9.189");
        assert_eq!(sig_fixed(9.9996, 4), "10.00");
        assert_eq!(sig_fixed(1.0, 4), "1.000");
        assert_eq!(sig_fixed(0.0304, 4), "0.03040");
        assert_eq!(sig_fixed(2.5e-6, 4), "2.500e-6");
        assert_eq!(sig_fixed(0.0, 4), "0");
        assert_eq!(cell(9.19, Some(0.031)), "9.190 ± 0.031");
        assert_eq!(squared(1.083e-34, None, 1e-30), "0");
        assert_eq!(squared(-6.98e-7, Some(7.3e-7), 1e-30), "≈ 0 (± 7.3e-7)");
        assert_eq!(squared(2.5e-3, Some(1e-4), 1e-30), "0.002500 ± 0.0001");
        assert_eq!((count(1, "parameter"), count(3, "parameter")), ("1 parameter".into(), "3 parameters".into()));
    }

    #[test]
    fn errors_and_methods() {
        assert_eq!(with_se(0.02512, Some(0.00071)), "0.02512 ± 0.00071");
        assert_eq!(with_se(0.025, None), "0.025");
        assert_eq!(method("monte-carlo", Some(25600)), "Monte Carlo, n = 25,600");
        assert_eq!(method("exact", None), "exact");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }

    #[test]
    fn a_title_in_a_sentence_keeps_its_symbols() {
        assert_eq!(in_sentence("Bias² and variance"), "bias² and variance");
        assert_eq!(in_sentence("Training race: exact E[f] while training"), "training race: exact E[f] while training");
        assert_eq!(in_sentence("E[f] by step"), "E[f] by step");
        assert_eq!(in_sentence("ST against REINFORCE"), "ST against REINFORCE");
        assert_eq!(in_sentence(""), "");
    }
}
