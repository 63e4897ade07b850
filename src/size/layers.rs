//! Naming an image's layers by what made them (pure): the Dockerfile instructions whose layers
//! the final image holds beyond its parent's, matched with the entries of the image's history
//! (what a budget failure and `hier size` show: `images/x/Dockerfile:4 RUN …`).

use crate::budget::shown;
use crate::lint::dockerfile;

/// One entry of an image's history, oldest first: the bytes its layer holds and the command
/// the engine recorded for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub size: u64,
    pub created_by: String,
}

/// An instruction of the final image: its keyword, line, text (as written, one line) and
/// arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub keyword: String,
    pub line: usize,
    pub text: String,
    pub args: String,
}

/// The instructions whose layers the final image holds beyond its parent's, in order: the
/// final stage's after its `FROM`, preceded by those of the stage it is built on when that is
/// another stage of the file (`FROM build`), and so on.
pub fn steps(dockerfile_text: &str) -> Vec<Step> {
    let parsed = dockerfile::parse(dockerfile_text);
    let mut chain = Vec::new();
    let mut stage = parsed.stages.len().checked_sub(1);
    while let Some(index) = stage.filter(|i| !chain.contains(i)) {
        chain.push(index);
        let image = parsed.stages[index].image.to_ascii_lowercase();
        stage = parsed.stages[..index]
            .iter()
            .rposition(|s| s.name.as_deref().map(str::to_ascii_lowercase) == Some(image.clone()));
    }
    chain.reverse();
    chain
        .into_iter()
        .flat_map(|stage| {
            parsed
                .instructions
                .iter()
                .filter(move |i| i.stage == Some(stage) && i.keyword != "FROM")
        })
        .map(|i| {
            let flags: Vec<String> = i
                .flags
                .iter()
                .map(|f| match &f.value {
                    Some(v) => format!("--{}={v}", f.name),
                    None => format!("--{}", f.name),
                })
                .collect();
            let mut words = vec![i.keyword.clone()];
            words.extend(flags);
            words.push(i.args.clone());
            Step {
                keyword: i.keyword.clone(),
                line: i.line,
                text: words.join(" "),
                args: i.args.clone(),
            }
        })
        .collect()
}

/// The keyword of a history entry: BuildKit writes the instruction (`RUN /bin/sh -c … #
/// buildkit`, `COPY a b # buildkit`), the classic builder `/bin/sh -c #(nop) COPY …` for what
/// is not a `RUN`, and the shell command for a `RUN`.
fn keyword_of(created_by: &str) -> &str {
    if let Some((_, rest)) = created_by.split_once("#(nop)") {
        return rest.split_whitespace().next().unwrap_or("");
    }
    let first = created_by.split_whitespace().next().unwrap_or("");
    match dockerfile::INSTRUCTIONS.contains(&first.to_ascii_uppercase().as_str())
        && first == first.to_ascii_uppercase()
    {
        true => first,
        false => "RUN",
    }
}

/// The step a history entry comes from, among the steps not yet matched: a `RUN` whose
/// command the entry holds (an `ONBUILD` trigger of the parent holds none of them), else the
/// next step of its keyword.
fn step_of(created_by: &str, steps: &[Step]) -> Option<usize> {
    let keyword = keyword_of(created_by);
    if keyword == "RUN" {
        let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        let record = words(created_by);
        let runs: Vec<usize> = (0..steps.len())
            .filter(|i| steps[*i].keyword == "RUN")
            .collect();
        if let Some(i) = runs
            .iter()
            .find(|i| record.contains(&words(&steps[**i].args)))
        {
            return Some(*i);
        }
        if !runs.is_empty() && runs.iter().all(|i| !words(&steps[*i].args).is_empty()) {
            return None;
        }
    }
    steps.iter().position(|s| s.keyword == keyword)
}

/// Each of the layers an image added (`added`, oldest first) with its bytes and what made it:
/// the instruction (`path:line text`) when it can be told, else the engine's record of it.
pub fn named(added: &[Layer], steps: &[Step], path: &str) -> Vec<(u64, String)> {
    let mut cursor = 0;
    added
        .iter()
        .map(|layer| {
            let step = step_of(&layer.created_by, &steps[cursor..]);
            let what = match step {
                Some(offset) => {
                    let step = &steps[cursor + offset];
                    cursor += offset + 1;
                    format!("{path}:{} {}", step.line, clipped(&step.text))
                }
                None => clipped(&layer.created_by),
            };
            (layer.size, what)
        })
        .collect()
}

