//! The Voting Information Project's XML feed, version 5 (`vip_spec.xsd`, root `VipObject`):
//! the states, localities, precincts, polling locations, opening hours and election offices
//! Canvass needs to tell a voter where to vote.
//!
//! [`read_feed`] streams the document: a statewide feed is hundreds of megabytes, nearly all of
//! it street segments and ballot content, so only the element types above are gathered (each as
//! a small tree of its own, bounded in size and depth), and everything else is skipped unread.
//! The reader is strict about what links the feed together and lenient about the rest: an
//! element without its `id`, a precinct without its locality, a locality without its state, a
//! value that does not parse (a date, a time, a boolean, a coordinate), or a document that is
//! not well-formed XML refuse the whole feed with the element and line at fault; a value the
//! schema requires but the feed leaves out (a precinct's name, say) is `None`; elements the
//! reader does not know are skipped.

use std::collections::BTreeMap;
use std::io::BufRead;

use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use time::{Date, Month, UtcOffset};

use crate::FormatsError;

/// The element types gathered; any other child of `VipObject` is skipped.
const COLLECTED: [&str; 6] =
    ["State", "Locality", "Precinct", "PollingLocation", "HoursOpen", "ElectionAdministration"];

/// The largest gathered element accepted. Real ones are under a few kilobytes; a precinct
/// listing every electoral district of a state is still far below this.
const MAX_ELEMENT_BYTES: u64 = 4 * 1024 * 1024;

/// The deepest nesting accepted inside a gathered element (the schema needs five).
const MAX_DEPTH: usize = 32;

/// What a feed says about where to vote, by element id (ids are unique within each type).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vip5Feed {
    /// The root's `schemaVersion` (e.g. `5.2`).
    pub schema_version: Option<String>,
    pub states: BTreeMap<String, State>,
    pub localities: BTreeMap<String, Locality>,
    pub precincts: BTreeMap<String, Precinct>,
    pub polling_locations: BTreeMap<String, PollingLocation>,
    pub hours_open: BTreeMap<String, HoursOpen>,
    pub election_administrations: BTreeMap<String, ElectionAdministration>,
}

/// A state (`State`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub id: String,
    pub name: Option<String>,
    pub election_administration_id: Option<String>,
    pub external_identifiers: Vec<ExternalIdentifier>,
    /// Places open to every voter of the state (early voting sites, drop boxes).
    pub polling_location_ids: Vec<String>,
}

/// A county, city or town that runs part of the election (`Locality`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locality {
    pub id: String,
    pub name: Option<String>,
    pub state_id: String,
    /// The kind of district (`Type`: `county`, `city`, `town`...; `OtherType` when `other`).
    pub district_type: Option<String>,
    pub election_administration_id: Option<String>,
    pub external_identifiers: Vec<ExternalIdentifier>,
    /// Places open to every voter of the locality (early voting sites, drop boxes).
    pub polling_location_ids: Vec<String>,
    pub is_mail_only: bool,
}

/// A precinct or precinct split (`Precinct`): the unit voters are assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precinct {
    pub id: String,
    pub name: Option<String>,
    /// The precinct's code as the locality writes it (`Number`, e.g. `0203`).
    pub number: Option<String>,
    pub locality_id: String,
    pub polling_location_ids: Vec<String>,
    pub electoral_district_ids: Vec<String>,
    pub ward: Option<String>,
    /// Which part of a split precinct this is (`PrecinctSplitName`).
    pub split_name: Option<String>,
    pub ballot_style_id: Option<String>,
    pub external_identifiers: Vec<ExternalIdentifier>,
    /// Its voters vote by mail only (it has no polling place of its own).
    pub is_mail_only: bool,
}

/// A place to vote, early or on election day, or to drop off a ballot (`PollingLocation`).
#[derive(Debug, Clone, PartialEq)]
pub struct PollingLocation {
    pub id: String,
    pub name: Option<String>,
    /// The address in parts (`AddressStructured`), when the feed gives them.
    pub address_structured: Option<StructuredAddress>,
    /// The address as free lines (`AddressLine`), when the feed gives them.
    pub address_lines: Vec<String>,
    pub directions: Option<InternationalizedText>,
    /// Opening hours as free text (`Hours`, deprecated by the schema in favour of `HoursOpenId`).
    pub hours: Option<InternationalizedText>,
    pub hours_open_id: Option<String>,
    pub is_drop_box: bool,
    pub is_early_voting: bool,
    pub coordinates: Option<LatLng>,
    pub photo_uri: Option<String>,
}

