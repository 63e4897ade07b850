//! The entry point: parse the command line, turn it into each command's settings (the command
//! line's types stop here), run the command, print its output, and turn the outcome into the
//! exit code. The only place that prints a final error.

use std::io::{IsTerminal, Write};

use clap::Parser;

use crate::catalog::{Builder, Refresh};
use crate::cli::{BuilderArg, Cli, ColorChoice, Command, RebuildArgs, RefreshArgs, ScheduleArg};
use crate::commands::{self, Context, Format, Output};
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
    let out_colour = colour(std::io::stdout().is_terminal());
    let err_colour = colour(std::io::stderr().is_terminal());
    let err_styles = Styles::new(err_colour);
    let cx = Context::new(
        cli.catalog.clone(),
        format(cli.format),
        cli.verbose,
        cli.quiet,
        Styles::new(out_colour),
        err_colour,
    );
    let result = dispatch(cli.command, &cx);
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    match result {
        Ok(output) => {
            let _ = stdout.write_all(plain_unless(out_colour, &output.stdout).as_bytes());
            let _ = stdout.flush();
            if !output.stderr.is_empty() && (!cli.quiet || output.exit.is_some()) {
                let _ = stderr.write_all(plain_unless(err_colour, &output.stderr).as_bytes());
            }
            output.exit.unwrap_or(Exit::Success).code()
        }
        Err(error) => {
            let _ = stdout.flush();
            let text = render_error(&error, &err_styles);
            let _ = stderr.write_all(plain_unless(err_colour, &text).as_bytes());
            error.exit().code()
        }
    }
}

/// `text` as written, or without any escape code when colour is off: what the engine or a build
/// printed in colour (a failure's last lines, say) comes out plain too.
fn plain_unless(colour: bool, text: &str) -> std::borrow::Cow<'_, str> {
    if colour || !text.contains('\x1b') {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(anstream::adapter::strip_str(text).to_string())
    }
}

fn format(format: crate::cli::Format) -> Format {
    match format {
        crate::cli::Format::Text => Format::Text,
        crate::cli::Format::Json => Format::Json,
        crate::cli::Format::Dot => Format::Dot,
        crate::cli::Format::Mermaid => Format::Mermaid,
        crate::cli::Format::SpdxJson => Format::SpdxJson,
        crate::cli::Format::CyclonedxJson => Format::CycloneDxJson,
    }
}

fn selection(selection: crate::cli::Selection) -> commands::plan::Selection {
    use commands::plan::Selection;
    if selection.all {
        Selection::All
    } else if let Some(rev) = selection.since {
        Selection::Since(rev)
    } else if !selection.images.is_empty() {
        Selection::Images(selection.images)
    } else {
        Selection::Changed
    }
}

fn builder(builder: Option<BuilderArg>) -> Option<Builder> {
    builder.map(|b| match b {
        BuilderArg::Buildkit => Builder::BuildKit,
        BuilderArg::Legacy => Builder::Legacy,
    })
}

