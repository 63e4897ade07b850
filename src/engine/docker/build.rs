//! Builds: the legacy builder (`version=1`) reads the context as one tar stream, the
//! Dockerfile inside; BuildKit (`version=2`) builds on a session of hier's own that serves the
//! context file by file, the Dockerfile apart and the image's secrets — the way the docker CLI
//! builds with BuildKit, so `.dockerignore` means the same, the build's Dockerfile never lands
//! in a `COPY .`, and BuildKit transfers only what changed. bollard's BuildKit path opens a
//! session that can serve none of that, so the request is sent as a plain one that a request
//! modifier turns into a BuildKit build on hier's session. The engine's answer is read into
//! progress (the current step, log lines), the image id, and a failure that names the failing
//! step.

use bollard::errors::Error as BollardError;
use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::BuildImageOptions;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::session::{self, Session};
use super::trace::Trace;
use super::{Docker, message};
use crate::engine::{
    BuildContext, BuildFailure, BuildRequest, Builder, EngineError, Progress, ProgressFn,
};

/// The first API version whose `/session` and BuildKit builds the engine serves as hier uses
/// them.
const BUILDKIT_API: (usize, usize) = (1, 39);

pub(super) async fn build(
    docker: &Docker,
    request: &BuildRequest,
    context: BuildContext,
    progress: ProgressFn<'_>,
) -> Result<String, BuildFailure> {
    match (request.builder, context) {
        (Builder::Legacy, _) if !request.secrets.is_empty() => Err(BuildFailure::Step(format!(
            "`{}` declares secrets, which only BuildKit can mount; build with `builder = \"buildkit\"`",
            request.image
        ))),
        (Builder::Legacy, BuildContext::Tar(tar)) => {
            let body = Some(bollard::body_try_stream(tar));
            let stream = docker.docker.build_image(options(request), None, body);
            read_legacy(docker, stream, progress).await
        }
        (Builder::BuildKit, BuildContext::Files(tree)) => {
            check_builder(docker, Builder::BuildKit).map_err(BuildFailure::Step)?;
            let session = Session::open(docker, tree, request.secrets.clone())
                .await
                .map_err(BuildFailure::Engine)?;
            let id = session.id().to_string();
            let client = docker
                .docker
                .clone()
                .with_request_modifier(move |request| session::as_buildkit(request, &id));
            let options = BuildImageOptions {
                dockerfile: "Dockerfile".into(),
                ..options(request)
            };
            let body = Some(bollard::body_full(Bytes::new()));
            let stream = client.build_image(options, None, body);
            let built = read_buildkit(docker, stream, progress).await;
            drop(session);
            built
        }
        (builder, _) => Err(BuildFailure::Engine(EngineError::Failed(format!(
            "a {} build was given the other builder's kind of context",
            builder.as_str()
        )))),
    }
}

/// The options both builders share. `rm` and `forcerm`: no container of a failed legacy step
/// stays behind. No `pull`: the images a build names exist only in this engine.
fn options(request: &BuildRequest) -> BuildImageOptions {
    BuildImageOptions {
        dockerfile: request.dockerfile.clone(),
        rm: true,
        forcerm: true,
        nocache: request.no_cache,
        buildargs: Some(request.build_args.clone()),
        ..Default::default()
    }
}

/// BuildKit needs an engine recent enough to serve it through the API.
pub(super) fn check_builder(docker: &Docker, builder: Builder) -> Result<(), String> {
    let version: Vec<usize> = docker
        .api_version
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    let old = version.len() == 2 && (version[0], version[1]) < BUILDKIT_API;
    if builder == Builder::BuildKit && old {
        return Err(no_buildkit(
            docker,
            &format!(
                "it speaks API {}, and BuildKit needs {}.{}",
                docker.api_version, BUILDKIT_API.0, BUILDKIT_API.1
            ),
        ));
    }
    if builder == Builder::BuildKit && !session::reachable(&docker.endpoint) {
        return Err(no_buildkit(
            docker,
            "hier's BuildKit session reaches unix:// and tcp:// engines only",
        ));
    }
    Ok(())
}

