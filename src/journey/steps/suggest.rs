//! What the page has instead of an element a locator did not find: once a wait has failed
//! because its locator matched nothing, one bounded look at the page's ids, names, test ids
//! and clickable texts ([`scripts::CANDIDATES`]), ranked here against the locator's own
//! parts, so that `no element matches "#welcome"` also says `did you mean
//! "#welcome-banner"?` and a front-end refactor shows for what it is.
//!
//! The look never changes the outcome: it has its own short deadline, and any error in it
//! leaves the problem as it was. Nothing is suggested when nothing is close, and a
//! candidate that would show a secret is left out (a masked selector helps nobody).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::StepCtx;
use crate::browser::scripts;
use crate::browser::session::GRACE;
use crate::config::Locator;
use crate::outcome::Problem;
use crate::redact::Redactor;

/// Longest the look may take (it comes out of the command grace past the step's deadline).
const LOOK: Duration = Duration::from_millis(500);
/// At most this many values of each kind come back from the page…
const PAGE_MAX: usize = 200;
/// …none longer than this (a longer one is no selector anybody wrote).
const VALUE_MAX: usize = 80;
/// At most this many suggestions.
const SHOWN: usize = 3;
/// How close (0 to 1, see [`closeness`]) a candidate must come to be suggested.
const CLOSE: f64 = 0.6;
/// Locator parts longer than this are compared by their first so many characters.
const NEEDLE_MAX: usize = 100;
/// Attributes that name an element for tests, as [`scripts::CANDIDATES`] reads them.
const TEST_ATTRS: [&str; 5] = [
    "data-testid",
    "data-test",
    "data-test-id",
    "data-cy",
    "data-qa",
];

/// The page's reply to [`scripts::CANDIDATES`].
#[derive(Debug, Default, Deserialize)]
pub(super) struct Collected {
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub names: Vec<String>,
    /// `(attribute, value)`.
    #[serde(default)]
    pub test_ids: Vec<(String, String)>,
    #[serde(default)]
    pub texts: Vec<String>,
}

/// What a part of a locator, or a candidate, names an element by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Id,
    Name,
    TestId,
    Class,
    Text,
}

/// `p` (a locator found nothing at the deadline), with the page's nearest candidates added
/// to its message and its `candidates`. Any error looking leaves `p` as it is.
pub(super) async fn instead(ctx: &StepCtx<'_>, target: &Locator, p: Problem) -> Problem {
    let by = (Instant::now() + LOOK).min(ctx.deadline + GRACE);
    let script = ctx
        .session
        .client()
        .execute(scripts::CANDIDATES, vec![json!(PAGE_MAX), json!(VALUE_MAX)]);
    let look = ctx
        .session
        .call(by, "look for what is there instead", script);
    let page = match tokio::time::timeout_at(by, look).await {
        Ok(Ok(v)) => serde_json::from_value::<Collected>(v).ok(),
        Ok(Err(_)) | Err(_) => None,
    };
    match page {
        Some(page) => with_candidates(p, &rank(target, &page, ctx.redactor)),
        None => p,
    }
}

/// `p` naming `found` (`; did you mean "#a", "#b" or text="C"?`), unchanged if empty.
pub(super) fn with_candidates(p: Problem, found: &[Locator]) -> Problem {
    if found.is_empty() {
        return p;
    }
    let shown: Vec<String> = found.iter().map(|l| l.to_string()).collect();
    let list = match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Problem {
        message: format!("{}; did you mean {list}?", p.message),
        candidates: found.iter().map(written).collect(),
        ..p
    }
}

