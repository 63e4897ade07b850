//! The run loop: the scheduler decides what may start, the policy whether and how it builds,
//! `placing` on which builder of the pool (one engine taking `-j N`, or the builders of a
//! builders file, each taking its `jobs`), and each outcome goes to the recorder, the scheduler
//! (a failure skips only the failed image's dependents) and the reporter as events. An
//! interruption stops new starts, aborts running jobs and removes their containers. What
//! becomes of each finished job is in `results`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

mod loss;
mod placing;
mod results;
mod survey;

use super::event::Event;
use super::exact::Exact;
use super::job;
use super::outcome::{Failure, JobResult};
use super::policy::{Decision, Policy};
use super::prepare::{Setting, prepare};
use super::record::Recorder;
use super::reporter::Reporter;
use crate::error::{Error, Exit};
use crate::inputs::Inputs;
use crate::interrupt::Interrupt;
use crate::name::ImageName;
use crate::plan::{Action, Plan};
use crate::pool::place::Placement;
use crate::pool::{Need, Pool};
use crate::report::{ImageReport, Status};
use crate::schedule::{self, Scheduler};

/// How the loop runs (how many jobs at once is the pool's).
pub struct Limits {
    pub fail_fast: bool,
    pub no_cache: bool,
}

/// What the loop leaves behind.
pub struct Ran {
    /// In plan order, the images the loop reported on.
    pub results: Vec<ImageReport>,
    pub exit: Exit,
    pub notes: String,
    pub interrupted: bool,
    pub recorder: Recorder,
    /// A live builder holding each image known to be held (none with one engine), and the
    /// first live builder, for the rest.
    pub holders: (HashMap<String, usize>, usize),
}

pub struct RunLoop<'a> {
    setting: Setting<'a>,
    limits: Limits,
    pool: Arc<Pool>,
    /// Which builder has room, and what each holds.
    placement: Placement,
    /// The builder each running job runs on.
    on: HashMap<ImageName, usize>,
    /// The builders each image was running on when they stopped answering.
    restarts: HashMap<ImageName, Vec<String>>,
    /// How to stop each running job (its builder was lost), and the jobs so stopped.
    handles: HashMap<ImageName, tokio::task::AbortHandle>,
    moving: HashSet<ImageName>,
    policy: Arc<dyn Policy>,
    interrupt: Interrupt,
    planned: Vec<ImageName>,
    /// The planned images whose recorded image is only tested (the plan's `test` items).
    tests_only: HashSet<ImageName>,
    index_of: HashMap<ImageName, usize>,
    reasons: HashMap<ImageName, String>,
    scheduler: Scheduler,
    exact: Exact,
    recorder: Recorder,
    /// Inputs and fingerprint of each image started (what its lock entry records).
    prepared: HashMap<ImageName, (Inputs, String)>,
    promoted: HashSet<ImageName>,
    results: HashMap<ImageName, ImageReport>,
    exit: Exit,
    notes: String,
    interrupted: bool,
    tasks: JoinSet<JobResult>,
    task_names: HashMap<tokio::task::Id, ImageName>,
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: mpsc::UnboundedReceiver<Event>,
}

/// The scheduler's jobs: a build waits for what it builds on, tests included; tests wait for
/// nothing.
fn scheduled(
    catalog: &crate::catalog::Catalog,
    planned: &[ImageName],
    tests_only: &HashSet<ImageName>,
    index_of: &HashMap<ImageName, usize>,
) -> Vec<schedule::Job> {
    planned
        .iter()
        .map(|name| schedule::Job {
            deps: if tests_only.contains(name) {
                Vec::new()
            } else {
                catalog
                    .image(name)
                    .dependencies()
                    .filter_map(|d| index_of.get(&d.name).copied())
                    .collect()
            },
        })
        .collect()
}

