//! Typed reads from the spanned YAML tree. Each read either returns a value or records a
//! diagnostic at the node's position and returns `None`, so validation goes on and finds
//! every problem in the file.
//!
//! The leaf of `config/`: the YAML loader, the field readers and the name rule that the
//! file, journey, schedule, check and BPM readers share live here, so none of those has to
//! reach into another for them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoaderOptions, Node, Span};
use regex::Regex;

use super::diag::{Diags, mapping_start, position, start_of, suggest};
use super::model::Locator;
use super::refs::{Env, Scope};

/// Longest duration accepted anywhere; deadlines are computed by adding durations to now.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

pub struct Reader<'e> {
    pub d: Diags,
    /// Vars and secrets defined so far, for `${name}` references.
    pub values: BTreeMap<String, String>,
    pub env: &'e dyn Env,
    pub base_dir: PathBuf,
    /// Vars recorded with a past run (`repro`): used as recorded instead of the file's.
    pub recorded: BTreeMap<String, String>,
}

pub fn kind_name(node: &Node) -> &'static str {
    match node {
        Node::Scalar(_) => "a string",
        Node::Mapping(_) => "a mapping",
        Node::Sequence(_) => "a list",
    }
}

impl Reader<'_> {
    /// The node as a scalar, or a diagnostic.
    pub fn scalar<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n MarkedScalarNode> {
        match node {
            Node::Scalar(s) => Some(s),
            other => {
                let msg = format!("expected a string, found {}", kind_name(other));
                self.d.at(&start_of(other), key, msg);
                None
            }
        }
    }

    pub fn mapping<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(m) => Some(m),
            other => {
                let msg = format!("expected a mapping, found {}", kind_name(other));
                self.d.at(&start_of(other), key, msg);
                None
            }
        }
    }

    /// A scalar with its `${…}` references expanded; empty values are rejected.
    pub fn text(&mut self, node: &Node, key: &str) -> Option<String> {
        let s = self.scalar(node, key)?;
        let expanded = self.expand(s.as_str(), s.span(), key)?;
        if expanded.is_empty() {
            self.d.at(s.span(), key, "must not be empty");
            return None;
        }
        Some(expanded)
    }

    /// Would expanding `raw` fail only for want of an environment variable or file?
    pub fn lacks_only_env_or_file(&self, raw: &str) -> bool {
        let scope = Scope {
            values: &self.values,
            env: self.env,
            base_dir: &self.base_dir,
        };
        scope.lacks_only_env_or_file(raw)
    }

    pub fn expand(&mut self, raw: &str, span: &Span, key: &str) -> Option<String> {
        self.expand_in(self.env, raw, span, key)
    }

    /// [`expand`](Self::expand) as if every environment variable were set (to nothing):
    /// reports the mistakes in `raw` other than a missing variable.
    pub fn expand_any_env(&mut self, raw: &str, span: &Span, key: &str) -> Option<String> {
        struct AnyEnv;
        impl super::refs::Env for AnyEnv {
            fn get(&self, _: &str) -> Option<String> {
                Some(String::new())
            }
        }
        self.expand_in(&AnyEnv, raw, span, key)
    }

    fn expand_in(&mut self, env: &dyn Env, raw: &str, span: &Span, key: &str) -> Option<String> {
        let scope = Scope {
            values: &self.values,
            env,
            base_dir: &self.base_dir,
        };
        match scope.expand(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                let hint = match &e {
                    super::refs::RefError::Unknown(name) => {
                        let known: Vec<&str> = self.values.keys().map(String::as_str).collect();
                        suggest(name, &known)
                    }
                    _ => None,
                };
                match hint {
                    Some(h) => self.d.hint(span, key, e.to_string(), h),
                    None => self.d.at(span, key, e.to_string()),
                }
                None
            }
        }
    }

    /// A scalar taken literally (names, durations): references are not expanded here.
    pub fn literal(&mut self, node: &Node, key: &str) -> Option<String> {
        let s = self.scalar(node, key)?;
        if s.as_str().is_empty() {
            self.d.at(s.span(), key, "must not be empty");
            return None;
        }
        Some(s.as_str().to_string())
    }

    pub fn duration(&mut self, node: &Node, key: &str) -> Option<Duration> {
        let s = self.scalar(node, key)?;
        match humantime::parse_duration(s.as_str().trim()) {
            Ok(d) if d > MAX_DURATION => {
                let msg = format!(
                    "{} is longer than the 30 days any duration may be",
                    s.as_str()
                );
                self.d.at(s.span(), key, msg);
                None
            }
            Ok(d) if d > Duration::ZERO => Some(d),
            Ok(_) => {
                self.d.at(s.span(), key, "must be longer than zero");
                None
            }
            Err(_) => {
                let msg = format!("cannot parse '{}' as a duration", s.as_str());
                self.d.hint(
                    s.span(),
                    key,
                    msg,
                    "write e.g. 500ms, 10s, 2m or 1m30s".into(),
                );
                None
            }
        }
    }

    pub fn regex(&mut self, node: &Node, key: &str) -> Option<Regex> {
        let text = self.text(node, key)?;
        match Regex::new(&text) {
            Ok(r) => Some(r),
            Err(e) => {
                let first = e.to_string();
                let last = first.lines().last().unwrap_or("").trim().to_string();
                self.d
                    .at(node.span(), key, format!("invalid regex '{text}': {last}"));
                None
            }
        }
    }

    pub fn locator(&mut self, node: &Node, key: &str) -> Option<Locator> {
        let text = self.text(node, key)?;
        let loc = Locator::parse(&text);
        if loc.parts().1.trim().is_empty() {
            self.d
                .at(node.span(), key, "the selector after the prefix is empty");
            return None;
        }
        Some(loc)
    }

    pub fn float(&mut self, node: &Node, key: &str) -> Option<f64> {
        let s = self.scalar(node, key)?;
        match s.as_str().trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                self.d.at(
                    s.span(),
                    key,
                    format!("expected a number, found '{}'", s.as_str()),
                );
                None
            }
        }
    }

    /// A whole number from 0 to `max`.
    pub fn count(&mut self, node: &Node, key: &str, max: u32) -> Option<u32> {
        let s = self.scalar(node, key)?;
        match s.as_str().trim().parse::<u32>() {
            Ok(v) if v <= max => Some(v),
            _ => {
                let msg = format!(
                    "expected a whole number from 0 to {max}, found '{}'",
                    s.as_str()
                );
                self.d.at(s.span(), key, msg);
                None
            }
        }
    }

    /// `map[field]`, or a "missing required key" diagnostic.
    pub fn required<'n>(
        &mut self,
        map: &'n MarkedMappingNode,
        key: &str,
        field: &str,
    ) -> Option<&'n Node> {
        let n = map.get_node(field);
        if n.is_none() {
            self.d.at(
                &mapping_start(map),
                key,
                format!("missing required key '{field}'"),
            );
        }
        n
    }

    /// Flag every key of `map` that is not in `allowed`, with a did-you-mean hint.
    pub fn known_keys(&mut self, map: &MarkedMappingNode, key: &str, allowed: &[&str]) {
        for k in map.keys() {
            if !allowed.contains(&k.as_str()) {
                let msg = format!("unknown key '{}'", k.as_str());
                let path = join(key, k.as_str());
                let hint = if matches!(k.as_str(), "timeout" | "name") && key.starts_with("steps[")
                {
                    format!(
                        "'{}' belongs to the step: write it beside the action, not inside it",
                        k.as_str()
                    )
                } else {
                    suggest(k.as_str(), allowed)
                        .unwrap_or_else(|| format!("expected one of: {}", allowed.join(", ")))
                };
                self.d.hint(k.span(), &path, msg, hint);
            }
        }
    }

    /// Exactly one of `options` must be present in `map`.
    pub fn one_of<'n>(
        &mut self,
        map: &'n MarkedMappingNode,
        key: &str,
        options: &[&'static str],
    ) -> Option<(&'static str, &'n Node)> {
        let present: Vec<(&'static str, &Node)> = options
            .iter()
            .filter_map(|o| map.get_node(o).map(|n| (*o, n)))
            .collect();
        match present.as_slice() {
            [one] => Some(*one),
            [] => {
                let msg = format!("needs one of: {}", options.join(", "));
                self.d.at(&mapping_start(map), key, msg);
                None
            }
            [(a, _), (b, n), ..] => {
                let msg = format!(
                    "give only one of {}, not both '{a}' and '{b}'",
                    options.join(", ")
                );
                self.d.at(n.span(), key, msg);
                None
            }
        }
    }
}

