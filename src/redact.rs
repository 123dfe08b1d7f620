//! Secret redaction. Every resolved `secrets:` value is replaced by [`MASK`] in anything that
//! leaves the process: human and JSON output, logs, artifacts. Redaction is by value, so a
//! secret is caught wherever it ends up (an error message, a URL, a page's HTML) — and in the
//! encoded forms it takes on the way: JSON and Rust string escapes, HTML entities and
//! percent-encoding.

use std::fmt;

/// What a secret looks like in output.
pub const MASK: &str = "••••";

#[derive(Clone, Default)]
pub struct Redactor {
    /// The secrets as resolved, for masking inside the page.
    secrets: Vec<String>,
    /// Every form of every secret to replace, longest first, so a secret that contains
    /// another is masked whole.
    forms: Vec<String>,
}

/// Never print the secrets themselves, even in debug output.
impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        secrets.sort();
        secrets.dedup();
        let mut forms: Vec<String> = secrets.iter().flat_map(|s| encoded_forms(s)).collect();
        forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
        forms.dedup();
        Redactor { secrets, forms }
    }

    /// The secret values, for masking inside the page before a screenshot.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.forms {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

/// The secret as written, and as it looks once escaped or encoded.
fn encoded_forms(secret: &str) -> Vec<String> {
    let unquote = |s: String| s[1..s.len() - 1].to_string();
    let json = serde_json::to_string(secret)
        .map(unquote)
        .unwrap_or_default();
    let debug = unquote(format!("{secret:?}"));
    let html = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let percent = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let path = percent_encoding::utf8_percent_encode(secret, PATH).to_string();
    let mut forms = vec![secret.to_string(), json, debug, html, percent, form, path];
    // Dot segments are collapsed in URL paths; a form shorter than the secret is not it.
    forms.extend(
        url_forms(secret)
            .into_iter()
            .filter(|f| f.len() >= secret.len()),
    );
    forms.into_iter().filter(|f| !f.is_empty()).collect()
}

/// The secret as the `url` crate writes it in each part of a URL (messages quote URLs).
fn url_forms(secret: &str) -> Vec<String> {
    let Ok(mut u) = url::Url::parse("http://h/") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    u.set_path(secret);
    out.push(u.path().trim_start_matches('/').to_string());
    u.set_query(Some(secret));
    out.extend(u.query().map(str::to_string));
    u.set_fragment(Some(secret));
    out.extend(u.fragment().map(str::to_string));
    let mut q = url::Url::parse("http://h/").expect("literal URL");
    q.query_pairs_mut().append_pair("x", secret);
    out.extend(
        q.query()
            .and_then(|s| s.strip_prefix("x="))
            .map(str::to_string),
    );
    out
}

/// What a browser percent-encodes in a URL path or query (WHATWG path set, roughly).
const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%');

/// A URL's text with any user name and password taken out (`https://user:pw@grid/wd/hub`
/// → `https://grid/wd/hub`), for messages; text that is not a URL is returned as it is.
pub fn without_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// `message` with every form of `url`'s credentials taken out: the whole URL as given, and
/// its `user:password@` part wherever else it appears.
pub fn scrub_url(message: &str, url: &str) -> String {
    let Ok(u) = url::Url::parse(url) else {
        return message.to_string();
    };
    if u.username().is_empty() && u.password().is_none() {
        return message.to_string();
    }
    let mut out = message.replace(url, &without_credentials(url));
    let userinfo = match u.password() {
        Some(p) => format!("{}:{p}@", u.username()),
        None => format!("{}@", u.username()),
    };
    out = out.replace(&userinfo, "");
    if let Some(p) = u.password() {
        out = out.replace(p, "••••");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webdriver_url_credentials_never_reach_a_message() {
        let url = "https://probe:s3cr3t@grid.example:4444/wd/hub";
        assert_eq!(without_credentials(url), "https://grid.example:4444/wd/hub");
        let msg = format!(
            "no WebDriver server answered at {url}: error sending request for url (https://probe:s3cr3t@grid.example:4444/wd/hub/session)"
        );
        let clean = scrub_url(&msg, url);
        assert!(
            !clean.contains("s3cr3t") && !clean.contains("probe:"),
            "{clean}"
        );
        assert_eq!(scrub_url("plain", "http://127.0.0.1:9515"), "plain");
    }

    #[test]
    fn masks_every_occurrence_longest_first() {
        let r = Redactor::new(["abc".to_string(), "abcdef".to_string(), String::new()]);
        assert_eq!(r.redact("x abcdef y abc"), format!("x {MASK} y {MASK}"));
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[test]
    fn masks_escaped_and_encoded_forms() {
        let secret = r#"pa"ss\wo rd&%<x>"#;
        let r = Redactor::new([secret.to_string()]);
        let json = serde_json::to_string(&serde_json::json!({ "v": secret })).unwrap();
        let debug = format!("{secret:?}");
        let html = "pa&quot;ss\\wo rd&amp;%&lt;x&gt;";
        let pct: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let url = "http://x/?q=pa%22ss%5Cwo%20rd%26%25%3Cx%3E";
        for text in [json, debug, html.to_string(), pct, url.to_string()] {
            let out = r.redact(&text);
            assert!(out.contains(MASK), "{text} -> {out}");
            assert!(!out.contains("rd&"), "{text} -> {out}");
        }
    }

    #[test]
    fn masks_the_secret_as_urls_write_it() {
        let secret = "it's x-y@z!";
        let r = Redactor::new([secret.to_string()]);
        let mut u = url::Url::parse("http://127.0.0.1:8080/missing").unwrap();
        u.set_query(Some(&format!("t={secret}")));
        let shown = format!("GET {u} answered 404");
        assert!(!r.redact(&shown).contains("x-y"), "{}", r.redact(&shown));
        let mut p = url::Url::parse("http://127.0.0.1/").unwrap();
        p.set_path(&format!("/a/{secret}"));
        assert!(
            !r.redact(p.as_str()).contains("x-y"),
            "{}",
            r.redact(p.as_str())
        );
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let r = Redactor::new(["hunter2".to_string()]);
        assert_eq!(format!("{r:?}"), "Redactor(1 secrets)");
    }
}