/// An address in parts (`SimpleAddressType`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructuredAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
}

/// A point on the map (`LatLng`), in degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct LatLng {
    pub latitude: f64,
    pub longitude: f64,
    /// Where the coordinates came from (a geocoder's name, say).
    pub source: Option<String>,
}

/// Text in one or more languages (`InternationalizedText`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternationalizedText {
    pub texts: Vec<LanguageString>,
}

/// One language's text (`Text language="en"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageString {
    pub language: String,
    pub text: String,
}

/// An identifier another system gives the same thing (`ExternalIdentifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentifier {
    pub identifier_type: IdentifierType,
    pub value: String,
}

/// Which system an external identifier belongs to (`IdentifierType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierType {
    Fips,
    LocalLevel,
    NationalLevel,
    /// An Open Civic Data division id (`ocd-division/country:us/state:va/county:albemarle`).
    OcdId,
    StateLevel,
    /// `other`, named by `OtherType` when the feed names it (or a type the schema does not list).
    Other(String),
}

/// Opening hours (`HoursOpen`), referred to by polling locations and offices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursOpen {
    pub id: String,
    pub schedules: Vec<Schedule>,
}

/// Hours that apply between two dates (`Schedule`); without dates, on every day of the election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub hours: Vec<Hours>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub is_only_by_appointment: bool,
    pub is_or_by_appointment: bool,
    pub is_subject_to_change: bool,
}

/// One opening of a day (`Hours`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub start: TimeWithZone,
    pub end: TimeWithZone,
}

/// A time of day with its offset from UTC (`TimeWithZone`: `07:00:00-04:00`). The schema
/// allows `24:00:00`, the end of the day, which `time::Time` cannot hold: hence seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWithZone {
    /// Seconds since midnight, 0 to 86,400.
    seconds: u32,
    offset: UtcOffset,
}

/// The office that runs elections for a state or locality (`ElectionAdministration`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElectionAdministration {
    pub id: String,
    pub departments: Vec<Department>,
    pub absentee_uri: Option<String>,
    pub am_i_registered_uri: Option<String>,
    pub elections_uri: Option<String>,
    pub registration_uri: Option<String>,
    pub where_do_i_vote_uri: Option<String>,
}

/// One department of an election office (`Department`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Department {
    pub contact: Option<ContactInformation>,
    pub election_official_person_id: Option<String>,
}

/// How to reach an office (`ContactInformation`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactInformation {
    pub name: Option<String>,
    pub address_lines: Vec<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub uris: Vec<String>,
    pub hours_open_id: Option<String>,
}

impl Vip5Feed {
    /// Where a precinct's voters may vote: the precinct's own polling locations, then those its
    /// locality and state offer to all their voters (early voting sites, drop boxes), each once,
    /// in the feed's order. Ids that name no polling location are left out (see
    /// [`Self::unresolved_references`]); an unknown precinct has none.
    pub fn polling_places_for(&self, precinct_id: &str) -> Vec<&PollingLocation> {
        let Some(precinct) = self.precincts.get(precinct_id) else {
            return Vec::new();
        };
        let locality = self.localities.get(&precinct.locality_id);
        let state = locality.and_then(|locality| self.states.get(&locality.state_id));
        let ids = precinct
            .polling_location_ids
            .iter()
            .chain(locality.into_iter().flat_map(|locality| &locality.polling_location_ids))
            .chain(state.into_iter().flat_map(|state| &state.polling_location_ids));
        let mut places: Vec<&PollingLocation> = Vec::new();
        for location in ids.filter_map(|id| self.polling_locations.get(id)) {
            if !places.iter().any(|place| place.id == location.id) {
                places.push(location);
            }
        }
        places
    }

    /// A polling location's opening hours, when it names hours the feed has.
    pub fn hours_for(&self, location: &PollingLocation) -> Option<&HoursOpen> {
        location.hours_open_id.as_ref().and_then(|id| self.hours_open.get(id))
    }

