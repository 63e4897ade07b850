//! The parser on the shapes real Dockerfiles take.

use super::*;

#[test]
fn continuations_comments_and_stages() {
    let df = parse(
        "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS build\n# a comment\nRUN apt-get update \\\n    # dropped inside the continuation\n    && apt-get install -y \\\n       curl\n\nFROM debian:bookworm-slim\nCOPY --from=build /x /x\nCMD [\"/x\", \"--serve\"]\n",
    );
    let keywords: Vec<&str> = df.instructions.iter().map(|i| i.keyword.as_str()).collect();
    assert_eq!(keywords, ["FROM", "RUN", "FROM", "COPY", "CMD"]);
    let run = &df.instructions[1];
    assert_eq!(run.line, 4);
    assert_eq!(run.args, "apt-get update && apt-get install -y curl");
    let curl = run.args.find("curl").unwrap();
    assert_eq!(run.line_at(curl), 7);
    assert_eq!(df.stages.len(), 2);
    assert_eq!(df.stages[0].name.as_deref(), Some("build"));
    assert_eq!(
        df.instructions[4].exec.as_deref(),
        Some(&["/x".to_string(), "--serve".to_string()][..])
    );
    assert_eq!(df.instructions[3].stage, Some(1));
}

#[test]
fn escape_directive() {
    let df = parse("# escape=`\nFROM x:1\nRUN echo a `\n  b\n");
    assert_eq!(df.instructions[1].args, "echo a b");
}

/// (keyword, line) of every instruction.
fn keywords(df: &Dockerfile) -> Vec<(&str, usize)> {
    df.instructions
        .iter()
        .map(|i| (i.keyword.as_str(), i.line))
        .collect()
}

#[test]
fn heredoc_bodies_stay_in_their_instruction() {
    let df = parse(
        "FROM debian:12\nRUN <<EOT\nFROM ubuntu\nCMD foo\nRUN x\nEOT\nCOPY <<a <<'b' /dst/\nUSER a\na\nENTRYPOINT b\nb\nUSER app\nCMD [\"x\"]\n",
    );
    assert_eq!(
        keywords(&df),
        [
            ("FROM", 1),
            ("RUN", 2),
            ("COPY", 7),
            ("USER", 12),
            ("CMD", 13)
        ]
    );
    assert_eq!(df.stages.len(), 1);
    let run = &df.instructions[1];
    assert_eq!(run.args, "<<EOT");
    assert_eq!(run.heredocs[0].body, "FROM ubuntu\nCMD foo\nRUN x\n");
    assert_eq!(
        run.heredocs[0].line_at(run.heredocs[0].body.find("RUN").unwrap()),
        5
    );
    let copy = &df.instructions[2];
    let docs: Vec<(&str, &str, bool)> = copy
        .heredocs
        .iter()
        .map(|d| (d.name.as_str(), d.body.as_str(), d.quoted))
        .collect();
    assert_eq!(
        docs,
        [("a", "USER a\n", false), ("b", "ENTRYPOINT b\n", true)]
    );
}

#[test]
fn heredocs_after_flags_with_tabs_and_quotes() {
    let df = parse(
        "FROM x:1\nRUN --mount=type=cache,target=/x \\\n    --network=none <<-\"EOT\"\n\tapt-get update\n\t EOT\n\t\tEOT\nRUN [\"echo\", \"<<EOT\"]\nONBUILD RUN <<X\nFROM y\nX\nUSER app\n",
    );
    assert_eq!(
        keywords(&df),
        [
            ("FROM", 1),
            ("RUN", 2),
            ("RUN", 7),
            ("ONBUILD", 8),
            ("USER", 11)
        ]
    );
    let run = &df.instructions[1];
    assert_eq!(run.args, "<<-\"EOT\"");
    assert_eq!(run.line_at(0), 3, "the command starts after the flags");
    let doc = &run.heredocs[0];
    assert_eq!(
        (doc.name.as_str(), doc.chomp, doc.quoted),
        ("EOT", true, true)
    );
    assert_eq!(doc.body, "apt-get update\n EOT\n");
    assert_eq!(doc.end, 6);
    // Exec form opens no heredoc.
    assert!(df.instructions[2].heredocs.is_empty());
    assert_eq!(df.instructions[3].heredocs[0].body, "FROM y\n");
}

#[test]
fn flags_are_split_from_the_arguments() {
    let df = parse(
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nCOPY --chmod=755 --chown=app:app --link run.sh /usr/local/bin/\nADD --checksum=sha256:0123 https://example.com/x.tgz /opt/\nCOPY --from=build [\"/out/a b\", \"/x/\"]\nRUN --security=insecure --mount=type=secret,id=npm_token,required=true \\\n  npm ci\n",
    );
    let copy = &df.instructions[1];
    let names: Vec<&str> = copy.flags.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["chmod", "chown", "link"]);
    assert_eq!(copy.flags[0].value.as_deref(), Some("755"));
    assert_eq!(copy.args, "run.sh /usr/local/bin/");
    assert_eq!(df.instructions[2].args, "https://example.com/x.tgz /opt/");
    assert_eq!(
        df.instructions[3].exec.as_deref(),
        Some(&["/out/a b".to_string(), "/x/".to_string()][..])
    );
    let run = &df.instructions[4];
    assert_eq!(run.args, "npm ci");
    assert_eq!(run.line_at(0), 6);
    assert_eq!(df.stages[0].image, "golang:1.22");
    assert_eq!(df.stages[0].name.as_deref(), Some("build"));
}

