//! The layering docs/ARCHITECTURE.md states, held: every `crate::` and `super::` path of the
//! library's non-test code is read, and a module may use only its own folder and the folders of
//! lower layers, with no circle between the files of one folder. An upward import added
//! tomorrow fails here, naming the file, the line and the rule it breaks.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers between the markers of docs/ARCHITECTURE.md, lowest first: one line each, the
/// top-level modules of that layer separated by spaces.
fn stated_layers(architecture: &str) -> Vec<Vec<String>> {
    let block = architecture
        .split_once("<!-- layers: begin -->")
        .and_then(|(_, rest)| rest.split_once("<!-- layers: end -->"))
        .expect("docs/ARCHITECTURE.md marks its layers with <!-- layers: begin --> ... <!-- layers: end -->")
        .0;
    block
        .lines()
        .map(|l| l.trim().trim_matches('`').split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A module's path from the crate root (`["media", "libav"]` for src/media/libav.rs).
type ModPath = Vec<String>;

/// Every library source file under `src` with its module path, test-only modules left out
/// (those declared `#[cfg(test)] mod name;`), and its non-test text (from the first
/// `#[cfg(test)]` that opens an inline module, test modules being last in a file).
fn library_files(src: &Path) -> BTreeMap<ModPath, (PathBuf, String)> {
    let mut files = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.file_name().is_some_and(|n| n == "main.rs") {
                continue;
            }
            let mut module: ModPath =
                path.strip_prefix(src).unwrap().with_extension("").iter().map(|c| c.to_string_lossy().into()).collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let mut kept = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                if line.trim() == "#[cfg(test)]" {
                    let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
                    if let Some(name) = next.strip_prefix("mod ").and_then(|n| n.strip_suffix(';')) {
                        let mut child = module.clone();
                        child.push(name.to_owned());
                        test_only.insert(child);
                        continue;
                    }
                    if next.starts_with("mod ") {
                        break;
                    }
                }
                kept.push(*line);
            }
            files.insert(module, (path, kept.join("\n")));
        }
    }
    files.retain(|module, _| !test_only.iter().any(|t| module.starts_with(t)));
    files
}

/// The crate paths a text names, with the line of each: `crate::a::b`, `super::c` (resolved
/// against `module`), and each name of a `crate::{a, b::c}` group.
fn named_paths(module: &ModPath, text: &str) -> Vec<(usize, ModPath)> {
    let identifier = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for (start, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
            if code[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue; // `super::super::x` is read from its first `super`
            }
            let (mut base, mut rest) = (module.clone(), &code[start..]);
            match rest.strip_prefix("crate::") {
                Some(r) => (base, rest) = (Vec::new(), r),
                None => {
                    while let Some(r) = rest.strip_prefix("super::") {
                        base.pop();
                        rest = r;
                    }
                }
            }
            if let Some(group) = rest.strip_prefix('{') {
                for name in group.split(',').map(|n| identifier(n.trim())).filter(|n| !n.is_empty() && n != "self") {
                    found.push((number + 1, [base.clone(), vec![name]].concat()));
                }
                continue;
            }
            let mut path = base;
            for segment in rest.split("::") {
                let name = identifier(segment);
                let whole = name.len() == segment.len();
                if !name.is_empty() {
                    path.push(name);
                }
                if !whole {
                    break;
                }
            }
            found.push((number + 1, path));
        }
    }
    found
}

/// The file module a path leads into: its longest prefix that is a file.
fn file_of(path: &ModPath, files: &BTreeMap<ModPath, (PathBuf, String)>) -> Option<ModPath> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| files.contains_key(p))
}

