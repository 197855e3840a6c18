//! Counts of what a stand-in answered, and a way for a test to wait until enough messages arrived.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

pub(crate) struct Tally {
    statuses: Mutex<BTreeMap<u16, usize>>,
    requests: Mutex<usize>,
    accepted: watch::Sender<usize>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            statuses: Mutex::default(),
            requests: Mutex::default(),
            accepted: watch::channel(0).0,
        }
    }
}

impl Tally {
    pub(crate) fn request(&self) {
        *self.requests.lock().unwrap() += 1;
    }

    pub(crate) fn status(&self, status: u16) {
        *self.statuses.lock().unwrap().entry(status).or_default() += 1;
    }

    pub(crate) fn accepted(&self) {
        self.accepted.send_modify(|n| *n += 1);
    }

    pub(crate) fn requests(&self) -> usize {
        *self.requests.lock().unwrap()
    }

    pub(crate) fn with_status(&self, status: u16) -> usize {
        self.statuses
            .lock()
            .unwrap()
            .get(&status)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn with_status_in(&self, range: std::ops::RangeInclusive<u16>) -> usize {
        self.statuses
            .lock()
            .unwrap()
            .range(range)
            .map(|(_, n)| n)
            .sum()
    }

    /// Waits until at least `n` messages were accepted; `Err` carries how many there were at the timeout.
    pub(crate) async fn wait_accepted(&self, n: usize, timeout: Duration) -> Result<(), usize> {
        let mut rx = self.accepted.subscribe();
        match tokio::time::timeout(timeout, rx.wait_for(|count| *count >= n)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(*self.accepted.borrow()),
        }
    }
}
