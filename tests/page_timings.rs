//! Acceptance: steps that load a page carry its Navigation Timing (real Chromium, real
//! chromedriver, the fault lab on loopback); steps that do not, carry none.

mod common;

use common::{Lab, Scratch, json_results, show};
use journeyprobe::faultlab::Faults;

/// A login that ends on the dashboard, then a non-navigating select and click, then a
/// link to another page.
const JOURNEY: &str = r##"name: timed
timeout: 30s
step_timeout: 10s
vars: { base: "${env:BASE_URL}" }
secrets: { password: "${env:LOGIN_PASSWORD}" }
steps:
  - goto: ${base}/login
  - fill: { selector: "#username", value: "timed@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - name: sign in
    click: "button[type=submit]"
  - wait_for: { url_matches: "/dashboard$" }
  - select: { selector: "#region", value: "us" }
  - click: "#search"
  - click: "#settings-link"
"##;

/// Run [`JOURNEY`] against a lab with `faults`; the single JSON result.
fn timed_run(faults: Faults) -> serde_json::Value {
    let lab = Lab::start();
    lab.set(faults);
    let s = Scratch::new();
    let out = s.run_journey(&lab.base_url(), "timed.yaml", JOURNEY, &["--no-artifacts"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    json_results(&out).remove(0)
}

fn page(r: &serde_json::Value, step: usize) -> &serde_json::Value {
    &r["steps"][step - 1]["page"]
}

fn ms(page: &serde_json::Value, key: &str) -> f64 {
    page[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key} in {page:#}"))
}

#[test]
fn a_goto_and_a_navigating_click_carry_page_timings_and_other_steps_none() {
    let r = timed_run(Faults::default());
    // The sign-in's navigation is timed on the click, or, when chromedriver answered the
    // click before the form's navigation began, on the wait that saw the dashboard arrive.
    let signed_in = if page(&r, 4).is_null() { 5 } else { 4 };
    assert!(page(&r, 9 - signed_in).is_null(), "timed once: {r:#}");
    for step in [1, signed_in, 8] {
        let p = page(&r, step);
        let ttfb = ms(p, "ttfb_ms");
        assert!(ttfb >= 0.0, "step {step}: {r:#}");
        assert!(ms(p, "dom_content_loaded_ms") >= ttfb, "step {step}: {r:#}");
        // Chromedriver waits for the load of a page it navigates to.
        assert!(ms(p, "load_ms") >= ttfb, "step {step}: {r:#}");
        if let Some(lcp) = p.get("lcp_ms") {
            assert!(lcp.as_f64().is_some_and(|v| v >= 0.0), "{r:#}");
        }
        // Numbers only.
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert!(
            keys.iter().all(
                |k| ["ttfb_ms", "dom_content_loaded_ms", "load_ms", "lcp_ms"].contains(&k.as_str())
            ),
            "{p:#}"
        );
    }
    // Fills, a select and a click that stay on the page: no timings.
    for step in [2, 3, 6, 7] {
        assert!(
            r["steps"][step - 1].get("page").is_none(),
            "step {step}: {r:#}"
        );
    }
}

#[test]
fn a_slow_back_end_shows_in_the_gotos_time_to_first_byte() {
    // The lab delays every response by slow_ms: the first byte cannot come sooner.
    let r = timed_run(Faults {
        slow_ms: 300,
        ..Faults::default()
    });
    let goto = page(&r, 1);
    assert!(ms(goto, "ttfb_ms") >= 300.0, "{r:#}");
    assert!(ms(goto, "dom_content_loaded_ms") >= 300.0, "{r:#}");
    let signed_in = if page(&r, 4).is_null() { 5 } else { 4 };
    assert!(ms(page(&r, signed_in), "ttfb_ms") >= 300.0, "{r:#}");
}
