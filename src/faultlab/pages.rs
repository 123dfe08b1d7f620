//! HTML pages and the in-memory "assets bucket" of the fault lab.
//!
//! Everything here is a pure function of its arguments (no state, no I/O),
//! which keeps the handlers in `routes.rs` small and makes the markup easy to
//! unit-test. Every piece of user-provided text that ends up in a page goes
//! through [`escape_html`]. The login password is never passed to any of these
//! functions, so it cannot leak into a page.

/// Colour of the healthy "Sign in" button's background (white text on it).
pub(crate) const PRIMARY_BG: &str = "#1d4ed8";
/// Colour of the "Log out" button's background (white text on it).
pub(crate) const SECONDARY_BG: &str = "#374151";
/// Background of the cards the forms live in. Under the `invisible_submit`
/// fault the submit button's text and background both take this colour.
pub(crate) const CARD_BG: &str = "#ffffff";
/// Text colour of the buttons.
pub(crate) const BUTTON_FG: &str = "#ffffff";

/// Message shown (in `#error`) after a failed sign-in.
pub(crate) const INVALID_CREDENTIALS: &str = "Invalid email or password";

/// One file of the in-memory assets bucket served under `/static/`.
#[derive(Debug)]
pub(crate) struct Asset {
    /// File name below `/static/`.
    pub name: &'static str,
    /// Value of the `Content-Type` header.
    pub content_type: &'static str,
    /// File contents.
    pub body: &'static str,
}

/// The assets bucket: everything the pages load from `/static/`.
pub(crate) const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: APP_CSS,
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: APP_JS,
    },
];

