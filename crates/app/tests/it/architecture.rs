//! The layering of docs/design-notes.md, checked on the source so it cannot erode
//! unnoticed: which crate may depend on which, adapters that do not reach into each other,
//! and files and functions small enough to read in one sitting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest file, in lines, and the files allowed past it with the reason.
const MAX_FILE_LINES: usize = 600;
const LARGE_FILES: &[(&str, &str)] = &[(
    "crates/web/src/api/spec.rs",
    "the OpenAPI document: one declarative table per schema",
)];

/// The longest production function, in lines, and the ones allowed past it.
const MAX_FN_LINES: usize = 80;
const LONG_FNS: &[(&str, &str, &str)] = &[(
    "crates/web/src/api/spec.rs",
    "openapi",
    "the OpenAPI document as one JSON literal, read top to bottom like the spec it is",
)];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust file of the workspace, by path relative to its root.
fn sources() -> BTreeMap<String, String> {
    let root = workspace();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The `[dependencies]` of a crate (not its dev-dependencies).
fn dependencies(krate: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn crates_depend_only_downwards() {
    // domain ← geo, store ← services ← web ← app: the web adapters never touch the
    // store, and nothing below the services knows about HTTP.
    let allowed: &[(&str, &[&str])] = &[
        ("domain", &[]),
        ("geo", &["doorstep-domain"]),
        ("store", &["doorstep-domain"]),
        (
            "services",
            &["doorstep-domain", "doorstep-geo", "doorstep-store"],
        ),
        (
            "web",
            &["doorstep-domain", "doorstep-geo", "doorstep-services"],
        ),
    ];
    for (krate, expected) in allowed {
        let ours: BTreeSet<String> = dependencies(krate)
            .into_iter()
            .filter(|d| d.starts_with("doorstep-"))
            .collect();
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(ours, expected, "crates/{krate} depends on");
    }
    // Frameworks stay in their layer: SQL in the store, HTTP and templates in the web.
    for (dep, home) in [("sqlx", "store"), ("axum", "web"), ("minijinja", "web")] {
        for krate in ["domain", "geo", "store", "services", "web", "app"] {
            if krate != home {
                assert!(
                    !dependencies(krate).contains(dep),
                    "crates/{krate} depends on {dep}, which belongs to crates/{home}"
                );
            }
        }
    }
}

#[test]
fn web_adapters_do_not_reach_into_each_other() {
    // Pages, the JSON API and Open311 are siblings over the same services: what two of
    // them share belongs in the services (or in the web's shared views and params).
    let adapters = ["pages", "api", "open311"];
    let mut offences = Vec::new();
    for (path, text) in sources() {
        for own in adapters {
            if !path.starts_with(&format!("crates/web/src/{own}/")) {
                continue;
            }
            for other in adapters.iter().filter(|a| **a != own) {
                if text.contains(&format!("crate::{other}")) {
                    offences.push(format!("{path} uses crate::{other}"));
                }
            }
        }
        // Nothing in the web names the store, even through a path.
        if path.starts_with("crates/web/") && text.contains("doorstep_store") {
            offences.push(format!("{path} names doorstep_store"));
        }
        // …nor reaches it through the services' handle, which would skip their rules.
        if path.starts_with("crates/web/")
            && (text.contains(".store.") || text.contains(".store\n"))
        {
            offences.push(format!("{path} reaches the store through the services"));
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}

#[test]
fn files_stay_readable() {
    let mut offences = Vec::new();
    for (path, text) in sources() {
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES && !LARGE_FILES.iter().any(|(p, _)| *p == path) {
            offences.push(format!("{path}: {lines} lines (at most {MAX_FILE_LINES})"));
        }
    }
    assert!(offences.is_empty(), "split these by concern: {offences:#?}");
}

/// The functions of `text` (before its `#[cfg(test)]` module) with their length in lines:
/// from the `fn` line to the closing brace at the same indentation.
fn functions(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.trim() == "#[cfg(test)]")
        .unwrap_or(lines.len());
    let mut out = Vec::new();
    for (i, line) in lines[..end].iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let after_vis = trimmed
            .strip_prefix("pub(crate) ")
            .or_else(|| trimmed.strip_prefix("pub(super) "))
            .or_else(|| trimmed.strip_prefix("pub "))
            .unwrap_or(trimmed);
        let after_mods = after_vis
            .trim_start_matches("const ")
            .trim_start_matches("async ")
            .trim_start_matches("unsafe ");
        let Some(rest) = after_mods.strip_prefix("fn ") else {
            continue;
        };
        if line.trim_end().ends_with(';') || line.trim_end().ends_with('}') {
            continue; // a declaration or a one-liner
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        if let Some(len) = lines[i..end].iter().position(|l| *l == close) {
            out.push((name, len + 1));
        }
    }
    out
}

#[test]
fn functions_stay_readable() {
    let mut offences = Vec::new();
    for (path, text) in sources() {
        if path.contains("/tests/") {
            continue;
        }
        for (name, len) in functions(&text) {
            let excused = LONG_FNS.iter().any(|(p, f, _)| *p == path && *f == name);
            if len > MAX_FN_LINES && !excused {
                offences.push(format!("{path}: fn {name} is {len} lines"));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "at most {MAX_FN_LINES} lines; name the steps: {offences:#?}"
    );
}

#[test]
fn the_function_measure_counts_what_it_should() {
    let text = "fn a() {\n    one();\n}\n\npub async fn b(\n    x: u8,\n) {\n    if x {\n    }\n}\nfn c() {}\n#[cfg(test)]\nfn d() {\n}\n";
    assert_eq!(
        functions(text),
        vec![("a".to_string(), 3), ("b".to_string(), 6)]
    );
}

#[test]
fn exceptions_still_exist() {
    // An exception for a file or function that is gone (or now short) is stale.
    let src = sources();
    for (path, why) in LARGE_FILES {
        let lines = src.get(*path).map(|t| t.lines().count()).unwrap_or(0);
        assert!(
            lines > MAX_FILE_LINES,
            "{path} ({why}) no longer needs its exception"
        );
    }
    for (path, name, why) in LONG_FNS {
        let len = src
            .get(*path)
            .and_then(|t| functions(t).into_iter().find(|(n, _)| n == name))
            .map(|(_, l)| l)
            .unwrap_or(0);
        assert!(
            len > MAX_FN_LINES,
            "{path} fn {name} ({why}) no longer needs its exception"
        );
    }
}
