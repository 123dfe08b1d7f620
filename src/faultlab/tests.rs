//! End-to-end tests of the fault lab over real TCP, with a tiny hand-written
//! HTTP/1.1 client (no HTTP client crate needed).

use std::{
    fmt::Write as _,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::*;

const SECRET: &str = "s3cr3t-Pa55word-7f1c";

/// A parsed HTTP response.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `name=value` part of the `session` Set-Cookie, if any.
    fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|kv| kv.starts_with("session=") && kv.len() > "session=".len())
            .map(str::to_owned)
    }

    /// Everything a client sees, for secret-leak checks.
    fn everything(&self) -> String {
        let mut all = String::new();
        for (n, v) in &self.headers {
            let _ = writeln!(all, "{n}: {v}");
        }
        all.push_str(&self.body);
        all
    }
}

/// Sends one request (`Connection: close`) and reads the whole response.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let fut = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (n, v) in headers {
            let _ = write!(req, "{n}: {v}\r\n");
        }
        if !body.is_empty() || method == "POST" {
            let _ = write!(req, "Content-Length: {}\r\n", body.len());
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        parse_response(&raw)
    };
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .expect("request timed out")
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("utf-8 head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body: String::from_utf8(body).expect("utf-8 body"),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size_text = std::str::from_utf8(&data[..eol]).expect("chunk size text");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("chunk size hex");
        data = &data[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

async fn get(lab: &FaultLab, path: &str) -> Resp {
    send(lab.addr(), "GET", path, &[], "").await
}

async fn get_with_cookie(lab: &FaultLab, path: &str, cookie: &str) -> Resp {
    send(lab.addr(), "GET", path, &[("Cookie", cookie)], "").await
}

async fn post_form(lab: &FaultLab, path: &str, body: &str) -> Resp {
    send(
        lab.addr(),
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body,
    )
    .await
}

async fn post_json(lab: &FaultLab, path: &str, body: &str) -> Resp {
    send(
        lab.addr(),
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
}

async fn start_lab() -> FaultLab {
    FaultLab::start_with(
        "127.0.0.1:0".parse().unwrap(),
        FaultLabOptions {
            password: SECRET.to_owned(),
            ..Default::default()
        },
    )
    .await
    .expect("start fault lab")
}

fn login_body(user: &str, password: &str) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    format!("username={}&password={}", enc(user), enc(password))
}

/// Signs in and returns the `session=...` cookie.
async fn login(lab: &FaultLab, user: &str) -> String {
    let resp = post_form(lab, "/login", &login_body(user, SECRET)).await;
    assert_eq!(resp.status, 303, "{resp:?}");
    assert_eq!(resp.header("location"), Some("/dashboard"));
    resp.session_cookie().expect("session cookie")
}

fn assert_html(resp: &Resp) {
    assert_eq!(
        resp.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{resp:?}"
    );
}

/// `<title>` of a page.
fn title(body: &str) -> &str {
    let start = body.find("<title>").expect("<title>") + "<title>".len();
    let end = body[start..].find("</title>").expect("</title>");
    &body[start..start + end]
}

// ---- WCAG contrast, to check the colours the pages use ----

fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The inline `color` and `background-color` of the element with `id`.
fn inline_colours<'a>(body: &'a str, id: &str) -> (&'a str, &'a str) {
    let at = body.find(&format!("id=\"{id}\"")).expect("element");
    let tag_end = at + body[at..].find('>').unwrap();
    let tag = &body[at..tag_end];
    let style_start = tag.find("style=\"").expect("style") + "style=\"".len();
    let style = &tag[style_start..style_start + tag[style_start..].find('"').unwrap()];
    let mut fg = "";
    let mut bg = "";
    for decl in style.split(';') {
        if let Some((prop, value)) = decl.split_once(':') {
            match prop.trim() {
                "color" => fg = value.trim(),
                "background-color" => bg = value.trim(),
                _ => {}
            }
        }
    }
    (fg, bg)
}

/// The inline background of the login card (the form).
fn card_background(body: &str) -> &str {
    let at = body.find("id=\"login-form\"").expect("login form");
    let tag = &body[at..at + body[at..].find('>').unwrap()];
    let s = tag.find("background-color:").expect("card bg") + "background-color:".len();
    tag[s..].trim_start().trim_end_matches('"').trim()
}

// ---- tests ----

#[tokio::test]
async fn start_binds_and_reports_address() {
    let lab = start_lab().await;
    assert_eq!(lab.addr().ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_ne!(lab.addr().port(), 0);
    assert_eq!(
        lab.base_url(),
        format!("http://127.0.0.1:{}", lab.addr().port())
    );
    assert_eq!(lab.url("/login"), format!("{}/login", lab.base_url()));
    assert_eq!(lab.faults(), Faults::default());
    let debug = format!(
        "{lab:?} {:?}",
        FaultLabOptions {
            password: SECRET.into(),
            ..Default::default()
        }
    );
    assert!(!debug.contains(SECRET), "{debug}");
    let resp = get(&lab, "/healthz").await;
    assert_eq!((resp.status, resp.body.as_str()), (200, "ok"));
    lab.shutdown().await;
}

#[tokio::test]
async fn default_password_works() {
    let lab = FaultLab::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let resp = post_form(&lab, "/login", &login_body("a@b.c", DEFAULT_PASSWORD)).await;
    assert_eq!(resp.status, 303);
    assert!(resp.session_cookie().is_some());
    lab.shutdown().await;
}

#[tokio::test]
async fn happy_path_login_and_dashboard() {
    let lab = start_lab().await;

    let root = get(&lab, "/").await;
    assert_eq!(root.status, 302);
    assert_eq!(root.header("location"), Some("/login"));

    let page = get(&lab, "/login").await;
    assert_eq!(page.status, 200);
    assert_html(&page);
    assert_eq!(title(&page.body), "Sign in · Fault Lab");
    for needle in [
        r#"method="post" action="/login""#,
        r#"<input id="username" name="username" type="email""#,
        r#"<input id="password" name="password" type="password""#,
        r#"<button type="submit" id="submit""#,
        ">Sign in</button>",
        r#"href="/static/app.css""#,
        r#"src="/static/app.js""#,
    ] {
        assert!(page.body.contains(needle), "missing {needle}");
    }

    let resp = post_form(&lab, "/login", &login_body("alice@example.com", SECRET)).await;
    assert_eq!(resp.status, 303);
    assert_eq!(resp.header("location"), Some("/dashboard"));
    let set_cookie = resp.header("set-cookie").expect("set-cookie");
    assert!(set_cookie.starts_with("session="), "{set_cookie}");
    assert!(set_cookie.contains("Path=/") && set_cookie.contains("HttpOnly"));
    let cookie = resp.session_cookie().unwrap();
    assert!(cookie.len() > "session=".len() + 16);

    let dash = get_with_cookie(&lab, "/dashboard", &format!("theme=x; {cookie}")).await;
    assert_eq!(dash.status, 200);
    assert_html(&dash);
    assert_eq!(title(&dash.body), "Dashboard · Fault Lab");
    for needle in [
        r#"<h1 id="welcome">Welcome, alice@example.com</h1>"#,
        r#"id="logout""#,
        ">Log out</button>",
        r#"<select id="region" name="region">"#,
        r#"<option value="eu">Europe</option>"#,
        r#"<option value="us">United States</option>"#,
        r#"<option value="ap">Asia Pacific</option>"#,
        r#"<input id="search" name="search" type="search""#,
        r#"<div id="results""#,
        r#"<a id="settings-link" href="/settings">Settings</a>"#,
    ] {
        assert!(dash.body.contains(needle), "missing {needle}");
    }
    let (fg, bg) = inline_colours(&dash.body, "logout");
    assert!(contrast(fg, bg) >= 4.5, "logout contrast {fg} on {bg}");

    let settings = get_with_cookie(&lab, "/settings", &cookie).await;
    assert_eq!(settings.status, 200);
    assert_html(&settings);
    assert_eq!(title(&settings.body), "Settings · Fault Lab");
    assert!(
        settings
            .body
            .contains(r#"<h1 id="settings-title">Settings</h1>"#)
    );

    lab.shutdown().await;
}

#[tokio::test]
async fn two_logins_get_distinct_sessions() {
    let lab = start_lab().await;
    let a = login(&lab, "a@example.com").await;
    let b = login(&lab, "b@example.com").await;
    assert_ne!(a, b);
    let dash_a = get_with_cookie(&lab, "/dashboard", &a).await;
    assert!(dash_a.body.contains("Welcome, a@example.com"));
    let dash_b = get_with_cookie(&lab, "/dashboard", &b).await;
    assert!(dash_b.body.contains("Welcome, b@example.com"));
    lab.shutdown().await;
}

#[tokio::test]
async fn username_is_html_escaped() {
    let lab = start_lab().await;
    let cookie = login(&lab, "<script>alert('x')</script>").await;
    let dash = get_with_cookie(&lab, "/dashboard", &cookie).await;
    assert!(
        dash.body
            .contains("Welcome, &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</h1>")
    );
    assert!(!dash.body.contains("<script>alert"));
    lab.shutdown().await;
}

#[tokio::test]
async fn dashboard_without_session_asks_to_sign_in() {
    let lab = start_lab().await;
    for cookie in [None, Some("session=not-a-real-token"), Some("session=")] {
        let resp = match cookie {
            Some(c) => get_with_cookie(&lab, "/dashboard", c).await,
            None => get(&lab, "/dashboard").await,
        };
        assert_eq!(resp.status, 200);
        assert_html(&resp);
        assert!(
            resp.body
                .contains(r#"<h1 id="welcome">Please sign in</h1>"#)
        );
        assert!(!resp.body.contains("Welcome"));
    }
    lab.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_rerender_login_with_error() {
    let lab = start_lab().await;
    for body in [
        login_body("alice@example.com", "wrong-password"),
        login_body("", SECRET),
        login_body("   ", SECRET),
        "username=alice%40example.com".to_owned(),
        String::new(),
    ] {
        let resp = post_form(&lab, "/login", &body).await;
        assert_eq!(resp.status, 401, "{body}");
        assert_html(&resp);
        assert!(resp.session_cookie().is_none());
        assert_eq!(title(&resp.body), "Sign in · Fault Lab");
        assert!(
            resp.body
                .contains(r#"<p id="error" role="alert">Invalid email or password</p>"#)
        );
        assert!(!resp.body.contains("wrong-password"));
    }
    lab.shutdown().await;
}

#[tokio::test]
async fn malformed_login_is_400() {
    let lab = start_lab().await;
    let json = send(
        lab.addr(),
        "POST",
        "/login",
        &[("Content-Type", "application/json")],
        r#"{"username":"a","password":"b"}"#,
    )
    .await;
    assert_eq!(json.status, 400);
    assert_html(&json);
    let no_type = send(lab.addr(), "POST", "/login", &[], "username=a").await;
    assert_eq!(no_type.status, 400);
    let duplicated = post_form(&lab, "/login", "username=a&username=b&password=x").await;
    assert!(duplicated.status == 400 || duplicated.status == 401);
    let binary = post_form(&lab, "/login", "username=%FF%FE&password=%ZZ").await;
    assert!(binary.status == 400 || binary.status == 401, "{binary:?}");
    lab.shutdown().await;
}

#[tokio::test]
async fn logout_clears_the_session() {
    let lab = start_lab().await;
    let cookie = login(&lab, "bob@example.com").await;
    let resp = send(lab.addr(), "POST", "/logout", &[("Cookie", &cookie)], "").await;
    assert_eq!(resp.status, 303);
    assert_eq!(resp.header("location"), Some("/login"));
    assert!(resp.header("set-cookie").unwrap().contains("Max-Age=0"));
    let dash = get_with_cookie(&lab, "/dashboard", &cookie).await;
    assert!(dash.body.contains("Please sign in"));
    // Logging out without a session is fine too.
    let again = send(lab.addr(), "POST", "/logout", &[], "").await;
    assert_eq!(again.status, 303);
    lab.shutdown().await;
}

#[tokio::test]
async fn fault_login_500() {
    let lab = start_lab().await;
    lab.set_faults(Faults {
        login_500: true,
        ..Faults::default()
    });
    let resp = post_form(&lab, "/login", &login_body("alice@example.com", SECRET)).await;
    assert_eq!(resp.status, 500);
    assert_html(&resp);
    assert_eq!(title(&resp.body), "Internal Server Error");
    assert!(resp.body.contains("Internal Server Error"));
    assert!(resp.session_cookie().is_none());
    // Other pages are unaffected.
    assert_eq!(get(&lab, "/login").await.status, 200);
    lab.shutdown().await;
}

#[tokio::test]
async fn fault_unauthenticated_dashboard() {
    let lab = start_lab().await;
    let old_cookie = login(&lab, "carol@example.com").await;
    lab.set_faults(Faults {
        unauthenticated_dashboard: true,
        ..Faults::default()
    });
    let resp = post_form(&lab, "/login", &login_body("carol@example.com", SECRET)).await;
    assert_eq!(resp.status, 303);
    assert_eq!(resp.header("location"), Some("/dashboard"));
    assert!(resp.header("set-cookie").is_none(), "{resp:?}");

    for dash in [
        get(&lab, "/dashboard").await,
        get_with_cookie(&lab, "/dashboard", &old_cookie).await,
    ] {
        assert_eq!(dash.status, 200);
        assert!(
            dash.body
                .contains(r#"<h1 id="welcome">Please sign in</h1>"#)
        );
        assert!(!dash.body.contains("Welcome"));
    }

    // Bad credentials are still rejected.
    let bad = post_form(&lab, "/login", &login_body("carol@example.com", "nope")).await;
    assert_eq!(bad.status, 401);

    // Turning the fault off restores the old session.
    lab.set_faults(Faults::default());
    let dash = get_with_cookie(&lab, "/dashboard", &old_cookie).await;
    assert!(dash.body.contains("Welcome, carol@example.com"));
    lab.shutdown().await;
}

#[tokio::test]
async fn fault_invisible_submit() {
    let lab = start_lab().await;
    let healthy = get(&lab, "/login").await;
    let (fg, bg) = inline_colours(&healthy.body, "submit");
    assert_eq!((fg, bg), ("#ffffff", "#1d4ed8"));
    assert!(contrast(fg, bg) >= 4.5);
    assert_eq!(card_background(&healthy.body), "#ffffff");

    lab.set_faults(Faults {
        invisible_submit: true,
        ..Faults::default()
    });
    let broken = get(&lab, "/login").await;
    assert_eq!(broken.status, 200);
    let (fg, bg) = inline_colours(&broken.body, "submit");
    let card = card_background(&broken.body);
    assert_eq!(fg, bg);
    assert_eq!(bg, card);
    assert!((contrast(fg, bg) - 1.0).abs() < 1e-9);
    assert!(broken.body.contains(">Sign in</button>"));

    // The 401 re-render keeps the fault.
    let resp = post_form(&lab, "/login", &login_body("a@b.c", "nope")).await;
    let (fg, bg) = inline_colours(&resp.body, "submit");
    assert_eq!(fg, bg);
    lab.shutdown().await;
}

#[tokio::test]
async fn fault_dashboard_404() {
    let lab = start_lab().await;
    let cookie = login(&lab, "dave@example.com").await;
    lab.set_faults(Faults {
        dashboard_404: true,
        ..Faults::default()
    });
    let resp = get_with_cookie(&lab, "/dashboard", &cookie).await;
    assert_eq!(resp.status, 404);
    assert_html(&resp);
    assert_eq!(title(&resp.body), "Not Found");
    assert!(resp.body.contains("Not Found"));
    assert!(!resp.body.contains("Welcome"));
    lab.shutdown().await;
}

#[tokio::test]
async fn fault_renamed_element() {
    let lab = start_lab().await;
    let cookie = login(&lab, "erin@example.com").await;
    lab.set_faults(Faults {
        renamed_element: true,
        ..Faults::default()
    });
    let resp = get_with_cookie(&lab, "/dashboard", &cookie).await;
    assert_eq!(resp.status, 200);
    assert!(
        resp.body
            .contains(r#"<h1 id="welcome-banner">Welcome, erin@example.com</h1>"#)
    );
    assert!(!resp.body.contains(r#"id="welcome""#));
    lab.shutdown().await;
}

#[tokio::test]
async fn fault_slow_ms_delays_all_but_fault_control() {
    let lab = start_lab().await;
    let slow = 600;
    let resp = post_json(&lab, "/_faults", &format!(r#"{{"slow_ms":{slow}}}"#)).await;
    assert_eq!(resp.status, 200);
    assert_eq!(lab.faults().slow_ms, slow);

    for path in ["/healthz", "/login", "/static/app.css", "/no-such-page"] {
        let t = Instant::now();
        let resp = get(&lab, path).await;
        let took = t.elapsed();
        assert!(resp.status == 200 || resp.status == 404);
        assert!(took >= Duration::from_millis(slow), "{path} took {took:?}");
    }
    let t = Instant::now();
    let resp = post_form(&lab, "/login", &login_body("a@b.c", SECRET)).await;
    assert_eq!(resp.status, 303);
    assert!(t.elapsed() >= Duration::from_millis(slow));

    let t = Instant::now();
    assert_eq!(get(&lab, "/_faults").await.status, 200);
    assert_eq!(post_json(&lab, "/_faults/reset", "").await.status, 200);
    assert!(
        t.elapsed() < Duration::from_millis(slow),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(lab.faults(), Faults::default());

    let t = Instant::now();
    get(&lab, "/healthz").await;
    assert!(t.elapsed() < Duration::from_millis(slow));
    lab.shutdown().await;
}

#[tokio::test]
async fn faults_endpoint_get_post_reset() {
    let lab = start_lab().await;
    let resp = get(&lab, "/_faults").await;
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let parsed: Faults = serde_json::from_str(&resp.body).unwrap();
    assert_eq!(parsed, Faults::default());
    let value: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
    for key in [
        "login_500",
        "unauthenticated_dashboard",
        "invisible_submit",
        "dashboard_404",
        "slow_ms",
        "renamed_element",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }

    let resp = post_json(
        &lab,
        "/_faults",
        r#"{"login_500":true,"renamed_element":true}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    let expected = Faults {
        login_500: true,
        renamed_element: true,
        ..Faults::default()
    };
    assert_eq!(
        serde_json::from_str::<Faults>(&resp.body).unwrap(),
        expected
    );
    assert_eq!(lab.faults(), expected);
    let resp = get(&lab, "/_faults").await;
    assert_eq!(
        serde_json::from_str::<Faults>(&resp.body).unwrap(),
        expected
    );

    // A POST replaces (not merges): omitted fields go back to off.
    let resp = send(
        lab.addr(),
        "POST",
        "/_faults",
        &[],
        r#"{"dashboard_404":true}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        lab.faults(),
        Faults {
            dashboard_404: true,
            ..Faults::default()
        }
    );

    let resp = post_json(&lab, "/_faults/reset", "").await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        serde_json::from_str::<Faults>(&resp.body).unwrap(),
        Faults::default()
    );
    assert_eq!(lab.faults(), Faults::default());
    lab.shutdown().await;
}

#[tokio::test]
async fn faults_endpoint_rejects_bad_json() {
    let lab = start_lab().await;
    lab.set_faults(Faults {
        invisible_submit: true,
        ..Faults::default()
    });
    let resp = post_json(&lab, "/_faults", r#"{"login_500":true,"explode":true}"#).await;
    assert_eq!(resp.status, 400);
    let err: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
    let msg = err["error"].as_str().unwrap();
    assert!(
        msg.contains("unknown field") && msg.contains("explode"),
        "{msg}"
    );

    for bad in [
        "",
        "not json",
        r#"{"slow_ms":-1}"#,
        r#"{"login_500":"yes"}"#,
        "[]",
    ] {
        let resp = post_json(&lab, "/_faults", bad).await;
        assert_eq!(resp.status, 400, "{bad}");
        assert!(resp.body.contains("\"error\""));
    }
    // Failed updates change nothing.
    assert_eq!(
        lab.faults(),
        Faults {
            invisible_submit: true,
            ..Faults::default()
        }
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn static_assets_and_unknown_routes() {
    let lab = start_lab().await;
    let css = get(&lab, "/static/app.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.body.contains(".btn-primary"));
    let js = get(&lab, "/static/app.js").await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.body.contains("keydown") && js.body.contains("Results for "));
    assert!(js.body.contains("textContent"));

    for path in [
        "/static/missing.js",
        "/nope",
        "/login/extra",
        "/static/../Cargo.toml",
    ] {
        let resp = get(&lab, path).await;
        assert_eq!(resp.status, 404, "{path}");
        assert_html(&resp);
        assert_eq!(title(&resp.body), "Not Found");
    }
    lab.shutdown().await;
}

#[tokio::test]
async fn password_never_appears_in_any_response() {
    let lab = start_lab().await;
    let fault_sets = [
        Faults::default(),
        Faults {
            login_500: true,
            ..Faults::default()
        },
        Faults {
            unauthenticated_dashboard: true,
            invisible_submit: true,
            renamed_element: true,
            ..Faults::default()
        },
        Faults {
            dashboard_404: true,
            ..Faults::default()
        },
    ];
    let mut seen = Vec::new();
    for faults in fault_sets {
        lab.set_faults(faults);
        // Put the password everywhere a careless server might echo it from.
        let good = post_form(&lab, "/login", &login_body("alice@example.com", SECRET)).await;
        let cookie = good.session_cookie().unwrap_or_default();
        seen.push(good);
        seen.push(post_form(&lab, "/login", &login_body(SECRET, "wrong")).await);
        seen.push(post_form(&lab, "/login", &login_body("", SECRET)).await);
        seen.push(post_form(&lab, "/login", &format!("password={SECRET}")).await);
        seen.push(
            send(
                lab.addr(),
                "POST",
                "/login",
                &[("Content-Type", "text/plain")],
                &format!("password={SECRET}"),
            )
            .await,
        );
        for path in [
            "/",
            "/login",
            "/dashboard",
            "/settings",
            "/static/app.css",
            "/static/app.js",
            "/_faults",
            "/healthz",
            "/missing",
        ] {
            seen.push(get_with_cookie(&lab, path, &cookie).await);
        }
        seen.push(send(lab.addr(), "POST", "/logout", &[("Cookie", &cookie)], "").await);
    }
    assert!(seen.len() > 40);
    for resp in &seen {
        let text = resp.everything();
        assert!(!text.contains(SECRET), "password leaked: {text}");
    }
    lab.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let lab = start_lab().await;
    let addr = lab.addr();
    assert_eq!(get(&lab, "/healthz").await.status, 200);
    let t = Instant::now();
    lab.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(TcpStream::connect(addr).await.is_err());

    // Dropping the handle stops the server as well.
    let lab = start_lab().await;
    let addr = lab.addr();
    drop(lab);
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "server still accepting after drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn start_fails_on_a_taken_port() {
    let lab = start_lab().await;
    let err = FaultLab::start(lab.addr()).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    lab.shutdown().await;
}

#[tokio::test]
async fn session_store_is_bounded() {
    let state = LabState::new(FaultLabOptions::default(), super::Backends::default());
    let first = state.create_session("first");
    for i in 0..MAX_SESSIONS + 5 {
        state.create_session(&format!("user{i}"));
    }
    assert!(lock(&state.sessions).len() <= MAX_SESSIONS);
    // Tokens are 32 hex digits.
    assert_eq!(first.len(), 32);
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
}