/// The page's candidates closest to `target`'s parts, best first, at most [`SHOWN`], none
/// below [`CLOSE`], none showing a secret.
pub(super) fn rank(target: &Locator, page: &Collected, redactor: &Redactor) -> Vec<Locator> {
    let needles = needles(target);
    let mut scored: Vec<(f64, bool, usize, Locator)> = candidates(page)
        .filter_map(|(kind, value, loc)| {
            let (score, same_kind, spread) = needles
                .iter()
                // The same part, spelled the same: that part of the locator is fine.
                .filter(|(k, n)| !(*k == kind && *n == value))
                .map(|(k, n)| {
                    let spread = n.chars().count().abs_diff(value.chars().count());
                    (closeness(n, &value), *k == kind, spread)
                })
                .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))?;
            (score >= CLOSE).then_some((score, same_kind, spread, loc))
        })
        .filter(|(.., loc)| *loc != *target)
        .filter(|(.., loc)| {
            let w = written(loc);
            redactor.redact(&w) == w
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then_with(|| written(&a.3).cmp(&written(&b.3)))
    });
    let mut out: Vec<Locator> = Vec::new();
    for (.., loc) in scored {
        if !out.contains(&loc) {
            out.push(loc);
        }
        if out.len() == SHOWN {
            break;
        }
    }
    out
}

/// A locator as a journey file writes it.
fn written(l: &Locator) -> String {
    match l {
        Locator::Css(s) => s.clone(),
        Locator::XPath(s) => format!("xpath={s}"),
        Locator::Text(s) => format!("text={s}"),
    }
}

/// Every candidate of the page: its kind, its value, and the locator that finds it.
fn candidates(page: &Collected) -> impl Iterator<Item = (Kind, String, Locator)> + '_ {
    let ids = page
        .ids
        .iter()
        .map(|v| (Kind::Id, v.clone(), id_locator(v)));
    let names = page
        .names
        .iter()
        .map(|v| (Kind::Name, v.clone(), attr_locator("name", v)));
    let tests = page
        .test_ids
        .iter()
        .filter(|(a, _)| TEST_ATTRS.contains(&a.as_str()))
        .map(|(a, v)| (Kind::TestId, v.clone(), attr_locator(a, v)));
    let texts = page.texts.iter().map(|v| {
        let v = collapse(v);
        (Kind::Text, v.clone(), Locator::Text(v))
    });
    ids.chain(names).chain(tests).chain(texts)
}

fn id_locator(id: &str) -> Locator {
    if is_ident(id) {
        Locator::Css(format!("#{id}"))
    } else {
        attr_locator("id", id)
    }
}

fn attr_locator(attr: &str, value: &str) -> Locator {
    if is_ident(value) {
        Locator::Css(format!("[{attr}={value}]"))
    } else {
        let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
        Locator::Css(format!("[{attr}=\"{quoted}\"]"))
    }
}

/// Usable unquoted in a CSS selector as it is.
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The parts of a locator that name an element: a CSS selector's ids, classes and `id`,
/// `name` and test-id attribute values; an XPath's quoted strings (by the attribute they
/// are compared with, else as text); a `text=` locator's text.
fn needles(l: &Locator) -> Vec<(Kind, String)> {
    let mut out = match l {
        Locator::Css(s) => css_needles(s),
        Locator::XPath(s) => xpath_needles(s),
        Locator::Text(s) => vec![(Kind::Text, collapse(s))],
    };
    for (_, n) in &mut out {
        if let Some((i, _)) = n.char_indices().nth(NEEDLE_MAX) {
            n.truncate(i);
        }
    }
    out.retain(|(_, n)| !n.is_empty());
    out
}

fn attr_kind(attr: &str) -> Option<Kind> {
    match attr.to_ascii_lowercase().as_str() {
        "id" => Some(Kind::Id),
        "name" => Some(Kind::Name),
        "class" => Some(Kind::Class),
        a if TEST_ATTRS.contains(&a) => Some(Kind::TestId),
        _ => None,
    }
}

fn css_needles(s: &str) -> Vec<(Kind, String)> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            c @ ('#' | '.') => {
                let (word, next) = css_ident(&chars, i + 1);
                let kind = if c == '#' { Kind::Id } else { Kind::Class };
                out.push((kind, word));
                i = next;
            }
            '[' => {
                let close = closing_bracket(&chars, i + 1);
                let inside: String = chars[i + 1..close].iter().collect();
                if let Some(n) = attr_needle(&inside) {
                    out.push(n);
                }
                i = close + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// A CSS identifier from `start` (backslash escapes taken literally), and where it ends.
fn css_ident(chars: &[char], start: usize) -> (String, usize) {
    let mut word = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            word.push(chars[i + 1]);
            i += 2;
        } else if c.is_alphanumeric() || c == '-' || c == '_' || !c.is_ascii() {
            word.push(c);
            i += 1;
        } else {
            break;
        }
    }
    (word, i)
}

