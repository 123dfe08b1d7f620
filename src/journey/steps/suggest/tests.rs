use super::*;
use crate::outcome::Reason;

fn page(ids: &[&str], names: &[&str], texts: &[&str]) -> Collected {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Collected {
        ids: own(ids),
        names: own(names),
        test_ids: Vec::new(),
        texts: own(texts),
    }
}

/// The fault lab's dashboard with `renamed_element`, as [`scripts::CANDIDATES`] reads it.
fn renamed_dashboard() -> Collected {
    page(
        &[
            "welcome-banner",
            "region",
            "search",
            "results",
            "settings-link",
            "logout-form",
            "logout",
        ],
        &["region", "search"],
        &["Region", "Search", "Settings", "Log out"],
    )
}

fn shown(target: &str, page: &Collected) -> Vec<String> {
    rank(&Locator::parse(target), page, &Redactor::default())
        .iter()
        .map(written)
        .collect()
}

#[test]
fn the_renamed_welcome_heading_is_suggested_in_the_message_and_the_candidates() {
    let target = Locator::parse("#welcome");
    let p = Problem::new(
        Reason::ElementNotFound,
        format!("assert text of {target}: no element matches {target} (waited 10s)"),
    );
    let found = rank(&target, &renamed_dashboard(), &Redactor::default());
    let p = with_candidates(p, &found);
    assert_eq!(
        p.message,
        r##"assert text of "#welcome": no element matches "#welcome" (waited 10s); did you mean "#welcome-banner"?"##
    );
    assert_eq!(p.candidates, ["#welcome-banner"]);
    assert_eq!(p.reason, Reason::ElementNotFound);
}

#[test]
fn nothing_close_suggests_nothing_and_leaves_the_problem_as_it_was() {
    let target = Locator::parse("#checkout-total");
    let found = rank(&target, &renamed_dashboard(), &Redactor::default());
    assert!(found.is_empty(), "{found:?}");
    let p = Problem::new(
        Reason::ElementNotFound,
        "no element matches \"#checkout-total\"",
    );
    assert_eq!(with_candidates(p.clone(), &found), p);
    assert!(shown("#zq", &renamed_dashboard()).is_empty());
}

#[test]
fn at_most_three_best_first() {
    let ids = [
        "subscribe",
        "submit-form-button",
        "submit-button",
        "sbumit",
        "submit2",
        "submitButton",
    ];
    let got = shown("#submit", &page(&ids, &[], &[]));
    // One character more, two swapped; then the same words, the nearer length first.
    assert_eq!(got, ["#submit2", "#sbumit", "#submitButton"]);
    // Close, but not among the three best: shown when the better ones are not there.
    let fewer = shown("#submit", &page(&ids[..3], &[], &[]));
    assert_eq!(fewer, ["#submit-button", "#submit-form-button"]);
}