impl<'a> RunLoop<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        setting: Setting<'a>,
        limits: Limits,
        plan: &Plan,
        pool: Arc<Pool>,
        policy: Arc<dyn Policy>,
        interrupt: Interrupt,
        exact: Exact,
        recorder: Recorder,
    ) -> Self {
        let planned: Vec<ImageName> = plan.runs().map(|i| i.name.clone()).collect();
        let tests_only: HashSet<ImageName> = plan
            .items
            .iter()
            .filter(|i| i.action == Action::Test)
            .map(|i| i.name.clone())
            .collect();
        let index_of: HashMap<ImageName, usize> = planned
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let jobs = scheduled(&setting.repo.catalog, &planned, &tests_only, &index_of);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let jobs_of: Vec<usize> = pool.members.iter().map(|m| m.jobs).collect();
        let placement = Placement::new(&jobs_of);
        RunLoop {
            scheduler: Scheduler::new(&jobs, placement.capacity(), limits.fail_fast),
            placement,
            on: HashMap::new(),
            restarts: HashMap::new(),
            handles: HashMap::new(),
            moving: HashSet::new(),
            reasons: plan
                .items
                .iter()
                .map(|i| (i.name.clone(), i.reason.to_string()))
                .collect(),
            setting,
            limits,
            pool,
            policy,
            interrupt,
            planned,
            tests_only,
            index_of,
            exact,
            recorder,
            prepared: HashMap::new(),
            promoted: HashSet::new(),
            results: HashMap::new(),
            exit: Exit::Success,
            notes: String::new(),
            interrupted: false,
            tasks: JoinSet::new(),
            task_names: HashMap::new(),
            events_tx,
            events_rx,
        }
    }

    /// Runs every planned image (or as many as the run gets to) and says what became of them.
    pub async fn run(mut self, reporter: &mut dyn Reporter) -> Result<Ran, Error> {
        self.survey().await;
        loop {
            if !self.interrupted && self.interrupt.is_set() {
                self.stop();
            }
            self.start_ready(reporter)?;
            if self.tasks.is_empty() && (self.interrupted || self.scheduler.is_done()) {
                break;
            }
            tokio::select! {
                Some(event) = self.events_rx.recv() => reporter.event(&event),
                Some(joined) = self.tasks.join_next_with_id() => {
                    while let Ok(event) = self.events_rx.try_recv() {
                        reporter.event(&event);
                    }
                    match joined {
                        Ok((_, result)) => self.finished(result, reporter)?,
                        Err(e) => self.ended_early(e, reporter),
                    }
                }
                _ = self.interrupt.wait(), if !self.interrupted => self.stop(),
            }
        }
        while let Ok(event) = self.events_rx.try_recv() {
            reporter.event(&event);
        }
        if self.interrupted {
            self.exit = self.exit.worst(Exit::Interrupted);
            let catalog = &self.setting.repo.catalog;
            for (builder, member) in self.pool.members.iter().enumerate() {
                if self.placement.is_alive(builder) {
                    super::remove_containers(&*member.engine, catalog, &self.planned).await;
                }
            }
        }
        self.skip_remaining();
        let holders = self.holders();
        let mut results = self.results;
        Ok(Ran {
            results: self
                .planned
                .iter()
                .filter_map(|n| results.remove(n))
                .collect(),
            exit: self.exit,
            notes: self.notes,
            interrupted: self.interrupted,
            recorder: self.recorder,
            holders,
        })
    }

    fn reason(&self, name: &ImageName) -> String {
        self.reasons.get(name).cloned().unwrap_or_default()
    }

    /// Starts ready images while the scheduler has room (the pool's slots) and a builder can
    /// take them, or settles them when the policy keeps them or they can never run.
    fn start_ready(&mut self, reporter: &mut dyn Reporter) -> Result<(), Error> {
        while !self.interrupted {
            let Some((index, placing)) = self
                .scheduler
                .ready()
                .into_iter()
                .map(|i| (i, self.placing(i)))
                .find(|(_, p)| !matches!(p, placing::Placing::Later))
            else {
                return Ok(());
            };
            self.scheduler.start_first(|i| i == index);
            let name = self.planned[index].clone();
            match placing {
                placing::Placing::Keep => self.keep(index, &name),
                placing::Placing::Never(why) => {
                    self.exit = self.exit.worst(Exit::Failed);
                    let report = self.failed_report(&name, why, 0.0, None);
                    self.fail(index, report, reporter);
                }
                placing::Placing::On {
                    builder,
                    needs,
                    decision: None,
                } => self.spawn_test(&name, builder, needs),
                placing::Placing::On {
                    builder,
                    needs,
                    decision:
                        Some(Decision::Build {
                            no_cache,
                            must_promote,
                        }),
                } => self.spawn(
                    index,
                    &name,
                    (builder, needs),
                    (no_cache, must_promote),
                    reporter,
                ),
                placing::Placing::On { .. } | placing::Placing::Later => {
                    unreachable!("a kept image needs no builder; a later one is not started")
                }
            }
        }
        Ok(())
    }

    /// The recorded image stays and counts as done; it is not reported.
    fn keep(&mut self, index: usize, name: &ImageName) {
        if let Some(entry) = self.recorder.lock().images.get(name.as_str()) {
            self.exact.ids.insert(name.clone(), entry.image_id.clone());
        }
        self.scheduler.finish(index, true);
    }

    fn spawn(
        &mut self,
        index: usize,
        name: &ImageName,
        on: (usize, Vec<Need>),
        (no_cache, must_promote): (bool, bool),
        reporter: &mut dyn Reporter,
    ) {
        match prepare(&self.setting, &self.exact, name, no_cache, must_promote) {
            Ok(mut prepared) => {
                prepared.job.promote_now = !self.recorder.holds();
                self.prepared
                    .insert(name.clone(), (prepared.inputs, prepared.fingerprint));
                let engine = self.pool.members[on.0].engine.clone();
                let job = job::run(
                    engine,
                    self.policy.clone(),
                    prepared.job,
                    self.events_tx.clone(),
                );
                self.launch(name, on, job);
            }
            Err(message) => {
                self.exit = self.exit.worst(Exit::Failed);
                let failure = Failure::Prepare(message);
                let report = self.failed_report(name, failure.to_string(), 0.0, None);
                self.fail(index, report, reporter);
            }
        }
    }

    /// Runs the tests of the recorded image again.
    fn spawn_test(&mut self, name: &ImageName, builder: usize, needs: Vec<Need>) {
        let image = self.setting.repo.catalog.image(name);
        let entry = &self.recorder.lock().images[name.as_str()];
        let image_id = entry.image_id.clone();
        let parent = entry.parent_image_id.clone();
        let repo = self.setting.repo;
        let text = repo
            .stable_renderings()
            .ok()
            .and_then(|r| repo.dockerfile_bytes(image, r).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let job = job::TestJob {
            name: name.clone(),
            repository: self.setting.repo.catalog.repository(name),
            image_id,
            tests: image.test.clone(),
            spec: image.test_spec.as_ref().and_then(|t| t.spec.clone()),
            test_timeout: image.test_timeout,
            log: self.setting.log_dir.join(format!("{name}.log")),
            secrets: self.setting.secrets.clone(),
            size: crate::rebuild::prepare::size_check(repo, image, parent.as_deref(), &text),
        };
        let engine = self.pool.members[builder].engine.clone();
        let job = job::retest(engine, job, self.events_tx.clone());
        self.launch(name, (builder, needs), job);
    }

    /// Interrupted: nothing more starts, running jobs are aborted.
    fn stop(&mut self) {
        self.interrupted = true;
        self.scheduler.stop();
        self.tasks.abort_all();
    }

    /// A job that did not end by itself: aborted by an interruption, or failed in hier (a
    /// panic), which fails its image like any failure so the run still ends.
    fn ended_early(&mut self, e: tokio::task::JoinError, reporter: &mut dyn Reporter) {
        let Some(name) = self.task_names.get(&e.id()).cloned() else {
            return;
        };
        self.handles.remove(&name);
        let builder = self.on.remove(&name);
        if let Some(builder) = builder {
            self.placement.finish(builder);
        }
        if let (true, Some(builder)) = (self.moving.remove(&name), builder) {
            self.stopped_with_builder(&name, builder, reporter);
            return;
        }
        if e.is_panic() {
            self.exit = self.exit.worst(Exit::Failed);
            let why = format!("hier failed while building it: {e}");
            let report = self.failed_report(&name, why, 0.0, None);
            self.fail(self.index_of[&name], report, reporter);
            return;
        }
        let report = ImageReport {
            name: name.to_string(),
            status: Status::Skipped,
            reason: self.reason(&name),
            error: Some("interrupted".into()),
            ..ImageReport::default()
        };
        self.results.insert(name, report);
    }
}
