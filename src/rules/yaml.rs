//! A small block-style YAML emitter for the documents `journeyprobe rules` prints.
//!
//! We have no YAML serializer dependency (`serde_yaml` is deprecated), and rule files need
//! only three shapes: mappings with ordered keys, lists and strings. Every value is a string
//! (Prometheus reads `for:`, labels and annotations as strings), so it never meets YAML's
//! implicit typing (`no`, `1e3`, `~`):
//!
//! - a value is a double-quoted scalar, escaped so any text survives: `"`, `\`, control
//!   characters and the characters YAML 1.1 parsers (Prometheus uses go-yaml) take for line
//!   breaks (U+0085, U+2028, U+2029);
//! - a multi-line value that reads well as a literal block (`|-`) is written as one, so a
//!   long PromQL expression keeps its layout; anything unusual about it (trailing blanks,
//!   a leading space, tabs, several final newlines) falls back to the quoted form;
//! - a key is plain when it is a simple name (`expr`, `app.kubernetes.io/name`) and not a
//!   word YAML 1.1 reads as a boolean or null, else quoted like a value;
//! - an empty list or mapping is `[]` / `{}`.

/// A YAML document tree: strings, lists, and mappings that keep their key order.
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    Str(String),
    List(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }
}

/// The document as block-style YAML, ending with a newline.
pub fn to_string(doc: &Yaml) -> String {
    let mut out = lines(doc).join("\n");
    out.push('\n');
    out
}

/// `node` as lines indented relative to column 0. The first line can follow `- `; for
/// scalars it can also follow `key: `.
fn lines(node: &Yaml) -> Vec<String> {
    match node {
        Yaml::Str(s) => scalar(s),
        Yaml::List(items) if items.is_empty() => vec!["[]".into()],
        Yaml::Map(entries) if entries.is_empty() => vec!["{}".into()],
        Yaml::List(items) => items
            .iter()
            .flat_map(|item| prefixed("- ", lines(item)))
            .collect(),
        Yaml::Map(entries) => entries.iter().flat_map(|(k, v)| entry(k, v)).collect(),
    }
}

fn entry(key: &str, value: &Yaml) -> Vec<String> {
    let key = self::key(key);
    let inner = lines(value);
    if is_inline(value) {
        // A scalar's continuation lines (a literal block) are already indented for a key.
        let mut out = vec![format!("{key}: {}", inner[0])];
        out.extend(inner[1..].iter().cloned());
        out
    } else {
        let mut out = vec![format!("{key}:")];
        out.extend(inner.into_iter().map(|l| indent(&l)));
        out
    }
}

/// True when `value` starts on the line of its key: scalars and empty collections.
fn is_inline(value: &Yaml) -> bool {
    match value {
        Yaml::Str(_) => true,
        Yaml::List(items) => items.is_empty(),
        Yaml::Map(entries) => entries.is_empty(),
    }
}

/// The first line after `first`, the rest indented to line up under it.
fn prefixed(first: &str, inner: Vec<String>) -> Vec<String> {
    inner
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{first}{l}")
            } else {
                indent(&l)
            }
        })
        .collect()
}

fn indent(line: &str) -> String {
    if line.is_empty() {
        String::new()
    } else {
        format!("  {line}")
    }
}

fn scalar(s: &str) -> Vec<String> {
    match literal_block(s) {
        Some(block) => block,
        None => vec![quoted(s)],
    }
}

/// `s` as a literal block (`|-`, or `|` when it ends with one newline), content indented two
/// spaces; None when a literal block would not read back as exactly `s`, or reads badly.
fn literal_block(s: &str) -> Option<Vec<String>> {
    let (body, chomp) = match s.strip_suffix('\n') {
        Some(b) => (b, "|"),
        None => (s, "|-"),
    };
    let plain_char = |c: char| c == '\n' || (is_printable(c) && !is_break(c) && c != '\t');
    let ok = body.contains('\n')
        && !body.starts_with([' ', '\n'])
        && !body.ends_with('\n')
        && body.chars().all(plain_char)
        && body.split('\n').all(|l| !l.ends_with(' '));
    ok.then(|| {
        std::iter::once(chomp.to_string())
            .chain(body.split('\n').map(indent))
            .collect()
    })
}

