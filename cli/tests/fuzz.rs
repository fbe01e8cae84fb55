//! Seeded fuzzing of the command line: valid model files are mutated at random (bytes deleted,
//! inserted and replaced, tokens swapped, files truncated, numbers made huge, negative or odd,
//! arrays duplicated, strings and keys replaced) and run through `exact` and `moments`.
//!
//! * In-process, through `stochgrad_cli::run` under `catch_unwind`: thousands of mutations; no
//!   panic, every error one line, every success valid JSON (or CSV) with no stray null.
//! * Through the binary: a few dozen; exit code 0 or 2 only, and exactly one stderr line on failure.

mod common;

use common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;
use stochgrad_cli::{parse_model, run};

/// SplitMix64: a tiny deterministic generator for the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const INTERESTING: &[u8] = b"{}[],:\"-+.0123456789eE ntfrualsNI\\";
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "3",
    "30",
    "31",
    "-7.5",
    "0.5",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e999",
    "-1e999",
    "1e-320",
    "5e-324",
    "700",
    "-745",
    "40",
    "1e15",
    "18446744073709551616",
    "2.5",
    "1e2",
    "-0.0",
    "00",
    "1.",
    ".5",
    "1e",
];
const WORDS: &[&str] = &[
    "toy",
    "readout",
    "softmax",
    "match",
    "binary",
    "sts",
    "noisy-rectifier",
    "kind",
    "weights",
    "bias",
    "target",
    "label",
    "pattern",
    "layers",
    "loss",
    "input",
    "unit",
    "NaN",
    "Infinity",
    "",
    "\\u0000",
    "\\ud800",
    "é",
];

/// Tokens of a JSON-ish text: strings, runs of number/word characters, single punctuation bytes
/// (whitespace dropped).
fn tokens(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.push(b[start..i].to_vec());
        } else if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.') {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'+' | b'.')) {
                i += 1;
            }
            out.push(b[start..i].to_vec());
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else {
            out.push(vec![c]);
            i += 1;
        }
    }
    out
}

fn join(tokens: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(t);
    }
    out
}

fn is_number(t: &[u8]) -> bool {
    t.first().is_some_and(|c| c.is_ascii_digit() || *c == b'-')
}

