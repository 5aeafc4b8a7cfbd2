//! What the readers and writers of NIST's common data formats (1500-100 results, 1500-102 voter
//! records) share: the schemas' enumerations, one tree for both encodings (an XML document and
//! its JSON twin read into the same [`Node`]s, so one reader serves both), and the XML text and
//! `xsd:date` rules.

use std::{fmt, io::Read};

use quick_xml::{
    Reader, XmlVersion,
    escape::resolve_predefined_entity,
    events::{BytesStart, Event},
};
use serde_json::Value;
use time::{Date, Month};

use crate::FormatsError;

/// The deepest element nesting read. The documents' deepest elements are under ten levels down;
/// the limit keeps a hostile document from exhausting the stack.
const MAX_DEPTH: usize = 32;

// ---------------------------------------------------------------------------------------------
// The schemas' enumerations

/// An enumeration of the schema, each value spelled as the schema spells it.
pub trait Vocabulary: Sized + Copy + 'static {
    /// Every value, in the schema's order.
    const ALL: &'static [Self];

    /// The schema's spelling.
    fn as_str(self) -> &'static str;

    /// The value the schema's spelling names.
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.as_str() == text)
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $crate::nist_document::Vocabulary for $name {
            const ALL: &'static [Self] = &[$(Self::$variant,)+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }
    };
}
pub(crate) use vocabulary;

// ---------------------------------------------------------------------------------------------
// One tree for XML and JSON

pub(crate) fn read_limited(reader: impl Read, max_bytes: usize, label: &str) -> Result<Vec<u8>, FormatsError> {
    let mut bytes = Vec::new();
    // One byte past the limit tells a document at the limit from a longer one.
    let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut bytes).map_err(FormatsError::Read)?;
    if bytes.len() > max_bytes {
        return Err(refused(label, format!("the document is larger than {} MiB", max_bytes / (1024 * 1024))));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(refused(label, "the document is empty"));
    }
    Ok(bytes)
}

/// Reads an XML document (UTF-8, with or without a byte order mark) into its tree.
pub(crate) fn xml_document(bytes: &[u8], label: &str) -> Result<Node, FormatsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| refused(label, "the document is not UTF-8"))?;
    xml_tree(text, label)
}

/// Parses a JSON document, refusing with the line and column where it stops being JSON.
pub(crate) fn json_document(bytes: &[u8], label: &str) -> Result<Value, FormatsError> {
    serde_json::from_slice(bytes).map_err(|error| {
        let (line, column) = (error.line(), error.column());
        match error.classify() {
            serde_json::error::Category::Eof => {
                refused(label, format!("the JSON document ends too early (line {line}, column {column})"))
            }
            _ => refused(label, format!("not JSON: a syntax error at line {line}, column {column}")),
        }
    })
}

pub(crate) fn refused(label: &str, message: impl fmt::Display) -> FormatsError {
    FormatsError::Refused(format!("{label}: {message}"))
}

/// A document in one shape for both encodings: an XML element or a JSON member, named without
/// namespace prefix, with its `xsi:type` or `@type` (also without prefix), its text and its
/// children. XML attributes become children, as they are members in JSON, so one reader serves
/// both.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) type_name: Option<String>,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), type_name: None, text: String::new(), children: Vec::new() }
    }

    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|child| child.name == name)
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The trimmed text: the element's own in XML; in JSON, simple content with attributes is an
    /// object whose text is its `Value` member.
    pub(crate) fn value(&self) -> &str {
        let own = self.text.trim();
        match self.child("Value") {
            Some(value) if own.is_empty() => value.text.trim(),
            _ => own,
        }
    }
}

