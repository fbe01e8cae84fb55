//! How figures are printed: significant digits, never NaN or ∞ on screen, ± standard errors.

/// `x` with `sig` significant digits, in plain or scientific notation as fits; "—" if not finite.
pub fn sig(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let a = x.abs();
    if (1e-4..1e5).contains(&a) {
        let digits = (sig as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.digits$}");
        trim_zeros(s)
    } else {
        let s = format!("{x:.*e}", sig.saturating_sub(1));
        // 1.230e-5 → 1.23e-5
        match s.split_once('e') {
            Some((m, e)) => format!("{}e{}", trim_zeros(m.to_string()), e),
            None => s,
        }
    }
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
    fn errors_and_methods() {
        assert_eq!(with_se(0.02512, Some(0.00071)), "0.02512 ± 0.00071");
        assert_eq!(with_se(0.025, None), "0.025");
        assert_eq!(method("monte-carlo", Some(25600)), "Monte Carlo, n = 25,600");
        assert_eq!(method("exact", None), "exact");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }
}
