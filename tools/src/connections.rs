//! `ConnectionCounter`: a TCP pass-through in front of a stand-in that counts the connections clients open,
//! which shows whether a function keeps its connection to the chat API alive between invocations.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct ConnectionCounter {
    url: String,
    accepted: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl ConnectionCounter {
    /// Listens on 127.0.0.1 with a random port and forwards every connection to the host of `upstream_url`,
    /// an `http://<ip>:<port>/…` URL such as a stand-in's `uri()`.
    pub async fn start(upstream_url: &str) -> Self {
        let rest = upstream_url
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("`{upstream_url}` is not an http:// URL"));
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let upstream: SocketAddr = authority
            .parse()
            .unwrap_or_else(|e| panic!("`{upstream_url}` does not name an ip:port ({e})"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the connection counter");
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        let server = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    // Without this each small request and answer waits on Nagle's algorithm.
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        Self {
            url: format!("http://{addr}{path}"),
            accepted,
            server,
        }
    }

    /// The upstream URL with this counter's address in place of the upstream's.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for ConnectionCounter {
    fn drop(&mut self) {
        self.server.abort();
    }
}
