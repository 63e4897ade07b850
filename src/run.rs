//! The entry point: parse the command line, run the command, print its output, and turn the
//! outcome into the exit code. The only place that prints a final error.

use std::io::{IsTerminal, Write};

use clap::Parser;

use crate::cli::{Cli, ColorChoice};
use crate::commands::{self, Context};
use crate::error::{Error, Exit};
use crate::style::Styles;

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::BadInput.code()
            } else {
                Exit::Success.code()
            };
        }
    };
    let colour = |terminal: bool| match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    };
    let out_styles = Styles::new(colour(std::io::stdout().is_terminal()));
    let err_styles = Styles::new(colour(std::io::stderr().is_terminal()));
    let cx = Context {
        catalog: cli.catalog.clone(),
        format: cli.format,
        verbose: cli.verbose,
        quiet: cli.quiet,
        styles: out_styles,
    };
    let result = commands::dispatch(&cli.command, &cx);
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    match result {
        Ok(output) => {
            let _ = stdout.write_all(output.stdout.as_bytes());
            let _ = stdout.flush();
            if !output.stderr.is_empty() && (!cli.quiet || output.exit.is_some()) {
                let _ = stderr.write_all(output.stderr.as_bytes());
            }
            output.exit.unwrap_or(Exit::Success).code()
        }
        Err(error) => {
            let _ = stdout.flush();
            let _ = stderr.write_all(render_error(&error, &err_styles).as_bytes());
            error.exit().code()
        }
    }
}

/// The text printed for an error on standard error.
pub fn render_error(error: &Error, styles: &Styles) -> String {
    let label = Styles::paint(styles.error, "error");
    match error {
        Error::Input(problems) => {
            let mut out = String::new();
            for d in problems {
                out.push_str(&d.render(styles));
                out.push('\n');
            }
            let n = problems.len();
            out.push_str(&format!(
                "{label}: {} found; nothing was written\n",
                if n == 1 {
                    "1 problem".to_string()
                } else {
                    format!("{n} problems")
                }
            ));
            out
        }
        Error::Usage { message, help } => {
            let mut out = format!("{label}: {message}\n");
            if let Some(help) = help {
                out.push_str(&format!("  = help: {help}\n"));
            }
            out
        }
        Error::Failed(message) | Error::Unreachable(message) => format!("{label}: {message}\n"),
        Error::Io { .. } => format!("{label}: {error}\n"),
    }
}