/// `parent.child`, or `child` at the top.
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// Parse YAML keeping positions. Anchors, tags and duplicate keys are rejected here, and so
/// is a character YAML forbids (before parsing: the parser stops at a NUL as if the file
/// ended there, dropping what follows without a word).
pub(crate) fn load_yaml(text: &str, d: &mut Diags) -> Option<Node> {
    if !printable(text, d) {
        return None;
    }
    let content = text
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#') && l != "---" && l != "...");
    if !content {
        d.whole_file("the file is empty (only comments or blank lines); a probe file holds a journey (name:, steps:) or checks:");
        return None;
    }
    let opts = LoaderOptions::default().error_on_duplicate_keys(true);
    match marked_yaml::parse_yaml_with_options(0, text, opts) {
        Ok(node) => Some(node),
        Err(e) => {
            use marked_yaml::LoadError::*;
            let span = |m: &marked_yaml::Marker| marked_yaml::Span::new_start(*m);
            match &e {
                TopLevelMustBeMapping(m) | TopLevelMustBeSequence(m) => d.at(
                    &span(m),
                    "",
                    "a probe file is a mapping (name:, steps:, … or checks:)",
                ),
                UnexpectedAnchor(m) => d.at(
                    &span(m),
                    "",
                    "YAML anchors and aliases are not supported; use vars: for shared values",
                ),
                MappingKeyMustBeScalar(m) => {
                    d.at(&span(m), "", "mapping keys must be plain strings")
                }
                UnexpectedTag(m) => d.at(&span(m), "", "YAML tags (!foo) are not supported"),
                ScanError(m, err) => d.at(&span(m), "", format!("invalid YAML: {}", err.info())),
                DuplicateKey(inner) => {
                    let (l, c) = position(inner.prev_key.span());
                    let msg = format!(
                        "duplicate key '{}' (first defined at {l}:{c})",
                        inner.key.as_str()
                    );
                    d.at(inner.key.span(), inner.key.as_str(), msg);
                }
            }
            None
        }
    }
}

