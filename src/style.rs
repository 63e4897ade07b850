//! Terminal styles: colour only when the output is a terminal (or `--color always`).

use anstyle::{AnsiColor, Style};

#[derive(Debug, Clone, Copy)]
pub struct Styles {
    pub error: Style,
    pub warning: Style,
    pub ok: Style,
    pub dim: Style,
    pub bold: Style,
}

impl Styles {
    pub fn plain() -> Self {
        Styles {
            error: Style::new(),
            warning: Style::new(),
            ok: Style::new(),
            dim: Style::new(),
            bold: Style::new(),
        }
    }

    pub fn coloured() -> Self {
        Styles {
            error: AnsiColor::Red.on_default().bold(),
            warning: AnsiColor::Yellow.on_default().bold(),
            ok: AnsiColor::Green.on_default(),
            dim: AnsiColor::Blue.on_default(),
            bold: Style::new().bold(),
        }
    }

    pub fn new(colour: bool) -> Self {
        if colour {
            Self::coloured()
        } else {
            Self::plain()
        }
    }

    /// `text` wrapped in `style`.
    pub fn paint(style: Style, text: &str) -> String {
        format!("{}{text}{}", style.render(), style.render_reset())
    }
}
