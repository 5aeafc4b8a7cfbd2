//! The XML encoding of 1500-101, streamed with quick-xml in the order the XSD's sequences
//! demand. Text is escaped with quick-xml's `partial_escape`: `<`, `>` (so `]]>` cannot occur),
//! `&` and carriage returns (which parsers would otherwise turn into line feeds); quotes stay
//! readable, which text content allows. Characters XML cannot carry at all never reach it (see
//! `check_text` and `details`).

use std::io::Write;

use canvass_core::audit::Action;
use quick_xml::{
    Writer,
    escape::partial_escape,
    events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event as XmlEvent},
};

use super::{Event, EventLogSource, EventType, Trailer, XML_NAMESPACE};
use crate::FormatsError;

pub(super) struct XmlLog<W: Write> {
    writer: Writer<W>,
}

impl<W: Write> XmlLog<W> {
    pub(super) fn start(source: &EventLogSource<'_>, out: W) -> Result<Self, FormatsError> {
        let mut writer = start_document(out, "ElectionEventLog")?;
        if let Some(details) = source.details {
            text(&mut writer, "Details", details)?;
        }
        writer.write_event(XmlEvent::Start(BytesStart::new("Device")))?;
        Ok(Self { writer })
    }

    pub(super) fn event(&mut self, event: &Event) -> Result<(), FormatsError> {
        let writer = &mut self.writer;
        writer.write_event(XmlEvent::Start(BytesStart::new("Event")))?;
        text(writer, "Description", event.description)?;
        text(writer, "Details", &event.details)?;
        text(writer, "Disposition", event.disposition)?;
        text(writer, "Id", event.id)?;
        text(writer, "Sequence", &event.sequence)?;
        text(writer, "TimeStamp", &event.time_stamp)?;
        text(writer, "Type", event.event_type)?;
        text(writer, "UserId", &event.user_id)?;
        writer.write_event(XmlEvent::End(BytesEnd::new("Event")))?;
        Ok(())
    }

    pub(super) fn finish(mut self, trailer: &Trailer) -> Result<W, FormatsError> {
        let writer = &mut self.writer;
        text(writer, "Id", &trailer.device_id)?;
        text(writer, "Manufacturer", &trailer.manufacturer)?;
        text(writer, "Model", &trailer.model)?;
        text(writer, "Type", trailer.device_type.as_str())?;
        if let Some(other) = trailer.device_type.other_type() {
            text(writer, "OtherType", other)?;
        }
        if let Some(version) = &trailer.version {
            text(writer, "Version", version)?;
        }
        writer.write_event(XmlEvent::End(BytesEnd::new("Device")))?;
        if let Some(election_id) = &trailer.election_id {
            text(writer, "ElectionId", election_id)?;
        }
        text(writer, "GeneratedTime", &trailer.generated)?;
        end_document(self.writer, "ElectionEventLog")
    }
}

/// The ElectionEventLogDocumentation document.
pub(super) fn documentation(source: &EventLogSource<'_>, generated_date: &str) -> Result<Vec<u8>, FormatsError> {
    let root = "ElectionEventLogDocumentation";
    let mut writer = start_document(Vec::new(), root)?;
    text(&mut writer, "DeviceId", source.device_id)?;
    text(&mut writer, "DeviceManufacturer", source.manufacturer)?;
    text(&mut writer, "DeviceModel", source.model)?;
    if let Some(version) = source.version {
        text(&mut writer, "DeviceVersion", version)?;
    }
    for action in Action::ALL {
        writer.write_event(XmlEvent::Start(BytesStart::new("EventIdDescription")))?;
        text(&mut writer, "Description", action.description())?;
        text(&mut writer, "Id", action.as_str())?;
        writer.write_event(XmlEvent::End(BytesEnd::new("EventIdDescription")))?;
    }
    for event_type in EventType::ALL {
        writer.write_event(XmlEvent::Start(BytesStart::new("EventTypeDescription")))?;
        text(&mut writer, "Description", event_type.description())?;
        text(&mut writer, "Type", event_type.as_str())?;
        writer.write_event(XmlEvent::End(BytesEnd::new("EventTypeDescription")))?;
    }
    text(&mut writer, "GeneratedDate", generated_date)?;
    end_document(writer, root)
}

fn start_document<W: Write>(out: W, root: &str) -> Result<Writer<W>, FormatsError> {
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(XmlEvent::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer.write_event(XmlEvent::Start(BytesStart::new(root).with_attributes([("xmlns", XML_NAMESPACE)])))?;
    Ok(writer)
}

fn end_document<W: Write>(mut writer: Writer<W>, root: &str) -> Result<W, FormatsError> {
    writer.write_event(XmlEvent::End(BytesEnd::new(root)))?;
    let mut out = writer.into_inner();
    out.write_all(b"\n")?;
    Ok(out)
}

/// `<name>value</name>`, the value escaped.
fn text<W: Write>(writer: &mut Writer<W>, name: &str, value: &str) -> Result<(), FormatsError> {
    writer.create_element(name).write_text_content(BytesText::from_escaped(partial_escape(value)))?;
    Ok(())
}