#[test]
fn the_message_lists_two_with_or_and_three_with_a_comma_first() {
    let p = || Problem::new(Reason::ElementNotFound, "no element matches \"#a\"");
    let css = |s: &str| Locator::Css(s.to_string());
    let two = with_candidates(p(), &[css("#a1"), Locator::Text("A".into())]);
    assert_eq!(
        two.message,
        r##"no element matches "#a"; did you mean "#a1" or text="A"?"##
    );
    assert_eq!(two.candidates, ["#a1", "text=A"]);
    let three = with_candidates(p(), &[css("#a1"), css("#a2"), css("#a3")]);
    assert!(
        three
            .message
            .ends_with(r##"did you mean "#a1", "#a2" or "#a3"?"##),
        "{}",
        three.message
    );
}

#[test]
fn an_id_that_became_a_name_or_a_test_id_is_found_across_kinds() {
    assert_eq!(
        shown("#email", &page(&[], &["email"], &[])),
        ["[name=email]"]
    );
    let mut p = page(&[], &[], &[]);
    p.test_ids = vec![
        ("data-testid".into(), "login-submit".into()),
        ("onclick".into(), "login-submit".into()),
    ];
    assert_eq!(
        shown("button[data-testid=login-sumbit]", &p),
        ["[data-testid=login-submit]"]
    );
}

#[test]
fn a_text_locator_is_compared_with_the_texts_a_text_locator_finds() {
    let got = rank(
        &Locator::parse("text=Log off"),
        &renamed_dashboard(),
        &Redactor::default(),
    );
    assert_eq!(got, [Locator::Text("Log out".into())]);
    // Whitespace as the page lays it out does not count.
    assert_eq!(
        shown("text=Sign  on", &page(&[], &[], &["Sign\n in"])),
        ["text=Sign in"]
    );
}

#[test]
fn a_part_of_the_selector_the_page_has_as_written_is_not_a_suggestion() {
    // The form is there; what is missing is inside it.
    let got = shown(
        "form#login-form button.primary",
        &page(&["login-form"], &[], &[]),
    );
    assert!(got.is_empty(), "{got:?}");
    // A different case is a different id.
    assert_eq!(
        shown("#Welcome", &page(&["welcome"], &[], &[])),
        ["#welcome"]
    );
}

#[test]
fn xpath_literals_are_compared_by_the_attribute_they_name_else_as_text() {
    let d = renamed_dashboard();
    assert_eq!(shown("xpath=//h1[@id='welcome']", &d), ["#welcome-banner"]);
    assert_eq!(
        shown("xpath=//h1[contains(@id, \"welcome\")]", &d),
        ["#welcome-banner"]
    );
    assert_eq!(shown("xpath=//a[text()='Log off']", &d), ["text=Log out"]);
    // An attribute that names nothing (`@type`) is no needle.
    assert!(shown("xpath=//input[@type='welcome']", &d).is_empty());
}

#[test]
fn ids_that_are_no_css_identifiers_are_suggested_quoted() {
    assert_eq!(
        shown(
            "#first-item",
            &page(&["1st-item", "first item\""], &[], &[])
        ),
        [r#"[id="first item\""]"#, r#"[id="1st-item"]"#]
    );
}

#[test]
fn a_candidate_that_would_show_a_secret_is_left_out() {
    let redactor = Redactor::new(["hunter2".to_string()]);
    let p = page(&["pw-hunter2"], &[], &["Hello hunter2", "Hello hunter"]);
    let got: Vec<String> = rank(&Locator::parse("text=Hello hunter3"), &p, &redactor)
        .iter()
        .map(written)
        .collect();
    assert_eq!(got, ["text=Hello hunter"]);
    assert!(got.iter().all(|c| !c.contains("hunter2")));
}

#[test]
fn css_parts_are_read_from_ids_classes_and_naming_attributes() {
    let n = |s: &str| needles(&Locator::parse(s));
    assert_eq!(
        n(r#"form#login .btn-primary input[name="email" i][type=text] [data-cy='go']"#),
        [
            (Kind::Id, "login".to_string()),
            (Kind::Class, "btn-primary".to_string()),
            (Kind::Name, "email".to_string()),
            (Kind::TestId, "go".to_string()),
        ]
    );
    assert_eq!(n(r"#a\:b"), [(Kind::Id, "a:b".to_string())]);
    assert_eq!(n("[id^=welcome]"), [(Kind::Id, "welcome".to_string())]);
    assert!(n("button[type=submit]").is_empty());
    assert_eq!(
        n("text=  Log   out "),
        [(Kind::Text, "Log out".to_string())]
    );
}

#[test]
fn closeness_ranks_renames_over_strangers() {
    assert_eq!(closeness("Welcome", "welcome"), 1.0);
    assert!(closeness("welcome", "welcome-banner") >= CLOSE);
    assert!(closeness("welcome", "welcomeBanner") >= CLOSE);
    assert!(closeness("welcome", "welcomebanner") >= CLOSE);
    assert!(closeness("password", "passwd") >= CLOSE);
    assert!(closeness("welcome", "welcome-banner") > closeness("welcome", "welcome-banner-title"));
    assert!(closeness("welcome", "logout") < CLOSE);
    assert!(closeness("submit", "search") < CLOSE);
    assert!(closeness("nav", "canvas") < CLOSE);
    assert!(closeness("username", "password") < CLOSE);
    assert_eq!(
        words("welcomeBanner-2 x_y"),
        ["welcome", "banner", "2", "x", "y"]
    );
}

#[test]
fn the_page_reply_is_read_as_the_script_writes_it() {
    let v = serde_json::json!({
        "ids": ["welcome-banner"],
        "names": [],
        "test_ids": [["data-testid", "greeting"]],
        "texts": ["Log out"],
    });
    let c: Collected = serde_json::from_value(v).unwrap();
    assert_eq!(
        c.test_ids,
        [("data-testid".to_string(), "greeting".to_string())]
    );
    assert_eq!(shown("#welcome", &c), ["#welcome-banner"]);
}
