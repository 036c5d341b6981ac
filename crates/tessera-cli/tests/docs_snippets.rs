//! The client snippets of docs/use-cases/ are the code the interop tests run
//! (tests/interop_oidc.rs). In a page, a fenced code block right after
//! `<!-- snippet: PATH#REGION -->` must be, byte for byte once the common indentation is
//! stripped, the lines between `docs:begin REGION` and `docs:end REGION` in PATH (comment lines:
//! `// docs:begin …` in JavaScript, `# docs:begin …` in Python; regions may nest, and marker
//! lines inside a region are left out of it). A page that names a region no file has, a marker
//! without its partner, or a region named twice in one file fails too.
//!
//! Pure file reading: no server, no tools. To change a snippet, change the script (the tests
//! run it), then copy the region into the page.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The use-case pages, each of which must show at least one tested snippet.
const PAGES: [&str; 4] = ["sso.md", "mobile.md", "oauth-oidc.md", "cross-domain.md"];
const PAGES_DIR: &str = "docs/use-cases";
/// Where the marked scripts live.
const SCRIPTS_DIR: &str = "interop";
const SCRIPT_EXTENSIONS: [&str; 4] = ["mjs", "js", "cjs", "py"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// --- Regions of a source file ----------------------------------------------------------------

/// A `docs:begin NAME` or `docs:end NAME` comment line: `Some((is_begin, name))`, the name
/// empty when missing. Any other line: `None`.
fn marker(line: &str) -> Option<(bool, &str)> {
    let text = line.trim_start();
    let comment = text.strip_prefix("//").or_else(|| text.strip_prefix('#'))?.trim_start();
    let (is_begin, rest) = match (comment.strip_prefix("docs:begin"), comment.strip_prefix("docs:end")) {
        (Some(rest), _) => (true, rest),
        (_, Some(rest)) => (false, rest),
        _ => return None,
    };
    // "docs:beginning" is not a marker; "docs:begin" alone is one without a name.
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some((is_begin, rest.trim()))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Every region of `source`, by name, dedented; or every marker error, with its line number.
fn regions(source: &str) -> Result<BTreeMap<String, String>, Vec<String>> {
    let lines: Vec<&str> = source.lines().collect();
    let mut open: BTreeMap<&str, usize> = BTreeMap::new();
    let mut spans: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((is_begin, name)) = marker(line) else { continue };
        let number = index + 1;
        let word = if is_begin { "docs:begin" } else { "docs:end" };
        if !valid_name(name) {
            errors.push(format!("line {number}: {word} needs a name of letters, digits, '-' and '_', not {name:?}"));
        } else if is_begin && (open.contains_key(name) || spans.contains_key(name)) {
            errors.push(format!("line {number}: region {name} begins a second time"));
        } else if is_begin {
            open.insert(name, index);
        } else if let Some(begin) = open.remove(name) {
            spans.insert(name, (begin, index));
        } else {
            errors.push(format!("line {number}: docs:end {name} without a docs:begin {name} before it"));
        }
    }
    for (name, begin) in &open {
        errors.push(format!("line {}: docs:begin {name} has no docs:end {name}", begin + 1));
    }
    let mut found = BTreeMap::new();
    for (name, (begin, end)) in spans {
        let body: Vec<&str> = lines[begin + 1..end].iter().copied().filter(|line| marker(line).is_none()).collect();
        if body.iter().all(|line| line.trim().is_empty()) {
            errors.push(format!("line {}: region {name} is empty", begin + 1));
        }
        found.insert(name.to_owned(), dedent(&body));
    }
    if errors.is_empty() { Ok(found) } else { Err(errors) }
}

/// The lines without the whitespace that all non-blank ones begin with, joined with `\n`;
/// blank lines become empty.
fn dedent(lines: &[&str]) -> String {
    let leading = |line: &str| -> usize { line.len() - line.trim_start_matches([' ', '\t']).len() };
    let mut common: Option<&str> = None;
    for line in lines.iter().filter(|line| !line.trim().is_empty()) {
        let indent = &line[..leading(line)];
        common = Some(match common {
            None => indent,
            Some(prefix) => {
                let shared = prefix.bytes().zip(indent.bytes()).take_while(|(a, b)| a == b).count();
                &prefix[..shared]
            }
        });
    }
    let width = common.map_or(0, str::len);
    let stripped: Vec<&str> =
        lines.iter().map(|line| if line.trim().is_empty() { "" } else { &line[width..] }).collect();
    stripped.join("\n")
}

// --- Snippets of a page ----------------------------------------------------------------------

/// One `<!-- snippet: FILE#REGION -->` of a page and the fenced block after it, dedented.
#[derive(Debug)]
struct Snippet {
    line: usize,
    file: String,
    region: String,
    text: String,
}

/// Every snippet of a page, or every malformed one. An HTML comment that mentions `snippet`
/// is read strictly, so that a misspelt reference fails instead of going unchecked.
fn snippets(page: &str) -> Result<Vec<Snippet>, Vec<String>> {
    let lines: Vec<&str> = page.lines().collect();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let text = lines[index].trim();
        index += 1;
        if !(text.starts_with("<!--") && text.contains("snippet")) {
            continue;
        }
        let number = index;
        let reference = text
            .strip_prefix("<!-- snippet:")
            .and_then(|rest| rest.strip_suffix("-->"))
            .map(str::trim)
            .and_then(|reference| reference.rsplit_once('#'));
        let Some((file, region)) = reference else {
            errors.push(format!("line {number}: write a reference as <!-- snippet: PATH#REGION -->, not {text}"));
            continue;
        };
        let relative = Path::new(file).components().all(|c| matches!(c, Component::Normal(_)));
        if file.is_empty() || !relative || !valid_name(region) {
            errors.push(format!("line {number}: {file}#{region}: a path inside the repository and a region name"));
            continue;
        }
        match fenced_block(&lines, index) {
            Ok((body, next)) => {
                found.push(Snippet { line: number, file: file.to_owned(), region: region.to_owned(), text: body });
                index = next;
            }
            Err(error) => errors.push(format!("line {number}: {file}#{region}: {error}")),
        }
    }
    if errors.is_empty() { Ok(found) } else { Err(errors) }
}

