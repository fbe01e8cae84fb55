//! Helpers shared by the CLI's integration tests: running the binary, the estimator keys, and the
//! fixture models.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `stochgrad ARGS` with `stdin` on standard input.
pub fn stochgrad(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stochgrad"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stochgrad");
    {
        let mut input = child.stdin.take().expect("stdin");
        // The binary may exit before reading (usage errors): a broken pipe here is fine.
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().expect("wait for stochgrad");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Assert a failed run: exit code 2, nothing on stdout, exactly one line `stochgrad: …` on stderr.
/// Returns that line (without the newline).
pub fn assert_one_line_error(r: &Run, context: &str) -> String {
    assert_eq!(r.code, 2, "{context}: expected exit code 2, got {r:?}");
    assert!(r.stdout.is_empty(), "{context}: stdout must be empty on error, got {:?}", r.stdout);
    assert!(r.stderr.ends_with('\n'), "{context}: stderr must end in a newline: {:?}", r.stderr);
    let line = &r.stderr[..r.stderr.len() - 1];
    assert!(!line.contains('\n') && !line.contains('\r'), "{context}: stderr must be one line: {:?}", r.stderr);
    assert!(line.starts_with("stochgrad: "), "{context}: stderr must start with `stochgrad: `: {line:?}");
    assert!(!line.contains("panicked") && !line.contains("internal error"), "{context}: {line}");
    line.to_string()
}

/// Run successfully and return the standard output.
pub fn ok(args: &[&str], stdin: &str) -> String {
    let r = stochgrad(args, stdin.as_bytes());
    assert_eq!(r.code, 0, "{args:?}: {r:?}");
    assert!(r.stderr.is_empty(), "{args:?}: stderr {:?}", r.stderr);
    r.stdout
}

/// Run successfully and parse the JSON output.
pub fn ok_json(args: &[&str], stdin: &str) -> Value {
    let out = ok(args, stdin);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"));
    assert_no_stray_null(&v, "");
    v
}

/// Run, expect the one-line error, and check it contains every one of `needles`.
pub fn err(args: &[&str], stdin: &str, needles: &[&str]) -> String {
    let r = stochgrad(args, stdin.as_bytes());
    let line = assert_one_line_error(&r, &format!("{args:?} <<< {stdin:.80}"));
    for n in needles {
        assert!(line.contains(n), "{args:?}: expected {n:?} in {line:?}");
    }
    line
}

pub fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b} (tolerance {tol})");
}

/// Assert that a JSON output has no null except where null is documented (`cosine` when a norm
/// is 0, `recommended_tau` when there is none) — a NaN written by serde_json would be a null.
pub fn assert_no_stray_null(v: &serde_json::Value, path: &str) {
    match v {
        serde_json::Value::Null => {
            assert!(path.ends_with(".cosine") || path.ends_with(".recommended_tau"), "null at {path}")
        }
        serde_json::Value::Array(a) => {
            a.iter().enumerate().for_each(|(i, x)| assert_no_stray_null(x, &format!("{path}[{i}]")))
        }
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| assert_no_stray_null(x, &format!("{path}.{k}"))),
        serde_json::Value::Number(n) => assert!(n.as_f64().is_some_and(f64::is_finite), "non-finite at {path}"),
        _ => {}
    }
}

/// Every estimator key, in the registry's order: the estimators of binary units, then the two
/// unit types.
pub const KEYS: [&str; 23] = [
    "reinforce",
    "reinforce-ma",
    "reinforce-optimal",
    "reinforce-loo",
    "arm",
    "disarm",
    "local-expectation",
    "muprop",
    "st",
    "st-sigmoid",
    "st-tempered",
    "concrete",
    "st-gumbel",
    "ar",
    "darn",
    "reinmax",
    "gapped-st",
    "gumbel-rao",
    "rebar",
    "relax",
    "learned-predictor",
    "sts",
    "noisy-rectifier",
];

/// The estimators of binary units: every key but the two unit types (`sts`, `noisy-rectifier`).
pub const BINARY_KEYS: &[&str] = KEYS.split_at(KEYS.len() - 2).0;

/// The single-unit toy of the reference values: `f(h) = (h − t)²`, logit `a`.
pub fn toy(a: f64, t: f64) -> String {
    format!(
        r#"{{"input": [], "layers": [{{"weights": [[]], "bias": [{a:?}]}}], "loss": {{"kind": "toy", "target": [{t:?}]}}}}"#
    )
}

/// Three independent units with a linear readout (reference example).
pub const READOUT3: &str = r#"{"layers": [{"weights": [[], [], []], "bias": [0.5, -1.0, 1.5]}],
 "loss": {"kind": "readout", "weights": [1.0, -2.0, 3.0], "bias": 0, "target": 1.0}}"#;

/// Two layers with an input and a 3-class softmax loss.
pub const SOFTMAX2: &str = r#"{
  "input": [0.5, -1.0],
  "layers": [
    {"weights": [[0.3, -0.2], [0.1, 0.4]], "bias": [0.0, 0.2], "unit": "binary"},
    {"weights": [[1.0, -1.0], [0.5, 0.5]], "bias": [-0.3, 0.1]}
  ],
  "loss": {"kind": "softmax", "weights": [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]], "bias": [0.0, 0.1, -0.1], "label": 2}
}"#;

/// Two layers with a non-differentiable match loss.
pub const MATCH2: &str = r#"{
  "input": [1.0],
  "layers": [
    {"weights": [[0.5], [-0.5], [1.0]], "bias": [0.1, 0.2, -0.3]},
    {"weights": [[0.2, -0.1, 0.3], [0.0, 0.4, -0.2]], "bias": [0.0, 0.5]}
  ],
  "loss": {"kind": "match", "pattern": [1, 0]}
}"#;

/// Two layers, toy loss on the second.
pub const TOY2: &str = r#"{"input": [1.0, 0.0, -0.5],
 "layers": [{"weights": [[0.2, 0.1, -0.3], [0.4, -0.5, 0.6]], "bias": [0.1, -0.1]},
            {"weights": [[1.0, -1.0]], "bias": [0.25]}],
 "loss": {"kind": "toy", "target": [0.45]}}"#;

/// A single layer of `n` independent units with a toy loss.
pub fn wide(n: usize) -> String {
    let rows = vec!["[]"; n].join(", ");
    let bias = vec!["0.1"; n].join(", ");
    let target = vec!["0.45"; n].join(", ");
    format!(
        r#"{{"layers": [{{"weights": [{rows}], "bias": [{bias}]}}], "loss": {{"kind": "toy", "target": [{target}]}}}}"#
    )
}
