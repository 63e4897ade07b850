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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn jobs(deps: &[&[usize]]) -> Vec<Job> {
        deps.iter().map(|d| Job { deps: d.to_vec() }).collect()
    }

    /// Runs to completion, starting whatever the scheduler offers and finishing the oldest
    /// running job first; returns the start order.
    fn simulate(s: &mut Scheduler, fails: &[usize]) -> Vec<usize> {
        let mut order = Vec::new();
        let mut running = std::collections::VecDeque::new();
        loop {
            while let Some(i) = s.start_next() {
                order.push(i);
                running.push_back(i);
            }
            let Some(i) = running.pop_front() else { break };
            s.finish(i, !fails.contains(&i));
        }
        assert!(s.is_done());
        order
    }

    #[test]
    fn a_job_restarted_runs_again_and_what_a_builder_refuses_waits() {
        // 0 -> 1, 0 -> 2; job 2 has the longer chain below it (2 -> 3).
        let mut s = Scheduler::new(&jobs(&[&[], &[0], &[0], &[2]]), 2, false);
        assert_eq!(s.start_next(), Some(0));
        s.finish(0, true);
        // The pool refuses 2 for now: 1 starts.
        assert_eq!(s.start_first(|i| i != 2), Some(1));
        assert_eq!(s.start_first(|i| i != 2), None);
        assert_eq!(s.state(2), State::Ready);
        // 1's builder is lost: it is ready again, and the limit shrinks.
        s.restart(1);
        s.set_limit(1);
        assert_eq!(s.running(), 0);
        assert_eq!(s.start_next(), Some(2));
        assert_eq!(s.start_next(), None);
        s.finish(2, true);
        // Equal priorities: the first in the plan goes first.
        assert_eq!(s.start_next(), Some(1));
        s.finish(1, true);
        assert_eq!(s.start_next(), Some(3));
        s.finish(3, true);
        assert!(s.is_done());
    }

    #[test]
    fn a_job_reopened_runs_again_before_what_needs_it() {
        // 0 -> 1 -> 2, 1 -> 3
        let mut s = Scheduler::new(&jobs(&[&[], &[0], &[1], &[1]]), 4, false);
        for i in [0, 1] {
            assert_eq!(s.start_next(), Some(i));
            s.finish(i, true);
        }
        assert_eq!(s.start_next(), Some(2));
        // 0 and 1 are gone before 3 started: both run again, 0 first; 3 waits for 1.
        s.reopen(1);
        s.reopen(0);
        assert_eq!(s.state(3), State::Waiting);
        assert_eq!(s.state(1), State::Waiting);
        assert_eq!(s.start_next(), Some(0));
        assert_eq!(s.start_next(), None);
        s.finish(0, true);
        assert_eq!(s.start_next(), Some(1));
        s.finish(1, true);
        assert_eq!(s.start_next(), Some(3));
        s.finish(2, true);
        s.finish(3, true);
        assert!(s.is_done());
    }

    #[test]
    fn dependencies_finish_before_dependents_start() {
        // 0 -> 1 -> 3, 0 -> 2, 3 uses 2
        let mut s = Scheduler::new(&jobs(&[&[], &[0], &[0], &[1, 2]]), 4, false);
        assert_eq!(s.start_next(), Some(0));
        assert_eq!(s.start_next(), None);
        s.finish(0, true);
        let a = s.start_next().unwrap();
        let b = s.start_next().unwrap();
        assert_eq!([a.min(b), a.max(b)], [1, 2]);
        assert_eq!(s.start_next(), None);
        s.finish(1, true);
        assert_eq!(s.start_next(), None, "3 still waits for 2");
        s.finish(2, true);
        assert_eq!(s.start_next(), Some(3));
        s.finish(3, true);
        assert!(s.is_done());
    }

    #[test]
    fn longest_chain_first() {
        // 0 and 1 are roots; 1 has a chain of three below it, 0 none.
        let mut s = Scheduler::new(&jobs(&[&[], &[], &[1], &[2], &[3]]), 2, false);
        assert_eq!(s.priority(1), 4);
        assert_eq!(s.priority(0), 1);
        assert_eq!(s.start_next(), Some(1));
        assert_eq!(s.start_next(), Some(0));
    }

    #[test]
    fn a_failure_skips_only_its_dependents() {
        // 0 -> {1, 2}; 1 -> 3; 2 -> 4; 3 and 2 -> 5
        let mut s = Scheduler::new(&jobs(&[&[], &[0], &[0], &[1], &[2], &[3, 2]]), 2, false);
        let order = simulate(&mut s, &[1]);
        assert_eq!(s.state(1), State::Failed);
        assert_eq!(s.state(3), State::Skipped);
        assert_eq!(s.state(5), State::Skipped, "5 needs 3, which was skipped");
        assert_eq!(s.state(2), State::Succeeded);
        assert_eq!(s.state(4), State::Succeeded);
        assert!(!order.contains(&3) && !order.contains(&5));
    }

    #[test]
    fn fail_fast_starts_nothing_more() {
        let mut s = Scheduler::new(&jobs(&[&[], &[], &[0], &[1]]), 2, true);
        let a = s.start_next().unwrap();
        let b = s.start_next().unwrap();
        s.finish(a, false);
        assert_eq!(s.start_next(), None);
        assert!(!s.is_done(), "the other job still runs");
        s.finish(b, true);
        assert!(s.is_done());
        let left = s.skip_remaining();
        assert_eq!(
            left.len(),
            1,
            "the dependent of the job that succeeded never started"
        );
    }

    #[test]
    fn stop_lets_running_jobs_finish() {
        let mut s = Scheduler::new(&jobs(&[&[], &[0]]), 2, false);
        let a = s.start_next().unwrap();
        s.stop();
        s.finish(a, true);
        assert_eq!(s.start_next(), None);
        assert!(s.is_done());
        assert_eq!(s.skip_remaining(), vec![1]);
    }

    /// A random DAG in topological order: each job depends on a few earlier ones.
    fn dag() -> impl Strategy<Value = Vec<Vec<usize>>> {
        (1usize..40).prop_flat_map(|n| {
            (0..n)
                .map(|i| match i {
                    0 => Just(Vec::new()).boxed(),
                    _ => prop::collection::btree_set(0..i, 0..3)
                        .prop_map(|d| d.into_iter().collect())
                        .boxed(),
                })
                .collect::<Vec<_>>()
        })
    }

    /// Every job that depends on `failed`, directly or not: a plain depth-first search over
    /// the edges as the test wrote them.
    fn descendants(deps: &[Vec<usize>], failed: &BTreeSet<usize>) -> BTreeSet<usize> {
        let mut found = BTreeSet::new();
        let mut stack: Vec<usize> = failed.iter().copied().collect();
        while let Some(j) = stack.pop() {
            for (k, d) in deps.iter().enumerate() {
                if d.contains(&j) && found.insert(k) {
                    stack.push(k);
                }
            }
        }
        found
    }

    proptest! {
        /// Driven like an executor that starts whatever it is offered and sees jobs finish in
        /// a random order: judged from the scheduler's answers alone.
        #[test]
        fn at_most_the_limit_runs_deps_come_first_and_failures_skip_their_descendants(
            deps in dag(),
            limit in 1usize..5,
            finish_order in prop::collection::vec(any::<prop::sample::Index>(), 80),
            fail_mask in prop::collection::vec(prop::bool::weighted(0.15), 40),
        ) {
            let n = deps.len();
            let jobs: Vec<Job> = deps.iter().map(|d| Job { deps: d.clone() }).collect();
            let mut s = Scheduler::new(&jobs, limit, false);
            let (mut running, mut succeeded, mut failed) = (Vec::new(), BTreeSet::new(), BTreeSet::new());
            let (mut started, mut skipped) = (BTreeSet::new(), BTreeSet::new());
            let mut most_at_once = 0;
            for step in 0.. {
                while let Some(i) = s.start_next() {
                    prop_assert!(started.insert(i), "job {} started twice", i);
                    prop_assert!(deps[i].iter().all(|d| succeeded.contains(d)), "job {} started before its deps", i);
                    running.push(i);
                    most_at_once = most_at_once.max(running.len());
                }
                // Nothing more offered: the limit is reached, or no job is ready.
                let ready = (0..n).any(|i| {
                    !started.contains(&i) && !skipped.contains(&i) && deps[i].iter().all(|d| succeeded.contains(d))
                });
                prop_assert!(running.len() == limit || !ready, "a ready job was held back");
                if running.is_empty() {
                    break;
                }
                let i = running.remove(finish_order[step % finish_order.len()].index(running.len()));
                let ok = !fail_mask[i];
                for k in s.finish(i, ok) {
                    prop_assert!(!started.contains(&k) && skipped.insert(k), "job {} skipped wrongly", k);
                }
                if ok { succeeded.insert(i); } else { failed.insert(i); }
            }
            prop_assert!(most_at_once <= limit, "{} ran at once, limit {}", most_at_once, limit);
            prop_assert!(s.is_done());
            prop_assert_eq!(&skipped, &descendants(&deps, &failed));
            prop_assert_eq!(started.len() + skipped.len(), n);
        }
    }
}
