//! What happens during a run, as the loop tells it; reporters render events for people.

use crate::name::ImageName;

use crate::report::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A build started.
    Started { name: ImageName },
    /// The tests of a recorded image started (nothing is built).
    Retesting { name: ImageName },
    /// A build is at this step now.
    Step { name: ImageName, step: String },
    /// A test of a built image started.
    Testing { name: ImageName, command: String },
    /// An image is done with: how, and in a few words why or how long.
    Finished {
        name: ImageName,
        status: Status,
        detail: String,
    },
}
