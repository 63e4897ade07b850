//! What the run loop makes of each finished job: the lock entry (now or held), the
//! scheduler's next step (a failure skips only the failed image's dependents), the image's
//! report, and the event reporters see.

use super::RunLoop;
use crate::engine::EngineError;
use crate::error::{Error, Exit};
use crate::name::ImageName;
use crate::rebuild::event::Event;
use crate::rebuild::outcome::{Built, Failure, JobOutcome, JobResult};
use crate::rebuild::record;
use crate::rebuild::reporter::Reporter;
use crate::report::{ImageReport, Status, seconds};

impl RunLoop<'_> {
    pub(super) fn finished(
        &mut self,
        mut result: JobResult,
        reporter: &mut dyn Reporter,
    ) -> Result<(), Error> {
        let index = self.index_of[&result.name];
        let builder = self.returned(&mut result);
        let moved = std::mem::take(&mut result.moved);
        let log = crate::source::display_path(&result.log)
            .display()
            .to_string();
        let duration = seconds(result.duration);
        let name = result.name;
        match result.outcome {
            JobOutcome::Kept => {
                self.keep_recorded(index, &name, duration, log, reporter);
            }
            JobOutcome::Built(built) => {
                self.built(index, &name, built, duration, log, reporter)?;
            }
            JobOutcome::Tested(sizes) => {
                self.tested(index, &name, sizes, duration, log, reporter)?
            }
            JobOutcome::Failed(failed) => {
                self.exit = self.exit.worst(Exit::Failed);
                if matches!(failed.failure, Failure::Registry(_)) {
                    // Nothing more can cross: as a push to a registry that does not answer.
                    self.exit = self.exit.worst(Exit::Unreachable);
                    self.scheduler.stop();
                }
                let mut report =
                    self.failed_report(&name, failed.failure.to_string(), duration, Some(log));
                let tests_only = self.tests_only.contains(&name);
                report.next = Some(next_step(&name, failed.image_id.as_deref(), tests_only));
                report.image_id = failed.image_id;
                report.output = (!failed.output.is_empty()).then_some(failed.output);
                self.notes.push_str(&failure_note(&report));
                self.fail(index, report, reporter);
            }
            JobOutcome::EngineLost(e) => {
                let builder = builder.unwrap_or_default();
                self.builder_lost(index, &name, builder, e, (duration, log), reporter);
            }
            JobOutcome::SourceLost(source, e) => {
                self.builder_lost(index, &name, source, e, (duration, log), reporter);
            }
        }
        let shared = self.pool.is_shared();
        if let (Some(b), Some(report), true) = (builder, self.results.get_mut(&name), shared) {
            report.builder = Some(self.pool.name(b).to_string());
            report.moved = moved;
            report.restarted_from = self.restarts.get(&name).cloned().unwrap_or_default();
        }
        Ok(())
    }

    /// A refresh found nothing new in the rebuilt image: the recorded one stays.
    fn keep_recorded(
        &mut self,
        index: usize,
        name: &ImageName,
        duration: f64,
        log: String,
        reporter: &mut dyn Reporter,
    ) {
        self.keep(index, name);
        let detail = "same upstream and packages: the old image stays".to_string();
        reporter.event(&Event::Finished {
            name: name.clone(),
            status: Status::Unchanged,
            detail: detail.clone(),
        });
        let mut report = ImageReport {
            name: name.to_string(),
            status: Status::Unchanged,
            image_id: self.exact.ids.get(name).cloned(),
            duration_s: duration,
            reason: self.reason(name),
            log: Some(log),
            note: Some(detail),
            ..ImageReport::default()
        };
        self.policy.annotate(&mut report);
        self.results.insert(name.clone(), report);
    }

    fn built(
        &mut self,
        index: usize,
        name: &ImageName,
        built: Built,
        duration: f64,
        log: String,
        reporter: &mut dyn Reporter,
    ) -> Result<(), Error> {
        let repo = self.setting.repo;
        let catalog = &repo.catalog;
        let repository = catalog.repository(name);
        self.promoted.insert(name.clone());
        let digest = built.pushed.get(&repository).cloned();
        if let Some(d) = &digest {
            self.exact.pushed.insert(name.clone(), d.clone());
            self.pool
                .add_copy(&built.image_id, format!("{repository}@{d}"));
        }
        let (inputs, fingerprint) = &self.prepared[name];
        let entry = record::entry(catalog, &self.exact, name, inputs, fingerprint, &built);
        self.recorder.record(name, entry)?;
        self.exact.ids.insert(name.clone(), built.image_id.clone());
        let status = match (&built.push_error, built.pushed.is_empty()) {
            (Some(_), _) => Status::Failed,
            (None, false) => Status::Pushed,
            (None, true) => Status::Built,
        };
        let error = built.push_error.as_ref().map(|e| self.push_failed(name, e));
        // A push that failed fails the image (it stays recorded, so the next `--push` run
        // pushes it): nothing that builds on it is built and pushed on a parent the registry
        // lacks.
        let skipped = self.scheduler.finish(index, error.is_none());
        reporter.event(&Event::Finished {
            name: name.clone(),
            status,
            detail: error.clone().unwrap_or_else(|| format!("{duration:.1}s")),
        });
        self.skip_dependents(name, skipped, reporter);
        let mut report = ImageReport {
            name: name.to_string(),
            status,
            image_id: Some(built.image_id.clone()),
            duration_s: duration,
            reason: self.reason(name),
            log: Some(log),
            error,
            packages: built.packages.and_then(|p| p.changes).map(|c| c.lines()),
            owner: catalog.image(name).owner.clone(),
            digest,
            size: built.sizes.map(|s| s.size),
            added: built.sizes.and_then(|s| s.added),
            ..ImageReport::default()
        };
        self.policy.annotate(&mut report);
        self.results.insert(name.clone(), report);
        Ok(())
    }

    /// A recorded image passed its tests again: the lock records the tests it passed, and its
    /// sizes when it did not have them (a build recorded before hier measured sizes).
    fn tested(
        &mut self,
        index: usize,
        name: &ImageName,
        sizes: crate::budget::Sizes,
        duration: f64,
        log: String,
        reporter: &mut dyn Reporter,
    ) -> Result<(), Error> {
        let image = self.setting.repo.catalog.image(name);
        let mut entry = self.recorder.lock().images[name.as_str()].clone();
        entry.tests = Some(image.tests_digest());
        if entry.size.is_none() {
            entry.size = Some(sizes.size);
            entry.added = sizes.added;
        }
        let image_id = entry.image_id.clone();
        self.recorder.write(name, entry)?;
        self.exact.ids.insert(name.clone(), image_id.clone());
        self.scheduler.finish(index, true);
        let detail = format!("{} tests passed, {duration:.1}s", image.test.len());
        reporter.event(&Event::Finished {
            name: name.clone(),
            status: Status::Tested,
            detail,
        });
        let report = ImageReport {
            name: name.to_string(),
            status: Status::Tested,
            image_id: Some(image_id),
            duration_s: duration,
            reason: self.reason(name),
            log: Some(log),
            owner: image.owner.clone(),
            ..ImageReport::default()
        };
        self.results.insert(name.clone(), report);
        Ok(())
    }

    /// A push that failed after the image was built, tested and tagged.
    fn push_failed(&mut self, name: &ImageName, e: &EngineError) -> String {
        if e.is_unreachable() {
            // The registry does not answer: this image is recorded, nothing more starts.
            self.exit = self.exit.worst(Exit::Unreachable);
            self.scheduler.stop();
        }
        self.exit = self.exit.worst(Exit::Failed);
        let error = format!("built and tagged, but the push failed: {e}");
        self.notes.push_str(&format!("\n{name}: {error}\n"));
        if let Some(help) = e.help() {
            self.notes.push_str(&format!("help: {help}\n"));
        }
        error
    }

    pub(super) fn failed_report(
        &self,
        name: &ImageName,
        error: String,
        duration_s: f64,
        log: Option<String>,
    ) -> ImageReport {
        ImageReport {
            name: name.to_string(),
            status: Status::Failed,
            duration_s,
            reason: self.reason(name),
            log,
            error: Some(error),
            ..ImageReport::default()
        }
    }

    /// A failed image: the scheduler skips its dependents; the failure and the skips are
    /// reported.
    pub(super) fn fail(&mut self, index: usize, report: ImageReport, reporter: &mut dyn Reporter) {
        let skipped = self.scheduler.finish(index, false);
        let because = self.planned[index].clone();
        reporter.event(&Event::Finished {
            name: because.clone(),
            status: Status::Failed,
            detail: report.error.clone().unwrap_or_default(),
        });
        self.results.insert(because.clone(), report);
        self.skip_dependents(&because, skipped, reporter);
    }

    /// Reports the images skipped because `because` failed.
    fn skip_dependents(
        &mut self,
        because: &ImageName,
        skipped: Vec<usize>,
        reporter: &mut dyn Reporter,
    ) {
        for s in skipped {
            let name = self.planned[s].clone();
            let why = format!("`{because}` failed");
            reporter.event(&Event::Finished {
                name: name.clone(),
                status: Status::Skipped,
                detail: why.clone(),
            });
            let report = ImageReport {
                name: name.to_string(),
                status: Status::Skipped,
                reason: self.reason(&name),
                error: Some(why),
                ..ImageReport::default()
            };
            self.results.insert(name, report);
        }
    }

    /// Images that never started because the run stopped.
    pub(super) fn skip_remaining(&mut self) {
        let why = if self.interrupted {
            "interrupted"
        } else {
            "not started"
        };
        for index in self.scheduler.skip_remaining() {
            let name = self.planned[index].clone();
            let report = ImageReport {
                name: name.to_string(),
                status: Status::Skipped,
                reason: self.reason(&name),
                error: Some(why.into()),
                ..ImageReport::default()
            };
            self.results.entry(name).or_insert(report);
        }
    }
}

/// What to do about a failed image: examine the image it built (or was testing), if any, then
/// rebuild it (or test it again).
fn next_step(name: &ImageName, image_id: Option<&str>, tests_only: bool) -> String {
    let again = if tests_only {
        format!(
            "fix the image or its tests, then run `hier test {name}` (or `hier rebuild {name}`)"
        )
    } else {
        format!("fix it, then run `hier rebuild {name}`")
    };
    match image_id {
        Some(id) => format!("examine it with `docker run --rm -it {id} sh`, {again}"),
        None => again,
    }
}

/// A failed image for the terminal: why, the last lines of what failed, its log, what next.
fn failure_note(report: &ImageReport) -> String {
    let mut note = format!(
        "\n{} failed: {}\n",
        report.name,
        report.error.as_deref().unwrap_or_default()
    );
    for line in report.output.iter().flatten() {
        note.push_str(&format!("    | {line}\n"));
    }
    if let Some(log) = &report.log {
        note.push_str(&format!("  log: {log}\n"));
    }
    if let Some(next) = &report.next {
        note.push_str(&format!("  next: {next}\n"));
    }
    note
}
