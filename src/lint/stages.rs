//! What a stage inherits, followed through a Dockerfile: a value set by an instruction (the
//! `SHELL`, whether a `WORKDIR` was set) that a stage takes from the stage it is built `FROM`,
//! from the image's parent (`FROM ${HIER_PARENT}`, worked out by the caller through the
//! catalog), or else the value of an image from outside.

use super::dockerfile::{Dockerfile, Instruction};

/// The value of each stage so far.
pub struct Stages<T> {
    stages: Vec<T>,
    /// What a stage built on the image's parent starts with.
    inherited: T,
    /// What a stage built on another image starts with.
    outside: T,
    /// The value an instruction sets, if it sets one.
    set: fn(&Instruction) -> Option<T>,
}

impl<T: Copy> Stages<T> {
    pub fn new(inherited: T, outside: T, set: fn(&Instruction) -> Option<T>) -> Self {
        Stages {
            stages: Vec::new(),
            inherited,
            outside,
            set,
        }
    }

    /// Follows one instruction: a `FROM` starts a stage with its base's value; an instruction
    /// that sets one changes its stage's.
    pub fn follow(&mut self, df: &Dockerfile, ins: &Instruction) {
        let Some(stage) = ins.stage else {
            return;
        };
        if ins.keyword == "FROM" && self.stages.len() == stage {
            let image = &df.stages[stage].image;
            let earlier = df.stages[..stage].iter().rposition(|s| {
                s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(image))
            });
            let value = match earlier {
                Some(i) => self.stages[i],
                None if image.contains("HIER_PARENT") => self.inherited,
                None => self.outside,
            };
            self.stages.push(value);
        } else if let Some(value) = (self.set)(ins)
            && let Some(current) = self.stages.get_mut(stage)
        {
            *current = value;
        }
    }

    pub fn of_stage(&self, stage: Option<usize>) -> T {
        stage
            .and_then(|s| self.stages.get(s).copied())
            .unwrap_or(self.outside)
    }

    /// The value of the file's final stage (what an image built on it inherits).
    pub fn last(&self) -> T {
        self.stages.last().copied().unwrap_or(self.inherited)
    }

    /// Follows a whole file; the value its final stage leaves.
    pub fn of_file(mut self, df: &Dockerfile) -> T {
        for ins in &df.instructions {
            self.follow(df, ins);
        }
        self.last()
    }
}