/// A double-quoted scalar. JSON-style escapes are valid YAML; characters outside YAML's
/// printable set, and those YAML 1.1 reads as line breaks, are written as `\u` escapes.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_printable(c) && !is_break(c) => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// YAML's `c-printable` set, less the byte-order mark.
fn is_printable(c: char) -> bool {
    matches!(c,
        '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
        && c != '\u{FEFF}'
}

/// Characters that some YAML parsers (1.1) take for line breaks inside a scalar.
fn is_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Words YAML 1.1 reads as booleans or null when plain.
const RESERVED: &[&str] = &[
    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~",
];

fn key(k: &str) -> String {
    let simple = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    if simple && !RESERVED.contains(&k.to_ascii_lowercase().as_str()) {
        k.to_string()
    } else {
        quoted(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marked_yaml::Node;

    fn map(entries: &[(&str, Yaml)]) -> Yaml {
        Yaml::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// Parse `text` back with a real YAML parser and rebuild our tree from it.
    fn read_back(text: &str, top_is_list: bool) -> Yaml {
        let options = if top_is_list {
            marked_yaml::LoaderOptions::default().toplevel_sequence()
        } else {
            marked_yaml::LoaderOptions::default()
        };
        let node = marked_yaml::parse_yaml_with_options(0, text, options)
            .unwrap_or_else(|e| panic!("emitted YAML does not parse: {e}\n{text}"));
        fn conv(n: &Node) -> Yaml {
            match n {
                Node::Scalar(s) => Yaml::Str(s.as_str().to_string()),
                Node::Sequence(items) => Yaml::List(items.iter().map(conv).collect()),
                Node::Mapping(m) => Yaml::Map(
                    m.iter()
                        .map(|(k, v)| (k.as_str().to_string(), conv(v)))
                        .collect(),
                ),
            }
        }
        conv(&node)
    }

    fn round_trips(doc: &Yaml) -> String {
        let text = to_string(doc);
        let top_is_list = matches!(doc, Yaml::List(_));
        assert_eq!(&read_back(&text, top_is_list), doc, "emitted:\n{text}");
        text
    }

    #[test]
    fn nested_maps_and_lists_are_block_style() {
        let doc = map(&[(
            "groups",
            Yaml::List(vec![map(&[
                ("name", Yaml::str("g")),
                (
                    "rules",
                    Yaml::List(vec![map(&[
                        ("record", Yaml::str("a:b")),
                        ("labels", map(&[("window", Yaml::str("5m"))])),
                    ])]),
                ),
            ])]),
        )]);
        let text = round_trips(&doc);
        let want = "groups:\n  - name: \"g\"\n    rules:\n      - record: \"a:b\"\n        labels:\n          window: \"5m\"\n";
        assert_eq!(text, want);
    }

    #[test]
    fn quotes_backslashes_and_control_characters_are_escaped() {
        let s = "say \"hi\" \\ path\tend\r\u{7}\u{7F}\u{85}\u{2028}\u{FEFF}é🙂";
        let text = round_trips(&map(&[("k", Yaml::str(s))]));
        assert!(
            text.contains(r#"\"hi\" \\ path\tend\r\u0007\u007F\u0085\u2028\uFEFFé🙂"#),
            "{text}"
        );
    }

    #[test]
    fn templates_and_yaml_indicators_stay_strings() {
        for s in [
            "{{ $value | humanizePercentage }}",
            "{{ $labels.probe }}: down",
            "- not a list",
            "# not a comment",
            "no",
            "1e3",
            "~",
            "",
            "&anchor *alias !tag %directive @ `",
            "key: value",
        ] {
            round_trips(&map(&[("v", Yaml::str(s))]));
            round_trips(&Yaml::List(vec![Yaml::str(s)]));
        }
    }

    #[test]
    fn keys_that_are_not_simple_names_are_quoted() {
        let doc = map(&[
            ("app.kubernetes.io/name", Yaml::str("x")),
            ("yes", Yaml::str("1")),
            ("On", Yaml::str("2")),
            ("has space", Yaml::str("3")),
            ("{{ x }}", Yaml::str("4")),
            ("", Yaml::str("5")),
            ("9lives", Yaml::str("6")),
            ("a:b", Yaml::str("7")),
        ]);
        let text = round_trips(&doc);
        assert!(text.contains("app.kubernetes.io/name: \"x\""), "{text}");
        for k in [
            "\"yes\":",
            "\"On\":",
            "\"has space\":",
            "\"{{ x }}\":",
            "\"\":",
            "\"9lives\":",
            "\"a:b\":",
        ] {
            assert!(text.contains(k), "{k} in\n{text}");
        }
    }

    #[test]
    fn empty_lists_and_maps_are_flow_style() {
        let doc = map(&[
            ("l", Yaml::List(vec![])),
            ("m", Yaml::Map(vec![])),
            (
                "nested",
                Yaml::List(vec![Yaml::List(vec![]), Yaml::Map(vec![])]),
            ),
        ]);
        let text = round_trips(&doc);
        assert_eq!(text, "l: []\nm: {}\nnested:\n  - []\n  - {}\n");
    }

    #[test]
    fn lists_of_lists_nest_on_one_line() {
        let doc = Yaml::List(vec![
            Yaml::List(vec![Yaml::str("a"), Yaml::str("b")]),
            map(&[("k", Yaml::List(vec![Yaml::str("c")]))]),
        ]);
        let text = round_trips(&doc);
        assert_eq!(text, "- - \"a\"\n  - \"b\"\n- k:\n    - \"c\"\n");
    }

    #[test]
    fn multi_line_expressions_are_literal_blocks() {
        let expr = "(\n  a > 1\nand\n  b > 1\n)\nor c";
        let doc = map(&[(
            "rules",
            Yaml::List(vec![map(&[
                ("expr", Yaml::str(expr)),
                ("for", Yaml::str("5m")),
            ])]),
        )]);
        let text = round_trips(&doc);
        assert!(
            text.contains("  - expr: |-\n      (\n        a > 1\n      and\n"),
            "{text}"
        );
        // One final newline keeps it with `|`.
        let text = round_trips(&map(&[("e", Yaml::str("a\nb\n"))]));
        assert_eq!(text, "e: |\n  a\n  b\n");
        // Blank lines inside survive.
        round_trips(&map(&[("e", Yaml::str("a\n\nb"))]));
    }

    #[test]
    fn awkward_multi_line_text_falls_back_to_quotes() {
        for s in [
            " leading space\nx",
            "trailing space \nx",
            "two newlines\n\n",
            "\nstarts with newline",
            "tab\there\nx",
            "cr\r\nlf",
            "line\u{2028}sep\nx",
            "\n",
        ] {
            let text = round_trips(&map(&[("e", Yaml::str(s))]));
            assert!(text.starts_with("e: \""), "{s:?} gave\n{text}");
        }
    }
}