/// Where the `]` closing an attribute selector is (quotes respected), or the end.
fn closing_bracket(chars: &[char], start: usize) -> usize {
    let mut quote = None;
    for (i, &c) in chars.iter().enumerate().skip(start) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ']') => return i,
            _ => {}
        }
    }
    chars.len()
}

/// `name="email" i` → the name needle `email`.
fn attr_needle(inside: &str) -> Option<(Kind, String)> {
    let eq = inside.find('=')?;
    let attr = inside[..eq]
        .trim_end_matches(['~', '|', '^', '$', '*'])
        .trim();
    let kind = attr_kind(attr)?;
    let mut value = inside[eq + 1..].trim();
    // A trailing case flag (`i`, `s`) after a quoted value.
    if let Some(v) = value
        .strip_suffix(" i")
        .or_else(|| value.strip_suffix(" s"))
    {
        value = v.trim_end();
    }
    let value = value
        .strip_prefix(['"', '\''])
        .and_then(|v| v.strip_suffix(['"', '\'']))
        .unwrap_or(value);
    Some((kind, value.to_string()))
}

fn xpath_needles(s: &str) -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find(['"', '\'']) {
        let q = rest[open..].chars().next().unwrap_or('"');
        let Some(len) = rest[open + 1..].find(q) else {
            break;
        };
        let literal = &rest[open + 1..open + 1 + len];
        // `@id='x'`, `contains(@id, 'x')`: the attribute before the literal names its kind.
        let before = rest[..open]
            .trim_end()
            .trim_end_matches(['=', ','])
            .trim_end();
        let attr_start = before.rfind('@');
        let kind = match attr_start {
            Some(a)
                if before[a + 1..]
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-') =>
            {
                attr_kind(&before[a + 1..])
            }
            _ => Some(Kind::Text),
        };
        if let Some(kind) = kind {
            out.push((kind, collapse(literal)));
        }
        rest = &rest[open + 1 + len + 1..];
    }
    out
}

/// How close two names are, from 0 (nothing alike) to 1 (equal but for case): the best of
/// their edit distance (Damerau: a swap is one edit; relative to the longer), one containing the other, and the share of
/// words (split at punctuation, spaces and camelCase) they have in common.
fn closeness(a: &str, b: &str) -> f64 {
    let (la, lb) = (a.to_lowercase(), b.to_lowercase());
    if la == lb {
        return 1.0;
    }
    let (na, nb) = (la.chars().count(), lb.chars().count());
    let longest = na.max(nb).max(1) as f64;
    let edit = 1.0 - strsim::damerau_levenshtein(&la, &lb) as f64 / longest;
    let (short, long, ns) = if na <= nb {
        (&la, &lb, na)
    } else {
        (&lb, &la, nb)
    };
    // "welcome" in "welcomebanner"; not "nav" in "canvas".
    let contained = if ns >= 4 && long.contains(short.as_str()) {
        0.6 + 0.4 * ns as f64 / longest
    } else {
        0.0
    };
    let (wa, wb) = (words(a), words(b));
    let shared = wa.iter().filter(|w| wb.contains(w)).count();
    let overlap = if shared == 0 {
        0.0
    } else if shared == wa.len().min(wb.len()) {
        // Every word of one is in the other: `welcome` and `welcome-banner`.
        0.6 + 0.4 * shared as f64 / wa.len().max(wb.len()) as f64
    } else {
        0.6 * shared as f64 / wa.len().max(wb.len()) as f64
    };
    edit.max(contained).max(overlap).min(0.99)
}

/// Lower-case words: split at anything not a letter or digit, and where camelCase turns.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests;
