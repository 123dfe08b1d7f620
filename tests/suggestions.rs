//! Acceptance: a locator that matches nothing says what the page has instead, in real
//! Chromium against the fault-lab site (the renamed welcome heading is in tests/journeys.rs
//! and tests/firefox.rs, beside the other faults).

mod common;

use common::{Lab, Scratch, json_results, show};

/// Run `steps` (YAML list items) against the lab with a 2 s step timeout; the one result.
fn run_steps(steps: &str) -> serde_json::Value {
    let lab = Lab::start();
    let s = Scratch::new();
    let yaml = format!(
        "name: suggest\ntimeout: 20s\nstep_timeout: 2s\n\
         vars:\n  base: ${{env:BASE_URL}}\n\
         secrets:\n  password: ${{env:LOGIN_PASSWORD}}\n\
         steps:\n{steps}"
    );
    let out = s.run_journey(&lab.base_url(), "suggest.yaml", &yaml, &["--no-artifacts"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let results = json_results(&out);
    assert_eq!(results.len(), 1, "{}", show(&out));
    results[0].clone()
}

#[test]
fn a_click_on_a_button_text_that_changed_suggests_the_text_the_page_has() {
    let r = run_steps(
        r##"  - goto: ${base}/login
  - fill: { selector: "#username", value: "probe@example.com" }
  - fill: { selector: "#password", value: "${password}" }
  - click: "button[type=submit]"
  - wait_for: { url_matches: "/dashboard$" }
  - click: "text=Log off"
"##,
    );
    assert_eq!(r["reason"], "element_not_found", "{r:#}");
    assert_eq!(r["phase"]["index"], 6, "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            r#"no element matches text="Log off" (waited 2s); did you mean text="Log out"?"#
        ),
        "{r:#}"
    );
    assert_eq!(
        r["candidates"],
        serde_json::json!(["text=Log out"]),
        "{r:#}"
    );
}

#[test]
fn a_misspelt_id_suggests_the_id_and_the_name_and_a_stranger_suggests_nothing() {
    let r = run_steps("  - goto: ${base}/login\n  - wait_for: { selector: \"#usernme\" }\n");
    assert_eq!(r["reason"], "step_timeout", "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            r##"no element matches "#usernme" (waited 2s); did you mean "#username" or "[name=username]"?"##
        ),
        "{r:#}"
    );
    assert_eq!(
        r["candidates"],
        serde_json::json!(["#username", "[name=username]"]),
        "{r:#}"
    );

    let r = run_steps(
        "  - goto: ${base}/login\n  - assert_text: { selector: \"#checkout-total\", contains: \"€\" }\n",
    );
    assert_eq!(r["reason"], "element_not_found", "{r:#}");
    let message = r["message"].as_str().unwrap();
    assert!(
        message.ends_with(r##"no element matches "#checkout-total" (waited 2s)"##),
        "{r:#}"
    );
    assert!(r.get("candidates").is_none(), "{r:#}");
}
