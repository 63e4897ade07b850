//! Size budgets (`max_size`, `max_added`): their values (`"250MB"`, `"1.5 GiB"`, or a number
//! of bytes), a built image's sizes checked against them, and sizes as people read them. Pure:
//! the engine's answers come in as values (`size::layers` names an over-budget image's layers).

use crate::hash::Hasher;

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
}
