//! Bad input to a run is refused before anything is written. A catalog,
//! template or lock error leaves the repository exactly as it was (no `.hier/`), and so does a
//! `SOURCE_DATE_EPOCH` that is no time `created` can hold, named with its value (exit 2).

use super::{CATALOG, repo};

const EPOCH_HELP: &str = "  = help: set it to a time in seconds since 1970 (`git log -1 --format=%ct` gives the commit's), or unset it to use the commit time\n";

#[test]
fn a_source_date_epoch_past_year_9999_is_refused_naming_it() {
    let repo = repo();
    let before = repo.snapshot();
    for value in ["253402300800", "99999999999999999999999"] {
        for args in [&["rebuild"][..], &["rebuild", "--all"], &["refresh"]] {
            let run = repo.hier_env(
                args,
                &[
                    ("SOURCE_DATE_EPOCH", value),
                    ("DOCKER_HOST", "unix:///nonexistent/hier-test.sock"),
                ],
            );
            assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{args:?}");
            assert_eq!(
                run.stderr,
                format!(
                    "error: SOURCE_DATE_EPOCH is `{value}`: later than 9999-12-31T23:59:59Z, the last time the `created` label can hold\n{EPOCH_HELP}"
                ),
                "{args:?}"
            );
            repo.assert_unchanged(&before, &format!("{args:?}"));
        }
    }
}

#[test]
fn a_source_date_epoch_that_is_not_a_number_is_refused_naming_it() {
    let repo = repo();
    let before = repo.snapshot();
    for value in ["yesterday", "-1", "1.5e9"] {
        let run = repo.hier_env(
            &["rebuild"],
            &[
                ("SOURCE_DATE_EPOCH", value),
                ("DOCKER_HOST", "unix:///nonexistent/hier-test.sock"),
            ],
        );
        assert_eq!(run.code, 2, "{value}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "error: SOURCE_DATE_EPOCH is `{value}`: not a whole number of seconds since 1970\n{EPOCH_HELP}"
            )
        );
        repo.assert_unchanged(&before, value);
    }
    // Set but empty is unset, as with DOCKER_HOST: the run goes on to the engine; and `push`,
    // `test` and `gc`, which build nothing, do not read it.
    for (args, value) in [
        (&["rebuild"][..], ""),
        (&["push"], "yesterday"),
        (&["test"], "yesterday"),
        (&["gc", "--dry-run"], "yesterday"),
    ] {
        let run = repo.hier_env(
            args,
            &[
                ("SOURCE_DATE_EPOCH", value),
                ("DOCKER_HOST", "unix:///nonexistent/hier-test.sock"),
            ],
        );
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_catalog_or_template_error_on_rebuild_leaves_the_repository_as_it_was() {
    let repo = repo();
    // A catalog error: a parent that does not exist.
    repo.write(
        "catalog.toml",
        &CATALOG.replace("parent = \"base\"\n", "parent = \"bsae\"\n"),
    );
    let before = repo.snapshot();
    for args in [
        &["rebuild"][..],
        &["rebuild", "--all"],
        &["refresh"],
        &["push"],
    ] {
        let run = repo.hier_offline(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .ends_with("error: 1 problem found; nothing was written\n"),
            "{}",
            run.stderr
        );
        repo.assert_unchanged(&before, &format!("{args:?}"));
    }
    // A template error, met only when the template is rendered: an undefined variable.
    repo.write("catalog.toml", CATALOG);
    repo.write(
        "templates/runtime.hbs",
        "FROM {{parent.ref}}\nRUN echo {{vars.nope}}\n",
    );
    let before = repo.snapshot();
    for args in [&["rebuild"][..], &["refresh"]] {
        let run = repo.hier_offline(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .starts_with("error: cannot render images `py`, `web`: "),
            "{}",
            run.stderr
        );
        repo.assert_unchanged(&before, &format!("{args:?}"));
    }
}
