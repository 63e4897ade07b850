//! The rebuild scheduler: a pure state machine over the plan's images (no I/O, no async).
//! An executor asks it for the next image to start, tells it when one finished, and it answers
//! which images became ready or were skipped. It starts at most `limit` jobs at once (`-j N`),
//! and a ready image with the longest chain of dependents below it goes first, so the critical
//! path starts as early as possible.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for dependencies in the plan.
    Waiting,
    Ready,
    Running,
    Succeeded,
    Failed,
    /// A dependency failed or was skipped, or the run stopped before it started.
    Skipped,
}

/// One job of the plan: its index is its identity; `deps` are indices of jobs it needs.
#[derive(Debug, Clone)]
pub struct Job {
    pub deps: Vec<usize>,
}

#[derive(Debug)]
pub struct Scheduler {
    state: Vec<State>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    /// Length of the longest chain of dependents, the job included.
    priority: Vec<usize>,
    ready: BTreeSet<(std::cmp::Reverse<usize>, usize)>,
    /// Jobs started and not finished, and how many may be.
    running: usize,
    limit: usize,
    fail_fast: bool,
    stopped: bool,
}

impl Scheduler {
    /// `jobs` must be in a topological order (dependencies before dependents); at most `limit`
    /// (at least one) run at once.
    pub fn new(jobs: &[Job], limit: usize, fail_fast: bool) -> Scheduler {
        let n = jobs.len();
        let mut dependents = vec![Vec::new(); n];
        for (i, job) in jobs.iter().enumerate() {
            for &d in &job.deps {
                assert!(d < i, "jobs are in topological order");
                dependents[d].push(i);
            }
        }
        let mut priority = vec![1; n];
        for i in (0..n).rev() {
            priority[i] = 1 + dependents[i]
                .iter()
                .map(|&c| priority[c])
                .max()
                .unwrap_or(0);
        }
        let mut scheduler = Scheduler {
            state: vec![State::Waiting; n],
            deps: jobs.iter().map(|j| j.deps.clone()).collect(),
            dependents,
            priority,
            ready: BTreeSet::new(),
            running: 0,
            limit: limit.max(1),
            fail_fast,
            stopped: false,
        };
        for i in 0..n {
            scheduler.promote(i);
        }
        scheduler
    }

    fn promote(&mut self, i: usize) {
        if self.state[i] == State::Waiting
            && self.deps[i]
                .iter()
                .all(|&d| self.state[d] == State::Succeeded)
        {
            self.state[i] = State::Ready;
            self.ready.insert((std::cmp::Reverse(self.priority[i]), i));
        }
    }

    /// The next job to start (marked running), if one is ready, fewer than the limit are
    /// running and the run was not stopped.
    pub fn start_next(&mut self) -> Option<usize> {
        self.start_first(|_| true)
    }

    /// The first ready job, in priority order, that `accept` takes (marked running), if fewer
    /// than the limit are running and the run was not stopped. A pool of builders accepts the
    /// jobs it can place now.
    pub fn start_first(&mut self, mut accept: impl FnMut(usize) -> bool) -> Option<usize> {
        if self.stopped || self.running >= self.limit {
            return None;
        }
        let first = *self.ready.iter().find(|(_, i)| accept(*i))?;
        self.ready.remove(&first);
        self.state[first.1] = State::Running;
        self.running += 1;
        Some(first.1)
    }

    /// The ready jobs in the order they would start (none when the run stopped or the limit
    /// is reached).
    pub fn ready(&self) -> Vec<usize> {
        if self.stopped || self.running >= self.limit {
            return Vec::new();
        }
        self.ready.iter().map(|(_, i)| *i).collect()
    }

    /// How many jobs may run at once from now on (at least one).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// A running job that must start again (its builder stopped answering): ready once more,
    /// in its place by priority.
    pub fn restart(&mut self, i: usize) {
        assert_eq!(self.state[i], State::Running, "job {i} was not running");
        self.running -= 1;
        self.state[i] = State::Waiting;
        self.promote(i);
    }

    /// A job that succeeded must run again (what it made is gone with its builder, and some
    /// of its dependents have not run): it is ready once more (or waits for what it needs,
    /// reopened too), and its dependents that were ready wait for it again.
    pub fn reopen(&mut self, i: usize) {
        assert_eq!(self.state[i], State::Succeeded, "job {i} had not succeeded");
        self.state[i] = State::Waiting;
        self.promote(i);
        for &c in &self.dependents[i] {
            if self.state[c] == State::Ready {
                self.ready.remove(&(std::cmp::Reverse(self.priority[c]), c));
                self.state[c] = State::Waiting;
            }
        }
    }

    /// The jobs that need job `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// Records a running job's outcome. Returns the jobs skipped because of it.
    pub fn finish(&mut self, i: usize, ok: bool) -> Vec<usize> {
        assert_eq!(self.state[i], State::Running, "job {i} was not running");
        self.running -= 1;
        if ok {
            self.state[i] = State::Succeeded;
            for c in self.dependents[i].clone() {
                self.promote(c);
            }
            return Vec::new();
        }
        self.state[i] = State::Failed;
        if self.fail_fast {
            self.stop();
        }
        let mut skipped = Vec::new();
        let mut stack = self.dependents[i].clone();
        while let Some(c) = stack.pop() {
            if matches!(self.state[c], State::Waiting | State::Ready) {
                self.ready.remove(&(std::cmp::Reverse(self.priority[c]), c));
                self.state[c] = State::Skipped;
                skipped.push(c);
                stack.extend(self.dependents[c].iter().copied());
            }
        }
        skipped.sort_unstable();
        skipped
    }

    /// Starts nothing more (Ctrl-C, `--fail-fast`); running jobs may still finish.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Jobs that never ran because the run stopped: marks them skipped and returns them.
    pub fn skip_remaining(&mut self) -> Vec<usize> {
        let mut skipped = Vec::new();
        for (i, s) in self.state.iter_mut().enumerate() {
            if matches!(s, State::Waiting | State::Ready) {
                *s = State::Skipped;
                skipped.push(i);
            }
        }
        self.ready.clear();
        skipped
    }

    pub fn running(&self) -> usize {
        self.running
    }

    /// Nothing is running and nothing more can start.
    pub fn is_done(&self) -> bool {
        self.running() == 0 && (self.stopped || self.ready.is_empty())
    }

    pub fn state(&self, i: usize) -> State {
        self.state[i]
    }

    pub fn priority(&self, i: usize) -> usize {
        self.priority[i]
    }
}

#[cfg(test)]
mod tests;