/// Every breach of `layers` in the library under `src`, as one line each.
fn breaches(src: &Path, layers: &[Vec<String>]) -> Vec<String> {
    let files = library_files(src);
    let layer_of: BTreeMap<&str, usize> =
        layers.iter().enumerate().flat_map(|(i, names)| names.iter().map(move |n| (n.as_str(), i))).collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (module, (path, text)) in &files {
        let Some(top) = module.first() else { continue }; // lib.rs declares the modules
        let Some(&own) = layer_of.get(top.as_str()) else {
            problems.push(format!("{}: module `{top}` is in no layer of docs/ARCHITECTURE.md", path.display()));
            continue;
        };
        for (line, named) in named_paths(module, text) {
            let Some(target) = file_of(&named, &files) else { continue };
            let Some(target_top) = target.first() else { continue };
            if target_top == top {
                if target != *module && !module.starts_with(&target) {
                    edges.entry(module.clone()).or_default().insert(target);
                }
                continue;
            }
            match layer_of.get(target_top.as_str()) {
                Some(&layer) if layer < own => {}
                _ => problems.push(format!(
                    "{}:{line}: `{top}` uses `{}`, which is not in a lower layer than it",
                    path.display(),
                    named.join("::")
                )),
            }
        }
    }
    // Circles between the files of one folder: depth-first search for a back edge.
    fn visit(
        node: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        on_path: &mut Vec<ModPath>,
        done: &mut BTreeSet<ModPath>,
        problems: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = on_path.iter().position(|n| n == node) {
            let circle: Vec<String> = on_path[at..].iter().chain([node]).map(|m| m.join("::")).collect();
            problems.push(format!("a circle of files: {}", circle.join(" -> ")));
            return;
        }
        on_path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, on_path, done, problems);
        }
        on_path.pop();
        done.insert(node.clone());
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done, &mut problems);
    }
    problems
}

/// Longest a source file of the library may grow: past it, a file holds more than one job.
const MAX_LINES: usize = 600;

#[test]
fn no_source_file_is_over_600_lines() {
    let long: Vec<String> = library_files(&common::repo().join("src"))
        .into_values()
        .map(|(path, _)| (std::fs::read_to_string(&path).unwrap().lines().count(), path))
        .filter(|(lines, _)| *lines > MAX_LINES)
        .map(|(lines, path)| format!("{}: {lines} lines", path.display()))
        .collect();
    assert!(long.is_empty(), "split these by concern (at most {MAX_LINES} lines a file):\n{}", long.join("\n"));
}

fn architecture() -> String {
    std::fs::read_to_string(common::repo().join("docs/ARCHITECTURE.md")).unwrap()
}

#[test]
fn the_library_keeps_the_layers_architecture_md_states() {
    let layers = stated_layers(&architecture());
    assert!(layers.len() >= 5, "layers read from docs/ARCHITECTURE.md: {layers:?}");
    let problems = breaches(&common::repo().join("src"), &layers);
    assert!(problems.is_empty(), "the layering is broken:\n{}", problems.join("\n"));
}

/// The reading itself, on a small crate written here: an upward import, an import from the
/// same layer and a circle of two files are each found; the same crate without them passes.
#[test]
fn an_upward_import_a_sideways_one_and_a_circle_of_files_are_each_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let layers = stated_layers("<!-- layers: begin -->\n    util\n    face media\n    run\n<!-- layers: end -->");
    write("lib.rs", "pub mod util;\npub mod face;\npub mod media;\npub mod run;\n");
    write("util.rs", "pub fn helper() {}\n");
    write("face/mod.rs", "mod a;\nmod b;\nuse crate::util::helper;\n#[cfg(test)]\nmod tests;\n");
    write("face/a.rs", "use super::b::B;\npub struct A;\n");
    write("face/b.rs", "pub struct B;\n");
    write("face/tests.rs", "use crate::run::Job;\n"); // test code may reach up
    write("media.rs", "use crate::{util, face::A};\n#[cfg(test)]\nmod tests {\n    use crate::run::Job;\n}\n");
    write("run.rs", "use crate::face::A;\nuse crate::media;\npub struct Job;\n");
    assert_eq!(
        breaches(src, &layers),
        ["media.rs:1: `media` uses `face`, which is not in a lower layer than it"]
            .map(|p| format!("{}/{p}", src.display()))
    );

    write("media.rs", "use crate::util;\n");
    assert!(breaches(src, &layers).is_empty(), "{:?}", breaches(src, &layers));
    write("util.rs", "pub fn helper() { crate::run::Job; }\n");
    write("face/b.rs", "pub struct B(super::a::A);\n");
    let found = breaches(src, &layers);
    assert!(
        found.iter().any(|p| p.ends_with("util.rs:1: `util` uses `run::Job`, which is not in a lower layer than it")),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.starts_with("a circle of files: face::a -> face::b -> face::a")), "{found:?}");
    assert_eq!(found.len(), 2, "{found:?}");
}
