//! Acceptance: the session pool, through real Chromium and chromedriver against the fault-lab
//! site. One warm session serves several runs of `journeyprobe run`; nothing a run left in
//! the browser (cookies, local and session storage) reaches the next one. (A pooled
//! session whose chromedriver died, in a run or while warm: tests/serve.rs.)

mod common;

use common::{Lab, Scratch, json_results, show};

/// Signs in, then shows that the site remembered the user in this browser: after this run
/// the browser holds a session cookie, local storage and session storage for the lab.
const SIGN_IN: &str = r##"
name: a_sign_in
timeout: 30s
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - name: a new visitor
    assert_text: { selector: "#remembered", contains: "New visitor" }
  - fill: { selector: "#username", value: "probe@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "button[type=submit]"
  - wait_for: { url_matches: "/dashboard$" }
  - assert_text: { selector: "#welcome", contains: "Welcome" }
  - goto: ${base}/login
  - name: remembered in local and session storage
    assert_text: { selector: "#remembered", equals: "Welcome back, probe@example.com (this tab)" }
"##;

/// Expects a browser that never saw the site: signed out, nothing remembered.
const VISITOR: &str = r##"
name: b_visitor
timeout: 30s
vars: { base: "${env:BASE_URL}" }
steps:
  - goto: ${base}/dashboard
  - name: no session cookie
    assert_text: { selector: "#welcome", contains: "Please sign in" }
  - goto: ${base}/login
  - name: no local or session storage
    assert_text: { selector: "#remembered", equals: "New visitor" }
"##;

/// Write `files` into a probes folder and run it twice over (`--repeat 2`) with `extra`
/// arguments; the runs as `probe outcome session`, in order.
fn run_twice(lab: &Lab, files: &[(&str, &str)], extra: &[&str]) -> Vec<String> {
    let s = Scratch::new();
    let probes = s.path().join("probes");
    std::fs::create_dir_all(&probes).unwrap();
    for (name, text) in files {
        std::fs::write(probes.join(name), text).unwrap();
    }
    let dir = probes.display().to_string();
    let mut args = vec![
        "run",
        &dir,
        "--repeat",
        "2",
        "--format",
        "json",
        "--no-artifacts",
    ];
    args.extend_from_slice(extra);
    let out = s.run(s.command(&lab.base_url(), &args));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    json_results(&out)
        .iter()
        .filter(|r| r["kind"] == "journey")
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap_or("-").to_string();
            format!(
                "{} {} {}",
                field("probe"),
                field("outcome"),
                field("session")
            )
        })
        .collect()
}

#[test]
fn a_warm_session_keeps_nothing_of_the_previous_run() {
    let lab = Lab::start();
    // Each journey twice, one after another: sign in, sign in, visitor, visitor. One
    // browser serves all four runs: the first opens it, the others get it warm.
    let runs = run_twice(
        &lab,
        &[("a_sign_in.yaml", SIGN_IN), ("b_visitor.yaml", VISITOR)],
        &[],
    );
    assert_eq!(
        runs,
        [
            "a_sign_in success new",
            "a_sign_in success warm",
            "b_visitor success warm",
            "b_visitor success warm",
        ]
    );
}

#[test]
fn without_the_pool_every_run_opens_its_own_session() {
    let lab = Lab::start();
    // isolation: fresh opts one journey out; --no-pool opts the whole run out.
    let fresh = SIGN_IN.replace("timeout: 30s", "timeout: 30s\nisolation: fresh");
    let files = [
        ("a_sign_in.yaml", fresh.as_str()),
        ("b_visitor.yaml", VISITOR),
    ];
    assert_eq!(
        run_twice(&lab, &files, &[]),
        [
            "a_sign_in success new",
            "a_sign_in success new",
            "b_visitor success new",
            "b_visitor success warm",
        ]
    );
    assert_eq!(
        run_twice(&lab, &files[1..], &["--no-pool"]),
        ["b_visitor success new", "b_visitor success new"]
    );
}

/// Signs in to the lab whose dashboard is rendered by a script from the assets bucket.
const LOGIN_SPA: &str = r##"
name: login_spa
timeout: 30s
step_timeout: 5s
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - fill: { selector: "#username", value: "spa@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "button[type=submit]"
  - wait_for: { url_matches: "/dashboard$" }
  - assert_text: { selector: "#welcome", contains: "Welcome" }
"##;

#[test]
fn a_cached_script_never_hides_a_deleted_bucket_from_a_session_warm_for_a_while() {
    use std::sync::Arc;

    use journeyprobe::browser::driver::{ManagedDriver, find_chromedriver, find_chromium};
    use journeyprobe::browser::pool::{Pool, PoolSettings};
    use journeyprobe::journey::{Quiet, RunEnv, run_journey};
    use journeyprobe::outcome::{Outcome, Reason};

    // The bundle may be cached for an hour: a warm browser that kept its HTTP cache would
    // render the dashboard from it after the bucket is gone.
    let s3 = common::s3::S3::start();
    let lab = Lab::with_assets_bucket(&s3, true);
    let env = std::collections::BTreeMap::from([
        ("BASE_URL".to_string(), lab.base_url()),
        ("LOGIN_PASSWORD".to_string(), common::PASSWORD.to_string()),
    ]);
    let path = std::path::Path::new("login_spa.yaml");
    let (journey, diags) = journeyprobe::config::file::parse_journey(path, LOGIN_SPA, &env);
    let journey = journey.unwrap_or_else(|| panic!("{:?}", diags.items));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (first, second) = rt.block_on(async {
        let binary = find_chromedriver().expect("chromedriver (scripts/ensure-deps)");
        let driver = Arc::new(ManagedDriver::start(&binary).await.expect("chromedriver"));
        let pool = Pool::new(PoolSettings::new(1), None);
        let env = RunEnv {
            webdriver: driver.url().to_string(),
            driver: Some(driver.clone()),
            pool: Some(pool.clone()),
            browser_binary: find_chromium(),
            artifacts: None,
            cancel: Default::default(),
            interactive: Default::default(),
        };
        let first = run_journey(&journey, &env, &Quiet).await;
        // Longer than a reset may take (10 s plus grace): a session that waited warm that
        // long is still handed out, not taken for dead.
        tokio::time::sleep(std::time::Duration::from_secs(13)).await;
        s3.delete_bucket("assets", &["dashboard.js"]);
        let second = run_journey(&journey, &env, &Quiet).await;
        drop(env);
        pool.close(std::time::Duration::from_secs(10)).await;
        Arc::into_inner(driver)
            .expect("no session holds the chromedriver")
            .stop()
            .await;
        (first, second)
    });
    assert_eq!(first.outcome, Outcome::Success, "{first:#?}");
    assert_eq!(first.session, Some("new"));
    // The same browser, warm: the bundle is fetched again, the bucket is gone, the page
    // never renders its welcome.
    assert_eq!(second.session, Some("warm"), "{second:#?}");
    assert_eq!(second.outcome, Outcome::Failure, "{second:#?}");
    assert_eq!(second.reason, Some(Reason::ElementNotFound), "{second:#?}");
}
