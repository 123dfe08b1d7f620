//! Acceptance: dependency checks against real servers on loopback — the fault-lab site for
//! `http`, a real dnsmasq started by the test for `dns` — through the binary, as a user runs it.

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Lab, Scratch, json_results, show};
use journeyprobe::faultlab::Faults;

/// A dnsmasq answering for `fault-lab.test` names on a free loopback port; stopped on drop.
struct Dns {
    child: Child,
    addr: SocketAddr,
}

impl Dns {
    fn start(args: &[&str]) -> Dns {
        // A port free for UDP may be taken for TCP (dnsmasq wants both): try a few.
        for _ in 0..5 {
            if let Some(dns) = Dns::try_start(free_port(), args) {
                return dns;
            }
        }
        panic!("dnsmasq did not start");
    }

    /// Start on a given port: a restarted server with other records is a changed zone.
    fn start_on(port: u16, args: &[&str]) -> Dns {
        for _ in 0..5 {
            if let Some(dns) = Dns::try_start(port, args) {
                return dns;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("dnsmasq did not start on port {port}");
    }

    fn try_start(port: u16, args: &[&str]) -> Option<Dns> {
        let mut child = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                &format!("--port={port}"),
            ])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dnsmasq starts (Debian package dnsmasq-base; scripts/test installs it)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let ready_by = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(addr).is_err() {
            let exited = matches!(child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > ready_by {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Dns { child, addr })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port free for both UDP and TCP right now.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Run the checks in `yaml` and return each result by probe name, with the exit code.
fn run_checks(
    s: &Scratch,
    base_url: &str,
    yaml: &str,
) -> (i32, BTreeMap<String, serde_json::Value>) {
    let file = s.path().join("checks.yaml");
    std::fs::write(&file, yaml).unwrap();
    let cmd = s.command(
        base_url,
        &["run", file.to_str().unwrap(), "--format", "json"],
    );
    let out = s.run(cmd);
    let results: BTreeMap<String, serde_json::Value> = json_results(&out)
        .into_iter()
        .map(|r| (r["probe"].as_str().unwrap().to_string(), r))
        .collect();
    assert!(!results.is_empty(), "{}", show(&out));
    (out.status.code().unwrap_or(-1), results)
}

fn assert_outcome(
    results: &BTreeMap<String, serde_json::Value>,
    probe: &str,
    reason: Option<&str>,
) {
    let r = &results[probe];
    match reason {
        None => assert_eq!(r["outcome"], "success", "{probe}: {r:#}"),
        Some(reason) => {
            assert_eq!(r["outcome"], "failure", "{probe}: {r:#}");
            assert_eq!(r["reason"], reason, "{probe}: {r:#}");
        }
    }
}

const DNS_RECORDS: &[&str] = &[
    // Authoritative for the zone: a name not listed here does not exist (NXDOMAIN).
    "--local=/fault-lab.test/",
    "--address=/app.fault-lab.test/127.0.0.1",
    "--address=/app.fault-lab.test/::1",
    "--txt-record=app.fault-lab.test,v=probe1",
    "--cname=www.fault-lab.test,app.fault-lab.test",
    "--mx-host=fault-lab.test,mail.fault-lab.test,10",
];

#[test]
fn dns_checks_pass_on_the_right_answers_of_each_type() {
    let dns = Dns::start(DNS_RECORDS);
    let ns = dns.addr;
    let yaml = format!(
        r#"checks:
  - name: a
    dns: {{ query: app.fault-lab.test, type: A, nameserver: "{ns}", expect: {{ answers_contain: [127.0.0.1], max_latency: 2s }} }}
  - name: aaaa
    dns: {{ query: app.fault-lab.test, type: AAAA, nameserver: "{ns}", expect: {{ answers_equal: ["0:0:0:0:0:0:0:1"] }} }}
  - name: txt
    dns: {{ query: app.fault-lab.test, type: TXT, nameserver: "{ns}", expect: {{ answers_equal: ["v=probe1"] }} }}
  - name: cname
    dns: {{ query: www.fault-lab.test, type: CNAME, nameserver: "{ns}", expect: {{ answers_match: "^app\\." }} }}
  - name: mx
    dns: {{ query: fault-lab.test, type: MX, nameserver: "{ns}", expect: {{ answers_equal: ["10 mail.fault-lab.test"] }} }}
  - name: expected_gone
    dns: {{ query: old.fault-lab.test, nameserver: "{ns}", expect: {{ rcode: nxdomain }} }}
  - name: no_mx_here
    dns: {{ query: app.fault-lab.test, type: MX, nameserver: "{ns}" }}
"#
    );
    let s = Scratch::new();
    let (code, r) = run_checks(&s, "http://127.0.0.1:1", &yaml);
    assert_eq!(code, 1);
    for ok in ["a", "aaaa", "txt", "cname", "mx", "expected_gone"] {
        assert_outcome(&r, ok, None);
    }
    assert_outcome(&r, "no_mx_here", Some("dns_no_answer"));
    assert!(r["a"]["timings"]["dns"].as_f64().is_some(), "{:#}", r["a"]);
}

#[test]
fn dns_checks_catch_a_changed_record_a_removed_name_and_a_silent_server() {
    let mut dns = Dns::start(DNS_RECORDS);
    let ns = dns.addr;
    let yaml = format!(
        "checks:\n  - name: app_dns\n    timeout: 1s\n    dns: {{ query: app.fault-lab.test, type: A, nameserver: \"{ns}\", expect: {{ answers_equal: [127.0.0.1] }} }}\n"
    );
    let s = Scratch::new();
    let (code, r) = run_checks(&s, "http://127.0.0.1:1", &yaml);
    assert_eq!(code, 0, "{:#}", r["app_dns"]);

    // Someone changes the record.
    dns.stop();
    let mut dns = Dns::start_on(
        ns.port(),
        &[
            "--local=/fault-lab.test/",
            "--address=/app.fault-lab.test/127.0.0.2",
        ],
    );
    let (code, r) = run_checks(&s, "http://127.0.0.1:1", &yaml);
    assert_eq!(code, 1);
    assert_outcome(&r, "app_dns", Some("dns_answer_mismatch"));
    assert!(
        r["app_dns"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.2"),
        "{:#}",
        r["app_dns"]
    );

    // Someone removes it.
    dns.stop();
    let mut dns = Dns::start_on(ns.port(), &["--local=/fault-lab.test/"]);
    let (_, r) = run_checks(&s, "http://127.0.0.1:1", &yaml);
    assert_outcome(&r, "app_dns", Some("dns_nxdomain"));

    // The nameserver under test stops answering: that is the target's dns_timeout.
    dns.stop();
    let (_, r) = run_checks(&s, "http://127.0.0.1:1", &yaml);
    assert_outcome(&r, "app_dns", Some("dns_timeout"));
}

#[test]
fn http_checks_report_each_kind_of_mismatch() {
    let lab = Lab::start();
    let base = lab.base_url();
    let closed = free_port();
    let yaml = format!(
        r#"vars: {{ base: "${{env:BASE_URL}}" }}
checks:
  - name: ok
    http: {{ url: "${{base}}/login", status: [200], body_contains: "Sign in", body_matches: "<title>Sign in", header_matches: {{ content-type: "^text/html" }} }}
  - name: status
    http: {{ url: "${{base}}/missing", status: [2xx] }}
  - name: redirect_ok
    http: {{ url: "${{base}}/", follow_redirects: false, status: [302], redirect_to: "/login$" }}
  - name: redirect_elsewhere
    http: {{ url: "${{base}}/", follow_redirects: false, redirect_to: "/dashboard$" }}
  - name: no_redirect
    http: {{ url: "${{base}}/login", redirect_to: "/login$" }}
  - name: followed
    http: {{ url: "${{base}}/", status: [200], redirect_to: "/login$", body_contains: "Sign in" }}
  - name: body
    http: {{ url: "${{base}}/login", body_contains: "Welcome back" }}
  - name: body_regex
    http: {{ url: "${{base}}/login", body_matches: "id=\"nope\"" }}
  - name: header
    http: {{ url: "${{base}}/login", header_matches: {{ content-type: "^application/json" }} }}
  - name: refused
    http: {{ url: "http://127.0.0.1:{closed}/" }}
  - name: post_form
    http: {{ url: "${{base}}/login", method: POST, headers: {{ content-type: application/x-www-form-urlencoded }}, body: "username=a%40b.c&password=wrong", status: [401], body_contains: "Invalid email or password" }}
"#
    );
    let s = Scratch::new();
    let (code, r) = run_checks(&s, &base, &yaml);
    assert_eq!(code, 1);
    assert_outcome(&r, "ok", None);
    assert_outcome(&r, "status", Some("status_mismatch"));
    assert_outcome(&r, "redirect_ok", None);
    assert_outcome(&r, "redirect_elsewhere", Some("redirect_mismatch"));
    assert_outcome(&r, "no_redirect", Some("redirect_mismatch"));
    assert_outcome(&r, "followed", None);
    assert_outcome(&r, "body", Some("body_mismatch"));
    assert_outcome(&r, "body_regex", Some("body_mismatch"));
    assert_outcome(&r, "header", Some("header_mismatch"));
    assert_outcome(&r, "refused", Some("connect_refused"));
    assert_outcome(&r, "post_form", None);
    let t = &r["ok"]["timings"];
    for phase in ["dns", "connect", "first_byte", "transfer", "total"] {
        assert!(t[phase].as_f64().is_some(), "{phase} missing: {t:#}");
    }
}

#[test]
fn http_latency_limit_and_timeout_against_a_slowed_site() {
    let lab = Lab::start();
    lab.set(Faults {
        slow_ms: 600,
        ..Faults::default()
    });
    let yaml = r#"vars: { base: "${env:BASE_URL}" }
checks:
  - name: within
    http: { url: "${base}/login", max_latency: 5s }
  - name: too_slow
    http: { url: "${base}/login", max_latency: 200ms }
  - name: gave_up
    timeout: 300ms
    http: { url: "${base}/login" }
"#;
    let s = Scratch::new();
    let (code, r) = run_checks(&s, &lab.base_url(), yaml);
    assert_eq!(code, 1);
    assert_outcome(&r, "within", None);
    assert_outcome(&r, "too_slow", Some("latency_exceeded"));
    assert_outcome(&r, "gave_up", Some("timeout"));
}

#[test]
fn only_and_probe_pick_what_runs() {
    let lab = Lab::start();
    let s = Scratch::new();
    let file = s.path().join("mixed.yaml");
    std::fs::write(
        &file,
        "vars: { base: \"${env:BASE_URL}\" }\nchecks:\n  - name: route\n    http: { url: \"${base}/login\" }\n\
         \x20 - name: other\n    http: { url: \"${base}/missing\" }\n",
    )
    .unwrap();
    let login = concat!(env!("CARGO_MANIFEST_DIR"), "/journeys/login.yaml");
    let path = file.to_str().unwrap();
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", path, login, "--only", "checks", "--format", "json"],
    ));
    let names: Vec<String> = json_results(&out)
        .iter()
        .map(|r| r["probe"].as_str().unwrap().to_string())
        .collect();
    // The file's two checks and the three the login example holds beside its journey.
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "app_address",
            "assets_bucket",
            "login_page",
            "other",
            "route"
        ],
        "{}",
        show(&out)
    );
    assert!(!names.contains(&"login".to_string()));
    let out = s.run(s.command(
        &lab.base_url(),
        &["run", path, login, "--probe", "route", "--format", "json"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let names: Vec<String> = json_results(&out)
        .iter()
        .map(|r| r["probe"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["route".to_string()]);
}

/// TLS servers on loopback, one per certificate, all signed by a test CA (but `untrusted`).
struct TlsLab {
    ports: BTreeMap<&'static str, u16>,
    _rt: tokio::runtime::Runtime,
}

fn leaf(
    name: &str,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
    issuer: &rcgen::Issuer<'_, rcgen::KeyPair>,
) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    params.not_before = not_before;
    params.not_after = not_after;
    (params.signed_by(&key, issuer).unwrap(), key)
}

impl TlsLab {
    /// Returns the lab and the CA certificate as PEM.
    fn start() -> (TlsLab, String) {
        use time::{Duration as D, OffsetDateTime};
        let now = OffsetDateTime::now_utc();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.not_before = now - D::days(1);
        ca_params.not_after = now + D::days(3650);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let other_key = rcgen::KeyPair::generate().unwrap();
        let mut other_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        other_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let stranger = rcgen::CertifiedIssuer::self_signed(other_params, other_key).unwrap();
        let name = "app.fault-lab.test";
        let certs = [
            (
                "good",
                leaf(name, now - D::days(1), now + D::days(400), &ca),
            ),
            (
                "expiring",
                leaf(name, now - D::days(80), now + D::days(5), &ca),
            ),
            (
                "expired",
                leaf(name, now - D::days(90), now - D::days(1), &ca),
            ),
            (
                "wrong_name",
                leaf(
                    "other.fault-lab.test",
                    now - D::days(1),
                    now + D::days(400),
                    &ca,
                ),
            ),
            (
                "untrusted",
                leaf(name, now - D::days(1), now + D::days(400), &stranger),
            ),
        ];
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut ports = BTreeMap::new();
        for (label, (cert, key)) in certs {
            let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let key_der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert.der().clone()], key_der)
                .unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            ports.insert(label, listener.local_addr().unwrap().port());
            rt.spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let _ = acceptor.accept(tcp).await;
                    });
                }
            });
        }
        (TlsLab { ports, _rt: rt }, ca.pem())
    }
}

