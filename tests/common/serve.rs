//! `journeyprobe serve` run as a user runs it: a child process on a free port, its log lines
//! collected, its /metrics scraped over real HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Scratch;

pub struct Served {
    pub child: Child,
    pub addr: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Start `journeyprobe serve <args> --listen 127.0.0.1:0 --data-dir <data>` and wait for
    /// the line that names its address.
    pub fn start(s: &Scratch, base_url: &str, data: &Path, args: &[&str]) -> Served {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0", "--data-dir"];
        let data = data.to_str().unwrap().to_string();
        all.push(&data);
        all.extend_from_slice(args);
        let mut cmd = s.command(base_url, &all);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn journeyprobe serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let up = Instant::now() + Duration::from_secs(20);
        let addr = loop {
            let found = log.lock().unwrap().iter().find_map(|l| {
                l.split("serving on http://")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .map(str::to_string)
            });
            if let Some(a) = found {
                break a;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited with {status}: {:#?}", log.lock().unwrap());
            }
            assert!(
                Instant::now() < up,
                "serve never said where it listens: {:#?}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Served { child, addr, log }
    }

    /// `GET path` → (status, headers, body).
    pub fn get(&self, path: &str, accept: Option<&str>) -> (u16, String, String) {
        http_get(&self.addr, path, accept)
    }

    pub fn metrics(&self) -> Metrics {
        let (status, _, body) = self.get("/metrics", None);
        assert_eq!(status, 200, "{body}");
        Metrics(body)
    }

    /// Scrape until `ok` holds; panics with the last scrape and the log after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, ok: impl Fn(&Metrics) -> bool) -> Metrics {
        let end = Instant::now() + limit;
        loop {
            let m = self.metrics();
            if ok(&m) {
                return m;
            }
            if Instant::now() > end {
                panic!(
                    "timed out waiting for {what}\n--- metrics\n{}\n--- log\n{}",
                    m.journeyprobe_only(),
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Wait for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                panic!("serve did not exit within {limit:?}:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(libc::SIGTERM);
            let end = Instant::now() + Duration::from_secs(20);
            while Instant::now() < end {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A plain HTTP/1.0 GET: enough for /metrics and the health endpoints.
pub fn http_get(addr: &str, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    http(addr, "GET", path, &accept, "")
}

/// A plain HTTP/1.0 request with extra header lines (each ending in CRLF) and a body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    let mut tcp = TcpStream::connect(addr).expect("connect to serve");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        tcp,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// One scrape of /metrics.
pub struct Metrics(pub String);

impl Metrics {
    /// Sum of the samples of `name` whose labels include every `labels` pair; `None` when no
    /// sample matches.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut total = None;
        for line in self.0.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
            if n != name {
                continue;
            }
            let matches = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            if matches {
                *total.get_or_insert(0.0) += value.parse::<f64>().unwrap_or(f64::NAN);
            }
        }
        total
    }

    /// `get`, with 0 for no sample.
    pub fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    pub fn journeyprobe_only(&self) -> String {
        self.0
            .lines()
            .filter(|l| l.starts_with("journeyprobe_") && !l.contains("_bucket"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
