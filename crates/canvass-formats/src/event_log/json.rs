//! The JSON encoding of 1500-101: objects tagged with `@type` as NIST's JSON schema requires,
//! streamed one event per line so a large export stays readable with line tools.

use std::io::Write;

use canvass_core::audit::Action;
use serde::Serialize;

use super::{Event, EventLogSource, EventType, Trailer};
use crate::FormatsError;

pub(super) struct JsonLog<W: Write> {
    out: W,
    events: u64,
}

impl<W: Write> JsonLog<W> {
    pub(super) fn start(source: &EventLogSource<'_>, mut out: W) -> Result<Self, FormatsError> {
        out.write_all(br#"{"@type":"EventLogging.ElectionEventLog""#)?;
        if let Some(details) = source.details {
            member(&mut out, "Details", details)?;
        }
        out.write_all(br#","Device":[{"@type":"EventLogging.Device","Event":["#)?;
        Ok(Self { out, events: 0 })
    }

    pub(super) fn event(&mut self, event: &Event) -> Result<(), FormatsError> {
        if self.events > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, event)?;
        self.events += 1;
        Ok(())
    }

    pub(super) fn finish(mut self, trailer: &Trailer) -> Result<W, FormatsError> {
        let out = &mut self.out;
        out.write_all(b"\n]")?;
        member(out, "Id", &trailer.device_id)?;
        member(out, "Manufacturer", &trailer.manufacturer)?;
        member(out, "Model", &trailer.model)?;
        member(out, "Type", trailer.device_type.as_str())?;
        if let Some(other) = trailer.device_type.other_type() {
            member(out, "OtherType", other)?;
        }
        if let Some(version) = &trailer.version {
            member(out, "Version", version)?;
        }
        out.write_all(b"}]")?;
        if let Some(election_id) = &trailer.election_id {
            member(out, "ElectionId", election_id)?;
        }
        member(out, "GeneratedTime", &trailer.generated)?;
        out.write_all(b"}\n")?;
        Ok(self.out)
    }
}

/// `,"name":"value"`: every member after `@type`, which each object starts with.
fn member<W: Write>(out: &mut W, name: &str, value: &str) -> Result<(), FormatsError> {
    out.write_all(b",")?;
    serde_json::to_writer(&mut *out, name)?;
    out.write_all(b":")?;
    serde_json::to_writer(&mut *out, value)?;
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Documentation<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    device_id: &'a str,
    device_manufacturer: &'a str,
    device_model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_version: Option<&'a str>,
    event_id_description: Vec<EventIdDescription>,
    event_type_description: Vec<EventTypeDescription>,
    generated_date: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventIdDescription {
    #[serde(rename = "@type")]
    kind: &'static str,
    description: &'static str,
    id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventTypeDescription {
    #[serde(rename = "@type")]
    kind: &'static str,
    description: &'static str,
    #[serde(rename = "Type")]
    event_type: &'static str,
}

/// The ElectionEventLogDocumentation document.
pub(super) fn documentation(source: &EventLogSource<'_>, generated_date: &str) -> Result<Vec<u8>, FormatsError> {
    let document = Documentation {
        kind: "EventLogging.ElectionEventLogDocumentation",
        device_id: source.device_id,
        device_manufacturer: source.manufacturer,
        device_model: source.model,
        device_version: source.version,
        event_id_description: Action::ALL
            .iter()
            .map(|action| EventIdDescription {
                kind: "EventLogging.EventIdDescription",
                description: action.description(),
                id: action.as_str(),
            })
            .collect(),
        event_type_description: EventType::ALL
            .iter()
            .map(|event_type| EventTypeDescription {
                kind: "EventLogging.EventTypeDescription",
                description: event_type.description(),
                event_type: event_type.as_str(),
            })
            .collect(),
        generated_date,
    };
    let mut out = serde_json::to_vec_pretty(&document)?;
    out.push(b'\n');
    Ok(out)
}