/// The fenced code block that opens at `lines[start]` (``` or ~~~, three or more): its
/// content, dedented, and the index of the line after its closing fence.
fn fenced_block(lines: &[&str], start: usize) -> Result<(String, usize), String> {
    let opening = lines.get(start).map(|line| line.trim_start()).unwrap_or_default();
    let Some(fence_char) = opening.chars().next().filter(|c| *c == '`' || *c == '~') else {
        return Err("the line after the reference must open a fenced code block".into());
    };
    let fence = opening.chars().take_while(|c| *c == fence_char).count();
    if fence < 3 {
        return Err("the line after the reference must open a fenced code block".into());
    }
    let closes = |line: &str| {
        let line = line.trim();
        line.len() >= fence && line.chars().all(|c| c == fence_char)
    };
    let end = (start + 1..lines.len())
        .find(|&index| closes(lines[index]))
        .ok_or_else(|| format!("the code block opened at line {} is never closed", start + 1))?;
    Ok((dedent(&lines[start + 1..end]), end + 1))
}

// --- The check -------------------------------------------------------------------------------

/// The regions of each source file read so far (or why it has none), by path.
type Parsed = BTreeMap<String, Result<BTreeMap<String, String>, Vec<String>>>;

/// What is wrong with one page's snippets against the sources, read through `source` (a path
/// relative to the repository to its text, or `None` if there is no such file).
fn check_page(
    name: &str,
    page: &str,
    source: &mut dyn FnMut(&str) -> Option<String>,
    parsed: &mut Parsed,
) -> (usize, Vec<String>) {
    let found = match snippets(page) {
        Ok(found) => found,
        Err(errors) => return (0, errors.into_iter().map(|e| format!("{name}: {e}")).collect()),
    };
    let mut problems = Vec::new();
    for snippet in &found {
        let at = format!("{name}:{} ({}#{})", snippet.line, snippet.file, snippet.region);
        let marked = parsed.entry(snippet.file.clone()).or_insert_with(|| match source(&snippet.file) {
            Some(text) => regions(&text),
            None => Err(vec!["no such file".into()]),
        });
        let marked = match marked {
            Ok(marked) => marked,
            Err(errors) => {
                problems.push(format!("{at}: {}", errors.join("; ")));
                continue;
            }
        };
        let Some(expected) = marked.get(&snippet.region) else {
            let known: Vec<&str> = marked.keys().map(String::as_str).collect();
            problems.push(format!("{at}: no such region in {} (it has: {})", snippet.file, known.join(", ")));
            continue;
        };
        if *expected != snippet.text {
            problems
                .push(format!("{at}: differs from the marked region. {}", first_difference(expected, &snippet.text)));
        }
    }
    (found.len(), problems)
}