/// The matching `]` of the `[` at `open` (strings in the fixtures contain no brackets).
fn matching(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn random_byte(rng: &mut Rng) -> u8 {
    if rng.below(8) == 0 {
        rng.next() as u8
    } else {
        *rng.pick(INTERESTING)
    }
}

/// Apply one to three random mutations.
fn mutate(rng: &mut Rng, src: &str) -> Vec<u8> {
    let mut b = src.as_bytes().to_vec();
    // Mostly one mutation, and mostly ones that keep the JSON well-formed, so that a good share
    // of the mutants reaches the engine.
    const KINDS: [usize; 16] = [0, 1, 2, 3, 4, 4, 4, 4, 5, 5, 6, 7, 7, 8, 9, 9];
    let count = [1, 1, 1, 2, 2, 3][rng.below(6)];
    for _ in 0..count {
        let len = b.len();
        match *rng.pick(&KINDS) {
            0 if len > 0 => {
                let i = rng.below(len);
                let n = (1 + rng.below(4)).min(len - i);
                b.drain(i..i + n);
            }
            1 => {
                let i = rng.below(len + 1);
                let c = random_byte(rng);
                b.insert(i, c);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                b[i] = random_byte(rng);
            }
            3 => b.truncate(rng.below(len + 1)),
            4 => {
                let mut t = tokens(&b);
                let nums: Vec<usize> = (0..t.len()).filter(|&i| is_number(&t[i])).collect();
                if !nums.is_empty() {
                    let i = *rng.pick(&nums);
                    t[i] = rng.pick(NUMBERS).as_bytes().to_vec();
                    b = join(&t);
                }
            }
            5 => {
                // Duplicate the contents of an array: [a, b] → [a, b, a, b] (or [] → [[]]).
                let opens: Vec<usize> = (0..len).filter(|&i| b[i] == b'[').collect();
                if !opens.is_empty() {
                    let o = *rng.pick(&opens);
                    if let Some(c) = matching(&b, o) {
                        let inner = b[o + 1..c].to_vec();
                        let mut repl = inner.clone();
                        if inner.iter().all(u8::is_ascii_whitespace) {
                            repl = b"[]".to_vec();
                        } else {
                            repl.push(b',');
                            repl.extend_from_slice(&inner);
                        }
                        b.splice(o + 1..c, repl);
                    }
                }
            }
            6 => {
                let mut t = tokens(&b);
                if t.len() >= 2 {
                    let (i, j) = (rng.below(t.len()), rng.below(t.len()));
                    t.swap(i, j);
                    b = join(&t);
                }
            }
            7 => {
                let mut t = tokens(&b);
                let strs: Vec<usize> = (0..t.len()).filter(|&i| t[i].first() == Some(&b'"')).collect();
                if !strs.is_empty() {
                    let i = *rng.pick(&strs);
                    t[i] = format!("\"{}\"", rng.pick(WORDS)).into_bytes();
                    b = join(&t);
                }
            }
            8 => {
                let mut t = tokens(&b);
                if !t.is_empty() {
                    let i = rng.below(t.len());
                    t.remove(i);
                    b = join(&t);
                }
            }
            _ => {
                // Wrap a number in brackets, or negate it.
                let mut t = tokens(&b);
                let nums: Vec<usize> = (0..t.len()).filter(|&i| is_number(&t[i])).collect();
                if !nums.is_empty() {
                    let i = *rng.pick(&nums);
                    let n = String::from_utf8_lossy(&t[i]).into_owned();
                    t[i] = if rng.below(2) == 0 { format!("[{n}]") } else { format!("-{n}") }.into_bytes();
                    b = join(&t);
                }
            }
        }
    }
    b
}

fn fixtures() -> Vec<String> {
    vec![
        toy(-1.0, 0.45),
        toy(0.0, 0.5),
        READOUT3.to_string(),
        SOFTMAX2.to_string(),
        MATCH2.to_string(),
        TOY2.to_string(),
    ]
}

/// Whether every computation on this model is cheap enough for the fuzz loop (the limits
/// themselves are tested elsewhere; here only the parser's and the engine's robustness).
fn cheap(text: &[u8]) -> (bool, bool) {
    match parse_model(text) {
        Ok(m) => {
            let w = m.widths();
            let chain_ok = w.iter().all(|&x| x <= 10) && m.input.len() <= 256;
            let moments_ok = chain_ok && m.units() <= 7 && m.num_params() <= 200;
            (chain_ok, moments_ok)
        }
        Err(_) => (true, true),
    }
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Check one in-process run: no panic; an error is one line; an output is valid JSON/CSV.
fn check(argv: &[String], stdin: &[u8], csv: bool) -> bool {
    let start = Instant::now();
    let res = catch_unwind(AssertUnwindSafe(|| run(argv, &mut &stdin[..])));
    let res = res.unwrap_or_else(|_| panic!("panic for {argv:?} <<< {:?}", String::from_utf8_lossy(stdin)));
    // Every fuzzed model is small: a slow run means an engine loop that does not converge.
    assert!(
        start.elapsed().as_secs_f64() < 5.0,
        "{:?} for {argv:?} <<< {:?}",
        start.elapsed(),
        String::from_utf8_lossy(stdin)
    );
    match res {
        Ok(out) => {
            if csv {
                let mut lines = out.lines();
                let header = lines.next().expect("a header");
                let cols = header.split(',').count();
                for l in lines {
                    assert_eq!(l.split(',').count(), cols, "{l}");
                    for cell in l.split(',').skip(1).filter(|c| !c.is_empty()) {
                        assert!(cell.parse::<f64>().is_ok_and(f64::is_finite), "{cell}");
                    }
                }
            } else {
                let v: serde_json::Value =
                    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{argv:?}: invalid JSON ({e}): {out}"));
                assert_no_stray_null(&v, "");
            }
            true
        }
        Err(e) => {
            let line = e.line();
            assert!(!line.contains('\n') && !line.contains('\r') && line.starts_with("stochgrad: "), "{line:?}");
            false
        }
    }
}

#[test]
fn fuzzed_models_in_process() {
    let start = Instant::now();
    let fx = fixtures();
    let mut rng = Rng(0x5eed_cafe);
    let (mut runs, mut ok_exact, mut ok_moments, mut parsed) = (0, 0, 0, 0);
    const N: usize = 20_000;
    for i in 0..N {
        let src = rng.pick(&fx).clone();
        let bytes = mutate(&mut rng, &src);
        // The parser alone, on everything.
        let parsed_ok = catch_unwind(AssertUnwindSafe(|| parse_model(&bytes).is_ok()))
            .unwrap_or_else(|_| panic!("parser panic <<< {:?}", String::from_utf8_lossy(&bytes)));
        parsed += parsed_ok as usize;
        let (chain_ok, moments_ok) = cheap(&bytes);
        if chain_ok {
            let csv = i % 5 == 0;
            let mut a = args(&["exact", "-"]);
            if csv {
                a.extend(args(&["--format", "csv"]));
            }
            ok_exact += check(&a, &bytes, csv) as usize;
            runs += 1;
        }
        if moments_ok {
            let key = BINARY_KEYS[i % BINARY_KEYS.len()];
            let method = ["auto", "exact", "monte-carlo"][(i / BINARY_KEYS.len()) % 3];
            let mut a = args(&[
                "moments",
                "-",
                "--estimator",
                key,
                "--method",
                method,
                "--samples",
                "512",
                "--seed",
                &i.to_string(),
            ]);
            match i % 7 {
                0 => a.extend(args(&["--tau", "0.01"])),
                1 => a.extend(args(&["--tau", "100", "--k", "5"])),
                2 => a.extend(args(&["--decay", "0"])),
                3 => a.extend(args(&["--k", "64", "--decay", "0.999"])),
                4 => a.extend(args(&["--gap", "0", "--eta", "-10", "--lambda", "0.01"])),
                5 => a.extend(args(&["--gap", "100", "--eta", "10", "--lambda", "100", "--k", "2"])),
                _ => {}
            }
            let csv = i % 4 == 0;
            if csv {
                a.extend(args(&["--format", "csv"]));
            }
            ok_moments += check(&a, &bytes, csv) as usize;
            runs += 1;
        }
    }
    eprintln!(
        "{N} mutations: {parsed} parsed, {runs} runs, {ok_exact} exact and {ok_moments} moments succeeded, {:.1?}",
        start.elapsed()
    );
    // The mutations must leave enough valid models to exercise the engine, and break enough to
    // exercise the errors.
    assert!(parsed > N / 10 && parsed < N * 9 / 10, "{parsed} of {N} parsed");
    assert!(ok_moments > N / 20, "{ok_moments} moments succeeded");
}

#[test]
fn fuzzed_command_lines_in_process() {
    let pool = [
        "exact",
        "moments",
        "estimators",
        "help",
        "-",
        "-",
        "--estimator",
        "--estimator",
        "reinforce",
        "st",
        "concrete",
        "reinforce-loo",
        "bogus",
        "--tau",
        "0.5",
        "abc",
        "-1",
        "nan",
        "1e400",
        "--k",
        "3",
        "999",
        "--decay",
        "0.5",
        "1",
        "--samples",
        "512",
        "10",
        "--seed",
        "7",
        "--method",
        "exact",
        "monte-carlo",
        "auto",
        "mc",
        "--format",
        "csv",
        "json",
        "xml",
        "--",
        "--tau=0.3",
        "--bogus",
        "-x",
        "/nonexistent/file.json",
        "",
        "=",
        "--=",
        "--k=",
        "é",
    ];
    let model = toy(-1.0, 0.45);
    let mut rng = Rng(42);
    let mut ok = 0;
    for _ in 0..1500 {
        let n = rng.below(7);
        let mut argv: Vec<String> = (0..n).map(|_| rng.pick(&pool).to_string()).collect();
        if rng.below(2) == 0 {
            argv.insert(0, if rng.below(2) == 0 { "moments" } else { "exact" }.to_string());
        }
        // Keep Monte Carlo short when it is chosen without --samples.
        if argv.first().is_some_and(|a| a == "moments") && !argv.iter().any(|a| a.starts_with("--samples")) {
            argv.extend(args(&["--samples", "1024"]));
        }
        let csv =
            argv.iter().any(|a| a == "csv") && !argv.iter().any(|a| a == "help" || a == "json" || a == "estimators");
        let res = catch_unwind(AssertUnwindSafe(|| run(&argv, &mut model.as_bytes())))
            .unwrap_or_else(|_| panic!("panic for {argv:?}"));
        match res {
            Ok(out) => {
                ok += 1;
                if !csv && out.trim_start().starts_with(['{', '[']) {
                    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
                    assert_no_stray_null(&v, "");
                }
            }
            Err(e) => assert!(!e.line().contains('\n'), "{argv:?}"),
        }
    }
    assert!(ok > 20, "{ok} command lines succeeded");
}

#[test]
fn fuzzed_models_through_the_binary() {
    let fx = fixtures();
    let mut rng = Rng(7);
    let (mut ok, mut failed) = (0, 0);
    for i in 0..48 {
        let src = rng.pick(&fx).clone();
        let bytes = mutate(&mut rng, &src);
        let (chain_ok, moments_ok) = cheap(&bytes);
        let key = BINARY_KEYS[i % BINARY_KEYS.len()];
        let argv: Vec<&str> = if i % 2 == 0 && moments_ok {
            vec!["moments", "-", "--estimator", key, "--samples", "512"]
        } else if chain_ok {
            vec!["exact", "-"]
        } else {
            continue;
        };
        let r = stochgrad(&argv, &bytes);
        match r.code {
            0 => {
                ok += 1;
                assert!(r.stderr.is_empty(), "{r:?}");
                let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON on success");
                assert_no_stray_null(&v, "");
            }
            2 => {
                failed += 1;
                assert_one_line_error(&r, &format!("{argv:?} <<< {:?}", String::from_utf8_lossy(&bytes)));
            }
            c => panic!("exit code {c} for {argv:?} <<< {:?}: {r:?}", String::from_utf8_lossy(&bytes)),
        }
    }
    assert!(ok > 3 && failed > 3, "{ok} succeeded, {failed} failed");
}
