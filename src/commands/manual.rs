//! `hier completions SHELL` and `hier man --out DIR`: the shell completions (clap_complete) and
//! the man pages (clap_mangen), both made from the command line's own definition, so they never
//! drift from what hier accepts.

use std::path::Path;

use clap::CommandFactory;

use super::Output;
use crate::cli::Cli;
use crate::error::Error;

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Output {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hier", &mut script);
    Output::text(String::from_utf8_lossy(&script).into_owned())
}

/// Writes `hier.1` and `hier-<command>.1` for every command into `out`.
pub fn man(out: &Path) -> Result<Output, Error> {
    if out.exists() && !out.is_dir() {
        return Err(Error::usage(format!(
            "{} is not a folder",
            crate::source::display_path(out).display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io("create", out.display(), e))?;
    let mut cli = Cli::command();
    cli.build();
    let mut pages = vec![("hier".to_string(), cli.clone())];
    for command in cli.get_subcommands().filter(|c| c.get_name() != "help") {
        let name = format!("hier-{}", command.get_name());
        pages.push((name.clone(), command.clone().name(name)));
    }
    let mut written = String::new();
    for (name, command) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|e| Error::io("render", &name, e))?;
        let path = out.join(format!("{name}.1"));
        crate::lock::write_atomic(&path, &page)
            .map_err(|e| Error::io("write", path.display(), e))?;
        written.push_str(&format!(
            "wrote {}\n",
            crate::source::display_path(&path).display()
        ));
    }
    let mut output = Output::text(String::new());
    output.stderr = written;
    Ok(output)
}
