//! BuildKit's progress, read the way `docker build --progress=plain` prints it: each step
//! (vertex) gets a number the first time it shows up, and its start (`#5 [2/3] RUN …`), output
//! (`#5 hello`), cache hit (`#5 CACHED`), end (`#5 DONE 0.4s`) or error (`#5 ERROR: …`) become
//! log lines. It also knows the step a build is at and the step that failed, so a failure can
//! name it without BuildKit's protocol wording.
//!
//! When builds running at the same time on one engine have the same step, BuildKit runs it once
//! and tells its progress to one of them only; the others see the step pending, then never
//! again. Such a step is told once a step built on it starts, or when the build ends, as done
//! by another build, so every build's log names all its steps.

use std::collections::{HashMap, HashSet};

use bollard::moby::buildkit::v1::{StatusResponse, Vertex};

/// What one status update means for people.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// Log lines, in order.
    pub lines: Vec<String>,
    /// The steps that started, in order (a cached step counts: it is a step the build is at).
    pub steps: Vec<String>,
}

/// The state of one BuildKit build's progress.
#[derive(Debug, Default)]
pub struct Trace {
    numbers: HashMap<String, usize>,
    /// The name of each step seen, pending or not.
    names: HashMap<String, String>,
    started: HashSet<String>,
    ended: HashSet<String>,
    /// Output not yet ended by a newline, per step.
    partial: HashMap<String, String>,
    /// The name of the step that failed (the first one, if several).
    failed: Option<String>,
}

impl Trace {
    /// Reads one status update: steps that started, then output, then steps that ended (an
    /// update may hold all three for one step).
    pub fn update(&mut self, status: &StatusResponse) -> Update {
        let mut update = Update::default();
        for vertex in &status.vertexes {
            self.start(vertex, &mut update);
        }
        for log in &status.logs {
            let n = self.number(&log.vertex);
            let text = String::from_utf8_lossy(&log.msg);
            let pending = self.partial.entry(log.vertex.clone()).or_default();
            pending.push_str(&text);
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                update
                    .lines
                    .push(format!("#{n} {}", line.trim_end_matches(['\n', '\r'])));
            }
        }
        for vertex in &status.vertexes {
            self.end(vertex, &mut update);
        }
        update
    }

    fn start(&mut self, v: &Vertex, update: &mut Update) {
        let n = self.number(&v.digest);
        self.names
            .entry(v.digest.clone())
            .or_insert_with(|| v.name.clone());
        if (v.started.is_some() || v.cached) && !self.started.contains(&v.digest) {
            for input in &v.inputs {
                self.shared(input, update);
            }
            self.started.insert(v.digest.clone());
            update.lines.push(format!("#{n} {}", v.name));
            if !v.name.starts_with("[internal]") {
                update.steps.push(v.name.clone());
            }
        }
    }

    /// The steps seen pending and never told, at the end of a build that succeeded: another
    /// build ran them.
    pub fn finish(&mut self) -> Update {
        let mut update = Update::default();
        let mut pending: Vec<(usize, String)> = self
            .names
            .keys()
            .filter(|d| !self.started.contains(*d))
            .map(|d| (self.numbers[d], d.clone()))
            .collect();
        pending.sort();
        for (_, digest) in pending {
            self.shared(&digest, &mut update);
        }
        update
    }

    /// Tells a step seen pending, never started here, as done by another build.
    fn shared(&mut self, digest: &str, update: &mut Update) {
        let Some(name) = self.names.get(digest) else {
            return;
        };
        if !self.started.insert(digest.to_string()) {
            return;
        }
        let n = self.numbers[digest];
        update.lines.push(format!("#{n} {name}"));
        if !name.starts_with("[internal]") {
            update.steps.push(name.clone());
        }
        update.lines.push(format!(
            "#{n} DONE by another build running the same step at the same time (its output is in that build's log)"
        ));
        self.ended.insert(digest.to_string());
    }

    fn end(&mut self, v: &Vertex, update: &mut Update) {
        if self.ended.contains(&v.digest) {
            return;
        }
        let n = self.number(&v.digest);
        if !v.error.is_empty() {
            self.flush(&v.digest, n, update);
            update.lines.push(format!("#{n} ERROR: {}", v.error));
            self.ended.insert(v.digest.clone());
            self.failed.get_or_insert_with(|| v.name.clone());
        } else if v.cached {
            update.lines.push(format!("#{n} CACHED"));
            self.ended.insert(v.digest.clone());
        } else if let (Some(start), Some(end)) = (&v.started, &v.completed) {
            self.flush(&v.digest, n, update);
            let secs =
                (end.seconds - start.seconds) as f64 + f64::from(end.nanos - start.nanos) / 1e9;
            update
                .lines
                .push(format!("#{n} DONE {:.1}s", secs.max(0.0)));
            self.ended.insert(v.digest.clone());
        }
    }

    /// Output of a step that ended without a final newline.
    fn flush(&mut self, digest: &str, n: usize, update: &mut Update) {
        if let Some(rest) = self.partial.remove(digest)
            && !rest.is_empty()
        {
            update.lines.push(format!("#{n} {rest}"));
        }
    }

    fn number(&mut self, digest: &str) -> usize {
        let next = self.numbers.len() + 1;
        *self.numbers.entry(digest.to_string()).or_insert(next)
    }

    /// What to tell people when the build failed with `error`: the failing step and what went
    /// wrong, in the words the legacy builder uses for a failed command.
    pub fn failure(&self, error: &str) -> String {
        let error = clean(error);
        let code = error
            .rsplit_once("exit code: ")
            .and_then(|(_, c)| c.trim().parse::<i64>().ok());
        match (&self.failed, code) {
            (Some(step), Some(code)) => {
                format!("step {step} returned a non-zero code: {code}")
            }
            (Some(step), None) => format!("step {step} failed: {error}"),
            (None, _) => error,
        }
    }
}

