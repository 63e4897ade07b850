//! What public Dockerfiles do that once gave false findings, and what the rules missed there:
//! each case with its exact findings (rule, line, severity).

use super::{CLEAN_BASE, PARENT, check, findings, repo_with};

#[test]
fn cleanups_and_local_installs_of_the_real_world_are_not_findings() {
    // `apt-get dist-clean` removes the lists (Debian trixie); `apk add --no-network` installs
    // local files and fetches nothing.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN apt-get update && apt-get install -y --no-install-recommends curl && apt-get dist-clean\nWORKDIR /\nRUN apk add --no-network /tmp/pkgs/x.apk\n"
        ),
        &[],
    );
    // An empty line inside a continuation is dropped, as BuildKit drops it.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN apt-get update \\\n\n && apt-get install -y --no-install-recommends git \\\n    \n && rm -rf /var/lib/apt/lists/*\nCMD [\"git\"]\n"
        ),
        &[],
    );
    // A heredoc that is data holds no instructions, whatever its lines say.
    check(
        "runtime",
        &format!(
            "{PARENT}COPY <<EOF /etc/motd\nFROM ubuntu\nCMD foo\nEOF\nCOPY --chmod=755 <<-EOT /usr/local/bin/run\n\t#!/bin/sh\n\tCMD bar\n\tEOT\nRUN --mount=type=cache,target=/var/cache/apt <<'EOT'\nFROM x\nEOT\n"
        ),
        &[],
    );
}

#[test]
fn shell_keywords_start_commands_the_apt_rules_see() {
    // `then`, `do`, `if` and `;` chains: the update, install and cleanup are all seen.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN if [ -n \"$X\" ]; then apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*; fi\nRUN set -eux; apt-get update; if true; then apt-get install -y wget; fi; rm -rf /var/lib/apt/lists/*\nRUN for p in a b; do apt-get install -y \"$p\"; done\n"
        ),
        &[("H103", 4, "warning"), ("H103", 5, "warning")],
    );
    // A mount before the command, and a heredoc script with apt in it.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN --mount=type=cache,target=/root/.cache apt-get update && apt-get install -y vim\nRUN <<EOT\nset -eux\napt-get update\napt-get install -y --no-install-recommends less\nEOT\n"
        ),
        &[
            ("H103", 3, "warning"),
            ("H104", 3, "warning"),
            ("H104", 4, "warning"),
        ],
    );
}

#[test]
fn pipes_need_pipefail_and_consecutive_runs_one_layer() {
    // A pipe under /bin/sh, unless the RUN turns pipefail on before it; a pipe in quotes or
    // `||` is none.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN curl -fsSL https://x | tar -xz\nWORKDIR /\nRUN set -euxo pipefail; curl -fsSL https://x | tar -xz\nWORKDIR /a\nRUN echo 'a | b' || true\nWORKDIR /b\nRUN set -eux; \\\n    curl -fsSL https://x \\\n    | tar -xz; \\\n    set -o pipefail\n"
        ),
        &[("H114", 3, "warning"), ("H114", 11, "warning")],
    );
    // A SHELL with pipefail covers its stage and the stages and images built on it; a
    // PowerShell is not checked.
    check(
        "runtime",
        "ARG HIER_PARENT\nFROM ${HIER_PARENT} AS one\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\nFROM one\nRUN c | d\nFROM ${HIER_PARENT}\nSHELL [\"pwsh\", \"-Command\"]\nRUN e | f\n",
        &[],
    );
    // A parent's SHELL is its children's.
    inherited_from_the_parent(
        "RUN a | b",
        "H114",
        "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
    );
    // Consecutive RUNs: flagged at the second, unless their flags differ or one is a heredoc.
    check(
        "runtime",
        &format!(
            "{PARENT}RUN a\n# between\nRUN b\nRUN --mount=type=cache,target=/c c\nRUN <<EOT\nd\nEOT\nRUN e\n"
        ),
        &[("H115", 5, "warning")],
    );
}

#[test]
fn copies_to_relative_destinations_need_a_workdir() {
    // No WORKDIR in sight: the stage, the stage it is built on, or the parents.
    check(
        "runtime",
        "ARG HIER_PARENT\nFROM golang:1.22 AS build\nCOPY . src/\nWORKDIR /src\nCOPY go.mod .\nFROM build AS test\nCOPY [\"a\", \"b\"]\nFROM ${HIER_PARENT}\nCOPY --from=build /src/app app\nADD app.tar.gz $HOME/x\nCOPY <<EOF conf\nx\nEOF\n",
        &[
            ("H116", 3, "warning"),
            ("H116", 9, "warning"),
            ("H116", 11, "warning"),
        ],
    );
    // A parent's WORKDIR is its children's.
    inherited_from_the_parent("COPY app.py .", "H116", "WORKDIR /srv");
}

/// A child whose only instruction is `child` (on line 3) has the finding `rule` until its
/// parent's Dockerfile gets `parent` (before its ENTRYPOINT).
fn inherited_from_the_parent(child: &str, rule: &str, parent: &str) {
    let repo = repo_with("runtime", &format!("{PARENT}{child}\n"), "");
    assert_eq!(
        findings(&repo),
        [(rule.to_string(), 3, "warning".to_string())]
    );
    let base = CLEAN_BASE.replace("ENTRYPOINT", &format!("{parent}\nENTRYPOINT"));
    repo.write("images/base/Dockerfile", &base);
    assert_eq!(findings(&repo), []);
}

#[test]
fn size_rules_apply_to_the_stages_that_ship_and_onbuild_is_checked() {
    // The builder stage's caches are never shipped; correctness rules still apply there. The
    // final stage builds on `runtime`, whose layers ship.
    check(
        "runtime",
        "ARG HIER_PARENT\nFROM golang:1.22 AS build\nRUN apt-get update && apt-get install -y make\nRUN apk add gcc\nRUN pip install x\nRUN apt-get update\nFROM ${HIER_PARENT} AS runtime\nRUN pip install flask\nFROM runtime\nCOPY --from=build /out /out\nRUN apk add curl\n",
        &[
            ("H103", 3, "warning"),
            ("H115", 5, "warning"),
            ("H102", 6, "error"),
            ("H115", 6, "warning"),
            ("H106", 8, "warning"),
            ("H105", 11, "warning"),
        ],
    );
    // ONBUILD triggers run in every child: checked as the instructions they hold.
    check(
        "runtime",
        &format!(
            "{PARENT}ONBUILD RUN apt-get update && apt-get install -y nano\nONBUILD CMD serve\nONBUILD ADD app.py /app/\nONBUILD ENV API_TOKEN=x\n"
        ),
        &[
            ("H103", 3, "warning"),
            ("H104", 3, "warning"),
            ("H110", 4, "warning"),
            ("H111", 5, "warning"),
            ("H112", 6, "warning"),
        ],
    );
}
