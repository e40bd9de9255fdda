//! The module graph of each crate, read from its source: which module's
//! code names which other module (`crate::engine::…`, `super::ca::…`).
//! Parents and their children aside, the graph must be acyclic
//! (ARCHITECTURE.md, invariants): the test below reads every crate of the
//! workspace and names the modules of any cycle it finds.
//!
//! Comments and `#[cfg(test)]` code do not count: a doc link is not a
//! dependency, and a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Module path (`engine::tokens`) → the modules its code names.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The graph of the crate whose sources are under `src`.
pub fn read(src: &Path) -> Result<Graph, String> {
    let mut sources = BTreeMap::new();
    collect(src, src, &mut sources)?;
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, text) in &sources {
        let code = code_of(text);
        let mut deps = BTreeSet::new();
        for path in referenced_paths(module, &code) {
            // The longest prefix of the path that is a module.
            let parts: Vec<&str> = path.split("::").collect();
            if let Some(dep) = (1..=parts.len())
                .rev()
                .map(|n| parts[..n].join("::"))
                .find(|p| modules.contains(p))
            {
                let related = dep == *module
                    || dep.starts_with(&format!("{module}::"))
                    || module.starts_with(&format!("{dep}::"));
                if !related {
                    deps.insert(dep);
                }
            }
        }
        graph.insert(module.clone(), deps);
    }
    Ok(graph)
}

/// Every `.rs` file under `dir` as a module path; `lib.rs` and `main.rs`
/// are the crate root, which may name anything.
fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .map_err(|e| e.to_string())?
                .with_extension("");
            let module = rel.to_string_lossy().replace(['/', '\\'], "::");
            if module == "lib" || module == "main" || module.ends_with("_main") {
                continue;
            }
            let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.insert(module, text);
        }
    }
    Ok(())
}

/// The file's code: comment lines dropped, and nothing from the first
/// `#[cfg(test)]` on.
fn code_of(text: &str) -> String {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths the code names, resolved from the crate root:
/// `crate::a::b`, `crate::{a, b::c}`, `super::x` (from `module`'s parent).
fn referenced_paths(module: &str, code: &str) -> Vec<String> {
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent.to_string())] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let join = |p: &str| {
                if base.is_empty() {
                    p.to_string()
                } else {
                    format!("{base}::{p}")
                }
            };
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let item = path_at(item.trim());
                    if !item.is_empty() && item != "self" {
                        out.push(join(&item));
                    }
                }
            } else {
                let item = path_at(rest);
                if !item.is_empty() && item != "super" {
                    out.push(join(&item));
                }
            }
        }
    }
    out
}

/// The `a::b::c` path at the start of `text`.
fn path_at(text: &str) -> String {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end].trim_end_matches(':').to_string()
}

/// The cycles of the graph, each as its modules (strongly connected
/// components of more than one module).
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    // Tarjan's algorithm, iteratively small enough for these graphs.
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_crate_s_module_graph_is_acyclic() {
        let root = crate::tools::workspace_root();
        for krate in ["model", "core", "tpm-emu", "app"] {
            let graph = read(&root.join(krate).join("src")).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                graph.len() > 5,
                "{krate}: only {} modules read",
                graph.len()
            );
            let found = cycles(&graph);
            let described: Vec<String> = found
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|m| {
                            format!(
                                "{m} → {:?}",
                                graph[m]
                                    .intersection(&c.iter().cloned().collect())
                                    .collect::<Vec<_>>()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .collect();
            assert!(
                found.is_empty(),
                "{krate} has module cycles: {described:#?}"
            );
        }
    }

    #[test]
    fn the_reader_sees_paths_groups_and_super_and_ignores_comments_and_tests() {
        let code = code_of(
            "use crate::a::X;\nuse crate::{b::Y, c};\n// crate::d\nfn f() { super::e::g(); }\n#[cfg(test)]\nuse crate::z;",
        );
        let paths = referenced_paths("p::q", &code);
        assert_eq!(paths, vec!["a::X", "b::Y", "c", "p::e::g"]);
        let mut graph = Graph::new();
        graph.insert("a".into(), ["b".to_string()].into());
        graph.insert("b".into(), ["c".to_string()].into());
        graph.insert("c".into(), ["a".to_string()].into());
        graph.insert("d".into(), ["a".to_string()].into());
        assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
        graph.insert("c".into(), BTreeSet::new());
        assert!(cycles(&graph).is_empty());
    }
}