/// Where two texts first differ, and the region's text to copy into the page.
fn first_difference(expected: &str, actual: &str) -> String {
    let (want, got): (Vec<&str>, Vec<&str>) = (expected.split('\n').collect(), actual.split('\n').collect());
    let line = want.iter().zip(&got).position(|(a, b)| a != b).unwrap_or(want.len().min(got.len()));
    format!(
        "Line {} of the snippet: the script has {:?}, the page has {:?}. The region is:\n{expected}\n",
        line + 1,
        want.get(line).copied().unwrap_or("(the end)"),
        got.get(line).copied().unwrap_or("(the end)"),
    )
}

#[test]
fn every_snippet_of_the_use_case_pages_is_the_region_of_the_script_it_names() {
    let root = repo();
    let dir = root.join(PAGES_DIR);
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    pages.sort();
    for expected in PAGES {
        assert!(pages.iter().any(|page| page.ends_with(expected)), "{PAGES_DIR}/{expected} is missing");
    }
    let mut source = |file: &str| std::fs::read_to_string(root.join(file)).ok();
    let mut parsed = BTreeMap::new();
    let mut problems = Vec::new();
    for page in &pages {
        let name = format!("{PAGES_DIR}/{}", page.file_name().unwrap().to_string_lossy());
        let (count, found) = check_page(&name, &read(page), &mut source, &mut parsed);
        if count == 0 && PAGES.iter().any(|p| page.ends_with(p)) {
            problems
                .push(format!("{name}: shows no tested snippet (<!-- snippet: PATH#REGION --> before a code block)"));
        }
        problems.extend(found);
    }
    assert!(problems.is_empty(), "{} snippet problem(s):\n\n{}", problems.len(), problems.join("\n\n"));
}

