//! The connection a `/next` long-poll came in on, so the poll can notice when the function process is gone.
//!
//! The HTTP server keeps a handler running after its client disconnects; a poll left behind by a killed
//! process would otherwise swallow the next event meant for its replacement.

use std::net::TcpStream;
use std::os::fd::AsFd;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;

#[derive(Clone)]
pub(super) struct Peer(Option<Arc<TcpStream>>);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        // A second handle on the same socket; it shares the non-blocking mode tokio already set.
        let handle = stream.io().as_fd().try_clone_to_owned().ok();
        Self(handle.map(|fd| Arc::new(TcpStream::from(fd))))
    }
}

impl Peer {
    /// Whether the client has closed its end of the connection.
    pub(super) fn is_closed(&self) -> bool {
        let Some(socket) = &self.0 else {
            return false;
        };
        // `peek` reads 0 bytes only at end of stream; WouldBlock means open and idle.
        match socket.peek(&mut [0u8; 1]) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
        }
    }
}
