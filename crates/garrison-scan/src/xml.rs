//! A safe, streaming XML event source over quick-xml.
//!
//! - A `<!DOCTYPE ...>` with an internal subset is refused outright: that
//!   is where entities are declared, so no external entity is ever fetched
//!   and no entity-expansion bomb can grow. A bare or external declaration
//!   (`<!DOCTYPE nmaprun>`, `<!DOCTYPE SCAN SYSTEM "scan.dtd">`) is skipped:
//!   the DTD is never read.
//! - Only the five predefined entities and character references are
//!   resolved; any other `&name;` is refused.
//! - Depth, attribute count and the size of one token are limited, and text
//!   kept per node is capped, so memory stays bounded whatever the file.
//! - Events are owned and simplified (local names, text merged across
//!   entity references, empty elements as start + end), so that readers of
//!   each report format stay short.

use std::io::BufRead;

use quick_xml::XmlVersion;
use quick_xml::events::Event;

use crate::error::{ErrorKind, ScanError};
use crate::input::Counted;

/// Limits every XML reader applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Largest single token (tag or text run) read, in bytes.
    pub max_token_bytes: u64,
    /// Text kept per text node; the rest is dropped (and marked).
    pub max_text_bytes: usize,
    /// Attributes per element.
    pub max_attributes: usize,
    /// Findings kept per host; more are rejected.
    pub max_findings_per_host: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_token_bytes: 16 * 1024 * 1024,
            max_text_bytes: 1024 * 1024,
            max_attributes: 256,
            max_findings_per_host: 100_000,
        }
    }
}

/// A simplified XML event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Xml {
    /// An element starts (also emitted for `<empty/>`, followed by `End`).
    Start {
        /// Local name, without namespace prefix.
        name: String,
        attrs: Vec<(String, String)>,
        /// Line of the `<`.
        line: u64,
    },
    End {
        name: String,
    },
    /// Text between tags, with entity references resolved. Whitespace-only
    /// runs are not emitted.
    Text(String),
}

impl Xml {
    /// The value of attribute `key` of a `Start`.
    #[must_use]
    pub fn attr(&self, key: &str) -> Option<&str> {
        match self {
            Self::Start { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }
}

enum Step {
    Start(String, Vec<(String, String)>),
    End(String),
    Text(String),
    Skip,
    Eof,
}

/// Reads [`Xml`] events from a counted reader.
pub struct XmlSource<R: BufRead> {
    reader: quick_xml::Reader<Counted<R>>,
    buf: Vec<u8>,
    limits: Limits,
    stack: Vec<String>,
    text: String,
    text_truncated: bool,
    pending: Option<Xml>,
    started: bool,
    done: bool,
}

impl<R: BufRead> std::fmt::Debug for XmlSource<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlSource")
            .field("depth", &self.stack.len())
            .finish_non_exhaustive()
    }
}

fn local(name: &str) -> String {
    name.rsplit_once(':').map_or(name, |(_, l)| l).to_owned()
}

impl<R: BufRead> XmlSource<R> {
    pub fn new(input: Counted<R>, limits: Limits) -> Self {
        let mut reader =
            quick_xml::Reader::from_reader(input.with_token_limit(limits.max_token_bytes));
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
        Self {
            reader,
            buf: Vec::with_capacity(8 * 1024),
            limits,
            stack: Vec::new(),
            text: String::new(),
            text_truncated: false,
            pending: None,
            started: false,
            done: false,
        }
    }

