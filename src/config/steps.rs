//! Steps: a mapping with exactly one action key (`click: …`) plus optional `name` and
//! `timeout`. Each action has a short form (a string) where that reads naturally and a
//! mapping form with all its options.

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::diag::{mapping_start, position, suggest};
use super::model::{
    Action, DEFAULT_MIN_CONTRAST, KEYS, Key, SelectBy, Step, StepKind, TextMatch, WaitCondition,
};
use super::reader::{Reader, join};

const STEP_KEYS: &[&str] = &["name", "timeout"];

pub fn parse_step(r: &mut Reader, node: &Node, index: usize) -> Option<Step> {
    let key = format!("steps[{index}]");
    let map = r.mapping(node, &key)?;
    // Every action key, in the order the docs list them.
    let actions: Vec<&str> = StepKind::ALL.iter().map(|k| k.as_str()).collect();
    let action_keys: Vec<_> = map
        .keys()
        .filter_map(|k| StepKind::parse(k.as_str()).map(|kind| (k, kind)))
        .collect();
    for k in map.keys() {
        let name = k.as_str();
        if StepKind::parse(name).is_some() || STEP_KEYS.contains(&name) {
            continue;
        }
        if action_keys.is_empty() {
            // Most likely a misspelt action.
            let all: Vec<&str> = actions.iter().chain(STEP_KEYS).copied().collect();
            let hint = suggest(name, &all)
                .unwrap_or_else(|| format!("steps are one of: {}", actions.join(", ")));
            r.d.hint(k.span(), &key, format!("unknown step '{name}'"), hint);
        } else {
            let hint = suggest(name, STEP_KEYS).unwrap_or_else(|| {
                "besides its action a step takes only name: and timeout:".to_string()
            });
            let path = join(&key, name);
            r.d.hint(k.span(), &path, format!("unknown key '{name}'"), hint);
        }
    }
    let name = map
        .get_node("name")
        .and_then(|n| r.literal(n, &join(&key, "name")));
    let timeout = map
        .get_node("timeout")
        .and_then(|n| r.duration(n, &join(&key, "timeout")));
    let (action_key, kind) = match action_keys.as_slice() {
        [one] => *one,
        [] => {
            if r.d.items.iter().all(|d| d.key != key) {
                let msg = format!("a step needs an action: one of {}", actions.join(", "));
                r.d.at(&mapping_start(map), &key, msg);
            }
            return None;
        }
        [first, second, ..] => {
            let msg = format!(
                "a step does one thing; found both '{}' and '{}'",
                first.0.as_str(),
                second.0.as_str()
            );
            r.d.hint(second.0.span(), &key, msg, "split it into two steps".into());
            return None;
        }
    };
    let value = map.get_node(action_key.as_str())?;
    let action = parse_action(r, kind, value, &join(&key, action_key))?;
    Some(Step {
        index,
        name,
        timeout,
        action,
        line: position(&mapping_start(map)).0,
    })
}

/// The reader of each step kind: a kind without one does not compile.
fn parse_action(r: &mut Reader, kind: StepKind, v: &Node, key: &str) -> Option<Action> {
    match kind {
        StepKind::Goto => goto(r, v, key),
        StepKind::Fill => fill(r, v, key),
        StepKind::Click => {
            let sel = selector_node(r, v, key)?;
            let target = r.locator(sel, key)?;
            Some(Action::Click { target })
        }
        StepKind::Press => press(r, v, key),
        StepKind::Select => select(r, v, key),
        StepKind::WaitFor => wait_for(r, v, key),
        StepKind::AssertText => assert_text(r, v, key),
        StepKind::AssertUrl => {
            let pattern = r.regex(v, key)?;
            Some(Action::AssertUrl { pattern })
        }
        StepKind::AssertTitle => {
            let expect = match v {
                Node::Scalar(_) => TextMatch::Contains(r.text(v, key)?),
                _ => {
                    let m = mapping_with(r, v, key, &["contains", "equals", "matches"])?;
                    text_match(r, m, key)?
                }
            };
            Some(Action::AssertTitle { expect })
        }
        StepKind::AssertVisible => assert_visible(r, v, key),
        StepKind::Screenshot => screenshot(r, v, key),
    }
}

/// A mapping that may only hold `allowed` keys.
fn mapping_with<'n>(
    r: &mut Reader,
    v: &'n Node,
    key: &str,
    allowed: &[&str],
) -> Option<&'n MarkedMappingNode> {
    let m = r.mapping(v, key)?;
    r.known_keys(m, key, allowed);
    Some(m)
}

/// `click: "#x"` or `click: { selector: "#x" }`.
fn selector_node<'n>(r: &mut Reader, v: &'n Node, key: &str) -> Option<&'n Node> {
    match v {
        Node::Scalar(_) => Some(v),
        _ => {
            let m = mapping_with(r, v, key, &["selector"])?;
            r.required(m, key, "selector")
        }
    }
}

fn goto(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    let url = r.text(v, key)?;
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(Action::Goto { url }),
        Ok(u) => {
            let msg = format!("goto needs an http or https URL, not '{}:'", u.scheme());
            r.d.at(v.span(), key, msg);
            None
        }
        Err(e) => {
            let msg = format!("'{url}' is not an absolute URL ({e})");
            r.d.hint(
                v.span(),
                key,
                msg,
                "write it like http://host:port/path or ${base}/path".into(),
            );
            None
        }
    }
}

