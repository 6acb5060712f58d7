//! A real registry for pull tests: Debian's `docker-registry` on 127.0.0.1 with its own
//! config, plus an HTTP proxy in front of it that can hold blob downloads, so a test can
//! interrupt a pull that is certainly in progress.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A running registry, stopped when dropped.
pub struct Registry {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Registry {
    /// Starts `docker-registry serve` on a free loopback port and waits until it answers.
    pub fn start() -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let config = dir.path().join("config.yml");
        // No auth section and loopback only: Debian's default config is not safe to use as is.
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("registry config");
        let child = Command::new("docker-registry")
            .args(["serve"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is required (Debian package docker-registry; the README's test command installs it)");
        let registry = Registry {
            port,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !registry.answers() {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    fn answers(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
        let mut head = String::new();
        let _ = BufReader::new(s).read_line(&mut head);
        head.contains(" 200 ")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP proxy to a registry that holds every blob download while `hold` is set.
pub struct StallingProxy {
    pub port: u16,
    pub hold: Arc<AtomicBool>,
    /// Set once a blob request has been held (so the pull is certainly under way).
    pub held_one: Arc<AtomicBool>,
}

impl StallingProxy {
    /// Starts the proxy in front of `upstream` (a loopback port).
    pub fn start(upstream: u16) -> StallingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let hold = Arc::new(AtomicBool::new(true));
        let held_one = Arc::new(AtomicBool::new(false));
        let (h, seen) = (hold.clone(), held_one.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (h, seen) = (h.clone(), seen.clone());
                std::thread::spawn(move || serve(conn, upstream, &h, &seen));
            }
        });
        StallingProxy {
            port,
            hold,
            held_one,
        }
    }
}

fn serve(client: TcpStream, upstream: u16, hold: &AtomicBool, seen: &AtomicBool) {
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let end = line == "\r\n";
        // One request per connection, so every request passes through this check.
        if !line.to_ascii_lowercase().starts_with("connection:") && !end {
            head.extend_from_slice(line.as_bytes());
        }
        if end {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
    }
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    if request_line.starts_with("GET ")
        && request_line.contains("/blobs/")
        && hold.load(Ordering::SeqCst)
    {
        seen.store(true, Ordering::SeqCst);
        // Hold the download: keep the connection open without answering.
        while hold.load(Ordering::SeqCst) {
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }
    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let _ = up.write_all(&head);
    let mut up_read = up.try_clone().expect("clone");
    let mut client_write = client.try_clone().expect("clone");
    let body = std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        let _ = up.write_all(&rest);
    });
    let _ = std::io::copy(&mut up_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Both);
    drop(body);
}
