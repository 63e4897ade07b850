//! Ctrl-C and SIGTERM, heard in one place for the whole process: the first one sets a flag that
//! every part of a run can look at or wait for (the run loop stops starting builds, refresh
//! stops asking about updates). Tests trigger it by hand.

use std::sync::Arc;

use tokio::sync::watch;

/// Whether the process was asked to stop.
#[derive(Clone)]
pub struct Interrupt {
    sender: Arc<watch::Sender<bool>>,
    receiver: watch::Receiver<bool>,
}

impl Interrupt {
    /// An interrupt that only [`trigger`](Self::trigger) sets.
    pub fn manual() -> Interrupt {
        let (sender, receiver) = watch::channel(false);
        Interrupt {
            sender: Arc::new(sender),
            receiver,
        }
    }

    /// Listens to Ctrl-C and SIGTERM (on the current tokio runtime).
    pub fn listen() -> std::io::Result<Interrupt> {
        let interrupt = Interrupt::manual();
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let trigger = interrupt.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            trigger.trigger();
        });
        Ok(interrupt)
    }

    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Resolves once the process was asked to stop.
    pub async fn wait(&self) {
        let mut receiver = self.receiver.clone();
        let _ = receiver.wait_for(|set| *set).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiting_ends_when_triggered() {
        let interrupt = Interrupt::manual();
        assert!(!interrupt.is_set());
        let waiter = tokio::spawn({
            let i = interrupt.clone();
            async move { i.wait().await }
        });
        interrupt.trigger();
        waiter.await.unwrap();
        assert!(interrupt.is_set());
        interrupt.wait().await;
    }
}