/// Looks a file up in the assets bucket by its name below `/static/`.
pub(crate) fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// Stylesheet served as `/static/app.css`.
///
/// The colours that matter for contrast checks (buttons, card) are *also* set
/// inline on the elements, so they hold even if this file is slow or missing.
pub(crate) const APP_CSS: &str = r#"/* Fault Lab stylesheet */
*, *::before, *::after { box-sizing: border-box; }
body {
  margin: 0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 16px;
  line-height: 1.5;
  color: #111827;
  background-color: #f3f4f6;
}
header.topbar {
  padding: 0.75rem 1.5rem;
  color: #ffffff;
  background-color: #111827;
  font-weight: 600;
}
main { max-width: 30rem; margin: 3rem auto; padding: 0 1rem; }
.card {
  background-color: #ffffff;
  border-radius: 8px;
  padding: 1.5rem;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15);
}
h1 { margin-top: 0; font-size: 1.5rem; }
label { display: block; margin: 0.75rem 0 0.25rem; font-weight: 600; }
input, select {
  width: 100%;
  padding: 0.5rem;
  font-size: 1rem;
  color: #111827;
  background-color: #ffffff;
  border: 1px solid #6b7280;
  border-radius: 4px;
}
.btn {
  display: inline-block;
  margin-top: 1rem;
  padding: 0.6rem 1.25rem;
  font-size: 1rem;
  font-weight: 600;
  border: none;
  border-radius: 4px;
  cursor: pointer;
}
.btn-primary { color: #ffffff; background-color: #1d4ed8; }
.btn-secondary { color: #ffffff; background-color: #374151; }
.btn-invisible { color: #ffffff; background-color: #ffffff; }
#error { color: #b91c1c; font-weight: 600; }
#results { min-height: 1.5rem; margin-top: 0.5rem; }
a { color: #1d4ed8; }
"#;

/// Script served as `/static/app.js`: wires the dashboard search box, and remembers the
/// signed-in user as a real site would (local storage for "welcome back" on the sign-in
/// page, session storage for this tab), so tests can see whether storage outlived a run.
///
/// Pressing Enter in `#search` writes "Results for {query}" into `#results`
/// via `textContent` (never `innerHTML`, so a query cannot inject markup).
pub(crate) const APP_JS: &str = r#"// Fault Lab client script.
(function () {
  "use strict";
  function wire() {
    var search = document.getElementById("search");
    var results = document.getElementById("results");
    if (!search || !results) {
      return;
    }
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        results.textContent = "Results for " + search.value;
      }
    });
  }
  function remember() {
    var card = document.querySelector("[data-user]");
    var user = card && card.getAttribute("data-user");
    if (user) {
      localStorage.setItem("lab-last-user", user);
      sessionStorage.setItem("lab-tab-user", user);
    }
    var note = document.getElementById("remembered");
    if (note) {
      var last = localStorage.getItem("lab-last-user");
      var tab = sessionStorage.getItem("lab-tab-user");
      note.textContent = last
        ? "Welcome back, " + last + (tab ? " (this tab)" : "")
        : tab ? "Signed in earlier in this tab" : "New visitor";
    }
  }
  function start() {
    wire();
    remember();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
"#;

/// Escapes text for use in HTML element content and quoted attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Wraps `body` (trusted markup) in the common page skeleton, titled "`page` · Fault Lab".
/// `page` is plain text and is escaped.
fn layout(page: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<header class="topbar">Fault Lab</header>
<main>
{body}
</main>
</body>
</html>
"#,
        title = escape_html(&format!("{page} · Fault Lab")),
    )
}

/// `inner` (trusted markup) in a plain card of the page's background colour.
fn card(inner: &str) -> String {
    format!("<div class=\"card\" style=\"background-color: {CARD_BG}\">\n{inner}\n</div>")
}

/// The sign-in page. `error` (plain text) is shown in `<p id="error">`.
///
/// With `invisible_submit` the submit button's text colour, its background
/// and the card (form) background are all [`CARD_BG`]: contrast ratio 1.0.
pub(crate) fn login_page(error: Option<&str>, invisible_submit: bool) -> String {
    let error = error
        .map(|e| format!("<p id=\"error\" role=\"alert\">{}</p>\n", escape_html(e)))
        .unwrap_or_default();
    let (class, fg, bg) = if invisible_submit {
        ("btn btn-invisible", CARD_BG, CARD_BG)
    } else {
        ("btn btn-primary", BUTTON_FG, PRIMARY_BG)
    };
    let body = format!(
        r#"<form class="card" id="login-form" method="post" action="/login" style="background-color: {CARD_BG}">
<h1>Sign in</h1>
<p id="remembered" role="status"></p>
{error}<label for="username">Email</label>
<input id="username" name="username" type="email" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="submit" class="{class}" style="color: {fg}; background-color: {bg}">Sign in</button>
</form>"#
    );
    layout("Sign in", &body)
}

/// The dashboard. `user` is the signed-in user's name (escaped here); `None`
/// renders the "Please sign in" page a user sees when authentication broke.
/// With `renamed_element` the welcome heading's id is `welcome-banner`.
pub(crate) fn dashboard_page(
    user: Option<&str>,
    renamed_element: bool,
    assets_url: Option<&str>,
) -> String {
    let welcome_id = if renamed_element {
        "welcome-banner"
    } else {
        "welcome"
    };
    let body = match user {
        Some(user) => {
            let welcome = match assets_url {
                // Rendered in the browser by the bundle from the bucket.
                Some(url) => format!(
                    r#"<div id="app" data-user="{user}" data-welcome-id="{welcome_id}"></div>
<script src="{url}/dashboard.js"></script>"#,
                    user = escape_html(user),
                    url = escape_html(url.trim_end_matches('/')),
                ),
                None => format!(
                    r#"<h1 id="{welcome_id}">Welcome, {}</h1>"#,
                    escape_html(user)
                ),
            };
            format!(
                r#"<div class="card" data-user="{user}" style="background-color: {CARD_BG}">
{welcome}
<label for="region">Region</label>
<select id="region" name="region">
<option value="eu">Europe</option>
<option value="us">United States</option>
<option value="ap">Asia Pacific</option>
</select>
<label for="search">Search</label>
<input id="search" name="search" type="search" placeholder="Type and press Enter" autocomplete="off">
<div id="results" role="status" aria-live="polite"></div>
<p><a id="settings-link" href="/settings">Settings</a></p>
<form id="logout-form" method="post" action="/logout">
<button type="submit" id="logout" class="btn btn-secondary" style="color: {BUTTON_FG}; background-color: {SECONDARY_BG}">Log out</button>
</form>
</div>"#,
                user = escape_html(user),
            )
        }
        None => card(&format!(
            r#"<h1 id="{welcome_id}">Please sign in</h1>
<p>Your session is missing or has expired.</p>
<p><a id="login-link" href="/login">Go to the sign-in page</a></p>"#
        )),
    };
    layout("Dashboard", &body)
}

/// The dashboard's bundle, for the assets bucket: renders the welcome heading from the
/// user the server put in `#app`'s data attributes.
pub const DASHBOARD_JS: &str = r#"(function () {
  var app = document.getElementById('app');
  if (!app) return;
  var h = document.createElement('h1');
  h.id = app.dataset.welcomeId;
  h.textContent = 'Welcome, ' + app.dataset.user;
  app.replaceWith(h);
})();
"#;

/// The settings page.
pub(crate) fn settings_page() -> String {
    layout(
        "Settings",
        &card(
            r#"<h1 id="settings-title">Settings</h1>
<p>Nothing to configure yet.</p>
<p><a href="/dashboard">Back to the dashboard</a></p>"#,
        ),
    )
}

/// Elements whose colours are hard to judge: modern colour functions, translucent text,
/// a covered button, an element outside the page. `assert_visible` is tested against them.
pub(crate) fn contrast_page() -> String {
    layout(
        "Contrast",
        &card(
            r#"<h1>Contrast</h1>
<button id="oklch-ok" style="color: oklch(0.2 0 0); background: oklch(1 0 0)">Readable</button>
<button id="oklch-low" style="color: oklch(0.98 0 0); background: oklch(1 0 0); border: 1px solid #ccc">Faint</button>
<button id="translucent" style="color: rgba(0, 0, 0, 0.15); background: transparent">Ghost</button>
<div style="position: relative">
  <button id="covered">Under</button>
  <div style="position: absolute; inset: 0; background: #eee">overlay</div>
</div>
<button id="offscreen" style="position: fixed; left: -500px; top: 0">Away</button>"#,
        ),
    )
}

/// Buttons a click must land on, or must not: one below the fold, one under an overlay, one
/// that opens an alert.
/// Each writes the mouse events it received into `#events` (`far: pointerdown mousedown …`,
/// with "(synthetic)" after an event a script made rather than the browser's input); a
/// click on the overlay counts in `#overlay-clicks`.
pub(crate) fn clicks_page() -> String {
    let card = card(
        r#"<h1>Clicks</h1>
<p id="events"></p>
<p>Overlay clicks: <span id="overlay-clicks">0</span></p>
<div style="position: relative">
  <button id="under">Under</button>
  <div id="overlay" style="position: absolute; inset: 0; background: #eee">overlay</div>
</div>
<p><button id="alerting" onclick="alert('Saved')">Save</button></p>
<div style="height: 150vh"></div>
<button id="far">Far below</button>"#,
    );
    layout("Clicks", &format!("{card}\n{CLICKS_JS}"))
}

/// The clicks page's script: records the mouse events each button receives.
const CLICKS_JS: &str = r#"<script>
(function () {
  var events = document.getElementById("events");
  ["far", "under"].forEach(function (id) {
    var seen = [];
    ["pointerdown", "mousedown", "pointerup", "mouseup", "click"].forEach(function (type) {
      document.getElementById(id).addEventListener(type, function (e) {
        seen.push(type + (e.isTrusted ? "" : " (synthetic)"));
        events.textContent = id + ": " + seen.join(" ");
      });
    });
  });
  var clicks = 0;
  document.getElementById("overlay").addEventListener("click", function () {
    document.getElementById("overlay-clicks").textContent = String(++clicks);
  });
})();
</script>"#;

/// A bare error page: `<title>` and `<h1>` both say `title`.
fn error_page(title: &str, detail: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
</head>
<body>
<h1 id="error-title">{title}</h1>
<p>{detail}</p>
</body>
</html>
"#,
        title = escape_html(title),
        detail = escape_html(detail),
    )
}