/// BuildKit's message without the layers of wording its protocol adds.
pub fn clean(error: &str) -> String {
    const NOISE: &[&str] = &[
        "rpc error: code = Unknown desc = ",
        "failed to solve with frontend dockerfile.v0: ",
        "failed to solve: ",
        "failed to create LLB definition: ",
        "failed to compute cache key: ",
    ];
    let mut text = error.trim();
    loop {
        let before = text;
        for noise in NOISE {
            text = text.strip_prefix(noise).unwrap_or(text);
        }
        if text == before {
            return text.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use bollard::moby::buildkit::v1::VertexLog;

    use super::*;

    fn started(mut v: Vertex, seconds: i64, nanos: i32) -> Vertex {
        let mut t = v.started.take().unwrap_or_default();
        (t.seconds, t.nanos) = (seconds, nanos);
        v.started = Some(t);
        v
    }

    fn completed(mut v: Vertex, seconds: i64, nanos: i32) -> Vertex {
        let mut t = v.completed.take().unwrap_or_default();
        (t.seconds, t.nanos) = (seconds, nanos);
        v.completed = Some(t);
        v
    }

    fn vertex(digest: &str, name: &str) -> Vertex {
        Vertex {
            digest: digest.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn steps_read_like_plain_progress() {
        let mut trace = Trace::default();
        let internal = started(
            vertex(
                "d1",
                "[internal] load build definition from .hier.Dockerfile",
            ),
            1,
            0,
        );
        let run = started(vertex("d2", "[2/2] RUN echo hi"), 2, 0);
        let u = trace.update(&StatusResponse {
            vertexes: vec![internal, run.clone()],
            ..Default::default()
        });
        assert_eq!(
            u.lines,
            [
                "#1 [internal] load build definition from .hier.Dockerfile",
                "#2 [2/2] RUN echo hi"
            ]
        );
        assert_eq!(u.steps, ["[2/2] RUN echo hi"]);
        let u = trace.update(&StatusResponse {
            vertexes: vec![completed(run, 2, 400_000_000)],
            logs: vec![
                VertexLog {
                    vertex: "d2".into(),
                    msg: b"hel".to_vec(),
                    ..Default::default()
                },
                VertexLog {
                    vertex: "d2".into(),
                    msg: b"lo\nworld".to_vec(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        assert_eq!(u.lines, ["#2 hello", "#2 world", "#2 DONE 0.4s"]);
        assert!(u.steps.is_empty());
    }

    #[test]
    fn every_step_of_an_update_is_told_cached_ones_too() {
        let mut trace = Trace::default();
        let cached = Vertex {
            cached: true,
            ..vertex("d1", "[2/3] RUN echo one")
        };
        let run = started(vertex("d2", "[3/3] RUN echo two"), 1, 0);
        let u = trace.update(&StatusResponse {
            vertexes: vec![cached, run],
            ..Default::default()
        });
        assert_eq!(u.steps, ["[2/3] RUN echo one", "[3/3] RUN echo two"]);
        assert_eq!(
            u.lines,
            [
                "#1 [2/3] RUN echo one",
                "#2 [3/3] RUN echo two",
                "#1 CACHED"
            ]
        );
    }

    #[test]
    fn a_step_another_build_ran_is_told_when_what_follows_starts_or_at_the_end() {
        let mut trace = Trace::default();
        let from = Vertex {
            cached: true,
            ..vertex("d1", "[1/3] FROM docker.io/x/base:1")
        };
        let run = vertex("d2", "[2/3] RUN apt-get update");
        let next = vertex("d3", "[3/3] RUN echo three");
        let u = trace.update(&StatusResponse {
            vertexes: vec![from, run, next.clone()],
            ..Default::default()
        });
        assert_eq!(u.lines, ["#1 [1/3] FROM docker.io/x/base:1", "#1 CACHED"]);
        // The shared step never starts here; the step on it does.
        let u = trace.update(&StatusResponse {
            vertexes: vec![Vertex {
                inputs: vec!["d2".into()],
                ..started(next, 3, 0)
            }],
            ..Default::default()
        });
        assert_eq!(
            u.lines,
            [
                "#2 [2/3] RUN apt-get update",
                "#2 DONE by another build running the same step at the same time (its output is in that build's log)",
                "#3 [3/3] RUN echo three",
            ]
        );
        assert_eq!(
            u.steps,
            ["[2/3] RUN apt-get update", "[3/3] RUN echo three"]
        );
        // A step seen pending and never started (nothing followed it here) is told at the end.
        trace.update(&StatusResponse {
            vertexes: vec![vertex("d4", "[4/4] RUN echo four")],
            ..Default::default()
        });
        let end = trace.finish();
        assert_eq!(end.lines[0], "#4 [4/4] RUN echo four");
        assert!(trace.finish().lines.is_empty(), "told once");
    }

    #[test]
    fn a_failed_step_is_named_without_protocol_noise() {
        let mut trace = Trace::default();
        trace.update(&StatusResponse {
            vertexes: vec![
                Vertex {
                    cached: true,
                    ..vertex("d1", "[1/3] FROM docker.io/x/base:1")
                },
                Vertex {
                    error: "executor failed running [/bin/sh -c exit 7]: exit code: 7".into(),
                    ..started(vertex("d2", "[3/3] RUN exit 7"), 1, 0)
                },
            ],
            ..Default::default()
        });
        assert_eq!(
            trace.failure(
                "rpc error: code = Unknown desc = executor failed running [/bin/sh -c exit 7]: exit code: 7"
            ),
            "step [3/3] RUN exit 7 returned a non-zero code: 7"
        );
        assert_eq!(
            Trace::default().failure(
                "failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 2: unknown instruction: FOO"
            ),
            "dockerfile parse error line 2: unknown instruction: FOO"
        );
    }
}
