//! A builder of the pool that stops answering: it takes nothing more in this run (even if it
//! comes back), the jobs still running there are stopped, and each starts again on the other
//! builders a bounded number of times. Images this run built that only the lost builder held,
//! and that something still needs (a dependent not yet built, or the promotion at the end of an
//! atomic run), are built again, with what this run built on them, so the lock stays what one
//! engine would record.

use std::collections::BTreeSet;

use super::RunLoop;
use crate::engine::EngineError;
use crate::error::Exit;
use crate::name::ImageName;
use crate::schedule::State;

/// A job lost with its builder starts again at most this many times.
pub const RESTARTS: usize = 2;

impl RunLoop<'_> {
    /// A job whose builder (or the builder an image was crossing from) stopped answering: that
    /// builder takes nothing more in this run, and the job starts again elsewhere. `false` when
    /// it cannot: one engine, no builder left, or started too many times.
    pub(super) fn lost(&mut self, name: &ImageName, builder: usize, error: &EngineError) -> bool {
        if !self.pool.is_shared() {
            return false;
        }
        self.lose(builder, error);
        let restarts = self.restarts.entry(name.clone()).or_default();
        let again = self.placement.any_alive() && restarts.len() < RESTARTS;
        if again {
            restarts.push(self.pool.name(builder).to_string());
            self.scheduler.restart(self.index_of[name]);
        }
        self.reopen_stranded(builder);
        again
    }

    /// A builder stopped answering under a job: it starts again on another builder, or (one
    /// engine, none left, too many starts) it fails, and the run stops when no builder is left.
    pub(super) fn builder_lost(
        &mut self,
        index: usize,
        name: &ImageName,
        builder: usize,
        e: EngineError,
        (duration, log): (f64, String),
        reporter: &mut dyn crate::rebuild::reporter::Reporter,
    ) {
        if self.lost(name, builder, &e) {
            return;
        }
        let exit = match self.placement.any_alive() && self.pool.is_shared() {
            true => Exit::Failed,
            false => {
                self.scheduler.stop();
                Exit::Unreachable
            }
        };
        self.exit = self.exit.worst(exit);
        let mut error = e.to_string();
        if let Some(before) = self.restarts.get(name).filter(|r| !r.is_empty()) {
            error = format!("{error} (started again after losing {})", before.join(", "));
        }
        let report = self.failed_report(name, error, duration, Some(log));
        self.fail(index, report, reporter);
    }

    /// Marks `builder` lost once: its slots go, and the jobs still running there are stopped to
    /// start again elsewhere (each comes back through `ended_early`).
    fn lose(&mut self, builder: usize, error: &EngineError) {
        if !self.placement.is_alive(builder) {
            return;
        }
        self.placement.lose(builder);
        self.scheduler.set_limit(self.placement.capacity());
        self.notes.push_str(&format!(
            "\nbuilder `{}` stopped answering ({error}); what ran there starts again on the others\n",
            self.pool.name(builder)
        ));
        let there: Vec<ImageName> = self
            .on
            .iter()
            .filter(|(_, b)| **b == builder)
            .map(|(name, _)| name.clone())
            .collect();
        for name in there {
            if let Some(handle) = self.handles.get(&name) {
                handle.abort();
                self.moving.insert(name);
            }
        }
    }

    /// A job stopped because its builder was lost: it starts again, or fails.
    pub(super) fn stopped_with_builder(
        &mut self,
        name: &ImageName,
        builder: usize,
        reporter: &mut dyn crate::rebuild::reporter::Reporter,
    ) {
        let error = EngineError::Unreachable {
            endpoint: self.pool.name(builder).to_string(),
            message: "it stopped answering while this job ran there".into(),
        };
        let log = self.setting.log_dir.join(format!("{name}.log"));
        let log = crate::source::display_path(&log).display().to_string();
        let index = self.index_of[name];
        self.builder_lost(index, name, builder, error, (0.0, log), reporter);
    }

    /// Images this run built that are now out of reach and still needed, with what this run
    /// built on them: each is built again.
    fn reopen_stranded(&mut self, lost: usize) {
        loop {
            let mut again: BTreeSet<usize> = (0..self.planned.len())
                .filter(|&i| self.is_stranded(i, lost))
                .collect();
            if again.is_empty() {
                return;
            }
            let stranded = again.clone();
            let mut stack: Vec<usize> = again.iter().copied().collect();
            while let Some(i) = stack.pop() {
                for &c in self.scheduler.dependents(i) {
                    let built_here = self.prepared.contains_key(&self.planned[c]);
                    if self.scheduler.state(c) == State::Succeeded && built_here && again.insert(c)
                    {
                        stack.push(c);
                    }
                }
            }
            let builder = self.pool.name(lost).to_string();
            for i in again {
                let name = self.planned[i].clone();
                let restarts = self.restarts.entry(name.clone()).or_default();
                restarts.push(builder.clone());
                self.scheduler.reopen(i);
                let why = match stranded.contains(&i) {
                    true => format!("was only on builder `{builder}`"),
                    false => format!("was built on what only builder `{builder}` had"),
                };
                self.notes
                    .push_str(&format!("{name} {why}: it is built again\n"));
            }
        }
    }

    /// Whether image `i` was built in this run, is now out of reach, and is still needed.
    fn is_stranded(&self, i: usize, lost: usize) -> bool {
        let name = &self.planned[i];
        if self.scheduler.state(i) != State::Succeeded
            || !self.prepared.contains_key(name)
            || self.restarts.get(name).is_some_and(|r| r.len() >= RESTARTS)
        {
            return false;
        }
        let Some(id) = self.exact.ids.get(name) else {
            return false;
        };
        if !self.placement.holders(id).is_empty() || self.pool.copy_of(id).is_some() {
            return false;
        }
        // An atomic run promotes it at the end, from a builder that holds it.
        self.recorder.holds()
            || self
                .scheduler
                .dependents(i)
                .iter()
                .any(|&c| match self.scheduler.state(c) {
                    State::Waiting | State::Ready => true,
                    State::Running => self.on.get(&self.planned[c]) == Some(&lost),
                    _ => false,
                })
    }
}
