//! The run never has more builds running at once than `-j` allows, and uses all of it.

use std::time::Duration;

use super::{Hierarchy, options, statuses};
use crate::report::Status;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn never_more_builds_at_once_than_jobs_and_no_fewer_when_ready() {
    // A base and six independent children: once the base is built, six are ready at once.
    let mut images = vec![("base", None, "")];
    let children = ["c1", "c2", "c3", "c4", "c5", "c6"];
    images.extend(children.iter().map(|c| (*c, Some("base"), "")));
    for jobs in [1, 2, 3] {
        let h = Hierarchy::new(&images);
        h.fake().set_build_time(Duration::from_millis(30));
        let outcome = h
            .rebuild(crate::rebuild::Options { jobs, ..options() })
            .await;
        assert!(
            statuses(&outcome)
                .iter()
                .all(|(_, status)| *status == Status::Built)
        );
        assert_eq!(h.fake().peak_builds(), jobs, "-j {jobs}");
    }
}
