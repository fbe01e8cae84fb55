//! Generated, checked docs: every block between `<!-- generated: WHAT -->` and `<!-- end -->` in
//! the README and docs/ is the engine's output, verbatim. WHAT is
//!
//! * `stochgrad ARGS…` (optionally `< FILE`, read as standard input): the CLI's output — the
//!   README's estimator table is `stochgrad estimators --format markdown`, from the registry;
//! * `cli-synopsis`, `cli-flags`: the CLI's synopses and its table of flags (`cli/src/flags.rs`);
//! * `url-keys`: the page's URL keys (`src/page.rs`'s table of fields).
//!
//! A block that opens with a code fence stays fenced. `make docs` (`STOCHGRAD_BLESS=1 cargo test
//! --test docs`) rewrites every block; without it a differing block fails the test.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

/// The files with generated blocks, and how many each must have (so that none disappears).
const FILES: [(&str, usize); 3] = [("README.md", 3), ("docs/cli.md", 6), ("docs/url.md", 1)];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The text a block stands for.
fn generate(what: &str) -> String {
    match what {
        "cli-synopsis" => stochgrad_cli::synopses(),
        "cli-flags" => stochgrad_cli::flags::markdown_table(),
        "url-keys" => stochgrad_app::page::key_table(),
        command => {
            let command =
                command.strip_prefix("stochgrad ").unwrap_or_else(|| panic!("unknown generated block {what}"));
            let (cmd, input) = match command.split_once(" < ") {
                Some((c, f)) => (c, std::fs::read(root().join(f.trim())).unwrap()),
                None => (command, Vec::new()),
            };
            let args: Vec<String> = cmd.split_whitespace().map(String::from).collect();
            stochgrad_cli::run(&args, &mut input.as_slice()).unwrap_or_else(|e| panic!("stochgrad {command}: {e}"))
        }
    }
}

#[test]
fn generated_blocks_are_the_engines_output() {
    let bless = std::env::var_os("STOCHGRAD_BLESS").is_some();
    let mut failures = Vec::new();
    for (file, min_blocks) in FILES {
        let path = root().join(file);
        let original = std::fs::read_to_string(&path).unwrap();
        let mut text = original.clone();
        let (mut start, mut blocks) = (0, 0);
        while let Some(off) = text[start..].find("<!-- generated: ") {
            let at = start + off;
            let line_end = at + text[at..].find("-->").expect("unterminated marker") + 3;
            let what = text[at + "<!-- generated: ".len()..line_end - 3].trim().to_string();
            let end = line_end + text[line_end..].find("<!-- end -->").expect("a generated block needs <!-- end -->");
            let out = generate(&what);
            let fence = text[line_end..end].trim_start().starts_with("```");
            let want = if fence { format!("\n```\n{out}```\n") } else { format!("\n{out}") };
            if text[line_end..end] != want {
                if bless {
                    text.replace_range(line_end..end, &want);
                } else {
                    failures.push(format!(
                        "{file}: the block `{what}` differs from the engine's output (make docs):\n{want}"
                    ));
                }
            }
            blocks += 1;
            start = line_end;
        }
        if bless && text != original {
            std::fs::write(&path, &text).unwrap();
        }
        assert!(blocks >= min_blocks, "{file} has {blocks} generated blocks, expected at least {min_blocks}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_flag_and_url_key_is_in_its_table() {
    // The tables are the source: a flag the parser takes or a key the URL reads is documented.
    let flags = stochgrad_cli::flags::markdown_table();
    for f in stochgrad_cli::flags::FLAGS {
        assert!(flags.contains(&format!("`--{} ", f.name)), "--{} missing from the flag table", f.name);
    }
    let keys = stochgrad_app::page::key_table();
    for f in stochgrad_app::page::FIELDS.iter() {
        assert!(keys.contains(&format!("| `{}` |", f.key)), "URL key {} missing", f.key);
    }
}
