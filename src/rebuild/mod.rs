//! Running a plan against an engine (`hier rebuild`, and the building part of `hier refresh`):
//! [`preflight`] fetches and resolves what the plan builds on, the [`run_loop`] builds the
//! planned images through the engine boundary as the scheduler allows, a [`policy`] says what
//! each kind of run builds and promotes, [`record`] writes the lock (or holds it for an atomic
//! run, which [`promote`] finishes), and reporters render the events. The run never prints and
//! never knows which engine it drives.

mod catch_up;
pub mod event;
pub mod exact;
pub mod job;
pub mod labels;
pub mod outcome;
pub mod policy;
pub mod preflight;
mod prepare;
mod promote;
pub mod record;
pub mod reporter;
pub mod run_loop;
#[cfg(test)]
pub(crate) mod tests;
mod upload;
pub mod upstream;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::Builder;
use crate::engine::{Engine, SecretValues};
use crate::error::{Error, Exit};
use crate::inputs::Inputs;
use crate::interrupt::Interrupt;
use crate::name::ImageName;
use crate::plan::Plan;
use crate::pool::{Holders, Pool};
use crate::repo::Repository;
use crate::report::{ImageReport, Report, RunOutcome};
use crate::state;

pub use policy::Policy;
pub use upstream::{Upstream, fresh_upstream, resolve_from};

pub use labels::{Provenance, source_date_epoch};
use prepare::Setting;
use record::Recorder;
use reporter::Reporter;
use run_loop::{Limits, Ran, RunLoop};

/// Removes the throwaway containers of these images (after an interruption), as far as the
/// engine lets it.
pub async fn remove_containers<'a>(
    engine: &dyn Engine,
    catalog: &crate::catalog::Catalog,
    images: impl IntoIterator<Item = &'a ImageName>,
) {
    let owners: Vec<String> = images.into_iter().map(|n| catalog.repository(n)).collect();
    let _ = engine.remove_containers(&owners).await;
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub jobs: usize,
    /// Push every promoted image to the registry and the mirrors.
    pub push: bool,
    pub fail_fast: bool,
    pub no_cache: bool,
    pub builder: Builder,
    /// Tag, push and record nothing until every image built and passed its tests.
    pub atomic: bool,
}

/// What a run works with besides the plan.
pub struct Runner<'a> {
    /// The command that runs it (`rebuild`, `refresh`), for the report.
    pub command: &'static str,
    pub repo: &'a Repository,
    /// The planned inputs of every image.
    pub inputs: &'a BTreeMap<ImageName, Inputs>,
    /// The engines it builds on (the first fetches and resolves what the run builds on).
    pub pool: Arc<Pool>,
    pub interrupt: Interrupt,
    /// The values of the secrets the planned images declare ([`crate::secrets::resolve`]).
    pub secrets: SecretValues,
    /// Where the builds come from (git), read while the run was being planned.
    pub provenance: Provenance,
    /// Images fetched before the run began (a refresh fetches before it asks about updates),
    /// reported with it.
    pub fetched: Vec<ImageReport>,
    /// A refresh: every image it checked for something new, in the report.
    pub checked: Option<Vec<crate::report::Checked>>,
}