fn dispatch(command: Command, cx: &Context) -> Result<Output, Error> {
    if matches!(cx.format, Format::Dot | Format::Mermaid) && !matches!(command, Command::Graph) {
        return Err(Error::usage_help(
            "--format dot and --format mermaid apply to `hier graph` only",
            "use --format text or --format json",
        ));
    }
    let sbom = matches!(command, Command::Sbom { .. });
    if matches!(cx.format, Format::SpdxJson | Format::CycloneDxJson) && !sbom {
        return Err(Error::usage_help(
            "--format spdx-json and --format cyclonedx-json apply to `hier sbom` only",
            "use --format text or --format json",
        ));
    }
    match command {
        Command::Validate => commands::validate(cx),
        Command::Render { images, check } => commands::render(cx, &images, check),
        Command::List { kind } => commands::list(cx, kind.as_deref()),
        Command::Tree { image } => commands::tree(cx, image.as_deref()),
        Command::Show { image } => commands::show(cx, &image),
        Command::Graph => commands::graph(cx),
        Command::Parents { image } => commands::parents(cx, &image),
        Command::Children { image, all } => commands::children(cx, &image, all),
        Command::Impact { images } => commands::impact(cx, &images),
        Command::Pick { needs } => commands::pick(cx, &needs),
        Command::Plan(s) => commands::plan::run(cx, &selection(s)),
        Command::Lint { images, explain } => commands::lint(cx, &images, explain.as_deref()),
        Command::Push { images, at } => commands::push(cx, &images, at.builders.as_deref()),
        Command::Gc { keep, dry_run } => commands::gc(cx, &commands::GcArgs { keep, dry_run }),
        Command::Test { images, jobs, at } => commands::test(
            cx,
            &commands::TestArgs {
                images,
                jobs: usize::from(jobs),
                builders: at.builders,
            },
        ),
        Command::Refresh(args) => commands::refresh::run(cx, &refresh_args(args)),
        Command::Rebuild(args) => commands::rebuild::run(cx, &rebuild_args(args)),
        Command::Builders { builders } => commands::builders(cx, builders.as_deref()),
        Command::New { .. } | Command::Init { .. } => starting(command, cx),
        Command::Docs { out, no_engine, at } => commands::docs(
            cx,
            &commands::DocsArgs {
                out,
                no_engine,
                builders: at.builders,
            },
        ),
        Command::Sbom { .. } | Command::Diff { .. } | Command::Size { .. } => inside(command, cx),
        Command::Completions { shell } => Ok(commands::completions(shell)),
        Command::Man { out } => commands::man(&out),
    }
}

/// The commands that start something: an image, a repository.
fn starting(command: Command, cx: &Context) -> Result<Output, Error> {
    match command {
        Command::New {
            name,
            parent,
            template,
        } => commands::new(
            cx,
            &commands::NewArgs {
                name,
                parent,
                template,
            },
        ),
        Command::Init { dir, base, from } => commands::init(&commands::InitArgs {
            dir,
            base: match base {
                crate::cli::BaseArg::Busybox => commands::InitBase::Busybox,
                crate::cli::BaseArg::Debian => commands::InitBase::Debian,
            },
            from,
        }),
        _ => unreachable!("only `new` and `init` come here"),
    }
}

/// The commands about what is inside built images.
fn inside(command: Command, cx: &Context) -> Result<Output, Error> {
    match command {
        Command::Sbom { image, at } => commands::sbom(cx, &image, at.builders.as_deref()),
        Command::Size { image, at } => commands::size(cx, &image, at.builders.as_deref()),
        Command::Diff {
            image,
            old,
            new,
            at,
        } => commands::diff(
            cx,
            &commands::DiffArgs {
                image,
                old,
                new,
                builders: at.builders,
            },
        ),
        _ => unreachable!("only the commands about what is inside images come here"),
    }
}

fn refresh_args(args: RefreshArgs) -> commands::refresh::Args {
    let RefreshArgs {
        images,
        schedule,
        push,
        atomic,
        report,
        dry_run,
        force,
        jobs,
        builder: b,
        at,
    } = args;
    commands::refresh::Args {
        builders: at.builders,
        force,
        images,
        schedule: schedule.map(|s| match s {
            ScheduleArg::Nightly => Refresh::Nightly,
            ScheduleArg::Weekly => Refresh::Weekly,
        }),
        push,
        atomic,
        report,
        dry_run,
        jobs: usize::from(jobs),
        builder: builder(b),
    }
}

fn rebuild_args(args: RebuildArgs) -> commands::rebuild::Args {
    let RebuildArgs {
        selection: s,
        jobs,
        fail_fast,
        push,
        no_cache,
        dry_run,
        builder: b,
        at,
    } = args;
    commands::rebuild::Args {
        builders: at.builders,
        selection: selection(s),
        jobs: usize::from(jobs),
        push,
        fail_fast,
        no_cache,
        dry_run,
        builder: builder(b),
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
        Error::Failed(message) => format!("{label}: {message}\n"),
        Error::Unreachable { message, help } => format!("{label}: {message}\n  = help: {help}\n"),
        Error::Io { .. } => format!("{label}: {error}\n"),
    }
}