    /// Every reference between the gathered elements that names nothing in the feed, one line
    /// each ("Precinct pre1: PollingLocationIds names pl9, which the feed does not have"). A
    /// feed whose links all resolve gives none.
    pub fn unresolved_references(&self) -> Vec<String> {
        // (element, its id, the referring field, the id named, the collection it must be in)
        let mut links: Vec<(&str, &str, &str, &str, Collection)> = Vec::new();
        for state in self.states.values() {
            if let Some(target) = &state.election_administration_id {
                links.push((
                    "State",
                    &state.id,
                    "ElectionAdministrationId",
                    target,
                    Collection::ElectionAdministration,
                ));
            }
            for target in &state.polling_location_ids {
                links.push(("State", &state.id, "PollingLocationIds", target, Collection::PollingLocation));
            }
        }
        for locality in self.localities.values() {
            links.push(("Locality", &locality.id, "StateId", &locality.state_id, Collection::State));
            if let Some(target) = &locality.election_administration_id {
                links.push((
                    "Locality",
                    &locality.id,
                    "ElectionAdministrationId",
                    target,
                    Collection::ElectionAdministration,
                ));
            }
            for target in &locality.polling_location_ids {
                links.push(("Locality", &locality.id, "PollingLocationIds", target, Collection::PollingLocation));
            }
        }
        for precinct in self.precincts.values() {
            links.push(("Precinct", &precinct.id, "LocalityId", &precinct.locality_id, Collection::Locality));
            for target in &precinct.polling_location_ids {
                links.push(("Precinct", &precinct.id, "PollingLocationIds", target, Collection::PollingLocation));
            }
        }
        for location in self.polling_locations.values() {
            if let Some(target) = &location.hours_open_id {
                links.push(("PollingLocation", &location.id, "HoursOpenId", target, Collection::HoursOpen));
            }
        }
        for office in self.election_administrations.values() {
            let contacts = office.departments.iter().filter_map(|department| department.contact.as_ref());
            for target in contacts.filter_map(|contact| contact.hours_open_id.as_ref()) {
                links.push(("ElectionAdministration", &office.id, "HoursOpenId", target, Collection::HoursOpen));
            }
        }
        links
            .into_iter()
            .filter(|(_, _, _, target, collection)| !self.contains(*collection, target))
            .map(|(element, id, field, target, _)| {
                format!("{element} {id}: {field} names {target}, which the feed does not have")
            })
            .collect()
    }

    fn contains(&self, collection: Collection, id: &str) -> bool {
        match collection {
            Collection::State => self.states.contains_key(id),
            Collection::Locality => self.localities.contains_key(id),
            Collection::PollingLocation => self.polling_locations.contains_key(id),
            Collection::HoursOpen => self.hours_open.contains_key(id),
            Collection::ElectionAdministration => self.election_administrations.contains_key(id),
        }
    }
}

/// Which of the feed's maps a reference points into.
#[derive(Debug, Clone, Copy)]
enum Collection {
    State,
    Locality,
    PollingLocation,
    HoursOpen,
    ElectionAdministration,
}

/// The Open Civic Data id among external identifiers, if any.
fn ocd_id(identifiers: &[ExternalIdentifier]) -> Option<&str> {
    identifiers
        .iter()
        .find(|identifier| identifier.identifier_type == IdentifierType::OcdId)
        .map(|identifier| identifier.value.as_str())
}

impl State {
    /// The state's Open Civic Data division id, if the feed gives one.
    pub fn ocd_id(&self) -> Option<&str> {
        ocd_id(&self.external_identifiers)
    }
}

impl Locality {
    /// The locality's Open Civic Data division id, if the feed gives one.
    pub fn ocd_id(&self) -> Option<&str> {
        ocd_id(&self.external_identifiers)
    }
}

impl Precinct {
    /// The precinct's Open Civic Data division id, if the feed gives one.
    pub fn ocd_id(&self) -> Option<&str> {
        ocd_id(&self.external_identifiers)
    }
}

