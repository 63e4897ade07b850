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
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    let unit = if unit.is_empty() { "B" } else { unit };
    let Some((_, scale)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(format!("unknown unit `{unit}`"));
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{number}` is not a number"))?;
    let bytes = (value * *scale as f64).round();
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err("a budget must be at least one byte".into());
    }
    Ok(bytes as u64)
}

/// What goes over budget, one sentence each (empty when the image fits).
pub fn excess(budget: &Budget, sizes: &Sizes) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(max) = budget.max_size.filter(|max| sizes.size > *max) {
        out.push(format!(
            "its size, {}, is over max_size {}",
            shown(sizes.size),
            shown(max)
        ));
    }
    match (budget.max_added, sizes.added) {
        (Some(max), Some(added)) if added > max => out.push(format!(
            "it adds {} over its parent, over max_added {}",
            shown(added),
            shown(max)
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
    while value >= 1000.0 && unit + 1 < UNITS.len() {
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

/// An instruction of the final stage: its keyword, line and text (as written, one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub keyword: String,
    pub line: usize,
    pub text: String,
}

/// The instructions of a Dockerfile's final stage after its `FROM`, in order.
pub fn steps(dockerfile_text: &str) -> Vec<Step> {
    let parsed = dockerfile::parse(dockerfile_text);
    let last = parsed.stages.len().checked_sub(1);
    parsed
        .instructions
        .iter()
        .filter(|i| i.stage.is_some() && i.stage == last && i.keyword != "FROM")
        .map(|i| Step {
            keyword: i.keyword.clone(),
            line: i.line,
            text: format!("{} {}", i.keyword, i.args),
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

/// Each of the layers an image added (`added`, oldest first) with its bytes and what made it:
/// the instruction (`path:line text`) when it can be told, else the engine's record of it.
pub fn named(added: &[Layer], steps: &[Step], path: &str) -> Vec<(u64, String)> {
    let mut cursor = 0;
    added
        .iter()
        .map(|layer| {
            let keyword = keyword_of(&layer.created_by);
            let step = steps[cursor..].iter().position(|s| s.keyword == keyword);
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
                "its size, 12.3 MB, is over max_size 10.0 MB",
                "it adds 2.0 MB over its parent, over max_added 1.0 MB"
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
}