/// The plain 404 page (unknown routes and the `dashboard_404` fault).
pub(crate) fn not_found_page() -> String {
    error_page("Not Found", "The requested page does not exist.")
}

/// The 500 page (the `login_500` fault).
pub(crate) fn server_error_page() -> String {
    error_page(
        "Internal Server Error",
        "Something went wrong while signing you in.",
    )
}

/// The 400 page for a request body that could not be understood.
pub(crate) fn bad_request_page() -> String {
    error_page("Bad Request", "The submitted form could not be understood.")
}

/// The fault switches: every fault as a control that posts to the lab's `/_faults` as it
/// changes, and says when a switch is refused. The demo board frames this page. `__LAB__`
/// is the base URL the script talks to, as a JS string (`""`: the lab itself).
const SWITCHES: &str = r#"<section class="jp-switches">
<style>
 .jp-switches { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 12px; color: #111827; background: #f9fafb; }
 .jp-switches h1 { font-size: 15px; margin: 0 0 8px; }
 .jp-switches label { display: flex; gap: 8px; align-items: center; padding: 4px 0; }
 .jp-switches .row { display: flex; flex-wrap: wrap; gap: 4px 16px; }
 .jp-switches .row > label { min-width: 15em; }
 .jp-switches #jp-fault-status { margin-top: 8px; min-height: 1.4em; color: #374151; }
 .jp-switches #jp-fault-status.error { color: #b91c1c; }
 .jp-switches button { font: inherit; padding: 4px 10px; }
</style>
<h1>Fault lab switches</h1>
<form id="jp-faults" class="row">
 <label><input type="checkbox" name="login_500"> sign-in answers 500</label>
 <label><input type="checkbox" name="unauthenticated_dashboard"> sign-in "succeeds" unauthenticated</label>
 <label><input type="checkbox" name="invisible_submit"> submit button invisible</label>
 <label><input type="checkbox" name="dashboard_404"> dashboard misrouted (404)</label>
 <label><input type="checkbox" name="renamed_element"> welcome element renamed</label>
 <label><input type="checkbox" name="bucket_deleted"> assets bucket deleted</label>
 <label><input type="checkbox" name="bucket_private"> assets bucket private</label>
 <label><input type="checkbox" name="dns_stopped"> DNS server stopped</label>
 <label>DNS record <select name="dns_record"><option value="right">right</option><option value="changed">changed</option><option value="removed">removed</option></select></label>
 <label>slow responses <input type="number" name="slow_ms" min="0" step="100" value="0" style="width:6em"> ms</label>
 <button type="button" id="jp-faults-reset">All off</button>
</form>
<div id="jp-fault-status" role="status"></div>
<script>
(function () {
  var LAB = __LAB__;
  var form = document.getElementById("jp-faults");
  var status = document.getElementById("jp-fault-status");
  function show(faults) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in faults)) return;
      if (el.type === "checkbox") el.checked = !!faults[el.name]; else el.value = faults[el.name];
    });
  }
  function read() {
    var f = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      if (el.type === "checkbox") f[el.name] = el.checked;
      else if (el.type === "number") f[el.name] = parseInt(el.value || "0", 10);
      else f[el.name] = el.value;
    });
    return f;
  }
  function send(url, body) {
    status.className = ""; status.textContent = "switching…";
    fetch(LAB + url, { method: "POST", headers: { "Content-Type": "application/json" }, body: body })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (res) {
        if (res[0]) { show(res[1]); status.textContent = "switched at " + new Date().toLocaleTimeString(); }
        else { status.className = "error"; status.textContent = res[1].error || "refused"; load(); }
      })
      .catch(function (e) { status.className = "error"; status.textContent = String(e); });
  }
  function load() { fetch(LAB + "/_faults").then(function (r) { return r.json(); }).then(show); }
  form.addEventListener("change", function () { send("/_faults", JSON.stringify(read())); });
  document.getElementById("jp-faults-reset").addEventListener("click", function () { send("/_faults/reset", ""); });
  load();
})();
</script>
</section>
"#;