/// The `count` largest of the layers an image added, each with what made it, largest first.
pub fn largest(added: &[Layer], steps: &[Step], path: &str, count: usize) -> Vec<String> {
    let mut named: Vec<(u64, String)> = named(added, steps, path)
        .into_iter()
        .filter(|(size, _)| *size > 0)
        .collect();
    named.sort_by_key(|n| std::cmp::Reverse(n.0));
    named
        .into_iter()
        .take(count)
        .map(|(size, what)| format!("{:>9}  {what}", shown(size)))
        .collect()
}

/// One line of at most 72 characters.
pub fn clipped(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(72) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_layers_are_named_by_their_instructions() {
        let text = "FROM x AS build\nRUN make\nFROM base\nWORKDIR /app\nCOPY . /app\nRUN apt-get update \\\n && apt-get install -y big\nENV A=b\nRUN rm -rf /tmp/x\n";
        let steps = steps(text);
        assert_eq!(steps.len(), 5, "{steps:?}");
        let buildkit = [
            Layer {
                size: 0,
                created_by: "WORKDIR /app".into(),
            },
            Layer {
                size: 3_000,
                created_by: "COPY . /app # buildkit".into(),
            },
            Layer {
                size: 80_000_000,
                created_by: "RUN /bin/sh -c apt-get update  && apt-get install -y big # buildkit"
                    .into(),
            },
            Layer {
                size: 0,
                created_by: "ENV A=b".into(),
            },
            Layer {
                size: 10,
                created_by: "RUN /bin/sh -c rm -rf /tmp/x # buildkit".into(),
            },
        ];
        assert_eq!(
            largest(&buildkit, &steps, "images/x/Dockerfile", 2),
            [
                "  80.0 MB  images/x/Dockerfile:6 RUN apt-get update && apt-get install -y big",
                "   3.0 kB  images/x/Dockerfile:5 COPY . /app",
            ]
        );
        // The classic builder's history says the same in its own words.
        let classic = [
            Layer {
                size: 0,
                created_by: "/bin/sh -c #(nop) WORKDIR /app".into(),
            },
            Layer {
                size: 3_000,
                created_by: "/bin/sh -c #(nop) COPY dir:abc in /app ".into(),
            },
            Layer {
                size: 80_000_000,
                created_by: "/bin/sh -c apt-get update  && apt-get install -y big".into(),
            },
            Layer {
                size: 0,
                created_by: "/bin/sh -c #(nop)  ENV A=b".into(),
            },
            Layer {
                size: 10,
                created_by: "/bin/sh -c rm -rf /tmp/x".into(),
            },
        ];
        assert_eq!(
            largest(&classic, &steps, "images/x/Dockerfile", 3),
            [
                "  80.0 MB  images/x/Dockerfile:6 RUN apt-get update && apt-get install -y big",
                "   3.0 kB  images/x/Dockerfile:5 COPY . /app",
                "     10 B  images/x/Dockerfile:9 RUN rm -rf /tmp/x",
            ]
        );
        // A layer no instruction accounts for is named by the engine's record of it.
        let odd = [Layer {
            size: 5,
            created_by: "ADD file:abc in / ".into(),
        }];
        assert_eq!(
            largest(&odd, &steps, "D", 1),
            ["      5 B  ADD file:abc in /"]
        );
    }

    #[test]
    fn layers_of_a_stage_built_on_and_of_a_parents_trigger_are_told_apart() {
        let text = "ARG HIER_PARENT\nFROM ${HIER_PARENT} AS build\nRUN head -c 3000000 /dev/zero > /big\nRUN echo mid > /mid\nFROM build\nCOPY --from=other /x /x\nRUN echo small > /s\n";
        let steps = steps(text);
        assert_eq!(steps.len(), 4, "{steps:?}");
        let added = [
            // An `ONBUILD RUN` of the parent runs first; no instruction of this file made it.
            Layer {
                size: 500,
                created_by: "RUN /bin/sh -c head -c 500 /dev/zero > /ob # buildkit".into(),
            },
            Layer {
                size: 3_000_000,
                created_by: "RUN /bin/sh -c head -c 3000000 /dev/zero > /big # buildkit".into(),
            },
            Layer {
                size: 4,
                created_by: "RUN /bin/sh -c echo mid > /mid # buildkit".into(),
            },
            Layer {
                size: 2,
                created_by: "COPY /x /x # buildkit".into(),
            },
            Layer {
                size: 6,
                created_by: "RUN /bin/sh -c echo small > /s # buildkit".into(),
            },
        ];
        let named: Vec<String> = named(&added, &steps, "D")
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(
            named,
            [
                "RUN /bin/sh -c head -c 500 /dev/zero > /ob # buildkit",
                "D:3 RUN head -c 3000000 /dev/zero > /big",
                "D:4 RUN echo mid > /mid",
                "D:6 COPY --from=other /x /x",
                "D:7 RUN echo small > /s",
            ]
        );
    }
}
