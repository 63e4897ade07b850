//! Size budgets (`max_size`, `max_added`): their values (`"250MB"`, `"1.5 GiB"`, or a number
//! of bytes), a built image's sizes checked against them, and, for an image over budget, its
//! largest new layers named by the Dockerfile instructions that made them. Pure: the engine's
//! answers come in as values.

use crate::hash::Hasher;
use crate::lint::dockerfile;

/// The budgets of one image; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// The whole image, its parent's layers included.
    pub max_size: Option<u64>,
    /// What it adds over its parent.
    pub max_added: Option<u64>,
}

impl Budget {
    pub fn is_empty(&self) -> bool {
        self.max_size.is_none() && self.max_added.is_none()
    }

    /// Adds the budgets to the digest of an image's checks (a changed budget is checked again
    /// on the recorded image, as changed tests are).
    pub fn hash_into(&self, hasher: &mut Hasher) {
        if self.is_empty() {
            return;
        }
        let field = |v: Option<u64>| v.map_or("-".to_string(), |b| b.to_string());
        hasher.field("budget");
        hasher.field(field(self.max_size));
        hasher.field(field(self.max_added));
    }
}

/// An image's size and the bytes it adds over its parent, as the engine reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub size: u64,
    /// `None` when the parent's size is not known.
    pub added: Option<u64>,
}

/// Decimal and binary units, as `docker images` and `du` write them.
const UNITS: [(&str, u64); 9] = [
    ("B", 1),
    ("kB", 1000),
    ("KB", 1000),
    ("MB", 1000 * 1000),
    ("GB", 1000 * 1000 * 1000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TB", 1000 * 1000 * 1000 * 1000),
];

/// A size such as `250MB`, `1.5 GiB` or `4096` (bytes): a positive number and a unit.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.starts_with(['-', '+']) {
        return Err("write a positive size without a sign".into());
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    let unit = if unit.is_empty() { "B" } else { unit };
    let Some((_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(format!("unknown unit `{unit}`"));
    };
    let bytes = match number.contains('.') {
        // Whole numbers exactly, as integers.
        false if number.is_empty() => return Err("`` is not a number".into()),
        false => number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(*scale))
            .ok_or_else(too_large)?,
        true if *scale == 1 => return Err("a number of bytes is a whole number".into()),
        true => {
            let value: f64 = number
                .parse()
                .map_err(|_| format!("`{number}` is not a number"))?;
            let bytes = (value * *scale as f64).round();
            if bytes >= u64::MAX as f64 {
                return Err(too_large());
            }
            bytes as u64
        }
    };
    if bytes == 0 {
        return Err("a budget must be at least one byte".into());
    }
    Ok(bytes)
}

fn too_large() -> String {
    "too large: at most 16 EB".into()
}

/// What goes over budget, one sentence each (empty when the image fits).
pub fn excess(budget: &Budget, sizes: &Sizes) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(max) = budget.max_size.filter(|max| sizes.size > *max) {
        out.push(format!(
            "its size, {}, is over max_size {} by {}",
            shown(sizes.size),
            shown(max),
            shown(sizes.size - max)
        ));
    }
    match (budget.max_added, sizes.added) {
        (Some(max), Some(added)) if added > max => out.push(format!(
            "it adds {} over its parent, over max_added {} by {}",
            shown(added),
            shown(max),
            shown(added - max)
        )),
        (Some(_), None) => out.push("what it adds over its parent is not known (max_added)".into()),
        _ => {}
    }
    out
}

/// Bytes as people read them: `512 B`, `7.4 MB` (powers of 1000, as `docker images`).
pub fn shown(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    // 999,950 bytes would round to "1000.0 kB": it is "1.0 MB".
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

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
    fn sizes_take_the_units_people_write() {
        assert_eq!(parse_bytes("250MB"), Ok(250_000_000));
        assert_eq!(parse_bytes("1.5 GiB"), Ok(1_610_612_736));
        assert_eq!(parse_bytes("40 kB"), Ok(40_000));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("2KiB"), Ok(2048));
        assert_eq!(parse_bytes("12 mb"), Err("unknown unit `mb`".into()));
        assert_eq!(parse_bytes("MB"), Err("`` is not a number".into()));
        assert_eq!(
            parse_bytes("0MB"),
            Err("a budget must be at least one byte".into())
        );
        assert_eq!(
            parse_bytes("1.2.3MB"),
            Err("`1.2.3` is not a number".into())
        );
    }

    #[test]
    fn sizes_read_like_docker_images() {
        assert_eq!(shown(0), "0 B");
        assert_eq!(shown(999), "999 B");
        assert_eq!(shown(74_800_000), "74.8 MB");
        assert_eq!(shown(1_234_567_890), "1.2 GB");
        assert_eq!(shown(999_950), "1.0 MB");
    }

    #[test]
    fn an_image_over_either_budget_says_by_what() {
        let budget = Budget {
            max_size: Some(10_000_000),
            max_added: Some(1_000_000),
        };
        let fits = Sizes {
            size: 9_000_000,
            added: Some(900_000),
        };
        assert!(excess(&budget, &fits).is_empty());
        let over = Sizes {
            size: 12_300_000,
            added: Some(2_000_000),
        };
        assert_eq!(
            excess(&budget, &over),
            [
                "its size, 12.3 MB, is over max_size 10.0 MB by 2.3 MB",
                "it adds 2.0 MB over its parent, over max_added 1.0 MB by 1.0 MB"
            ]
        );
        assert!(excess(&Budget::default(), &over).is_empty());
    }

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
