//! Placement across a pool of builders, as a pure state (no I/O, no async): each builder's
//! slots (its `jobs`), what runs on it, whether it still answers, and which images it holds.
//! A ready image goes to a live builder with a free slot that holds what cannot move to it,
//! preferring the one that already holds most of what it builds on (its parent, its `uses`),
//! then the one with the most free slots, then the first in the file.

use std::collections::HashSet;

/// What one job builds on, by image id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Images that can cross to any builder through the registry.
    pub movable: Vec<String>,
    /// Images that cannot (a base's `from` that exists only in some engines).
    pub fixed: Vec<String>,
}

#[derive(Debug, Clone)]
struct Slot {
    jobs: usize,
    running: usize,
    alive: bool,
    holds: HashSet<String>,
}

#[derive(Debug, Clone)]
pub struct Placement {
    builders: Vec<Slot>,
}

impl Placement {
    /// Builders with these many jobs each, in the file's order.
    pub fn new(jobs: &[usize]) -> Placement {
        Placement {
            builders: jobs
                .iter()
                .map(|&jobs| Slot {
                    jobs: jobs.max(1),
                    running: 0,
                    alive: true,
                    holds: HashSet::new(),
                })
                .collect(),
        }
    }

    /// Jobs that may run at once on the builders that still answer.
    pub fn capacity(&self) -> usize {
        self.builders
            .iter()
            .filter(|b| b.alive)
            .map(|b| b.jobs)
            .sum()
    }

    pub fn is_alive(&self, builder: usize) -> bool {
        self.builders[builder].alive
    }

    /// Whether any builder still answers.
    pub fn any_alive(&self) -> bool {
        self.builders.iter().any(|b| b.alive)
    }

    /// `builder` holds image `id` (it built it, pulled it, or had it at the start).
    pub fn hold(&mut self, builder: usize, id: &str) {
        self.builders[builder].holds.insert(id.to_string());
    }

    pub fn holds(&self, builder: usize, id: &str) -> bool {
        self.builders[builder].holds.contains(id)
    }

    /// The live builders holding `id`, in order.
    pub fn holders(&self, id: &str) -> Vec<usize> {
        (0..self.builders.len())
            .filter(|&b| self.builders[b].alive && self.holds(b, id))
            .collect()
    }

    /// A live builder holding each image any live builder holds (the first in the file), and
    /// the first live builder (for the images none is known to hold).
    pub fn holdings(&self) -> (std::collections::HashMap<String, usize>, usize) {
        let mut by_id = std::collections::HashMap::new();
        for (b, slot) in self.builders.iter().enumerate().rev() {
            if slot.alive {
                by_id.extend(slot.holds.iter().map(|id| (id.clone(), b)));
            }
        }
        let first = self.builders.iter().position(|b| b.alive).unwrap_or(0);
        (by_id, first)
    }

    /// Where a job with these needs goes now, if any builder can take it.
    pub fn choose(&self, needs: &Needs) -> Option<usize> {
        (0..self.builders.len())
            .filter(|&b| {
                let slot = &self.builders[b];
                slot.alive && slot.running < slot.jobs
            })
            .filter(|&b| needs.fixed.iter().all(|id| self.holds(b, id)))
            .max_by_key(|&b| {
                let slot = &self.builders[b];
                let local = needs.movable.iter().filter(|id| self.holds(b, id)).count();
                (local, slot.jobs - slot.running, std::cmp::Reverse(b))
            })
    }

    /// Whether a job with these needs could ever start on a builder still alive.
    pub fn possible(&self, needs: &Needs) -> bool {
        (0..self.builders.len())
            .any(|b| self.builders[b].alive && needs.fixed.iter().all(|id| self.holds(b, id)))
    }

    pub fn start(&mut self, builder: usize) {
        self.builders[builder].running += 1;
    }

    pub fn finish(&mut self, builder: usize) {
        let slot = &mut self.builders[builder];
        slot.running = slot.running.saturating_sub(1);
    }

    /// `builder` stopped answering: nothing more goes to it in this run, and what it holds is
    /// out of reach.
    pub fn lose(&mut self, builder: usize) {
        let slot = &mut self.builders[builder];
        slot.alive = false;
        slot.holds.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(movable: &[&str], fixed: &[&str]) -> Needs {
        Needs {
            movable: movable.iter().map(|s| s.to_string()).collect(),
            fixed: fixed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_free_slot_on_the_builder_holding_the_parent_wins() {
        let mut p = Placement::new(&[2, 2]);
        p.hold(1, "parent");
        assert_eq!(p.choose(&needs(&["parent"], &[])), Some(1));
        p.start(1);
        p.start(1);
        // Full: the job goes where there is room, and its parent will cross.
        assert_eq!(p.choose(&needs(&["parent"], &[])), Some(0));
        p.start(0);
        p.start(0);
        assert_eq!(p.choose(&needs(&["parent"], &[])), None);
        p.finish(0);
        assert_eq!(p.choose(&needs(&[], &[])), Some(0));
        assert_eq!(p.capacity(), 4);
    }

    #[test]
    fn most_held_then_most_free_then_first() {
        let mut p = Placement::new(&[1, 3, 3]);
        assert_eq!(p.choose(&needs(&[], &[])), Some(1));
        p.hold(0, "a");
        p.hold(2, "a");
        p.hold(2, "b");
        assert_eq!(p.choose(&needs(&["a", "b"], &[])), Some(2));
        assert_eq!(p.choose(&needs(&["a"], &[])), Some(2));
        p.start(2);
        assert_eq!(p.choose(&needs(&["c"], &[])), Some(1));
    }

    #[test]
    fn what_cannot_move_decides() {
        let mut p = Placement::new(&[4, 1]);
        p.hold(1, "from");
        assert_eq!(p.choose(&needs(&[], &["from"])), Some(1));
        p.start(1);
        assert_eq!(p.choose(&needs(&[], &["from"])), None);
        assert!(p.possible(&needs(&[], &["from"])));
        p.lose(1);
        assert!(!p.possible(&needs(&[], &["from"])));
    }

    #[test]
    fn a_lost_builder_takes_nothing_and_holds_nothing() {
        let mut p = Placement::new(&[2, 2]);
        p.hold(0, "parent");
        p.start(0);
        p.lose(0);
        assert_eq!(p.capacity(), 2);
        assert!(p.holders("parent").is_empty());
        assert_eq!(p.choose(&needs(&["parent"], &[])), Some(1));
        p.finish(0);
        assert!(!p.is_alive(0));
        p.lose(1);
        assert!(!p.any_alive());
        assert_eq!(p.choose(&needs(&[], &[])), None);
    }
}