/// `GET /_lab/switches`: the switches as a page of their own.
pub(crate) fn switches_page() -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Fault switches</title></head>\n<body>\n{}</body></html>\n",
        SWITCHES.replace("__LAB__", "\"\"")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_html_escapes_all_special_characters() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape_html("plain · text"), "plain · text");
    }

    #[test]
    fn login_page_has_the_form_and_assets() {
        let page = login_page(None, false);
        assert!(page.contains("<title>Sign in · Fault Lab</title>"));
        assert!(
            page.contains(r#"<form class="card" id="login-form" method="post" action="/login""#)
        );
        assert!(page.contains(r#"<input id="username" name="username" type="email""#));
        assert!(page.contains(r#"<input id="password" name="password" type="password""#));
        assert!(page.contains(r#"<button type="submit" id="submit""#));
        assert!(page.contains(">Sign in</button>"));
        assert!(page.contains(r#"href="/static/app.css""#));
        assert!(page.contains(r#"src="/static/app.js""#));
        assert!(!page.contains("id=\"error\""));
        assert!(page.contains("color: #ffffff; background-color: #1d4ed8"));
    }

    #[test]
    fn login_page_error_and_invisible_submit() {
        let page = login_page(Some(INVALID_CREDENTIALS), true);
        assert!(page.contains(r#"<p id="error" role="alert">Invalid email or password</p>"#));
        assert!(page.contains("color: #ffffff; background-color: #ffffff\">Sign in</button>"));
        assert!(!page.contains(PRIMARY_BG));
    }

    #[test]
    fn dashboard_page_variants() {
        let page = dashboard_page(Some("<b>eve</b>"), false, None);
        assert!(page.contains(r#"<h1 id="welcome">Welcome, &lt;b&gt;eve&lt;/b&gt;</h1>"#));
        assert!(page.contains(r#"<select id="region" name="region">"#));
        assert!(page.contains(r#"<option value="ap">Asia Pacific</option>"#));
        assert!(page.contains(r#"<input id="search" name="search" type="search""#));
        assert!(page.contains(r#"<div id="results""#));
        assert!(page.contains(r#"href="/settings">Settings</a>"#));
        assert!(page.contains(r#"id="logout""#));

        let anon = dashboard_page(None, false, None);
        assert!(anon.contains(r#"<h1 id="welcome">Please sign in</h1>"#));
        assert!(!anon.contains("Welcome"));
        assert!(!anon.contains("id=\"logout\""));

        let renamed = dashboard_page(Some("eve"), true, None);
        assert!(renamed.contains(r#"<h1 id="welcome-banner">Welcome, eve</h1>"#));
        assert!(!renamed.contains(r#"id="welcome""#));
    }

    #[test]
    fn assets_bucket_lookup() {
        assert_eq!(
            asset("app.css").map(|a| a.content_type),
            Some("text/css; charset=utf-8")
        );
        assert!(asset("app.js").is_some_and(|a| a.body.contains("textContent")));
        assert!(!APP_JS.contains("innerHTML"));
        assert!(asset("nope.js").is_none());
    }
}
