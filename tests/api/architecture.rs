//! The shape of the code, checked: the module graph has no cycle and no source file grows
//! past what one reader can hold. These read `src/` as text, so they need no database.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to (`src/grants/tranche.rs` → `grants`).
fn top_module(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Names of top-level modules a source text refers to through `crate::`.
fn references(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let text: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::{c, d}, e}`: the names at the first level of the braces.
            let (mut depth, mut current, mut names) = (1, String::new(), Vec::new());
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => names.push(std::mem::take(&mut current)),
                    c if depth == 1 => current.push(c),
                    _ => {}
                }
            }
            names.push(current);
            names
        } else {
            vec![rest.to_string()]
        };
        for n in names {
            let name: String = n
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| top_module(f))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for f in &files {
        let from = top_module(f);
        // The crate root assembles every module (AppState, build_app); it is not a module.
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for to in references(&text, &modules) {
            if to != from {
                graph.get_mut(&from).unwrap().insert(to);
            }
        }
    }
    graph
}

/// A path from `to` back to `from`, if one exists.
fn path_back(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut stack = vec![vec![to.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap().clone();
        if last == from {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in &graph[&last] {
            let mut p = path.clone();
            p.push(next.clone());
            stack.push(p);
        }
    }
    None
}

#[test]
fn the_top_level_module_graph_has_no_cycle() {
    let graph = module_graph();
    assert!(graph.contains_key("grants") && graph["grants"].contains("db"));
    let mut cycles = Vec::new();
    for (from, tos) in &graph {
        for to in tos {
            if let Some(back) = path_back(&graph, from, to) {
                cycles.push(format!("{from} -> {}", back.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_check_sees_grouped_and_nested_imports() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let refs = references(
        "use crate::{a::{x, y}, b};\nfn f() { crate::c::go(); } // crate::d::no",
        &modules,
    );
    assert_eq!(refs, ["a", "b", "c"].map(String::from).into());
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 800).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by aggregate: {long:?}");
}

/// Settings are read through their declarations (`src/config/settings.rs`): outside
/// `src/config*`, the environment is read only for a variable listed in `ALSO_READ`, so no
/// variable escapes `.env.example`, the README table and the misspelling check.
#[test]
fn the_environment_is_read_only_through_declared_settings() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut stray = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap().to_string_lossy().to_string();
        if rel.starts_with("config") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let Some(at) = line.find("env::var") else {
                continue;
            };
            let name = line[at..]
                .split('"')
                .nth(1)
                .filter(|_| line[at..].starts_with("env::var(\""));
            let declared =
                name.is_some_and(|n| idpc_hub::config::ALSO_READ.iter().any(|s| s.name == n));
            if !declared {
                stray.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "declare these in src/config/settings.rs (SETTINGS or ALSO_READ): {stray:?}"
    );
}

/// No error is swallowed inside a write transaction (issue 21): a statement that reads or
/// writes through the connection (`conn`, `ctx.conn`, a closure's `c`) never turns its result
/// into a default with `.ok()` nor drops it with `let _ =`. On PostgreSQL a swallowed failure
/// aborts the transaction and resurfaces far from its cause as "current transaction is
/// aborted"; the read must return its error instead.
#[test]
fn no_database_result_is_swallowed_into_a_default() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let uses_conn =
        |s: &str| s.contains("conn") || s.contains("(c,") || s.contains("(c)") || s.contains("(c ");
    let mut stray = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        // Unit tests may unwrap as they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for statement in code.split([';', '{', '}']) {
            let flat = statement.split_whitespace().collect::<Vec<_>>().join(" ");
            let swallowed = flat.contains(".ok()")
                || (flat.starts_with("let _ =")
                    && [".execute(", ".load(", ".first(", ".get_result("]
                        .iter()
                        .any(|call| flat.contains(call)));
            if uses_conn(&flat) && swallowed {
                stray.push(format!("{rel}: {flat}"));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "return these results with `?` instead: {stray:#?}"
    );
}

/// One clock (`src/clock.rs`): a command has one instant and a test moves time instead of
/// sleeping only if nothing else in `src/` reads the system time.
#[test]
fn the_current_time_is_read_only_through_the_clock() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut stray = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap().to_string_lossy().to_string();
        if rel == "clock.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if ["Utc::now()", "SystemTime::now()", "Local::now()"]
                .iter()
                .any(|call| compact.contains(call))
            {
                stray.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "take the time from the app's Clock (AppState::clock, Config::clock or Ctx::now): {stray:?}"
    );
}

/// One queue (issue 22): claiming, leasing, backoff and the dead-letter step are written once,
/// in `src/queue/`. Email, webhooks and every kind to come are a `queue::Job` and a
/// `queue::Delivery` on it, never a second claim statement, lease or retry schedule.
#[test]
fn there_is_no_second_queue() {
    // Compacted (no whitespace), so a line break or spacing does not hide one.
    let queue_code = [
        "SKIPLOCKED",
        "SETlease_owner",
        "lease_owner.eq(",
        "lease_until.eq(",
        "lease_until<",
        "next_attempt_at.eq(",
        "fnbackoff(",
        "1_i64<<",
    ];
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut stray = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap().to_string_lossy().to_string();
        if rel.starts_with("queue") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, line) in code.lines().enumerate() {
            let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if queue_code.iter().any(|q| compact.contains(q)) {
                stray.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "claim, lease and retry only through `crate::queue` (a `Job` and a `Delivery`): {stray:?}"
    );
}

/// Issue 22: what a route is (who may call it, its description, whether it takes an
/// `Idempotency-Key`, the rate limits its handler counts, its examples) is declared once, on
/// its handler's `#[utoipa::path]`, and read back from the document. So no code in `src/`
/// keys anything by a route's path (a match arm, a comparison, a prefix test, an entry of a
/// constant table), and no registry module keys anything by an operation id. A path as a
/// value (a `Location`, a self-link, an example) is fine.
#[test]
fn no_route_is_named_by_a_string_outside_its_handler() {
    let doc = idpc_hub::openapi::spec();
    let mut paths = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (path, item) in doc.paths.paths.iter() {
        paths.insert(format!("\"{path}\""));
        for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
            .into_iter()
            .flatten()
        {
            ids.extend(op.operation_id.clone().map(|id| format!("\"{id}\"")));
        }
    }
    let registries = [
        "routes.rs",
        "http_contract.rs",
        "middleware.rs",
        "idempotency.rs",
        "openapi",
    ];
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut stray = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap().to_string_lossy().to_string();
        let registry = registries.iter().any(|r| rel.starts_with(r));
        let text = std::fs::read_to_string(&f).unwrap();
        let mut in_table = false;
        for (i, line) in text.lines().enumerate() {
            let code: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if code.starts_with("#[cfg(test)]") {
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            let table_start = (code.contains("const") || code.contains("static"))
                && (code.contains(":&[&str") || code.contains(":&[(&str"));
            in_table = (in_table || table_start) && !code.contains("];");
            let keyed_by = |literals: &BTreeSet<String>| {
                literals.iter().any(|l| {
                    (in_table || table_start) && code.contains(l.as_str())
                        || [
                            format!("{l}=>"),
                            format!("{l}|"),
                            format!("|{l}"),
                            format!("=={l}"),
                            format!("!={l}"),
                            format!("(\"GET\",{l}"),
                            format!("(\"POST\",{l}"),
                            format!("({l},"),
                        ]
                        .iter()
                        .any(|shape| code.contains(shape.as_str()))
                })
            };
            let prefix = [
                "starts_with(\"/api",
                "starts_with(\"/health",
                "starts_with(\"/metrics",
            ]
            .iter()
            .any(|m| code.contains(m));
            if keyed_by(&paths) || prefix || registry && keyed_by(&ids) {
                stray.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "declare the route's facts on its #[utoipa::path] (see docs/adding-an-endpoint.md), \
         not in a table keyed by its path or operation id: {stray:?}"
    );
}

/// The longest a function in `src/` may be, signature to closing brace.
const LONGEST_FUNCTION: usize = 80;

/// Collects the functions of one file (free functions, methods, trait defaults) longer than
/// `LONGEST_FUNCTION` lines; unit-test modules and `#[test]` functions are not measured.
struct LongFunctions<'a> {
    file: &'a str,
    found: Vec<String>,
}

impl LongFunctions<'_> {
    fn measure(&mut self, name: &syn::Ident, from: proc_macro2::Span, to: proc_macro2::Span) {
        let lines = to.end().line - from.start().line + 1;
        if lines > LONGEST_FUNCTION {
            let at = from.start().line;
            self.found
                .push(format!("{}:{at} {name} ({lines} lines)", self.file));
        }
    }
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
    })
}

impl<'ast> syn::visit::Visit<'ast> for LongFunctions<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if is_test(&f.attrs) {
            return;
        }
        self.measure(
            &f.sig.ident,
            f.sig.fn_token.span,
            f.block.brace_token.span.close(),
        );
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.measure(
            &f.sig.ident,
            f.sig.fn_token.span,
            f.block.brace_token.span.close(),
        );
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.measure(
                &f.sig.ident,
                f.sig.fn_token.span,
                block.brace_token.span.close(),
            );
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

/// A function is read whole: past 80 lines it does several things, and each deserves a name.
#[test]
fn no_function_in_src_is_over_80_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut long = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let mut visitor = LongFunctions {
            file: &rel,
            found: Vec::new(),
        };
        syn::visit::Visit::visit_file(&mut visitor, &parsed);
        long.extend(visitor.found);
    }
    assert!(
        long.is_empty(),
        "split these into well-named pieces: {long:#?}"
    );
}