pub(crate) fn xml_tree(text: &str, label: &str) -> Result<Node, FormatsError> {
    let mut reader = Reader::from_str(text);
    let mut open: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let event = reader.read_event().map_err(|error| {
            refused(
                label,
                format!("not well-formed XML at byte {}: {}", reader.error_position(), describe_xml_error(&error)),
            )
        })?;
        match event {
            Event::Start(start) => {
                if open.len() >= MAX_DEPTH {
                    return Err(refused(label, format!("elements are nested more than {MAX_DEPTH} deep")));
                }
                open.push(xml_node(&start, label)?);
            }
            Event::Empty(start) => {
                let node = xml_node(&start, label)?;
                close(&mut open, &mut root, node, label)?;
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches the open element.
                if let Some(node) = open.pop() {
                    close(&mut open, &mut root, node, label)?;
                }
            }
            Event::Text(text) => append_text(&mut open, &text.xml10_content(), label)?,
            Event::CData(data) => append_text(&mut open, &data.xml10_content(), label)?,
            Event::GeneralRef(reference) => {
                let character = match reference.resolve_char_ref() {
                    Ok(Some(character)) if is_xml_character(character) => character.to_string(),
                    Ok(Some(_)) | Err(_) => return Err(refused(label, "a character reference names no XML character")),
                    Ok(None) => resolve_predefined_entity(&reference)
                        .ok_or_else(|| refused(label, "the document uses an entity XML does not predefine"))?
                        .to_owned(),
                };
                append_text(&mut open, &character, label)?;
            }
            Event::Decl(declaration) => {
                if let Some(encoding) = declaration.encoding() {
                    let encoding = encoding.map_err(|_| refused(label, "the XML declaration is malformed"))?;
                    if !encoding.eq_ignore_ascii_case("utf-8") && !encoding.eq_ignore_ascii_case("utf8") {
                        return Err(refused(label, "the document declares an encoding other than UTF-8"));
                    }
                }
            }
            // Entities a DTD declares would be silently left out: refuse rather than misread.
            Event::DocType(_) => {
                return Err(refused(label, format!("the document has a DOCTYPE, which {label} documents do not use")));
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(unclosed) = open.last() {
        return Err(refused(label, format!("the document ends before {} is closed: it is truncated", unclosed.name)));
    }
    root.ok_or_else(|| refused(label, "the document has no root element"))
}

/// Names what is wrong without quoting the document: a tag or entity name may be anything.
fn describe_xml_error(error: &quick_xml::Error) -> String {
    use quick_xml::errors::IllFormedError;
    match error {
        quick_xml::Error::Syntax(syntax) => syntax.to_string(),
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, .. }) => {
            format!("the end tag of {expected} does not match")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(_)) => "an end tag closes nothing".to_owned(),
        quick_xml::Error::IllFormed(_) => "the document is not well-formed".to_owned(),
        quick_xml::Error::InvalidAttr(_) => "an attribute is malformed".to_owned(),
        quick_xml::Error::Escape(_) => "an escape (&...;) is malformed".to_owned(),
        quick_xml::Error::Encoding(_) => "the document is not UTF-8".to_owned(),
        quick_xml::Error::Namespace(_) => "a namespace prefix is malformed".to_owned(),
        quick_xml::Error::Io(_) => "the document could not be read".to_owned(),
    }
}

fn xml_node(start: &BytesStart<'_>, label: &str) -> Result<Node, FormatsError> {
    let mut node = Node::new(start.local_name().into_inner());
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|_| refused(label, format!("an attribute of {} is malformed or repeated", node.name)))?;
        let key = attribute.key;
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|_| refused(label, format!("an attribute of {} holds a malformed escape", node.name)))?;
        let local = key.local_name().into_inner();
        match key.prefix() {
            None if local == "xmlns" => {}
            None => {
                let mut child = Node::new(local);
                child.text = value.into_owned();
                node.children.push(child);
            }
            // `xsi:type`, whatever the prefix is bound to: no VRI element has another `type`.
            Some(_) if local == "type" => node.type_name = Some(without_prefix(&value, ':').to_owned()),
            // Namespace declarations, `xsi:schemaLocation`, `xml:lang`...
            Some(_) => {}
        }
    }
    Ok(node)
}

pub(crate) fn without_prefix(name: &str, separator: char) -> &str {
    name.rsplit_once(separator).map_or(name, |(_, local)| local)
}

