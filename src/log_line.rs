//! One event, one line: the writer under the text log format.
//!
//! Log events carry values from outside (a page's text in a failure message, a WebDriver
//! error, a posted event's fields). tracing's text format writes a value as it is, so a
//! value with a line break would start a line of its own, one that reads like a real event
//! (`… ERROR journeyprobe::service::probe: FORGED`). [`OneLine`] escapes every control
//! character of an event but the newline that ends it, as the JSON format does (`\n`,
//! `\r`, `\0`, `\u{85}`), so whatever a value holds, a line of the log is one event.
//!
//! tracing escapes ANSI escapes inside values itself; with colours on, the ESC bytes that
//! reach this writer are the formatter's own colours and pass. Without colours, every ESC is
//! escaped here too.

use std::io;

use tracing_subscriber::fmt::MakeWriter;

/// A [`MakeWriter`] whose writers keep each event on one line.
pub struct OneLine<M> {
    inner: M,
    ansi: bool,
}

impl<M> OneLine<M> {
    /// `ansi`: the formatter writes colours (their ESC bytes pass).
    pub fn new(inner: M, ansi: bool) -> Self {
        OneLine { inner, ansi }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = Escaping<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Escaping {
            inner: self.inner.make_writer(),
            ansi: self.ansi,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        Escaping {
            inner: self.inner.make_writer_for(meta),
            ansi: self.ansi,
        }
    }
}

/// Writes one formatted event (tracing hands over a whole event in one `write_all`).
pub struct Escaping<W> {
    inner: W,
    ansi: bool,
}

impl<W: io::Write> io::Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_all(&one_line(buf, self.ansi))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `event` with every control character escaped but a final newline (and ESC, when `ansi`).
pub fn one_line(event: &[u8], ansi: bool) -> Vec<u8> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(body) => (body, "\n"),
        None => (event, ""),
    };
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(event.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            // A tab starts no line and is how some messages indent.
            '\t' => out.push(c),
            '\x1b' if ansi => out.push(c),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push_str(end);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What the text format writes for events logged inside `f`, as `main` sets it up.
    fn logged(ansi: bool, f: impl FnOnce()) -> String {
        let buf = Buf::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(OneLine::new(move || sink.clone(), ansi))
            .with_ansi(ansi)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_value_with_line_breaks_cannot_forge_a_log_line() {
        let forged = "web\n2026-12-04T19:11:00Z ERROR journeyprobe::service::probe: FORGED";
        for ansi in [false, true] {
            let log = logged(ansi, || {
                tracing::info!(service = %forged, "stored");
                tracing::warn!("run failed: {}", "text\r\nFORGED\u{0}\u{85}\u{2028}end");
            });
            let lines: Vec<&str> = log.lines().collect();
            assert_eq!(lines.len(), 2, "{log}");
            assert!(
                lines[0].contains(r"web\n2026-12-04T19:11:00Z ERROR"),
                "{log}"
            );
            assert!(
                lines[1].contains(r"text\r\nFORGED\0\u{85}\u{2028}end"),
                "{log}"
            );
            assert!(log.ends_with('\n'));
        }
    }

    #[test]
    fn colours_pass_only_when_the_formatter_writes_them() {
        assert_eq!(
            one_line(b"\x1b[1mINFO\x1b[0m x\n", true),
            b"\x1b[1mINFO\x1b[0m x\n"
        );
        assert_eq!(one_line(b"a\x1b[2Jb\n", false), b"a\\u{1b}[2Jb\n");
        assert_eq!(one_line(b"a\tb\x7f", false), b"a\tb\\u{7f}");
    }
}
