//! The architecture's import rules, read from the sources of the three library crates (`core/src`,
//! `cli/src`, `src`):
//!
//! * **No circles** between files: an import is any path to another file's item — `use crate::…`,
//!   `use super::…` (with `{…}` groups expanded) and inline `crate::…` / `super::…` / `$crate::…`
//!   paths in code. A module file's references to its own submodules do not count (`mod.rs`
//!   re-exporting `common::JointRule` is the module presenting its parts, not a dependency).
//! * **The layer order** written in ARCHITECTURE.md ("Layers"): a top-level module may import only
//!   from modules on lines above its own. Paths through the crate root's re-exports
//!   (`crate::Result`) count as imports of the module they re-export.
//! * **Crates**: the core names neither shell; the CLI and the page do not name each other.
//!
//! The scanner is tested on sources written here (a circle, a layer violation, a submodule, a test
//! module's `super::*`), so the checks can fail.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A crate's sources: module path (`estimators::arm`; `` for `lib.rs`) → source text.
type Sources = BTreeMap<String, String>;

const CRATES: [(&str, &str); 3] = [("core", "core/src"), ("cli", "cli/src"), ("app", "src")];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file of a library crate except binaries (`main.rs`, `bin/`), which are crates of
/// their own above the library.
fn read_crate(dir: &Path) -> Sources {
    fn walk(dir: &Path, base: &Path, out: &mut Sources) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                if rel != "bin" {
                    walk(&path, base, out);
                }
            } else if rel.ends_with(".rs") && rel != "main.rs" {
                let module = rel.trim_end_matches(".rs").trim_end_matches("/mod").replace('/', "::");
                let module = if module == "lib" { String::new() } else { module };
                out.insert(module, fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = Sources::new();
    walk(dir, dir, &mut out);
    out
}

/// The source with comments, string and character literals blanked out (lifetimes kept).
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c[i] == 'r' && matches!(c.get(i + 1), Some('#') | Some('"')) && !ident_char(c.get(i.wrapping_sub(1)))
        {
            // r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' {
            // A character literal ('x', '\n', '\u{…}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                let mut j = i + 2;
                while j < c.len() && c[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Path, // ::
    Open,
    Close,
    Semi,
    Comma,
    Other,
}

fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_alphabetic() || ch == '_' || (ch == '$' && ident_char(c.get(i + 1))) {
            let start = i;
            i += 1;
            while ident_char(c.get(i)) {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
            continue;
        }
        out.push(match ch {
            ':' if c.get(i + 1) == Some(&':') => {
                i += 1;
                Tok::Path
            }
            '{' => Tok::Open,
            '}' => Tok::Close,
            ';' => Tok::Semi,
            ',' => Tok::Comma,
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            _ => Tok::Other,
        });
        i += 1;
    }
    out
}

/// The paths a `use` tree names (`a::{b, c::{d, self}}` → `a::b`, `a::c::d`, `a::c`).
fn use_paths(toks: &[Tok]) -> Vec<Vec<String>> {
    fn tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            match toks.get(*i) {
                Some(Tok::Ident(s)) if s == "as" => {
                    *i += 2; // `as name`
                }
                Some(Tok::Ident(s)) if s == "self" && path.len() == prefix.len() && !prefix.is_empty() => {
                    *i += 1; // `{self}`: the prefix itself
                }
                Some(Tok::Ident(s)) => {
                    path.push(s.clone());
                    *i += 1;
                }
                Some(Tok::Path) => *i += 1,
                Some(Tok::Open) => {
                    *i += 1;
                    loop {
                        tree(toks, i, &path, out);
                        match toks.get(*i) {
                            Some(Tok::Comma) => *i += 1,
                            Some(Tok::Close) => {
                                *i += 1;
                                break;
                            }
                            _ => break,
                        }
                        if toks.get(*i) == Some(&Tok::Close) {
                            *i += 1;
                            break;
                        }
                    }
                    return;
                }
                Some(Tok::Other) => *i += 1, // `*`
                _ => break,
            }
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    tree(toks, &mut i, &[], &mut out);
    out
}

/// The paths to other items in one file: (module the path is written in, path).
fn paths(file_module: &str, src: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let toks = tokens(&strip(src));
    let base: Vec<String> = file_module.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
    let mut out = Vec::new();
    // Inline modules (`mod tests { … }`): their names and the brace depth they close at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let here = |inline: &[(String, usize)]| -> Vec<String> {
        base.iter().cloned().chain(inline.iter().map(|(n, _)| n.clone())).collect()
    };
    while i < toks.len() {
        match &toks[i] {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(s) if s == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Open)) = (toks.get(i + 1), toks.get(i + 2)) {
                    inline.push((name.clone(), depth + 1));
                }
            }
            Tok::Ident(s) if s == "use" => {
                let end = (i..toks.len()).find(|&j| toks[j] == Tok::Semi).unwrap_or(toks.len());
                for p in use_paths(&toks[i + 1..end]) {
                    out.push((here(&inline), p));
                }
                i = end;
                continue;
            }
            // An inline path (not preceded by `::`, which would make it part of a longer one).
            Tok::Ident(s)
                if (s == "crate" || s == "$crate" || s == "super")
                    && toks.get(i + 1) == Some(&Tok::Path)
                    && (i == 0 || toks[i - 1] != Tok::Path) =>
            {
                let mut p = vec![s.clone()];
                let mut j = i + 1;
                while toks.get(j) == Some(&Tok::Path) {
                    match toks.get(j + 1) {
                        Some(Tok::Ident(n)) => p.push(n.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                out.push((here(&inline), p));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The crate root's re-exports: item name → the top-level module it comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let toks = tokens(&strip(lib));
    let mut out = BTreeMap::new();
    for (i, t) in toks.iter().enumerate() {
        if *t == Tok::Ident("use".into()) && i > 0 && toks[i - 1] == Tok::Ident("pub".into()) {
            let end = (i..toks.len()).find(|&j| toks[j] == Tok::Semi).unwrap();
            for p in use_paths(&toks[i + 1..end]) {
                if p.len() >= 2 && p[0] != "std" {
                    out.insert(p.last().unwrap().clone(), p[0].clone());
                }
            }
        }
    }
    out
}

/// The file a path names, or `None` for a path into the file itself, one of its submodules or
/// outside the crate.
fn resolve(
    sources: &Sources,
    reexports: &BTreeMap<String, String>,
    file: &str,
    here: &[String],
    path: &[String],
) -> Option<String> {
    let (mut target, rest): (Vec<String>, &[String]) = match path[0].as_str() {
        "crate" | "$crate" => (vec![], &path[1..]),
        "super" => {
            let mut t = here.to_vec();
            let mut k = 0;
            while path.get(k).is_some_and(|s| s == "super") {
                t.pop();
                k += 1;
            }
            (t, &path[k..])
        }
        "self" => (here.to_vec(), &path[1..]),
        _ => return None,
    };
    if target.is_empty() {
        if let Some(first) = rest.first() {
            if let Some(m) = reexports.get(first) {
                return Some(m.clone()).filter(|m| m != file);
            }
        }
    }
    // The longest prefix that is a file.
    let mut best = None;
    for k in 0..=rest.len() {
        if k > 0 {
            target.push(rest[k - 1].clone());
        }
        let name = target.join("::");
        if sources.contains_key(&name) {
            best = Some(name);
        }
    }
    let best = best?;
    let own_submodule = if file.is_empty() { true } else { best.starts_with(&format!("{file}::")) };
    (best != file && !own_submodule).then_some(best)
}

/// File → the files it imports.
fn graph(sources: &Sources) -> BTreeMap<String, BTreeSet<String>> {
    let reexports = sources.get("").map(|lib| root_reexports(lib)).unwrap_or_default();
    let mut g = BTreeMap::new();
    for (file, src) in sources {
        let mut deps = BTreeSet::new();
        for (here, path) in paths(file, src) {
            if let Some(t) = resolve(sources, &reexports, file, &here, &path) {
                deps.insert(t);
            }
        }
        g.insert(file.clone(), deps);
    }
    g
}

/// The strongly connected components with more than one file (Tarjan).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        for w in &t.g[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.stack.contains(&w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), out: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn top(file: &str) -> &str {
    file.split("::").next().unwrap()
}

/// Top-level module → the top-level modules it imports.
fn top_graph(g: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut t: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (f, deps) in g {
        if f.is_empty() {
            continue;
        }
        let e = t.entry(top(f).to_string()).or_default();
        for d in deps {
            if top(d) != top(f) && !d.is_empty() {
                e.insert(top(d).to_string());
            }
        }
    }
    t
}

/// The violations of a declared order (module → line number): imports of a module on the same
/// line or below, and modules missing from the order.
fn violations(g: &BTreeMap<String, BTreeSet<String>>, order: &BTreeMap<String, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for (m, deps) in top_graph(g) {
        let Some(&lm) = order.get(&m) else {
            out.push(format!("`{m}` is not in the layer order"));
            continue;
        };
        for d in deps {
            match order.get(&d) {
                Some(&ld) if ld < lm => {}
                Some(&ld) => out.push(format!("`{m}` (line {lm}) imports `{d}` (line {ld})")),
                None => out.push(format!("`{m}` imports `{d}`, which is not in the layer order")),
            }
        }
    }
    for m in order.keys() {
        if !g.keys().any(|f| !f.is_empty() && top(f) == m) {
            out.push(format!("the layer order names `{m}`, which is not a module"));
        }
    }
    out
}

/// The lowest layering the imports allow (each module one line above the highest it imports), to
/// print when the declared one is wrong.
fn suggested(g: &BTreeMap<String, BTreeSet<String>>) -> String {
    let t = top_graph(g);
    let mut level: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..=t.len() {
        for (m, deps) in &t {
            let l = deps.iter().map(|d| level.get(d).copied().unwrap_or(0) + 1).max().unwrap_or(0);
            level.insert(m.clone(), l.min(t.len()));
        }
    }
    let mut lines: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (m, l) in &level {
        lines.entry(*l).or_default().push(m);
    }
    lines.iter().map(|(l, ms)| format!("{:>2}  {}", l + 1, ms.join("  "))).collect::<Vec<_>>().join("\n")
}

/// The layer orders in ARCHITECTURE.md: fenced blocks whose first line is a crate's source folder
/// (`core/src …`), then one numbered line per layer, lowest first (`//` starts a gloss).
fn declared_orders(architecture: &str) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut out = BTreeMap::new();
    let mut lines = architecture.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```text" {
            continue;
        }
        let Some(head) = lines.next() else { break };
        let Some(&(_, dir)) = CRATES.iter().find(|(_, dir)| head.split_whitespace().next() == Some(dir)) else {
            continue;
        };
        let mut order = BTreeMap::new();
        for line in lines.by_ref().take_while(|l| l.trim() != "```") {
            let mut words = line.split("//").next().unwrap().split_whitespace();
            let Some(n) = words.next().and_then(|w| w.parse::<usize>().ok()) else { continue };
            for w in words {
                order.insert(w.to_string(), n);
            }
        }
        out.insert(dir.to_string(), order);
    }
    out
}