#[test]
fn tls_checks_catch_expiring_expired_misnamed_and_untrusted_certificates() {
    let (lab, ca_pem) = TlsLab::start();
    let s = Scratch::new();
    std::fs::write(s.path().join("ca.pem"), ca_pem).unwrap();
    let mut yaml = String::from("checks:\n");
    for (label, port) in &lab.ports {
        yaml.push_str(&format!(
            "  - name: {label}\n    tls: {{ host: 127.0.0.1, port: {port}, sni: app.fault-lab.test, min_days_left: 14, ca: ca.pem }}\n"
        ));
    }
    let (code, r) = run_checks(&s, "http://127.0.0.1:1", &yaml);
    assert_eq!(code, 1);
    assert_outcome(&r, "good", None);
    assert_outcome(&r, "expiring", Some("tls_expiring"));
    assert!(
        r["expiring"]["message"]
            .as_str()
            .unwrap()
            .contains("expires in 4 day")
            || r["expiring"]["message"]
                .as_str()
                .unwrap()
                .contains("expires in 5 day"),
        "{:#}",
        r["expiring"]
    );
    assert_outcome(&r, "expired", Some("tls_expired"));
    assert_outcome(&r, "wrong_name", Some("tls_hostname_mismatch"));
    assert_outcome(&r, "untrusted", Some("tls_untrusted"));
    assert!(
        r["good"]["timings"]["tls"].as_f64().is_some(),
        "{:#}",
        r["good"]
    );
}
