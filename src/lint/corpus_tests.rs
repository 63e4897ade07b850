//! The Dockerfiles of `tests/lint_corpus/`, written in the styles of well-kept public image
//! repositories (long `set -eux; \` RUNs, `# escape=` and `# syntax=` lines, ONBUILD, JSON
//! forms, comments inside continuations, heredocs, multi-stage builders): each file's findings
//! (line and rule) are exactly those of its `.expected` file, and the file that follows the
//! practices has none. `HIER_BLESS=1` rewrites the expectations.

use std::path::Path;

use super::dockerfile;
use super::file::check_file;
use super::runs::Shell;

fn findings(text: &str) -> String {
    let df = dockerfile::parse(text);
    let mut hits: Vec<(usize, &str)> = df.errors.iter().map(|e| (e.line, "H100")).collect();
    hits.extend(
        check_file(&df, (Shell::Plain, false))
            .iter()
            .map(|h| (h.line, h.rule)),
    );
    hits.sort();
    hits.iter()
        .map(|(line, rule)| format!("{line} {rule}\n"))
        .collect()
}

#[test]
fn the_real_world_corpus_gives_exactly_its_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint_corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let bless = std::env::var_os("HIER_BLESS").is_some();
    for file in files {
        let got = findings(&std::fs::read_to_string(&file).unwrap());
        let expected = file.with_extension("expected");
        if bless {
            std::fs::write(&expected, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected).unwrap_or_default();
        assert_eq!(got, want, "{}", file.display());
    }
}
