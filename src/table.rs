//! Aligned text tables for people: columns padded to their widest cell (by display width), a
//! bold header on a terminal, the last column never padded.

use unicode_width::UnicodeWidthStr;

use crate::style::Styles;

pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self, styles: &Styles) -> String {
        let columns = self.headers.len();
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.width());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, row: &[String], header: bool| {
            let mut text = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                if i + 1 < columns {
                    text.push_str(cell);
                    text.push_str(&" ".repeat(widths[i] - cell.width() + 2));
                } else {
                    text.push_str(cell);
                }
            }
            let text = text.trim_end();
            if header {
                out.push_str(&Styles::paint(styles.bold, text));
            } else {
                out.push_str(text);
            }
            out.push('\n');
        };
        line(&mut out, &self.headers, true);
        for row in &self.rows {
            line(&mut out, row, false);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_columns_by_display_width() {
        let mut t = Table::new(&["NAME", "KIND", "DESCRIPTION"]);
        t.row(vec!["base".into(), "base".into(), "Débian".into()]);
        t.row(vec!["python-nginx".into(), "combo".into(), "".into()]);
        assert_eq!(
            t.render(&Styles::plain()),
            "NAME          KIND   DESCRIPTION\nbase          base   Débian\npython-nginx  combo\n"
        );
    }
}