#[test]
fn the_markers_in_the_interop_scripts_are_well_formed() {
    fn scripts(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() && name != "node_modules" && name != "__pycache__" {
                scripts(&path, found);
            } else if path.extension().is_some_and(|ext| SCRIPT_EXTENSIONS.iter().any(|e| ext == *e)) {
                found.push(path);
            }
        }
    }
    let root = repo();
    let mut found = Vec::new();
    scripts(&root.join(SCRIPTS_DIR), &mut found);
    assert!(!found.is_empty(), "no scripts under {SCRIPTS_DIR}/");
    let problems: Vec<String> = found
        .iter()
        .filter_map(|path| {
            let shown = path.strip_prefix(&root).unwrap_or(path).display().to_string();
            regions(&read(path)).err().map(|errors| format!("{shown}: {}", errors.join("; ")))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// --- The checker itself: it must catch what it is for -----------------------------------------

const SCRIPT: &str = "\
function outer() {
  // docs:begin greet
  const name = 'Alice';
  if (name) {
    console.log(name);
  }
  // docs:begin inner
  return name;
  // docs:end inner
  // docs:end greet
}
";

fn page(body: &str) -> String {
    format!("# A page\n\n<!-- snippet: interop/x.mjs#greet -->\n```js\n{body}```\n\nText.\n")
}

fn problems_of(page: &str) -> (usize, Vec<String>) {
    let mut source = |file: &str| (file == "interop/x.mjs").then(|| SCRIPT.to_owned());
    check_page("page.md", page, &mut source, &mut BTreeMap::new())
}

#[test]
fn the_region_matches_at_any_indentation_without_nested_markers() {
    let exact = "const name = 'Alice';\nif (name) {\n  console.log(name);\n}\nreturn name;\n";
    assert_eq!(problems_of(&page(exact)), (1, vec![]));
    // Indented as in a list item: the common indentation goes.
    let indented: String = exact.lines().map(|line| format!("    {line}\n")).collect();
    assert_eq!(problems_of(&page(&indented)).1, Vec::<String>::new());
    let inner = "# P\n<!-- snippet: interop/x.mjs#inner -->\n~~~~js\nreturn name;\n~~~~\n";
    assert_eq!(problems_of(inner), (1, vec![]));
}

#[test]
fn a_changed_line_a_missing_region_or_file_and_a_broken_reference_are_caught() {
    let changed = "const name = 'Bob';\nif (name) {\n  console.log(name);\n}\nreturn name;\n";
    let (_, problems) = problems_of(&page(changed));
    assert!(problems.len() == 1 && problems[0].contains("Line 1") && problems[0].contains("Bob"), "{problems:?}");
    // One space of indentation more inside the block is a difference, not indentation.
    let shifted = "const name = 'Alice';\nif (name) {\n   console.log(name);\n}\nreturn name;\n";
    assert_eq!(problems_of(&page(shifted)).1.len(), 1);
    let shorter = "const name = 'Alice';\n";
    assert_eq!(problems_of(&page(shorter)).1.len(), 1);

    let missing = page("x\n").replace("#greet", "#farewell");
    let (_, problems) = problems_of(&missing);
    assert!(problems[0].contains("no such region") && problems[0].contains("greet, inner"), "{problems:?}");
    let no_file = page("x\n").replace("interop/x.mjs", "interop/y.mjs");
    assert!(problems_of(&no_file).1[0].contains("no such file"));

    for broken in [
        "<!-- snippet: interop/x.mjs -->\n```\nx\n```\n",
        "<!-- snippet interop/x.mjs#greet -->\n```\nx\n```\n",
        "<!-- snippet: ../secret#greet -->\n```\nx\n```\n",
        "<!-- snippet: interop/x.mjs#greet -->\n\n```\nx\n```\n",
        "<!-- snippet: interop/x.mjs#greet -->\n```\nnever closed\n",
    ] {
        assert_eq!(problems_of(broken).1.len(), 1, "{broken:?} must be refused");
    }
}

#[test]
fn dangling_repeated_and_unnamed_markers_are_errors() {
    for (source, says) in [
        ("# docs:begin a\nx = 1\n", "has no docs:end a"),
        ("x = 1\n# docs:end a\n", "without a docs:begin a"),
        ("# docs:begin a\nx\n# docs:end a\n# docs:begin a\ny\n# docs:end a\n", "second time"),
        ("// docs:begin\nx\n// docs:end\n", "needs a name"),
        ("// docs:begin a\n\n// docs:end a\n", "is empty"),
    ] {
        let errors = regions(source).unwrap_err();
        assert!(errors.iter().any(|e| e.contains(says)), "{source:?}: {errors:?}");
    }
    // Python and JavaScript comments both mark; other comments do not.
    let both = regions("# docs:begin p\na\n# docs:end p\n  // docs:begin j\n  b\n  // docs:end j\n# docs:beginning\n");
    let both = both.unwrap();
    assert_eq!((both["p"].as_str(), both["j"].as_str()), ("a", "b"));
}