impl PollingLocation {
    /// The address on one line for people ("2775 Hydraulic Rd, CHARLOTTESVILLE, VA 22901"):
    /// the structured address when there is one, else the address lines joined; empty when the
    /// feed gives neither. Runs of white space (line breaks inside a value) become one space.
    pub fn address_text(&self) -> String {
        let parts: Vec<String> = match &self.address_structured {
            Some(address) => {
                let zip = address.zip.as_deref().map(|zip| match zip.len() {
                    // ZIP+4 written without its hyphen, as feeds often do.
                    9 if zip.bytes().all(|byte| byte.is_ascii_digit()) => format!("{}-{}", &zip[..5], &zip[5..]),
                    _ => zip.to_owned(),
                });
                let state_zip = [address.state.clone(), zip].into_iter().flatten().collect::<Vec<_>>().join(" ");
                [address.line1.clone(), address.line2.clone(), address.line3.clone(), address.city.clone()]
                    .into_iter()
                    .flatten()
                    .chain(Some(state_zip))
                    .collect()
            }
            None => self.address_lines.clone(),
        };
        parts
            .iter()
            .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl InternationalizedText {
    /// The text in a language (`en`, `es`...; case-insensitive), if the feed has it.
    pub fn in_language(&self, language: &str) -> Option<&str> {
        self.texts.iter().find(|text| text.language.eq_ignore_ascii_case(language)).map(|text| text.text.as_str())
    }

    /// The English text, or else the first one.
    pub fn text(&self) -> Option<&str> {
        self.in_language("en").or_else(|| self.texts.first().map(|text| text.text.as_str()))
    }
}

impl TimeWithZone {
    /// Reads `hh:mm:ss` followed by `Z` or `±hh:mm` (the schema's pattern; `24:00:00` is the
    /// end of the day).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let two = |at: usize| -> Option<u32> {
            let pair = bytes.get(at..at + 2)?;
            pair.iter().all(u8::is_ascii_digit).then(|| u32::from(pair[0] - b'0') * 10 + u32::from(pair[1] - b'0'))
        };
        if bytes.len() < 9 || bytes[2] != b':' || bytes[5] != b':' {
            return None;
        }
        let (hour, minute, second) = (two(0)?, two(3)?, two(6)?);
        let seconds = hour * 3600 + minute * 60 + second;
        if minute > 59 || second > 59 || seconds > 86_400 {
            return None;
        }
        let offset = match &bytes[8..] {
            b"Z" => UtcOffset::UTC,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (hours, minutes) = (two(9)?, two(12)?);
                if hours > 14 || minutes > 59 || (hours == 14 && minutes > 0) {
                    return None;
                }
                let sign = if *sign == b'-' { -1 } else { 1 };
                // Both values were just bounded to 14 and 59, so they fit in i8.
                UtcOffset::from_hms(sign * hours as i8, sign * minutes as i8, 0).ok()?
            }
            _ => return None,
        };
        Some(Self { seconds, offset })
    }

    pub fn hour(&self) -> u8 {
        (self.seconds / 3600) as u8
    }

    pub fn minute(&self) -> u8 {
        (self.seconds / 60 % 60) as u8
    }

    pub fn second(&self) -> u8 {
        (self.seconds % 60) as u8
    }

    pub fn offset(&self) -> UtcOffset {
        self.offset
    }
}

impl std::fmt::Display for TimeWithZone {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:02}:{:02}:{:02}", self.hour(), self.minute(), self.second())?;
        if self.offset.is_utc() {
            return formatter.write_str("Z");
        }
        let sign = if self.offset.is_negative() { '-' } else { '+' };
        let (hours, minutes, _) = self.offset.as_hms();
        write!(formatter, "{sign}{:02}:{:02}", hours.unsigned_abs(), minutes.unsigned_abs())
    }
}

