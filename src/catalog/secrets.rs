//! Build secrets: `[catalog.secrets]` declares where each secret's value comes from (an
//! environment variable or a file), and an image's `secrets` names the ones its build may mount
//! (`RUN --mount=type=secret,id=…`). Only the declarations are read: no value, ever.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;
use toml::de::DeValue;

use super::fields::is_variable_name;
use super::image::EntryReader;
use super::value::{Problems, TableReader, type_name};
use super::{Secret, SecretSource, Span};
use crate::diagnostic::suggest;

const SECRET_KEYS: &[&str] = &["env", "file"];

/// Secret ids an image may name without a check: those whose declaration is broken (already
/// reported), or every id when `[catalog.secrets]` could not be read at all.
#[derive(Debug, Default)]
pub struct Unchecked {
    ids: BTreeSet<String>,
    all: bool,
}

impl Unchecked {
    /// Nothing is known of the declarations: no id is checked.
    pub fn all() -> Self {
        Unchecked {
            ids: BTreeSet::new(),
            all: true,
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.all || self.ids.contains(id)
    }
}

/// `[catalog.secrets]`: each key an id, each value `{ env = "VAR" }` or `{ file = "PATH" }`.
/// Returns the declarations, and the ids images may name unchecked.
pub fn read_declarations(
    p: &mut Problems,
    t: &mut TableReader<'_, '_>,
) -> (BTreeMap<String, Secret>, Unchecked) {
    let mut secrets = BTreeMap::new();
    let Some((table, _)) = t.table(p, "secrets") else {
        let unchecked = if t.contains("secrets") {
            Unchecked::all()
        } else {
            Unchecked::default()
        };
        return (secrets, unchecked);
    };
    let mut broken = Unchecked::default();
    for (key, value) in table.iter() {
        let id: &str = key.get_ref();
        let secret = if is_secret_id(id) {
            read_secret(p, id, value)
        } else {
            p.error_help(
                key.span(),
                format!("invalid secret id `{id}` in [catalog.secrets]"),
                "an id is one or more letters, digits, `_`, `-` and `.`",
            );
            None
        };
        if let Some(secret) = secret {
            secrets.insert(id.to_string(), secret);
        } else {
            broken.ids.insert(id.to_string());
        }
    }
    (secrets, broken)
}

fn is_secret_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// One declaration: exactly one of `env` (a variable name) and `file` (a path).
fn read_secret(p: &mut Problems, id: &str, value: &Spanned<DeValue<'_>>) -> Option<Secret> {
    let how = format!("write `{id} = {{ env = \"VAR\" }}` or `{id} = {{ file = \"PATH\" }}`");
    let DeValue::Table(table) = value.get_ref() else {
        p.error_help(
            value.span(),
            format!(
                "secret `{id}` in [catalog.secrets] must be a table, found {}",
                type_name(value.get_ref())
            ),
            how,
        );
        return None;
    };
    let mut t = TableReader::new(table, format!("secret `{id}`"));
    let env = t.string(p, "env");
    let file = t.string(p, "file");
    let secret = match (env, file) {
        (Some(_), Some((_, span))) => {
            p.error_help(
                span,
                format!("secret `{id}` has both `env` and `file`"),
                "a secret comes from one place: keep either `env` (an environment variable) or `file` (a path)",
            );
            None
        }
        (None, None) => {
            if !t.contains("env") && !t.contains("file") {
                let message = format!("secret `{id}` has neither `env` nor `file`");
                p.error_help(value.span(), message, how);
            }
            None
        }
        (Some((var, span)), None) => env_secret(p, id, var, span),
        (None, Some((path, span))) => file_secret(p, id, path, span),
    };
    t.finish(p, SECRET_KEYS);
    secret
}

fn env_secret(p: &mut Problems, id: &str, var: String, span: Span) -> Option<Secret> {
    if !is_variable_name(&var) {
        p.error_help(
            span,
            format!("invalid environment variable name `{var}` for secret `{id}`"),
            "a variable name is letters, digits and `_`, and does not start with a digit",
        );
        return None;
    }
    Some(Secret {
        source: SecretSource::Env(var),
        span,
    })
}

fn file_secret(p: &mut Problems, id: &str, path: String, span: Span) -> Option<Secret> {
    if path.trim().is_empty() {
        p.error(span, format!("`file` of secret `{id}` is empty"));
        return None;
    }
    Some(Secret {
        source: SecretSource::File(path),
        span,
    })
}

impl EntryReader<'_, '_> {
    /// `secrets`: ids declared in `[catalog.secrets]`, each once.
    pub(super) fn secrets(
        &mut self,
        p: &mut Problems,
        declared: &BTreeMap<String, Secret>,
        unchecked: &Unchecked,
    ) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (id, span) in self.t.strings(p, "secrets").unwrap_or_default() {
            if seen.contains(&id) {
                let message = format!("`secrets` of {} names `{id}` twice", self.what);
                p.error(span, message);
                continue;
            }
            seen.push(id.clone());
            if declared.contains_key(&id) || unchecked.contains(&id) {
                out.push(id);
                continue;
            }
            let help = suggest(&id, declared.keys().map(String::as_str)).unwrap_or_else(|| {
                format!("declare it under [catalog.secrets], e.g. `{id} = {{ env = \"VAR\" }}`")
            });
            p.error_help(
                span,
                format!(
                    "`secrets` of {} names `{id}`, which is not declared in [catalog.secrets]",
                    self.what
                ),
                help,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{Builder, SecretSource, parse};
    use crate::source::SourceFile;

    const HEAD: &str = "[catalog]\nname = \"t\"\nregistry = \"r.test/t\"\n";
    const BASE: &str =
        "[images.base]\nfrom = \"busybox:1.36\"\nversion = \"1.0.0\"\ntemplate = \"b.hbs\"\n";

    /// The messages (with their help) of a catalog's problems.
    fn problems(text: &str) -> Vec<String> {
        let (_, problems) = parse(SourceFile::new("catalog.toml".into(), text.to_string()));
        problems
            .iter()
            .map(|d| match &d.help {
                Some(help) => format!("{} ({help})", d.message),
                None => d.message.clone(),
            })
            .collect()
    }

    #[test]
    fn declarations_builder_and_image_secrets_are_read() {
        let text = format!(
            "{HEAD}builder = \"legacy\"\n\n[catalog.secrets]\nnpm_token = {{ env = \"NPM_TOKEN\" }}\n\"pip.conf\" = {{ file = \"~/.config/pip/pip.conf\" }}\n\n{BASE}secrets = [\"pip.conf\", \"npm_token\"]\n"
        );
        let (catalog, problems) = parse(SourceFile::new("catalog.toml".into(), text.clone()));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(catalog.builder, Builder::Legacy);
        let npm = &catalog.secrets["npm_token"];
        assert_eq!(npm.source, SecretSource::Env("NPM_TOKEN".into()));
        assert_eq!(&text[npm.span.clone()], "\"NPM_TOKEN\"");
        assert_eq!(
            catalog.secrets["pip.conf"].source.describe(),
            "file ~/.config/pip/pip.conf"
        );
        assert_eq!(npm.source.describe(), "environment variable NPM_TOKEN");
        assert_eq!(catalog.images[0].secrets, ["pip.conf", "npm_token"]);
    }

    #[test]
    fn the_defaults_are_buildkit_and_no_secrets() {
        let (catalog, problems) = parse(SourceFile::new(
            "catalog.toml".into(),
            format!("{HEAD}\n{BASE}"),
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(catalog.builder, Builder::BuildKit);
        assert_eq!(catalog.builder.as_str(), "buildkit");
        assert!(catalog.secrets.is_empty());
        assert!(catalog.images[0].secrets.is_empty());
    }

    #[test]
    fn broken_declarations_are_reported_once() {
        let text = format!(
            "{HEAD}\n[catalog.secrets]\n\"a b\" = {{ env = \"X\" }}\nbad_env = {{ env = \"1X\" }}\nempty = {{ file = \" \" }}\ntypo = {{ evn = \"X\" }}\nflat = \"X\"\n\n{BASE}secrets = [\"a b\", \"bad_env\", \"empty\", \"typo\", \"flat\"]\n"
        );
        assert_eq!(
            problems(&text),
            [
                "invalid secret id `a b` in [catalog.secrets] (an id is one or more letters, digits, `_`, `-` and `.`)",
                "invalid environment variable name `1X` for secret `bad_env` (a variable name is letters, digits and `_`, and does not start with a digit)",
                "`file` of secret `empty` is empty",
                "secret `typo` has neither `env` nor `file` (write `typo = { env = \"VAR\" }` or `typo = { file = \"PATH\" }`)",
                "unknown key `evn` in secret `typo` (did you mean `env`?)",
                "secret `flat` in [catalog.secrets] must be a table, found a string (write `flat = { env = \"VAR\" }` or `flat = { file = \"PATH\" }`)",
            ]
        );
    }

    #[test]
    fn an_image_names_each_declared_secret_once() {
        let text = format!(
            "{HEAD}\n[catalog.secrets]\nnpm_token = {{ env = \"NPM_TOKEN\" }}\n\n{BASE}secrets = [\"npm_token\", \"npm_token\", \"other\"]\n"
        );
        assert_eq!(
            problems(&text),
            [
                "`secrets` of image `base` names `npm_token` twice",
                "`secrets` of image `base` names `other`, which is not declared in [catalog.secrets] (declare it under [catalog.secrets], e.g. `other = { env = \"VAR\" }`)",
            ]
        );
    }

    #[test]
    fn an_unreadable_secrets_table_checks_no_name() {
        let text = format!("{HEAD}secrets = [\"x\"]\n\n{BASE}secrets = [\"x\"]\n");
        assert_eq!(
            problems(&text),
            ["`secrets` of [catalog] must be a table, found an array"]
        );
    }

    #[test]
    fn builders_by_name() {
        for builder in Builder::ALL {
            assert_eq!(Builder::parse(builder.as_str()), Some(builder));
        }
        assert_eq!(Builder::parse("BuildKit"), None);
    }
}