impl Runner<'_> {
    /// Runs the plan (whose `fetch` items preflight executes) under `policy`; the report is
    /// written to `.hier/reports/` and given to the reporter.
    pub async fn run(
        &self,
        plan: &Plan,
        options: &Options,
        policy: Arc<dyn Policy>,
        reporter: &mut dyn Reporter,
    ) -> Result<RunOutcome, Error> {
        let repo = self.repo;
        let engine = self.pool.primary();
        if plan.builds().next().is_some() {
            for member in &self.pool.members {
                member.engine.check_builder(options.builder).map_err(|e| {
                    match self.pool.is_shared() {
                        true => Error::usage(format!("builder `{}`: {e}", member.name)),
                        false => Error::usage(e),
                    }
                })?;
            }
            if options.builder == Builder::BuildKit {
                upload::refuse_names_buildkit_cannot_carry(repo, plan)?;
            }
        }
        let retag = tokio::spawn(preflight::retag(
            engine.clone(),
            repo.catalog.registry.clone(),
            preflight::retags(repo, plan),
        ));
        let preflight = tokio::select! {
            p = preflight::run(&*engine, repo, self.inputs, plan, &*policy) => p,
            _ = self.interrupt.wait() => {
                retag.abort();
                return self.interrupted_before_start(plan, reporter);
            }
        };
        let preflight = preflight.inspect_err(|_| retag.abort())?;
        let run = state::run_id();
        let log_dir = self.log_dir(plan, &run)?;
        let setting = Setting {
            repo,
            inputs: self.inputs,
            provenance: &self.provenance,
            log_dir: &log_dir,
            push: options.push,
            builder: options.builder,
            secrets: &self.secrets,
        };
        let limits = Limits {
            fail_fast: options.fail_fast,
            no_cache: options.no_cache,
        };
        let recorder = Recorder::new(repo.lock.clone(), repo.lock_path(), options.atomic);
        let run_loop = RunLoop::new(
            setting,
            limits,
            plan,
            self.pool.clone(),
            policy,
            self.interrupt.clone(),
            preflight.exact,
            recorder,
        );
        let ran = run_loop.run(reporter).await?;
        let mut fetched = self.fetched.clone();
        fetched.extend(preflight.fetched);
        let ended = self.end(run, ran, fetched, retag, options.push).await?;
        reporter.finish(&ended.report);
        Ok(ended)
    }

    /// Interrupted before anything started (while fetching or resolving): every planned image
    /// is skipped, the report is written, exit 130.
    fn interrupted_before_start(
        &self,
        plan: &Plan,
        reporter: &mut dyn Reporter,
    ) -> Result<RunOutcome, Error> {
        let images = plan
            .runs()
            .map(|i| ImageReport {
                name: i.name.to_string(),
                status: crate::report::Status::Skipped,
                reason: i.reason.to_string(),
                error: Some("interrupted".into()),
                ..ImageReport::default()
            })
            .collect();
        let exit = Exit::Interrupted;
        let report = self.report(state::run_id(), true, images, exit);
        report.write(&state::reports(&self.repo.root))?;
        reporter.finish(&report);
        Ok(RunOutcome {
            report,
            exit,
            notes: String::new(),
        })
    }

    fn report(
        &self,
        run: String,
        interrupted: bool,
        images: Vec<ImageReport>,
        exit: Exit,
    ) -> Report {
        let revision = self.provenance.revision.clone();
        let mut report = Report::new(self.command, run, revision, interrupted, images, exit);
        report.checked = self.checked.clone();
        report
    }

    /// This run's log folder (made when the run builds something).
    fn log_dir(&self, plan: &Plan, run: &str) -> Result<std::path::PathBuf, Error> {
        let log_dir = state::logs(&self.repo.root, run);
        if plan.runs().next().is_some() {
            std::fs::create_dir_all(&log_dir)
                .map_err(|e| Error::io("create", log_dir.display(), e))?;
        }
        Ok(log_dir)
    }

    /// After the loop: what an atomic run held is promoted (or not), the retags are in, and the
    /// report is written.
    async fn end(
        &self,
        run: String,
        mut ran: Ran,
        fetched: Vec<ImageReport>,
        retag: tokio::task::JoinHandle<Result<Vec<ImageReport>, crate::engine::EngineError>>,
        push: bool,
    ) -> Result<RunOutcome, Error> {
        let (by_id, fallback) = std::mem::take(&mut ran.holders);
        let holders = Holders {
            pool: &self.pool,
            by_id,
            fallback,
        };
        let (exit, notes) = promote::held(
            &holders,
            self.repo,
            &mut ran.recorder,
            &mut ran.results,
            push,
            ran.interrupted,
        )
        .await?;
        let (caught_up, push_exit, push_notes) =
            if push && !ran.interrupted && ran.exit != Exit::Unreachable {
                let done: std::collections::HashSet<ImageName> = ran
                    .results
                    .iter()
                    .filter_map(|r| ImageName::parse(&r.name).ok())
                    .collect();
                catch_up::push_unpushed(&holders, self.repo, &mut ran.recorder, &done).await?
            } else {
                (Vec::new(), Exit::Success, String::new())
            };
        let (mut images, retag_exit, retag_note) = match retag.await {
            Ok(Ok(reports)) => (reports, Exit::Success, String::new()),
            Ok(Err(e)) => {
                let exit = if e.is_unreachable() {
                    Exit::Unreachable
                } else {
                    Exit::Failed
                };
                let note = format!("\nrestoring the tags of up-to-date images failed: {e}\n");
                (Vec::new(), exit, note)
            }
            Err(e) => (
                Vec::new(),
                Exit::Failed,
                format!("\nrestoring tags failed: {e}\n"),
            ),
        };
        images.extend(fetched);
        images.extend(ran.results);
        images.extend(caught_up);
        let exit = ran.exit.worst(exit).worst(retag_exit).worst(push_exit);
        let report = self.report(run, ran.interrupted, images, exit);
        report.write(&state::reports(&self.repo.root))?;
        Ok(RunOutcome {
            report,
            exit,
            notes: ran.notes + &notes + &retag_note + &push_notes,
        })
    }
}