#[test]
fn no_file_imports_itself_through_others() {
    let mut found = Vec::new();
    for (_, dir) in CRATES {
        for c in circles(&graph(&read_crate(&root().join(dir)))) {
            found.push(format!("{dir}: {}", c.join(" ↔ ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn modules_import_only_from_the_layers_below_theirs() {
    let architecture = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let orders = declared_orders(&architecture);
    let mut problems = Vec::new();
    for (_, dir) in CRATES {
        let g = graph(&read_crate(&root().join(dir)));
        match orders.get(dir) {
            None => problems
                .push(format!("ARCHITECTURE.md has no layer order for {dir}; the imports allow:\n{}", suggested(&g))),
            Some(order) => {
                let v = violations(&g, order);
                if !v.is_empty() {
                    problems.push(format!("{dir}:\n  {}\nthe imports allow:\n{}", v.join("\n  "), suggested(&g)));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn crates_name_only_the_crates_below_them() {
    // The core is below both shells; the shells do not use each other.
    let forbidden = [
        ("core/src", &["stochgrad_app", "stochgrad_cli"][..]),
        ("cli/src", &["stochgrad_app"]),
        ("src", &["stochgrad_cli"]),
    ];
    for (dir, names) in forbidden {
        for (file, src) in read_crate(&root().join(dir)) {
            let toks = tokens(&strip(&src));
            for n in names {
                assert!(!toks.contains(&Tok::Ident(n.to_string())), "{dir} `{file}` names {n}");
            }
        }
    }
}

// The scanner on sources written here, so that the checks above can fail.

fn fake(files: &[(&str, &str)]) -> Sources {
    files.iter().map(|(m, s)| (m.to_string(), s.to_string())).collect()
}

#[test]
fn the_scanner_finds_a_circle_through_use_super_and_inline_paths() {
    let s = fake(&[
        ("", "pub mod a; pub mod b; pub mod c;"),
        ("a", "use crate::b::{Thing, other::{self}};\nfn f() {}"),
        ("b", "pub struct Thing; fn g() { super::c::h(); }"),
        ("c", "pub fn h() { let _ = crate::a::f as fn(); }"),
    ]);
    let g = graph(&s);
    assert_eq!(g["a"], BTreeSet::from(["b".to_string()]));
    assert_eq!(g["b"], BTreeSet::from(["c".to_string()]));
    assert_eq!(g["c"], BTreeSet::from(["a".to_string()]));
    assert_eq!(circles(&g), vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]);
}

#[test]
fn the_scanner_ignores_comments_strings_submodules_and_test_modules_super() {
    let s = fake(&[
        ("", "pub mod a; pub mod b; pub use a::Alpha;"),
        ("a", "mod sub; pub use sub::X; pub struct Alpha;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::sub::X;\n}"),
        ("a::sub", "pub struct X; fn f() { let _ = super::Alpha; }"),
        ("b", "// crate::a::Alpha in a comment\n/* use crate::a; */\nconst S: &str = \"crate::a::Alpha\";\nconst C: char = '\\'';\nfn f<'a>(x: &'a str) -> &'a str { x }\nuse crate::Alpha;"),
    ]);
    let g = graph(&s);
    // `a` presents its submodule; its test module's `super` is `a` itself.
    assert!(g["a"].is_empty(), "{:?}", g["a"]);
    // A submodule importing its parent is an import.
    assert_eq!(g["a::sub"], BTreeSet::from(["a".to_string()]));
    // Only the real path counts, resolved through the root's re-export.
    assert_eq!(g["b"], BTreeSet::from(["a".to_string()]));
    assert!(circles(&g).is_empty());
}

#[test]
fn the_layer_check_finds_an_import_from_above_and_a_missing_module() {
    let s = fake(&[
        ("", "pub mod low; pub mod high; pub mod new;"),
        ("low", "use crate::high::H;"),
        ("high", "pub struct H;"),
        ("new", ""),
    ]);
    let g = graph(&s);
    let order = BTreeMap::from([("low".to_string(), 1), ("high".to_string(), 2)]);
    let v = violations(&g, &order);
    assert!(v.iter().any(|m| m.contains("`low` (line 1) imports `high` (line 2)")), "{v:?}");
    assert!(v.iter().any(|m| m.contains("`new` is not in the layer order")), "{v:?}");
    let declared = declared_orders("x\n```text\ncore/src — lowest first\n 1  high\n 2  low  new\n```\n");
    assert!(violations(&g, &declared["core/src"]).is_empty());
}
