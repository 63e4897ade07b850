//! The refresh report's list of every image checked for something new: whether it is rebuilt,
//! why, and the updates pending (`name current -> candidate`).

use crate::report::Checked;

/// The section, or nothing when the run checked nothing (not a refresh's report).
pub fn section(checked: Option<&[Checked]>) -> String {
    let Some(checked) = checked.filter(|c| !c.is_empty()) else {
        return String::new();
    };
    let mut out = String::from("\n## What was checked\n\n");
    out.push_str("| image | rebuilt | why | pending updates |\n|---|---|---|---|\n");
    for c in checked {
        let pending: Vec<String> = c
            .pending
            .iter()
            .map(|p| format!("`{}`", super::cell(p).replace('`', "'")))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            super::cell(&c.name),
            c.rebuild,
            super::cell(&c.reason),
            pending.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_image_checked_has_a_row_with_its_pending_updates() {
        let checked = [
            Checked {
                name: "base".into(),
                rebuild: "no",
                reason: "nothing new".into(),
                ..Checked::default()
            },
            Checked {
                name: "runtime".into(),
                rebuild: "yes",
                reason: "1 OS package update pending".into(),
                pending: vec!["hier-extra 1.0 -> 1.1".into()],
                ..Checked::default()
            },
        ];
        assert_eq!(
            section(Some(&checked)),
            "\n## What was checked\n\n| image | rebuilt | why | pending updates |\n|---|---|---|---|\n| base | no | nothing new |  |\n| runtime | yes | 1 OS package update pending | `hier-extra 1.0 -> 1.1` |\n"
        );
        assert_eq!(section(None), "");
    }
}
