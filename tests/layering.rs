//! The layering check (docs/architecture.md): the top-level modules of `src/` form a DAG,
//! and every import points to a lower layer. Reads the sources, so an import that climbs
//! back up fails `make test`. `cargo test --test layering -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, bottom up. A module may import only modules of a lower rank; modules of
/// equal rank are independent of each other.
const LAYERS: &[(&str, u32)] = &[
    ("config", 0),
    ("wire", 1),
    ("protocol", 2),
    ("client", 3),
    ("daemon", 3),
    ("ondisk", 4),
    ("scan", 5),
    ("host", 6),
    ("audit", 7),
    ("ffi", 8),
];

fn rank(m: &str) -> u32 {
    LAYERS
        .iter()
        .find(|(n, _)| *n == m)
        .unwrap_or_else(|| panic!("module `{m}` is not in LAYERS: give it a layer"))
        .1
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Source text without comments and string literals, so that prose naming a module
/// (`crate::ffi` in a doc comment) is not an import.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// The top-level modules a source text names as `crate::m` (also inside `use crate::{..}`).
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(p) = rest.find("crate::") {
        rest = &rest[p + 7..];
        let mut names = vec![];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::x, b}`: the first segment of each item at depth 0.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        rest = &group[i..];
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => {
                        let n: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        names.push(n);
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
        found.extend(names.into_iter().filter(|n| !n.is_empty()));
    }
    found
}

/// Module -> the modules it imports, from `src/<module>.rs` and `src/<module>/**.rs`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g = BTreeMap::new();
    for e in fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" || name == "bin" {
            continue;
        }
        let mut files = vec![];
        if p.is_dir() {
            rs_files(&p, &mut files);
        } else {
            files.push(p.clone());
        }
        let mut deps = BTreeSet::new();
        for f in files {
            deps.extend(imports(&code_only(&fs::read_to_string(&f).unwrap())));
        }
        deps.remove(&name);
        g.insert(name, deps);
    }
    for deps in g.values_mut() {
        // `crate::` also prefixes macros and the crate's own items; keep modules only.
        deps.retain(|d| LAYERS.iter().any(|(n, _)| n == d));
    }
    g
}

/// Edges that lie on a cycle: a -> b where b reaches a.
fn edges_on_cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            if m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                stack.extend(g.get(&m).into_iter().flatten().cloned());
            }
        }
        false
    };
    let mut out = vec![];
    for (a, deps) in g {
        for b in deps {
            if reaches(b, a) {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

#[test]
fn modules_form_a_dag_and_imports_point_down() {
    let g = graph();
    let mut edges = 0;
    let mut up = vec![];
    for (m, deps) in &g {
        println!(
            "{m} (layer {}) -> {}",
            rank(m),
            deps.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        for d in deps {
            edges += 1;
            if rank(d) >= rank(m) {
                up.push(format!("{m} -> {d}"));
            }
        }
    }
    let cyc = edges_on_cycles(&g);
    println!(
        "modules: {}, edges: {edges}, edges on cycles: {}",
        g.len(),
        cyc.len()
    );
    assert!(cyc.is_empty(), "import cycles: {cyc:?}");
    assert!(
        up.is_empty(),
        "imports that do not point to a lower layer: {up:?}"
    );
}

#[test]
fn the_check_sees_imports_and_ignores_prose() {
    let code = code_only(
        "use crate::{config::Node, wire as w};\n/// see `crate::ffi`\nlet s = \"crate::host\";\n\
         crate::scan::x(); /* crate::daemon */",
    );
    let got: Vec<_> = imports(&code).into_iter().collect();
    assert_eq!(got, ["config", "scan", "wire"]);
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert(
        "b".to_string(),
        BTreeSet::from(["a".to_string(), "c".to_string()]),
    );
    g.insert("c".to_string(), BTreeSet::new());
    assert_eq!(edges_on_cycles(&g).len(), 2);
}
