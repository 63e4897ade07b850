//! The scheduler's unit and property tests.

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