#[test]
fn an_unterminated_heredoc_runs_to_the_end() {
    let df = parse("FROM x:1\nRUN <<EOT\necho a\nUSER root\n");
    assert_eq!(keywords(&df), [("FROM", 1), ("RUN", 2)]);
    assert_eq!(df.instructions[1].heredocs[0].body, "echo a\nUSER root\n");
}

/// (line, message) of every problem the engine would refuse the file for.
fn errors(text: &str) -> Vec<(usize, String)> {
    parse(text)
        .errors
        .into_iter()
        .map(|e| (e.line, e.problem.message))
        .collect()
}

#[test]
fn what_the_engine_accepts_has_no_errors() {
    let text = "# syntax=docker/dockerfile:1\n# escape=\\\nARG HIER_PARENT\nARG A=1 B\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nENV A=1 B=\"x y\" C=d\\ e\nENV LEGACY value with spaces\nLABEL a=b \"c d\"=e\nLABEL legacy value\nRUN --mount=type=cache,target=/x --network=none --security=insecure make\nCOPY --from=build --chown=1:1 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /dst/\nADD --checksum=sha256:00 --keep-git-dir=true --unpack=false --link=false https://x/y.tgz /opt/\nHEALTHCHECK --interval=5s --retries=3 CMD [\"true\"]\nHEALTHCHECK NONE\nSHELL [\"/bin/bash\", \"-c\"]\nUSER app\nWORKDIR /srv\nEXPOSE 80\nVOLUME /data\nSTOPSIGNAL SIGTERM\nONBUILD RUN x\nCMD --not-a-flag-for-cmd-but-args\nRUN <<EOT\nFROM inside\nEOT\nfrom ${HIER_PARENT}\nrun true\n";
    let df = parse(text);
    // CMD's leading `--…` words are flags to the engine, which CMD does not take.
    assert_eq!(
        errors(text),
        [(
            22,
            "unknown flag `--not-a-flag-for-cmd-but-args` of CMD".to_string()
        )]
    );
    assert_eq!(df.stages.len(), 2);
}

#[test]
fn what_the_engine_refuses_is_found_at_its_line() {
    let text = "RUN echo early\nARG HIER_PARENT\nFROM ${HIER_PARENT}\nLABEL io.example.level=\"0\"RUN echo hi\nLABLE a=b\nENV =x\nENV ALONE\nCOPY --chmod 755 a /b\nCOPY --form=build /a /b\nRUN --mount=type=volume,target=/x true\nRUN --network=bridge true\nCOPY --link=yes a b\nCOPY onlyone\nFROM a b\nFROM x AS 1st\nUSER\nHEALTHCHECK CHECK x\nSHELL /bin/sh -c\nONBUILD FROM x\nRUN <<EOT\nnever ended\n";
    let want = [
        (1, "RUN before the first FROM"),
        (4, "LABEL: `echo` is not a key=value pair (no `=` in it)"),
        (5, "unknown instruction `LABLE`"),
        (6, "ENV: `=x` has no name"),
        (7, "ENV `ALONE` has no value"),
        (8, "`--chmod` of COPY needs a value: `--chmod=…`"),
        (9, "unknown flag `--form` of COPY"),
        (
            10,
            "unsupported mount type `volume`: one of bind, cache, tmpfs, secret, ssh",
        ),
        (11, "unsupported `--network=bridge` of RUN"),
        (12, "`--link` of COPY is true or false, not `yes`"),
        (13, "COPY needs a source and a destination"),
        (14, "FROM takes an image, and optionally `AS name`"),
        (15, "invalid stage name `1st`"),
        (16, "USER needs an argument"),
        (17, "HEALTHCHECK takes NONE or CMD"),
        (18, "SHELL needs the JSON form"),
        (19, "FROM is not allowed after ONBUILD"),
        (20, "the heredoc `EOT` of this RUN is never ended"),
    ];
    let want: Vec<(usize, String)> = want.iter().map(|(l, m)| (*l, m.to_string())).collect();
    assert_eq!(errors(text), want);
    let suggestion = parse("FROM x\nLABLE a=b\n").errors[0].problem.help.clone();
    assert_eq!(suggestion.as_deref(), Some("did you mean `LABEL`?"));
}

#[test]
fn a_file_without_from_is_one_error() {
    assert_eq!(
        errors("ARG A\nRUN a\nRUN b\n"),
        [(
            1,
            "this Dockerfile has no FROM: it builds nothing".to_string()
        )]
    );
    assert_eq!(
        errors(""),
        [(
            1,
            "this Dockerfile has no FROM: it builds nothing".to_string()
        )]
    );
}
