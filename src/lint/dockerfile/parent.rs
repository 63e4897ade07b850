//! hier's rule for a hand-written Dockerfile: its final stage builds on the parent hier hands
//! it, `FROM ${HIER_PARENT}` after a global `ARG HIER_PARENT` (a base may also name its `from`
//! exactly). A final stage on an earlier stage (`FROM build`) is followed to the image that
//! stage starts from; any other image would build the image on something the hierarchy does
//! not know, so a child would not sit on its parent.

use super::{Dockerfile, Problem, SyntaxError};

/// The problem with the final stage, if any. `from` is a base's `from` (its other choice).
pub fn check_final_stage(df: &Dockerfile, from: Option<&str>) -> Option<SyntaxError> {
    let last = df.stages.len().checked_sub(1)?;
    let index = origin(df, last);
    let stage = &df.stages[index];
    let ins = &df.instructions[stage.from];
    let at = |problem: Problem| SyntaxError {
        line: ins.line,
        column: ins.column,
        width: ins.keyword.len(),
        problem,
    };
    let image = stage.image.as_str();
    if matches!(image, "${HIER_PARENT}" | "$HIER_PARENT") {
        return (!declares_parent(df)).then(|| {
            at(Problem::new(format!(
                "`FROM {image}` without `ARG HIER_PARENT` before the first FROM"
            ))
            .help("declare `ARG HIER_PARENT` at the top: a FROM sees only the ARGs before the first FROM"))
        });
    }
    if from == Some(image) {
        return None;
    }
    let help = match from {
        Some(from) => format!(
            "a base's final stage builds `FROM ${{HIER_PARENT}}` (after `ARG HIER_PARENT`) or `FROM {from}`, its `from`"
        ),
        None => "the final stage builds `FROM ${HIER_PARENT}` (after `ARG HIER_PARENT`): hier passes the parent's exact image as HIER_PARENT".to_string(),
    };
    Some(at(Problem::new(format!(
        "the final stage builds on `{image}`, not on this image's parent"
    ))
    .help(help)))
}

/// The stage whose image a stage finally starts from, following `FROM <earlier stage>`.
fn origin(df: &Dockerfile, mut index: usize) -> usize {
    while let Some(earlier) = df.stages[..index].iter().rposition(|s| {
        s.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(&df.stages[index].image))
    }) {
        index = earlier;
    }
    index
}

/// Whether an `ARG` before the first `FROM` declares `HIER_PARENT`.
fn declares_parent(df: &Dockerfile) -> bool {
    df.instructions
        .iter()
        .filter(|i| i.stage.is_none() && i.keyword == "ARG")
        .flat_map(|i| i.args.split_whitespace())
        .any(|w| w.split('=').next() == Some("HIER_PARENT"))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn message(text: &str, from: Option<&str>) -> Option<(usize, String)> {
        check_final_stage(&parse(text), from).map(|e| (e.line, e.problem.message))
    }

    #[test]
    fn the_final_stage_builds_on_the_parent() {
        for ok in [
            "ARG HIER_PARENT\nFROM ${HIER_PARENT}\n",
            "ARG HIER_PARENT\nFROM $HIER_PARENT\n",
            "ARG HIER_PARENT\nFROM ${HIER_PARENT} AS final\nRUN x\n",
            "ARG HIER_PARENT\nFROM golang:1.22 AS build\nFROM ${HIER_PARENT} AS runtime\nFROM runtime\n",
        ] {
            assert_eq!(message(ok, None), None, "{ok}");
        }
        assert_eq!(message("FROM debian:12\n", Some("debian:12")), None);
    }

    #[test]
    fn any_other_final_stage_is_refused_at_its_from() {
        assert_eq!(
            message(
                "ARG HIER_PARENT\nFROM ${HIER_PARENT} AS a\nFROM alpine:3.19\n",
                None
            ),
            Some((
                3,
                "the final stage builds on `alpine:3.19`, not on this image's parent".into()
            ))
        );
        assert_eq!(
            message("FROM alpine:3.19 AS tools\nFROM tools\n", Some("debian:12")),
            Some((
                1,
                "the final stage builds on `alpine:3.19`, not on this image's parent".into()
            ))
        );
        assert_eq!(
            message("FROM ${HIER_PARENT}\n", None),
            Some((
                1,
                "`FROM ${HIER_PARENT}` without `ARG HIER_PARENT` before the first FROM".into()
            ))
        );
    }
}
