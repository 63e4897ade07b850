//! Build secrets' values, read when a run starts from where `[catalog.secrets]` says they are
//! (an environment variable, or a file: `~/` is the home folder, a relative path is relative
//! to the catalog's folder). A secret that an image of the run needs and whose source is
//! missing stops the run before anything builds (exit 2), naming the secret and its source; so
//! does a secret file inside a build context, which a `COPY .` would put in an image. Values are
//! never hashed, printed or written; only the engine's BuildKit receives them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalog::{Builder, Catalog, SecretSource};
use crate::diagnostic::Diagnostic;
use crate::engine::SecretValues;
use crate::error::Error;
use crate::name::ImageName;

/// The values of the secrets these images declare, by name. Secrets are mounted by BuildKit
/// only: an image with secrets under the legacy builder is bad input too.
pub fn resolve<'a>(
    catalog: &Catalog,
    root: &Path,
    images: impl IntoIterator<Item = &'a ImageName>,
    builder: Builder,
) -> Result<SecretValues, Error> {
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for name in images {
        if builder == Builder::Legacy && !catalog.image(name).secrets.is_empty() {
            return Err(Error::usage_help(
                format!(
                    "`{name}` declares build secrets, which only BuildKit can mount, and the builder is legacy"
                ),
                "build with BuildKit: `builder = \"buildkit\"` in [catalog] (the default), or `--builder buildkit`",
            ));
        }
        for secret in &catalog.image(name).secrets {
            if values.contains_key(secret) {
                continue;
            }
            let declared = &catalog.secrets[secret];
            match read(&declared.source, root).and_then(|v| outside_contexts(&declared.source, catalog, root).map(|()| v)) {
                Ok(value) => {
                    values.insert(secret.clone(), value);
                }
                Err(why) => problems.push(
                    Diagnostic::error(format!("secret `{secret}` (needed by `{name}`): {why}"))
                        .at(catalog.source.locate(declared.span.clone()))
                        .help(match &declared.source {
                            SecretSource::Env(var) => format!("set {var} for this run"),
                            SecretSource::File(_) => {
                                "point the secret at a file that exists, outside every build context"
                                    .to_string()
                            }
                        }),
                ),
            }
        }
    }
    if problems.is_empty() {
        Ok(SecretValues::new(values))
    } else {
        Err(Error::Input(problems))
    }
}

fn read(source: &SecretSource, root: &Path) -> Result<Vec<u8>, String> {
    match source {
        SecretSource::Env(var) => std::env::var_os(var)
            .map(|v| v.into_encoded_bytes())
            .ok_or_else(|| format!("the {} is not set", source.describe())),
        SecretSource::File(path) => {
            let full = expand(path, root)
                .ok_or_else(|| format!("cannot read the {}: HOME is not set", source.describe()))?;
            std::fs::read(&full).map_err(|e| format!("cannot read the {} ({e})", source.describe()))
        }
    }
}

/// A secret file must not lie inside a build context: it would be sent with the context.
fn outside_contexts(source: &SecretSource, catalog: &Catalog, root: &Path) -> Result<(), String> {
    let SecretSource::File(path) = source else {
        return Ok(());
    };
    let Some(Ok(file)) = expand(path, root).map(std::fs::canonicalize) else {
        return Ok(());
    };
    for image in &catalog.images {
        let context = root.join(&image.context);
        if std::fs::canonicalize(&context).is_ok_and(|c| file.starts_with(c)) {
            return Err(format!(
                "the {} is inside the build context of `{}` ({}), which would send it to the engine with the context",
                source.describe(),
                image.name,
                image.context
            ));
        }
    }
    Ok(())
}

/// `~/x` in the home folder (`None` without a `HOME`); a relative path in the catalog's folder.
fn expand(path: &str, root: &Path) -> Option<PathBuf> {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|home| PathBuf::from(home).join(rest)),
        None => Some(root.join(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_expand_from_home_or_the_catalog() {
        let root = Path::new("/repo");
        assert_eq!(
            expand("secrets/x", root),
            Some(PathBuf::from("/repo/secrets/x"))
        );
        assert_eq!(expand("/etc/x", root), Some(PathBuf::from("/etc/x")));
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(expand("~/x", root), Some(PathBuf::from(home).join("x")));
        }
    }

    #[test]
    fn a_missing_source_says_which() {
        let missing = read(
            &SecretSource::Env("HIER_TEST_UNSET_SECRET_VAR".into()),
            Path::new("/"),
        );
        assert_eq!(
            missing.unwrap_err(),
            "the environment variable HIER_TEST_UNSET_SECRET_VAR is not set"
        );
        let file = read(
            &SecretSource::File("nope/x".into()),
            Path::new("/nonexistent"),
        );
        assert!(
            file.unwrap_err()
                .starts_with("cannot read the file nope/x (")
        );
    }
}
