//! The structure-test files images name (`test_spec`): each read once, when the repository is
//! opened, only if it is a regular file inside the repository (no symlink out of it, no fifo,
//! at most 1 MiB of UTF-8), and checked whole, so a broken file is an error at its line and
//! column before anything is planned or built.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, display_path};

/// The largest structure-test file read.
const MAX_SPEC: u64 = 1 << 20;

/// Reads every image's structure-test file into the catalog; the problems found.
pub(super) fn load_specs(root: &Path, catalog: &mut Catalog) -> Vec<Diagnostic> {
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut problems = Vec::new();
    for i in 0..catalog.images.len() {
        let Some(spec) = &catalog.images[i].test_spec else {
            continue;
        };
        let at = catalog.source.locate(spec.span.clone());
        let name = &catalog.images[i].name;
        let full = root.join(&spec.path);
        match read_text(&canonical_root, &full) {
            Err(why) => problems.push(
                Diagnostic::error(format!(
                    "the test_spec of image `{name}` ({}) {why}",
                    spec.path
                ))
                .at(at),
            ),
            Ok(text) => {
                let source = SourceFile::new(display_path(&full), text);
                match crate::structure::read(&source, &spec.path) {
                    Ok(read) => {
                        if let Some(spec) = &mut catalog.images[i].test_spec {
                            spec.spec = Some(Arc::new(read));
                        }
                    }
                    Err(found) => problems.extend(found),
                }
            }
        }
    }
    problems
}

/// A file's text, if it is a regular file of at most [`MAX_SPEC`] bytes of UTF-8 inside the
/// repository; why not, otherwise.
fn read_text(canonical_root: &Path, path: &Path) -> Result<String, String> {
    let real = fs::canonicalize(path).map_err(|_| "does not exist".to_string())?;
    if !real.starts_with(canonical_root) {
        return Err("leads outside the repository through a symlink".into());
    }
    let meta = fs::metadata(&real).map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err("is not a file".into());
    }
    if meta.len() > MAX_SPEC {
        return Err(format!("is larger than {} KiB", MAX_SPEC >> 10));
    }
    let mut bytes = Vec::new();
    fs::File::open(&real)
        .and_then(|f| f.take(MAX_SPEC + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_SPEC {
        return Err(format!("is larger than {} KiB", MAX_SPEC >> 10));
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())
}
