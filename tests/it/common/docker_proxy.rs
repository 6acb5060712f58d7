//! A proxy in front of the Docker socket that a test can switch to hold requests, so it can make
//! the engine stop answering kindling (a hung runtime, a removal stuck in the kernel) while the
//! engine itself stays healthy for the test's own `docker` commands.

use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

/// What the proxy does with the requests it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ProxyMode {
    /// Every request is passed on.
    Pass = 0,
    /// Every request is held while in this mode, then passed on (or dropped once closed).
    HoldAll = 1,
    /// A `DELETE` request is held while in this mode and never passed on: its connection breaks
    /// once the mode changes. Every other request is passed on.
    HoldRemovals = 2,
    /// Nothing more is passed on; held requests are dropped.
    Closed = 3,
}

/// A unix-socket proxy to the engine's socket, passing everything until switched; closed when
/// dropped. Answers always flow back.
pub struct DockerProxy {
    dir: tempfile::TempDir,
    mode: Arc<AtomicU8>,
    held: Arc<AtomicUsize>,
}

impl DockerProxy {
    /// Starts the proxy (in [`ProxyMode::Pass`]) in front of the engine the tests use.
    pub fn start() -> DockerProxy {
        let upstream = super::engine_socket().unwrap_or_else(|| "/var/run/docker.sock".into());
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("docker.sock")).unwrap();
        let mode = Arc::new(AtomicU8::new(ProxyMode::Pass as u8));
        let held = Arc::new(AtomicUsize::new(0));
        let (shared, counter) = (mode.clone(), held.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = UnixStream::connect(&upstream) else {
                    continue;
                };
                let (mut from_server, mut to_client) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    // The end of an exec's output stream reaches the client.
                    let _ = to_client.shutdown(std::net::Shutdown::Write);
                });
                let (mode, held) = (shared.clone(), counter.clone());
                std::thread::spawn(move || forward(client, server, &mode, &held));
            }
        });
        DockerProxy { dir, mode, held }
    }

    /// The `DOCKER_HOST` value that reaches the engine through this proxy.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }

    /// Switches what the proxy does with requests from now on (held ones included).
    pub fn set(&self, mode: ProxyMode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// A switch that can be moved to another thread (e.g. a watchdog that lets requests flow
    /// again).
    pub fn switch(&self) -> impl Fn(ProxyMode) + Send + 'static {
        let shared = self.mode.clone();
        move |mode| shared.store(mode as u8, Ordering::SeqCst)
    }

    /// How many requests have been held so far.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }
}

impl Drop for DockerProxy {
    fn drop(&mut self) {
        self.set(ProxyMode::Closed);
    }
}

/// Passes what `from_client` sends on to `to_server`, holding it as `mode` says.
fn forward(
    mut from_client: UnixStream,
    mut to_server: UnixStream,
    mode: &AtomicU8,
    held: &AtomicUsize,
) {
    let is = |m: ProxyMode| mode.load(Ordering::SeqCst) == m as u8;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match std::io::Read::read(&mut from_client, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // A request head arrives in one write; a removal starts a chunk.
        if is(ProxyMode::HoldRemovals) && buf[..n].starts_with(b"DELETE /") {
            held.fetch_add(1, Ordering::SeqCst);
            while is(ProxyMode::HoldRemovals) {
                std::thread::park_timeout(Duration::from_millis(50));
            }
            break;
        }
        if is(ProxyMode::HoldAll) {
            held.fetch_add(1, Ordering::SeqCst);
            while is(ProxyMode::HoldAll) {
                std::thread::park_timeout(Duration::from_millis(50));
            }
        }
        if is(ProxyMode::Closed) || std::io::Write::write_all(&mut to_server, &buf[..n]).is_err() {
            break;
        }
    }
    let _ = to_server.shutdown(std::net::Shutdown::Write);
}