fn no_buildkit(docker: &Docker, why: &str) -> String {
    format!(
        "the Docker Engine at {} cannot build with BuildKit ({why}); use the classic builder: `builder = \"legacy\"` in [catalog], or `--builder legacy`",
        docker.endpoint
    )
}

/// An error answer to the build request itself (not a failing step): the Dockerfile was
/// refused (4xx), the engine has no BuildKit, or the engine failed.
fn refused(docker: &Docker, e: BollardError, buildkit: bool) -> BuildFailure {
    let text = message(&e);
    let lower = text.to_ascii_lowercase();
    if buildkit && lower.contains("buildkit") && lower.contains("not supported") {
        return BuildFailure::Step(no_buildkit(docker, &text));
    }
    match e {
        BollardError::DockerResponseServerError { status_code, .. } if status_code < 500 => {
            BuildFailure::Step(if buildkit {
                super::trace::clean(&text)
            } else {
                text
            })
        }
        e => BuildFailure::Engine(docker.error(e)),
    }
}

async fn read_legacy(
    docker: &Docker,
    mut stream: impl Stream<Item = Result<BuildInfo, BollardError>> + Unpin,
    progress: ProgressFn<'_>,
) -> Result<String, BuildFailure> {
    let mut image_id = None;
    let mut lines = Lines::default();
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(BollardError::DockerStreamError { error }) => {
                return Err(BuildFailure::Step(error.trim().to_string()));
            }
            Err(e) => return Err(refused(docker, e, false)),
        };
        if let Some(text) = info.stream.as_deref() {
            lines.push(text, progress);
        } else if let Some(status) = info.status.as_deref() {
            lines.push(status, progress);
            lines.push("\n", progress);
        }
        if let Some(BuildInfoAux::Default(aux)) = info.aux
            && let Some(id) = aux.id
        {
            image_id = Some(id);
        }
    }
    lines.finish(progress);
    image_id.ok_or_else(|| {
        BuildFailure::Step("the engine ended the build without naming an image".into())
    })
}

async fn read_buildkit(
    docker: &Docker,
    mut stream: impl Stream<Item = Result<BuildInfo, BollardError>> + Unpin,
    progress: ProgressFn<'_>,
) -> Result<String, BuildFailure> {
    let mut image_id = None;
    let mut trace = Trace::default();
    let mut lines = Lines::default();
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(BollardError::DockerStreamError { error }) => {
                lines.finish(progress);
                return Err(BuildFailure::Step(trace.failure(&error)));
            }
            Err(e) => return Err(refused(docker, e, true)),
        };
        match info.aux {
            Some(BuildInfoAux::BuildKit(status)) => {
                let update = trace.update(&status);
                for step in &update.steps {
                    progress(Progress::Step(step));
                }
                for line in &update.lines {
                    progress(Progress::Line(line));
                }
            }
            Some(BuildInfoAux::Default(aux)) => image_id = aux.id.or(image_id),
            None => {
                if let Some(text) = info.stream.as_deref() {
                    lines.push(text, progress);
                }
            }
        }
    }
    lines.finish(progress);
    // Steps another build ran for this one, told in the log (the build is past them).
    for line in &trace.finish().lines {
        progress(Progress::Line(line));
    }
    image_id.ok_or_else(|| {
        BuildFailure::Step("the engine ended the build without naming an image".into())
    })
}

/// Output text cut into lines (the engine sends pieces); `Step …` lines of the legacy builder
/// are also the build's current step.
#[derive(Default)]
struct Lines {
    pending: String,
}

impl Lines {
    fn push(&mut self, text: &str, progress: ProgressFn<'_>) {
        self.pending.push_str(text);
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            Self::emit(line.trim_end_matches(['\n', '\r']), progress);
        }
    }

    fn finish(&mut self, progress: ProgressFn<'_>) {
        let rest = std::mem::take(&mut self.pending);
        if !rest.trim().is_empty() {
            Self::emit(rest.trim_end(), progress);
        }
    }

    fn emit(line: &str, progress: ProgressFn<'_>) {
        if line.starts_with("Step ") {
            progress(Progress::Step(line));
        }
        progress(Progress::Line(line));
    }
}