    /// The 1-based line the reader has reached.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.reader.get_ref().line()
    }

    /// Names of the open elements, outermost first.
    #[must_use]
    pub fn path(&self) -> &[String] {
        &self.stack
    }

    fn err(&self, kind: ErrorKind, message: impl Into<String>) -> ScanError {
        ScanError::new(self.line(), kind, message)
    }

    fn push_text(&mut self, s: &str) {
        if self.text_truncated {
            return;
        }
        let room = self.limits.max_text_bytes.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
        } else {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
            self.text.push_str("… [truncated]");
            self.text_truncated = true;
        }
    }

    fn take_text(&mut self) -> Option<Xml> {
        let text = std::mem::take(&mut self.text);
        self.text_truncated = false;
        (!text.trim().is_empty()).then_some(Xml::Text(text))
    }

    /// The next event; `Ok(None)` at the end of a complete document.
    ///
    /// # Errors
    /// A DTD, an undefined entity, malformed or truncated XML, or a limit.
    pub fn next_event(&mut self) -> Result<Option<Xml>, ScanError> {
        if let Some(ev) = self.pending.take() {
            return Ok(Some(ev));
        }
        if self.done {
            return Ok(None);
        }
        loop {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            let line = self.line();
            let step = self
                .reader
                .read_event_into(&mut buf)
                .map(|event| self.step(event));
            self.buf = buf;
            self.reader.get_mut().mark();
            let step = match step {
                Ok(step) => step?,
                Err(e) => {
                    let text = e.to_string();
                    let kind = if text.contains("longer than") {
                        ErrorKind::TooLarge
                    } else if text.contains("before end of input") {
                        // The file stops inside a tag, comment or value.
                        ErrorKind::Truncated
                    } else {
                        ErrorKind::Malformed
                    };
                    let message = if kind == ErrorKind::Truncated {
                        format!("the file ends in the middle of the XML ({text}): it is truncated")
                    } else {
                        format!("not well-formed XML: {e}")
                    };
                    return Err(self.err(kind, message));
                }
            };
            match step {
                Step::Start(name, attrs) => {
                    self.started = true;
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(self.err(
                            ErrorKind::TooLarge,
                            format!("elements are nested deeper than {}", self.limits.max_depth),
                        ));
                    }
                    self.stack.push(name.clone());
                    return Ok(Some(self.after_text(Xml::Start { name, attrs, line })));
                }
                Step::End(name) => {
                    self.stack.pop();
                    return Ok(Some(self.after_text(Xml::End { name })));
                }
                Step::Text(t) => self.push_text(&t),
                Step::Skip => {}
                Step::Eof => {
                    self.done = true;
                    if !self.stack.is_empty() {
                        return Err(self.err(
                            ErrorKind::Truncated,
                            format!(
                                "the file ends inside <{}>: it is truncated",
                                self.stack.join("><")
                            ),
                        ));
                    }
                    if !self.started {
                        return Err(self.err(ErrorKind::Malformed, "the file holds no XML element"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Emits pending text before `ev`, keeping `ev` for the next call.
    fn after_text(&mut self, ev: Xml) -> Xml {
        match self.take_text() {
            Some(text) => {
                self.pending = Some(ev);
                text
            }
            None => ev,
        }
    }

    /// Turns a borrowed quick-xml event into owned data.
    fn step(&self, event: Event<'_>) -> Result<Step, ScanError> {
        Ok(match event {
            // A declaration naming the root or an external DTD (Nmap writes
            // `<!DOCTYPE nmaprun>`, Qualys names its DTD file) is harmless:
            // the DTD is never fetched, and an entity it might define stays
            // undefined and is refused where it is used. An internal subset
            // is where entities, external entities and expansion bombs are
            // declared: it is refused outright.
            Event::DocType(t) if t.contains('[') => {
                return Err(self.err(
                    ErrorKind::Refused,
                    "the document declares a DTD with an internal subset (<!DOCTYPE ... [ ... ]>); entity declarations are refused",
                ));
            }
            Event::DocType(_) => Step::Skip,
            Event::Start(start) => {
                let name = local(start.name().as_ref());
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| {
                        self.err(
                            ErrorKind::Malformed,
                            format!("bad attribute in <{name}>: {e}"),
                        )
                    })?;
                    if attrs.len() >= self.limits.max_attributes {
                        return Err(self.err(
                            ErrorKind::TooLarge,
                            format!("<{name}> has too many attributes"),
                        ));
                    }
                    let value = attr.normalized_value(XmlVersion::Implicit1_0).map_err(|e| {
                        self.err(
                            ErrorKind::Refused,
                            format!("attribute of <{name}>: {e}; only the predefined entities are accepted"),
                        )
                    })?;
                    attrs.push((local(attr.key.as_ref()), value.into_owned()));
                }
                Step::Start(name, attrs)
            }
            Event::End(end) => Step::End(local(end.name().as_ref())),
            Event::Text(t) => Step::Text(t.xml10_content().into_owned()),
            Event::CData(c) => Step::Text(c.to_string()),
            Event::GeneralRef(r) => {
                if r.is_char_ref() {
                    let c = r.resolve_char_ref().ok().flatten().ok_or_else(|| {
                        self.err(
                            ErrorKind::Malformed,
                            "a character reference that is not a character",
                        )
                    })?;
                    Step::Text(c.to_string())
                } else {
                    let name: &str = &r;
                    Step::Text(
                        match name {
                            "amp" => "&",
                            "lt" => "<",
                            "gt" => ">",
                            "quot" => "\"",
                            "apos" => "'",
                            _ => {
                                return Err(self.err(
                                    ErrorKind::Refused,
                                    format!("the entity &{name}; is not defined; only the predefined entities are accepted"),
                                ));
                            }
                        }
                        .to_owned(),
                    )
                }
            }
            Event::Eof => Step::Eof,
            Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => Step::Skip,
        })
    }

    /// Reads the text of the element just started, up to its end tag;
    /// nested elements' text is included. Returns the trimmed text.
    ///
    /// # Errors
    /// As for [`XmlSource::next_event`].
    pub fn text_until_end(&mut self) -> Result<String, ScanError> {
        let depth = self.stack.len();
        let mut out = String::new();
        loop {
            match self.next_event()? {
                Some(Xml::Text(t)) => {
                    if out.len() < self.limits.max_text_bytes {
                        out.push_str(&t);
                    }
                }
                Some(Xml::End { .. }) if self.stack.len() < depth => {
                    return Ok(out.trim().to_owned());
                }
                Some(_) => {}
                None => return Ok(out.trim().to_owned()),
            }
        }
    }

    /// Skips the rest of the element just started.
    ///
    /// # Errors
    /// As for [`XmlSource::next_event`].
    pub fn skip_element(&mut self) -> Result<(), ScanError> {
        let depth = self.stack.len();
        loop {
            match self.next_event()? {
                Some(Xml::End { .. }) if self.stack.len() < depth => return Ok(()),
                None => return Ok(()),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(xml: &str) -> Result<Vec<Xml>, ScanError> {
        let mut src = XmlSource::new(
            Counted::new(std::io::Cursor::new(xml.as_bytes().to_vec())),
            Limits::default(),
        );
        let mut out = Vec::new();
        while let Some(ev) = src.next_event()? {
            out.push(ev);
        }
        Ok(out)
    }

    #[test]
    fn simple_events_with_entities_resolved() {
        let evs = events("<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\"><b/>t &lt;&#65;&gt; u<![CDATA[<raw>]]></a>").expect("ok");
        assert_eq!(
            evs,
            vec![
                Xml::Start {
                    name: "a".into(),
                    attrs: vec![("x".into(), "1 & 2".into())],
                    line: 2
                },
                Xml::Start {
                    name: "b".into(),
                    attrs: vec![],
                    line: 2
                },
                Xml::End { name: "b".into() },
                Xml::Text("t <A> u<raw>".into()),
                Xml::End { name: "a".into() },
            ]
        );
    }

    #[test]
    fn a_bare_or_external_doctype_is_skipped_and_never_fetched() {
        let evs = events("<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n<nmaprun/>").expect("bare");
        assert_eq!(evs.len(), 2);
        let evs =
            events("<!DOCTYPE SCAN SYSTEM \"file:///etc/passwd\">\n<SCAN/>").expect("external");
        assert_eq!(evs.len(), 2, "the named file is not read");
        let err = events("<!DOCTYPE r SYSTEM \"x.dtd\">\n<r>&ext;</r>").expect_err("entity");
        assert_eq!(
            err.kind,
            ErrorKind::Refused,
            "entities an external DTD might define stay undefined"
        );
    }

    #[test]
    fn a_dtd_is_refused() {
        let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>";
        let err = events(xxe).expect_err("refused");
        assert_eq!(err.kind, ErrorKind::Refused);
        assert!(err.message.contains("DTD"));
    }

    #[test]
    fn an_undefined_entity_is_refused() {
        let err = events("<r>&x;</r>").expect_err("refused");
        assert_eq!(err.kind, ErrorKind::Refused);
        let err = events("<r a=\"&x;\"/>").expect_err("refused");
        assert_eq!(err.kind, ErrorKind::Refused);
    }

    #[test]
    fn truncation_and_depth_are_found() {
        let err = events("<a><b>text").expect_err("truncated");
        assert_eq!(err.kind, ErrorKind::Truncated);
        let err = events("<a><b attr=\"va").expect_err("cut in a tag");
        assert_eq!(err.kind, ErrorKind::Truncated);
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(events(&deep).expect_err("deep").kind, ErrorKind::TooLarge);
        assert_eq!(events("").expect_err("empty").kind, ErrorKind::Malformed);
        assert_eq!(
            events("<a></b>").expect_err("mismatch").kind,
            ErrorKind::Malformed
        );
    }

    #[test]
    fn a_giant_token_is_stopped() {
        let limits = Limits {
            max_token_bytes: 1024,
            ..Limits::default()
        };
        let xml = format!("<a>{}</a>", "x".repeat(1024 * 1024));
        let mut src = XmlSource::new(
            Counted::new(std::io::BufReader::new(std::io::Cursor::new(
                xml.into_bytes(),
            ))),
            limits,
        );
        let err = loop {
            match src.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind, ErrorKind::TooLarge, "{err}");
    }
}