/// Most characters YAML forbids that are reported for one file; past that it is not text.
const MAX_UNPRINTABLE: usize = 10;

/// Whether `c` is outside YAML's printable set (c-printable, YAML 1.2 §5.1): control
/// characters but tab, line feed, carriage return and NEL, and U+FFFE / U+FFFF.
fn is_unprintable(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' | '\u{85}' => false,
        '\u{fffe}' | '\u{ffff}' => true,
        c => c.is_control(),
    }
}

/// Record every character YAML forbids at its line and column (the first
/// [`MAX_UNPRINTABLE`]); true when there is none.
fn printable(text: &str, d: &mut Diags) -> bool {
    let mut found = 0;
    for (i, line) in text.split('\n').enumerate() {
        for (j, c) in line.chars().enumerate().filter(|(_, c)| is_unprintable(*c)) {
            found += 1;
            if found > MAX_UNPRINTABLE {
                continue;
            }
            let at = Span::new_start(marked_yaml::Marker::new(0, 0, i + 1, j + 1));
            let msg = match c {
                '\0' => "a NUL byte (U+0000) is not allowed in YAML".to_string(),
                c => format!(
                    "control character U+{:04X} is not allowed in YAML",
                    c as u32
                ),
            };
            let hint = match c {
                '\0' => "a parser stops at it and drops the rest of the file; is it binary, or was it written half-way?".to_string(),
                c => format!(
                    "of the control characters only tab, line feed and carriage return are; in a double-quoted string write it as \"\\u{:04X}\"",
                    c as u32
                ),
            };
            d.hint(&at, "", msg, hint);
        }
    }
    if found > MAX_UNPRINTABLE {
        d.whole_file(format!(
            "{found} characters YAML does not allow; the first {MAX_UNPRINTABLE} are shown"
        ));
    }
    found == 0
}

/// `[a-z0-9_]+`
pub fn is_probe_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A duration as messages show it (`1m 30s`).
pub fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A scalar or a list of scalars, each expanded.
pub fn string_list(r: &mut Reader, node: &Node, key: &str) -> Option<Vec<String>> {
    match node {
        Node::Sequence(items) => {
            let out: Vec<Option<String>> = items.iter().map(|n| r.text(n, key)).collect();
            out.into_iter().collect()
        }
        _ => r.text(node, key).map(|s| vec![s]),
    }
}

pub fn fields<'n>(
    r: &mut Reader,
    node: &'n Node,
    key: &str,
    allowed: &[&str],
) -> Option<&'n MarkedMappingNode> {
    let m = r.mapping(node, key)?;
    r.known_keys(m, key, allowed);
    Some(m)
}

pub fn boolean(r: &mut Reader, node: &Node, key: &str) -> Option<bool> {
    let s = r.scalar(node, key)?;
    match s.as_str().trim() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        other => {
            r.d.at(
                s.span(),
                key,
                format!("expected true or false, found '{other}'"),
            );
            None
        }
    }
}

pub fn whole_number(r: &mut Reader, node: &Node, key: &str, min: u64, max: u64) -> Option<u64> {
    let s = r.literal(node, key)?;
    match s.trim().parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Some(v),
        _ => {
            r.d.at(
                node.span(),
                key,
                format!("expected a whole number from {min} to {max}, found '{s}'"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let mut d = Diags::new(std::path::Path::new("p.yaml"));
        assert!(load_yaml(text, &mut d).is_none());
        d.items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_character_yaml_forbids_is_reported_where_it_is_never_parsed_past() {
        let p = problems("name: a\nsteps:\n  - goto: x\0\n  - click: b\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("p.yaml:3:12: a NUL byte (U+0000) is not allowed in YAML"),
            "{p:?}"
        );
        // Columns count characters, as the parser's do.
        let p = problems("description: \"é\u{1b}\"\n");
        assert!(
            p[0].starts_with("p.yaml:1:16: control character U+001B"),
            "{p:?}"
        );
        assert!(p[0].ends_with(r#"write it as "\u001B""#), "{p:?}");
        // Tab, CR LF and NEL are text.
        let mut d = Diags::new(std::path::Path::new("p.yaml"));
        assert!(load_yaml("name: \"a\tb\"\r\ndescription: \"x\u{85}y\"\r\n", &mut d).is_some());
        assert!(d.is_empty(), "{:?}", d.items);
    }

    #[test]
    fn a_binary_file_gives_ten_positions_and_a_count() {
        let p = problems(&"\0".repeat(50));
        assert_eq!(p.len(), MAX_UNPRINTABLE + 1);
        assert_eq!(
            p.last().unwrap(),
            "p.yaml: 50 characters YAML does not allow; the first 10 are shown"
        );
    }
}