/// Reads a VIP 5 feed, keeping the elements Canvass uses. Refuses a document that is not XML, is
/// not a `VipObject`, is cut short, or whose gathered elements lack their ids or hold values that
/// do not parse; the error names the element and line.
pub fn read_feed(input: impl BufRead) -> Result<Vip5Feed, FormatsError> {
    let mut reader = Reader::from_reader(LineCounter { inner: input, line_ends: 0 });
    let mut buffer = Vec::new();
    let mut feed = Vip5Feed::default();
    let open = loop {
        buffer.clear();
        let event = reader.read_event_into(&mut buffer);
        let line = reader.get_ref().line();
        match event.map_err(|error| not_xml(error, line))? {
            Event::Start(start) => break check_root(&start, &mut feed, line)?,
            Event::Empty(start) => {
                check_root(&start, &mut feed, line)?;
                break false;
            }
            Event::Text(text) if text.trim().is_empty() => {}
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                return Err(FormatsError::Refused(format!(
                    "text at line {line} before any element: this is not an XML document (a VIP 5 feed is XML with a VipObject root)"
                )));
            }
            Event::Eof => {
                return Err(FormatsError::Refused(
                    "the document has no elements: a VIP 5 feed is XML with a VipObject root".into(),
                ));
            }
            Event::End(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
    };
    if open {
        read_body(&mut reader, &mut buffer, &mut feed)?;
    }
    loop {
        buffer.clear();
        let event = reader.read_event_into(&mut buffer);
        let line = reader.get_ref().line();
        match event.map_err(|error| not_xml(error, line))? {
            Event::Eof => return Ok(feed),
            Event::Text(text) if text.trim().is_empty() => {}
            Event::Comment(_) | Event::PI(_) => {}
            _ => {
                return Err(FormatsError::Refused(format!(
                    "line {line}: content after the end of VipObject (two documents joined?)"
                )));
            }
        }
    }
}

/// Whether `start` is a VipObject (true: it has content to read); records its version.
fn check_root(start: &BytesStart<'_>, feed: &mut Vip5Feed, line: u64) -> Result<bool, FormatsError> {
    let name = start.local_name();
    let name = name.as_ref();
    if name != "VipObject" {
        let hint = if name.eq_ignore_ascii_case("vip_object") {
            " (a VIP 3 feed, which Canvass does not read: export VIP 5)"
        } else {
            ""
        };
        return Err(FormatsError::Refused(format!(
            "the root element is <{name}>, not <VipObject>: this is not a VIP 5 feed{hint}"
        )));
    }
    let node = Node::open(start, line)?;
    feed.schema_version = node.attribute("schemaVersion").map(str::to_owned);
    Ok(true)
}

/// Reads VipObject's children up to its end tag, gathering the collected types.
fn read_body<R: BufRead>(
    reader: &mut Reader<LineCounter<R>>,
    buffer: &mut Vec<u8>,
    feed: &mut Vip5Feed,
) -> Result<(), FormatsError> {
    enum Next {
        Gather(Node),
        Add(Node),
        Skip(quick_xml::events::BytesEnd<'static>),
        Nothing,
        Done,
    }
    loop {
        buffer.clear();
        let position = reader.buffer_position();
        let event = reader.read_event_into(buffer);
        let line_ends = reader.get_ref().line_ends;
        let next = match event.map_err(|error| not_xml(error, line_ends + 1))? {
            Event::Start(start) => {
                let line = start_line(&start, line_ends);
                if COLLECTED.contains(&start.local_name().as_ref()) {
                    Next::Gather(Node::open(&start, line)?)
                } else {
                    Next::Skip(start.to_end().into_owned())
                }
            }
            Event::Empty(start) if COLLECTED.contains(&start.local_name().as_ref()) => {
                Next::Add(Node::open(&start, start_line(&start, line_ends))?)
            }
            Event::End(_) => Next::Done,
            Event::Eof => {
                return Err(FormatsError::Refused(
                    "the document ends before </VipObject>: the file is cut short".into(),
                ));
            }
            _ => Next::Nothing,
        };
        match next {
            Next::Gather(node) => add(feed, gather(reader, buffer, node, position)?)?,
            Next::Add(node) => add(feed, node)?,
            Next::Skip(end) => {
                let line = reader.get_ref().line();
                reader.read_to_end_into(end.name(), buffer).map_err(|error| not_xml(error, line))?;
            }
            Next::Nothing => {}
            Next::Done => return Ok(()),
        }
    }
}

/// Reads the rest of an element whose start tag was `node` into a tree.
fn gather<R: BufRead>(
    reader: &mut Reader<LineCounter<R>>,
    buffer: &mut Vec<u8>,
    node: Node,
    start_position: u64,
) -> Result<Node, FormatsError> {
    let mut current = node;
    let mut ancestors: Vec<Node> = Vec::new();
    let (name, line) = (current.name.clone(), current.line);
    loop {
        buffer.clear();
        let event = reader.read_event_into(buffer);
        let line_ends = reader.get_ref().line_ends;
        match event.map_err(|error| not_xml(error, line_ends + 1))? {
            Event::Start(start) => {
                if ancestors.len() >= MAX_DEPTH {
                    return Err(FormatsError::Refused(format!(
                        "<{name}> at line {line} nests elements more than {MAX_DEPTH} deep"
                    )));
                }
                let child = Node::open(&start, start_line(&start, line_ends))?;
                ancestors.push(std::mem::replace(&mut current, child));
            }
            Event::Empty(start) => current.children.push(Node::open(&start, start_line(&start, line_ends))?),
            Event::Text(text) => current.text.push_str(&text.xml10_content()),
            Event::CData(data) => current.text.push_str(&data.xml10_content()),
            Event::GeneralRef(reference) => {
                let character = reference.resolve_char_ref().map_err(|error| not_xml(error, line_ends + 1))?;
                match (character, resolve_xml_entity(&reference)) {
                    (Some(character), _) => current.text.push(character),
                    (None, Some(text)) => current.text.push_str(text),
                    (None, None) => {
                        return Err(FormatsError::Refused(format!(
                            "line {}: unknown entity &{};",
                            line_ends + 1,
                            &*reference
                        )));
                    }
                }
            }
            Event::End(_) => match ancestors.pop() {
                Some(parent) => {
                    let child = std::mem::replace(&mut current, parent);
                    current.children.push(child);
                }
                None => return Ok(current),
            },
            Event::Eof => {
                return Err(FormatsError::Refused(format!(
                    "<{name}> at line {line} is not closed: the file is cut short"
                )));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
        if reader.buffer_position().saturating_sub(start_position) > MAX_ELEMENT_BYTES {
            return Err(FormatsError::Refused(format!(
                "<{name}> at line {line} is larger than {} MiB: not a real {name}",
                MAX_ELEMENT_BYTES / 1024 / 1024
            )));
        }
    }
}

/// Turns a gathered element into its record and files it under its id.
fn add(feed: &mut Vip5Feed, node: Node) -> Result<(), FormatsError> {
    fn insert<T>(map: &mut BTreeMap<String, T>, node: &Node, id: String, value: T) -> Result<(), FormatsError> {
        if map.contains_key(&id) {
            return Err(node.refuse(format!("repeats the id `{id}` of an earlier {}", node.name)));
        }
        map.insert(id, value);
        Ok(())
    }
    let id = node.id()?;
    match node.name.as_str() {
        "State" => {
            let state = State {
                id: id.clone(),
                name: node.value("Name"),
                election_administration_id: node.value("ElectionAdministrationId"),
                external_identifiers: node.external_identifiers(),
                polling_location_ids: node.ids("PollingLocationIds"),
            };
            insert(&mut feed.states, &node, id, state)
        }
        "Locality" => {
            let district_type = match node.value("Type") {
                Some(kind) if kind == "other" => node.value("OtherType").or(Some(kind)),
                kind => kind,
            };
            let locality = Locality {
                id: id.clone(),
                name: node.value("Name"),
                state_id: node.required("StateId")?,
                district_type,
                election_administration_id: node.value("ElectionAdministrationId"),
                external_identifiers: node.external_identifiers(),
                polling_location_ids: node.ids("PollingLocationIds"),
                is_mail_only: node.boolean("IsMailOnly")?,
            };
            insert(&mut feed.localities, &node, id, locality)
        }
        "Precinct" => {
            let precinct = Precinct {
                id: id.clone(),
                name: node.value("Name"),
                number: node.value("Number"),
                locality_id: node.required("LocalityId")?,
                polling_location_ids: node.ids("PollingLocationIds"),
                electoral_district_ids: node.ids("ElectoralDistrictIds"),
                ward: node.value("Ward"),
                split_name: node.value("PrecinctSplitName"),
                ballot_style_id: node.value("BallotStyleId"),
                external_identifiers: node.external_identifiers(),
                is_mail_only: node.boolean("IsMailOnly")?,
            };
            insert(&mut feed.precincts, &node, id, precinct)
        }
        "PollingLocation" => {
            let address_structured = node.child("AddressStructured").map(|address| StructuredAddress {
                line1: address.value("Line1"),
                line2: address.value("Line2"),
                line3: address.value("Line3"),
                city: address.value("City"),
                state: address.value("State"),
                zip: address.value("Zip"),
            });
            let location = PollingLocation {
                id: id.clone(),
                name: node.value("Name"),
                address_structured,
                address_lines: node.values("AddressLine"),
                directions: node.child("Directions").map(Node::internationalized),
                hours: node.child("Hours").map(Node::internationalized),
                hours_open_id: node.value("HoursOpenId"),
                is_drop_box: node.boolean("IsDropBox")?,
                is_early_voting: node.boolean("IsEarlyVoting")?,
                coordinates: node.child("LatLng").map(Node::coordinates).transpose()?,
                photo_uri: node.value("PhotoUri"),
            };
            insert(&mut feed.polling_locations, &node, id, location)
        }
        "HoursOpen" => {
            let schedules = node.children("Schedule").map(Node::schedule).collect::<Result<_, _>>()?;
            insert(&mut feed.hours_open, &node, id.clone(), HoursOpen { id, schedules })
        }
        "ElectionAdministration" => {
            let departments = node
                .children("Department")
                .map(|department| Department {
                    contact: department.child("ContactInformation").map(Node::contact),
                    election_official_person_id: department.value("ElectionOfficialPersonId"),
                })
                .collect();
            let office = ElectionAdministration {
                id: id.clone(),
                departments,
                absentee_uri: node.value("AbsenteeUri"),
                am_i_registered_uri: node.value("AmIRegisteredUri"),
                elections_uri: node.value("ElectionsUri"),
                registration_uri: node.value("RegistrationUri"),
                where_do_i_vote_uri: node.value("WhereDoIVoteUri"),
            };
            insert(&mut feed.election_administrations, &node, id, office)
        }
        // Only the collected names reach here; anything else is ignored rather than trusted.
        _ => Ok(()),
    }
}

/// One gathered element: a tree small enough to hold (see `MAX_ELEMENT_BYTES`).
#[derive(Debug)]
struct Node {
    /// The local name (any namespace prefix dropped).
    name: String,
    /// Where its start tag is, for error messages.
    line: u64,
    attributes: Vec<(String, String)>,
    /// Its character data, untrimmed.
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn open(start: &BytesStart<'_>, line: u64) -> Result<Self, FormatsError> {
        let name = start.local_name().as_ref().to_owned();
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute
                .map_err(|error| FormatsError::Refused(format!("<{name}> at line {line}: bad attribute: {error}")))?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|error| FormatsError::Refused(format!("<{name}> at line {line}: bad attribute: {error}")))?;
            attributes.push((attribute.key.local_name().as_ref().to_owned(), value.into_owned()));
        }
        Ok(Self { name, line, attributes, text: String::new(), children: Vec::new() })
    }

    fn refuse(&self, reason: impl std::fmt::Display) -> FormatsError {
        FormatsError::Refused(format!("<{}> at line {} {reason}", self.name, self.line))
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.trim())
    }

    fn id(&self) -> Result<String, FormatsError> {
        match self.attribute("id") {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(self.refuse("has no `id` attribute: other elements could not refer to it")),
        }
    }

    fn text(&self) -> &str {
        self.text.trim()
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|child| child.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// A child's text, None when absent or empty.
    fn value(&self, name: &str) -> Option<String> {
        self.child(name).map(Node::text).filter(|text| !text.is_empty()).map(str::to_owned)
    }

    /// Every such child's text, the empty ones left out.
    fn values(&self, name: &str) -> Vec<String> {
        self.children(name).map(Node::text).filter(|text| !text.is_empty()).map(str::to_owned).collect()
    }

    fn required(&self, name: &str) -> Result<String, FormatsError> {
        self.value(name).ok_or_else(|| {
            let id = self.attribute("id").unwrap_or("");
            self.refuse(format!("(id `{id}`) has no `{name}`: the schema requires it and Canvass needs it"))
        })
    }

    /// An `IDREFS` child: ids separated by white space (several such children are joined).
    fn ids(&self, name: &str) -> Vec<String> {
        self.children(name).flat_map(|child| child.text.split_whitespace()).map(str::to_owned).collect()
    }

    /// An `xs:boolean` child; absent means false.
    fn boolean(&self, name: &str) -> Result<bool, FormatsError> {
        let Some(child) = self.child(name) else {
            return Ok(false);
        };
        match child.text() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            other => Err(child.refuse(format!("holds `{other}`, not true or false"))),
        }
    }

    fn external_identifiers(&self) -> Vec<ExternalIdentifier> {
        let Some(list) = self.child("ExternalIdentifiers") else {
            return Vec::new();
        };
        list.children("ExternalIdentifier")
            .filter_map(|identifier| {
                let value = identifier.value("Value")?;
                let other = || identifier.value("OtherType");
                let identifier_type = match identifier.value("Type").as_deref() {
                    Some("fips") => IdentifierType::Fips,
                    Some("local-level") => IdentifierType::LocalLevel,
                    Some("national-level") => IdentifierType::NationalLevel,
                    Some("ocd-id") => IdentifierType::OcdId,
                    Some("state-level") => IdentifierType::StateLevel,
                    Some(kind) => IdentifierType::Other(other().unwrap_or_else(|| kind.to_owned())),
                    None => IdentifierType::Other(other().unwrap_or_default()),
                };
                Some(ExternalIdentifier { identifier_type, value })
            })
            .collect()
    }

    fn internationalized(&self) -> InternationalizedText {
        let texts = self
            .children("Text")
            .filter(|text| !text.text().is_empty())
            .map(|text| LanguageString {
                language: text.attribute("language").unwrap_or("").to_owned(),
                text: text.text().to_owned(),
            })
            .collect();
        InternationalizedText { texts }
    }

    fn coordinates(&self) -> Result<LatLng, FormatsError> {
        let degrees = |name: &str, limit: f64| -> Result<f64, FormatsError> {
            let text = self.value(name).ok_or_else(|| self.refuse(format!("has no `{name}`")))?;
            text.parse::<f64>()
                .ok()
                .filter(|value| value.is_finite() && value.abs() <= limit)
                .ok_or_else(|| self.refuse(format!("has `{name}` `{text}`, not a number of degrees within ±{limit}")))
        };
        Ok(LatLng {
            latitude: degrees("Latitude", 90.0)?,
            longitude: degrees("Longitude", 180.0)?,
            source: self.value("Source"),
        })
    }

    fn schedule(&self) -> Result<Schedule, FormatsError> {
        let time = |hours: &Node, name: &str| -> Result<TimeWithZone, FormatsError> {
            let text = hours.value(name).ok_or_else(|| hours.refuse(format!("has no `{name}`")))?;
            TimeWithZone::parse(&text).ok_or_else(|| {
                hours.refuse(format!("has `{name}` `{text}`, not a time with its zone (hh:mm:ss then Z or ±hh:mm)"))
            })
        };
        let date = |name: &str| -> Result<Option<Date>, FormatsError> {
            match self.value(name) {
                None => Ok(None),
                Some(text) => parse_xml_date(&text)
                    .map(Some)
                    .ok_or_else(|| self.refuse(format!("has `{name}` `{text}`, not a date (YYYY-MM-DD)"))),
            }
        };
        let hours = self
            .children("Hours")
            .map(|hours| Ok(Hours { start: time(hours, "StartTime")?, end: time(hours, "EndTime")? }))
            .collect::<Result<_, FormatsError>>()?;
        Ok(Schedule {
            hours,
            start_date: date("StartDate")?,
            end_date: date("EndDate")?,
            is_only_by_appointment: self.boolean("IsOnlyByAppointment")?,
            is_or_by_appointment: self.boolean("IsOrByAppointment")?,
            is_subject_to_change: self.boolean("IsSubjectToChange")?,
        })
    }

    fn contact(&self) -> ContactInformation {
        ContactInformation {
            name: self.value("Name"),
            address_lines: self.values("AddressLine"),
            emails: self.values("Email"),
            phones: self.values("Phone"),
            uris: self.values("Uri"),
            hours_open_id: self.value("HoursOpenId"),
        }
    }
}

/// An `xs:date`: `YYYY-MM-DD`, optionally followed by a zone (`Z`, `-05:00`), which a day
/// does not need.
fn parse_xml_date(text: &str) -> Option<Date> {
    let day_part = text.get(..10)?;
    let zone = text.get(10..)?;
    let zone_ok = zone.is_empty() || zone == "Z" || TimeWithZone::parse(&format!("00:00:00{zone}")).is_some();
    let mut parts = day_part.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if !zone_ok || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
}

/// Describes a parse failure of the XML itself.
fn not_xml(error: impl std::fmt::Display, line: u64) -> FormatsError {
    FormatsError::Refused(format!("not well-formed XML near line {line}: {error}"))
}

/// The line a start tag begins on, given the line ends consumed through its end (a tag may
/// span lines between its attributes).
fn start_line(start: &BytesStart<'_>, line_ends: u64) -> u64 {
    let inside = start.chars().filter(|character| *character == '\n').count() as u64;
    line_ends.saturating_sub(inside) + 1
}

/// Counts the line ends quick-xml consumes, so that refusals can name a line.
struct LineCounter<R> {
    inner: R,
    line_ends: u64,
}

impl<R> LineCounter<R> {
    /// The line being read.
    fn line(&self) -> u64 {
        self.line_ends + 1
    }
}

fn count_line_ends(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|byte| **byte == b'\n').count() as u64
}

impl<R: BufRead> std::io::Read for LineCounter<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.line_ends += count_line_ends(&buffer[..read]);
        Ok(read)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // The caller has just seen these bytes from fill_buf, so asking again reads nothing new.
        if amount > 0
            && let Ok(buffered) = self.inner.fill_buf()
        {
            self.line_ends += count_line_ends(&buffered[..amount.min(buffered.len())]);
        }
        self.inner.consume(amount);
    }
}
