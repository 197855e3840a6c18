//! Collects a child process's stdout and stderr, line by line, into one buffer tests can read.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};
use std::thread;

#[derive(Clone, Default)]
pub(crate) struct Output(Arc<Mutex<String>>);

impl Output {
    /// Copies `reader` into the buffer on a thread of its own until the pipe closes.
    pub(crate) fn capture(&self, reader: impl Read + Send + 'static) {
        let buffer = self.clone();
        thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            let mut line = Vec::new();
            // Lines, not bytes, so stdout and stderr interleave without tearing each other apart.
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                buffer
                    .0
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&line));
                line.clear();
            }
        });
    }

    pub(crate) fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}