fn fill(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    let m = mapping_with(r, v, key, &["selector", "value"])?;
    let sel = r.required(m, key, "selector");
    let val = r.required(m, key, "value");
    let target = r.locator(sel?, &join(key, "selector"));
    // An empty value is legal: it clears the field.
    let value = val.and_then(|n| {
        let s = r.scalar(n, &join(key, "value"))?;
        r.expand(s.as_str(), s.span(), &join(key, "value"))
    });
    Some(Action::Fill {
        target: target?,
        value: value?,
    })
}

fn press(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    let (key_node, target) = match v {
        Node::Scalar(_) => (v, None),
        _ => {
            let m = mapping_with(r, v, key, &["key", "selector"])?;
            let target = match m.get_node("selector") {
                Some(n) => Some(r.locator(n, &join(key, "selector"))?),
                None => None,
            };
            (r.required(m, key, "key")?, target)
        }
    };
    let name = r.literal(key_node, key)?;
    let found = KEYS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name));
    let key_value = match found {
        Some((n, code)) => Key {
            name: n.to_string(),
            code: *code,
        },
        None if name.chars().count() == 1 => Key {
            code: name.chars().next().unwrap_or(' '),
            name,
        },
        None => {
            let names: Vec<&str> = KEYS.iter().map(|(n, _)| *n).collect();
            let hint = suggest(&name, &names)
                .unwrap_or_else(|| format!("known keys: {}, or one character", names.join(", ")));
            r.d.hint(key_node.span(), key, format!("unknown key '{name}'"), hint);
            return None;
        }
    };
    Some(Action::Press {
        key: key_value,
        target,
    })
}

fn select(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    let m = mapping_with(r, v, key, &["selector", "value", "label", "index"])?;
    let target = r
        .required(m, key, "selector")
        .and_then(|n| r.locator(n, &join(key, "selector")));
    let (which, n) = r.one_of(m, key, &["value", "label", "index"])?;
    let option = match which {
        "value" => SelectBy::Value(r.text(n, &join(key, which))?),
        "label" => SelectBy::Label(r.text(n, &join(key, which))?),
        _ => {
            let raw = r.literal(n, &join(key, which))?;
            match raw.trim().parse::<usize>() {
                Ok(i) => SelectBy::Index(i),
                Err(_) => {
                    let msg = format!("expected a whole number from 0, found '{raw}'");
                    r.d.at(n.span(), &join(key, which), msg);
                    return None;
                }
            }
        }
    };
    Some(Action::Select {
        target: target?,
        option,
    })
}

fn wait_for(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    if let Node::Scalar(_) = v {
        return Some(Action::WaitFor(WaitCondition::Visible(r.locator(v, key)?)));
    }
    let options = ["selector", "hidden", "url_matches", "text"];
    let m = mapping_with(r, v, key, &options)?;
    let (which, n) = r.one_of(m, key, &options)?;
    let k = join(key, which);
    let cond = match which {
        "selector" => WaitCondition::Visible(r.locator(n, &k)?),
        "hidden" => WaitCondition::Hidden(r.locator(n, &k)?),
        "url_matches" => WaitCondition::UrlMatches(r.regex(n, &k)?),
        _ => WaitCondition::Text(r.text(n, &k)?),
    };
    Some(Action::WaitFor(cond))
}

fn text_match(r: &mut Reader, m: &MarkedMappingNode, key: &str) -> Option<TextMatch> {
    let (which, n) = r.one_of(m, key, &["contains", "equals", "matches"])?;
    let k = join(key, which);
    Some(match which {
        "contains" => TextMatch::Contains(r.text(n, &k)?),
        "equals" => {
            let s = r.scalar(n, &k)?;
            TextMatch::Equals(r.expand(s.as_str(), s.span(), &k)?)
        }
        _ => TextMatch::Matches(r.regex(n, &k)?),
    })
}

fn assert_text(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    let m = mapping_with(r, v, key, &["selector", "contains", "equals", "matches"])?;
    let target = r
        .required(m, key, "selector")
        .and_then(|n| r.locator(n, &join(key, "selector")));
    let expect = text_match(r, m, key);
    Some(Action::AssertText {
        target: target?,
        expect: expect?,
    })
}

fn assert_visible(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    if let Node::Scalar(_) = v {
        return Some(Action::AssertVisible {
            target: r.locator(v, key)?,
            min_contrast: DEFAULT_MIN_CONTRAST,
        });
    }
    let m = mapping_with(r, v, key, &["selector", "min_contrast"])?;
    let target = r
        .required(m, key, "selector")
        .and_then(|n| r.locator(n, &join(key, "selector")));
    let min_contrast = match m.get_node("min_contrast") {
        None => DEFAULT_MIN_CONTRAST,
        Some(n) => {
            let k = join(key, "min_contrast");
            let c = r.float(n, &k)?;
            if !(1.0..=21.0).contains(&c) {
                let msg = format!("{c} is outside the possible contrast ratios 1 to 21");
                r.d.hint(n.span(), &k, msg, "3.0 is WCAG AA for UI components".into());
                return None;
            }
            c
        }
    };
    Some(Action::AssertVisible {
        target: target?,
        min_contrast,
    })
}

fn screenshot(r: &mut Reader, v: &Node, key: &str) -> Option<Action> {
    let n = match v {
        Node::Scalar(_) => v,
        _ => {
            let m = mapping_with(r, v, key, &["name"])?;
            r.required(m, key, "name")?
        }
    };
    let name = r.literal(n, key)?;
    let ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        let msg = format!("screenshot name '{name}' may only use a-z, 0-9, '_' and '-'");
        r.d.hint(n.span(), key, msg, "it becomes a file name".into());
        return None;
    }
    Some(Action::Screenshot { name })
}
