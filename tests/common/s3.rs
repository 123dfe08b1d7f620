//! A real S3-compatible server for tests: moto in server mode on a free loopback port,
//! with a tiny admin client (moto accepts any signature, so requests carry a placeholder).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct S3 {
    child: Child,
    pub port: u16,
}

impl S3 {
    pub fn start() -> S3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts (PyPI moto[server]; scripts/test installs it)");
        let s3 = S3 { child, port };
        let ready_by = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < ready_by,
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s3
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One admin request; returns the status.
    pub fn request(&self, method: &str, path: &str, body: &[u8], content_type: &str) -> u16 {
        self.request_with(method, path, body, content_type, "")
    }

    /// [`request`](Self::request) with `extra` header lines (each ending in CRLF).
    fn request_with(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        content_type: &str,
        extra: &str,
    ) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=admin/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n{extra}\r\n",
            self.port,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    pub fn create_bucket(&self, bucket: &str) {
        assert_eq!(
            self.request("PUT", &format!("/{bucket}"), b"", "text/plain"),
            200
        );
    }

    pub fn put(&self, bucket: &str, key: &str, body: &[u8], content_type: &str) {
        assert_eq!(
            self.request("PUT", &format!("/{bucket}/{key}"), body, content_type),
            200
        );
    }

    /// Like [`put`](Self::put), with `Cache-Control: max-age=3600` stored with the object
    /// (S3 serves it back): a browser keeps it an hour without asking again.
    pub fn put_cacheable(&self, bucket: &str, key: &str, body: &[u8], content_type: &str) {
        let path = format!("/{bucket}/{key}");
        let extra = "Cache-Control: max-age=3600\r\n";
        assert_eq!(
            self.request_with("PUT", &path, body, content_type, extra),
            200
        );
    }

    /// Anyone may read the bucket's objects.
    pub fn make_public(&self, bucket: &str) {
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
        );
        let status = self.request(
            "PUT",
            &format!("/{bucket}?policy"),
            policy.as_bytes(),
            "application/json",
        );
        assert!((200..300).contains(&status), "put policy: {status}");
    }

    pub fn make_private(&self, bucket: &str) {
        let status = self.request("DELETE", &format!("/{bucket}?policy"), b"", "text/plain");
        assert!((200..300).contains(&status), "delete policy: {status}");
    }

    /// Delete every object named, then the bucket.
    pub fn delete_bucket(&self, bucket: &str, keys: &[&str]) {
        for k in keys {
            self.request("DELETE", &format!("/{bucket}/{k}"), b"", "text/plain");
        }
        let status = self.request("DELETE", &format!("/{bucket}"), b"", "text/plain");
        assert!((200..300).contains(&status), "delete bucket: {status}");
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