fn append_text(open: &mut [Node], text: &str, label: &str) -> Result<(), FormatsError> {
    match open.last_mut() {
        Some(node) => {
            node.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(refused(label, "the document has text outside its root element")),
    }
}

fn close(open: &mut [Node], root: &mut Option<Node>, node: Node, label: &str) -> Result<(), FormatsError> {
    match open.last_mut() {
        Some(parent) => parent.children.push(node),
        None if root.is_some() => return Err(refused(label, "the document has more than one root element")),
        None => *root = Some(node),
    }
    Ok(())
}

pub(crate) fn json_node(
    name: &str,
    value: &Value,
    path: &str,
    depth: usize,
    label: &str,
) -> Result<Option<Node>, FormatsError> {
    if depth >= MAX_DEPTH {
        return Err(refused(label, format!("objects are nested more than {MAX_DEPTH} deep")));
    }
    let mut node = Node::new(name);
    match value {
        Value::Null => return Ok(None),
        Value::Bool(boolean) => node.text = boolean.to_string(),
        Value::Number(number) => node.text = number.to_string(),
        Value::String(text) => node.text.clone_from(text),
        Value::Array(_) => return Err(refused(label, format!("{path} is a list inside a list"))),
        Value::Object(members) => {
            for (key, member) in members {
                if key == "@type" {
                    let kind =
                        member.as_str().ok_or_else(|| refused(label, format!("{path}/@type is not a string")))?;
                    node.type_name = Some(without_prefix(kind, '.').to_owned());
                    continue;
                }
                // `@id` is the XML `ObjectId` attribute (1500-100's identifiers), which XML
                // attributes also become: a child of that name.
                if key == "@id" {
                    let id = member.as_str().ok_or_else(|| refused(label, format!("{path}/@id is not a string")))?;
                    let mut child = Node::new("ObjectId");
                    child.text = id.to_owned();
                    node.children.push(child);
                    continue;
                }
                // Other JSON-LD keywords carry nothing the models keep.
                if key.starts_with('@') {
                    continue;
                }
                let member_path = format!("{path}/{key}");
                let items = match member {
                    Value::Array(items) => items.as_slice(),
                    single => std::slice::from_ref(single),
                };
                for item in items {
                    if let Some(child) = json_node(key, item, &member_path, depth + 1, label)? {
                        node.children.push(child);
                    }
                }
            }
        }
    }
    Ok(Some(node))
}

// ---------------------------------------------------------------------------------------------
// Text and dates

/// Text must be made of characters XML 1.0 can carry: no escape can write the others, so they
/// are refused rather than dropped. Only the element's name is reported, never the value.
pub(crate) fn check_text(field: &'static str, value: &str) -> Result<(), FormatsError> {
    if value.chars().all(is_xml_character) {
        Ok(())
    } else {
        Err(FormatsError::InvalidText {
            field,
            reason: "holds a character XML cannot carry (a control character, U+FFFE or U+FFFF)",
        })
    }
}

/// The XML 1.0 `Char` production (surrogates cannot occur in a Rust string).
pub(crate) fn is_xml_character(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..)
}

/// An `xsd:date` as senders write it: `YYYY-MM-DD`, month and day possibly unpadded, possibly
/// followed by a time zone or by a whole time (`T00:00:00`), which are dropped. Years 0001-9999.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let date = match text.split_once('T') {
        Some((date, time)) => is_time(time).then_some(date)?,
        None => without_zone(text),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let all_digits = [year, month, day].iter().all(|part| part.bytes().all(|byte| byte.is_ascii_digit()));
    let lengths = year.len() == 4 && (1..=2).contains(&month.len()) && (1..=2).contains(&day.len());
    if parts.next().is_some() || !all_digits || !lengths {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    if year < 1 {
        return None;
    }
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, day.parse().ok()?).ok()
}

fn without_zone(text: &str) -> &str {
    if let Some(rest) = text.strip_suffix('Z') {
        return rest;
    }
    let split = text.len().saturating_sub(6);
    match (text.get(..split), text.get(split..)) {
        (Some(rest), Some(zone)) if split > 0 && is_zone(zone) => rest,
        _ => text,
    }
}

/// `+05:00` or `-05:00`.
fn is_zone(zone: &str) -> bool {
    let bytes = zone.as_bytes();
    bytes.len() == 6
        && matches!(bytes.first(), Some(b'+' | b'-'))
        && bytes.get(3) == Some(&b':')
        && [1, 2, 4, 5].iter().all(|&index| bytes.get(index).is_some_and(u8::is_ascii_digit))
}

/// `HH:MM:SS`, optional fraction, optional time zone.
fn is_time(time: &str) -> bool {
    let time = without_zone(time);
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut parts = clock.split(':');
    let fields: Vec<Option<u8>> =
        parts.by_ref().take(3).map(|part| part.parse().ok().filter(|_| part.len() == 2)).collect();
    matches!(fields.as_slice(), [Some(hour), Some(minute), Some(second)] if *hour < 24 && *minute < 60 && *second < 60)
        && parts.next().is_none()
        && !fraction.is_empty()
        && fraction.bytes().all(|byte| byte.is_ascii_digit())
}

pub(crate) fn format_date(field: &'static str, date: Date) -> Result<String, FormatsError> {
    if !(1..=9999).contains(&date.year()) {
        return Err(FormatsError::InvalidText { field, reason: "is outside the years 0001-9999" });
    }
    Ok(format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day()))
}
