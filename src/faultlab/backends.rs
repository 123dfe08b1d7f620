//! The fault lab's dependencies, made real: an S3-compatible server (moto) holding the
//! dashboard's bundle in a bucket, and a DNS server (dnsmasq) answering for the lab's host
//! name. Both bind 127.0.0.1 on free ports; both die with the lab (`kill_on_drop`).
//!
//! Their switches break them the ways the seed describes: the bucket is deleted or made
//! private, the DNS record changes or disappears, the DNS server stops.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::pages::DASHBOARD_JS;
use crate::process::{die_with_parent, find_program};

/// The bucket the dashboard's bundle is served from.
pub const ASSETS_BUCKET: &str = "assets";
/// The host name the lab's DNS server answers for.
pub const LAB_HOST: &str = "app.fault-lab.test";

/// What the lab's DNS server says about [`LAB_HOST`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsRecord {
    /// `A 127.0.0.1`, where the lab is.
    #[default]
    Right,
    /// `A 127.0.0.2`: someone changed the record.
    Changed,
    /// NXDOMAIN: someone removed it.
    Removed,
}

/// An S3-compatible server with the assets bucket.
pub struct S3Server {
    child: Child,
    pub port: u16,
}

impl S3Server {
    /// Start moto on a free loopback port and install the bucket, public, with the bundle.
    pub async fn start() -> io::Result<S3Server> {
        let port = free_tcp_port()?;
        let program =
            find_program("moto_server").ok_or_else(|| io::Error::other("moto_server not found"))?;
        let mut cmd = Command::new(program);
        let child = die_with_parent(&mut cmd)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let s3 = S3Server { child, port };
        wait_for_tcp(port, Duration::from_secs(30)).await?;
        s3.restore().await?;
        Ok(s3)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where the dashboard loads its bundle from.
    pub fn assets_url(&self) -> String {
        format!("{}/{ASSETS_BUCKET}", self.endpoint())
    }

    /// The bucket, its bundle and its public-read policy, as on a good day.
    pub async fn restore(&self) -> io::Result<()> {
        self.expect(
            self.request("PUT", &format!("/{ASSETS_BUCKET}"), b"", "text/plain")
                .await?,
        )?;
        let key = format!("/{ASSETS_BUCKET}/dashboard.js");
        let js = DASHBOARD_JS.as_bytes();
        self.expect(
            self.request("PUT", &key, js, "application/javascript")
                .await?,
        )?;
        self.set_public(true).await
    }

    pub async fn delete_bucket(&self) -> io::Result<()> {
        let key = format!("/{ASSETS_BUCKET}/dashboard.js");
        self.request("DELETE", &key, b"", "text/plain").await?;
        self.expect(
            self.request("DELETE", &format!("/{ASSETS_BUCKET}"), b"", "text/plain")
                .await?,
        )
    }

    pub async fn set_public(&self, public: bool) -> io::Result<()> {
        let path = format!("/{ASSETS_BUCKET}?policy");
        let status = if public {
            let policy = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{ASSETS_BUCKET}/*"}}]}}"#
            );
            self.request("PUT", &path, policy.as_bytes(), "application/json")
                .await?
        } else {
            self.request("DELETE", &path, b"", "text/plain").await?
        };
        self.expect(status)
    }

    fn expect(&self, status: u16) -> io::Result<()> {
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(io::Error::other(format!("the S3 server answered {status}")))
        }
    }

    /// One admin request. moto accepts any signature, so a placeholder stands in for one.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        content_type: &str,
    ) -> io::Result<u16> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).await?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=lab/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.port,
            body.len()
        );
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
            .await
            .map_err(|_| io::Error::other("the S3 server did not answer"))??;
        let text = String::from_utf8_lossy(&out);
        text.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| io::Error::other("the S3 server answered something that is not HTTP"))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A DNS server for [`LAB_HOST`], restarted on the same port to change its answers.
pub struct DnsServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    record: DnsRecord,
}

impl DnsServer {
    pub async fn start() -> io::Result<DnsServer> {
        let mut last = io::Error::other("no port tried");
        // A port free for UDP may be taken for TCP (dnsmasq wants both): try a few.
        for _ in 0..5 {
            let port = free_tcp_port()?;
            let mut dns = DnsServer {
                child: None,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                record: DnsRecord::Right,
            };
            match dns.spawn().await {
                Ok(()) => return Ok(dns),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// Serve `record` (restarting), or stop answering altogether (`None`).
    pub async fn set(&mut self, record: Option<DnsRecord>) -> io::Result<()> {
        self.halt().await;
        if let Some(r) = record {
            self.record = r;
            // The port was ours a moment ago; give the kernel a moment if it disagrees.
            for _ in 0..10 {
                if self.spawn().await.is_ok() {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            return Err(io::Error::other(format!(
                "dnsmasq did not restart on {}",
                self.addr
            )));
        }
        Ok(())
    }

    async fn spawn(&mut self) -> io::Result<()> {
        let address = match self.record {
            DnsRecord::Right => Some("127.0.0.1"),
            DnsRecord::Changed => Some("127.0.0.2"),
            DnsRecord::Removed => None,
        };
        let program =
            find_program("dnsmasq").ok_or_else(|| io::Error::other("dnsmasq not found"))?;
        let mut cmd = Command::new(program);
        die_with_parent(&mut cmd)
            .args([
                "--keep-in-foreground",
                // No system-wide /var/run/dnsmasq.pid for a test server.
                "--pid-file=",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--local=/fault-lab.test/",
            ])
            .arg(format!("--port={}", self.addr.port()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(ip) = address {
            cmd.arg(format!("--address=/{LAB_HOST}/{ip}"));
        }
        let mut child = cmd.spawn()?;
        let ready = wait_for_tcp(self.addr.port(), Duration::from_secs(5)).await;
        if ready.is_err() || matches!(child.try_wait(), Ok(Some(_))) {
            let _ = child.kill().await;
            return Err(io::Error::other(format!(
                "dnsmasq did not start on {}",
                self.addr
            )));
        }
        self.child = Some(child);
        Ok(())
    }

    async fn halt(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    pub async fn stop(mut self) {
        self.halt().await;
    }
}

fn free_tcp_port() -> io::Result<u16> {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
}

async fn wait_for_tcp(port: u16, limit: Duration) -> io::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if tokio::time::Instant::now() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("nothing listens on port {port}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
