//! The transparency report's pages: pure maud functions of a [`Report`], rendered the same for
//! the public listener (`/transparency`, absolute links) and for `canvass transparency publish`
//! (files in one directory, relative links). No JavaScript; bars are inline SVG drawn with
//! attributes, so the listener's strict CSP (no inline styles) holds.

use maud::{DOCTYPE, Markup, html};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::{
    site_file::slug,
    transparency::{JurisdictionReport, PublicIncident, Report, incident_title},
};

/// Characters escaped in a jurisdiction id used as one path segment (OCD-IDs contain `/`).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

/// Where the pages link: the live listener or a static directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Live,
    Static,
}

impl Links {
    pub fn index(self) -> String {
        match self {
            Self::Live => "/transparency".to_owned(),
            Self::Static => "index.html".to_owned(),
        }
    }

    pub fn jurisdiction(self, id: &str) -> String {
        match self {
            Self::Live => format!("/transparency/{}", utf8_percent_encode(id, SEGMENT)),
            Self::Static => jurisdiction_file(id),
        }
    }

    fn file(self, name: &str) -> String {
        match self {
            Self::Live => format!("/transparency/{name}"),
            Self::Static => name.to_owned(),
        }
    }

    fn stylesheet(self) -> &'static str {
        match self {
            Self::Live => "/assets/canvass.css",
            Self::Static => "canvass.css",
        }
    }
}

/// A jurisdiction's page in a static publication.
pub fn jurisdiction_file(id: &str) -> String {
    format!("jurisdiction-{}.html", slug(id))
}

fn layout(title: &str, links: Links, demo: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Canvass" }
                // No icon to fetch: a static host may have none, and a 404 is noise in its logs.
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(links.stylesheet());
                link rel="alternate" type="application/atom+xml" title="Security incidents (Atom)" href=(links.file("feed.atom"));
            }
            body {
                header.site {
                    @if links == Links::Live { a href="/" { "Canvass" } } @else { a href=(links.index()) { "Canvass" } }
                    span.tagline { "Transparency report" }
                    @if links == Links::Live { a.nav href="/audit" { "Audit log" } }
                }
                main {
                    @if demo {
                        p.demo-banner { strong { "Demo node. " } "Every place, person and number here is fictional." }
                    }
                    (body)
                }
            }
        }
    }
}

fn feeds(report: &Report, links: Links) -> Markup {
    html! {
        h2 { "Subscribe and check" }
        ul {
            li { a href=(links.file("feed.atom")) { "Atom feed" } " of every incident, for feed readers." }
            li { a href=(links.file("feed.json")) { "JSON feed" } ", signed: " a href=(links.file("feed.json.sig")) { "its Ed25519 signature" }
                " (hex) by the node key " code.wrap { (report.node_key) } "." }
        }
        p.muted { "An office cannot remove an incident from this report: the register is append-only and every change to it is an entry of the audit log." }
    }
}

fn incidents_table(incidents: &[PublicIncident], links: Links) -> Markup {
    html! {
        @if incidents.is_empty() {
            p { "No incident has been recorded." }
        } @else {
            div.table-scroll tabindex="0" role="region" aria-label="Incidents table" {
                table.incidents {
                    caption { "Security incidents, newest first" }
                    thead { tr { th scope="col" { "Incident" } th scope="col" { "Opened (UTC)" } th scope="col" { "Severity" }
                        th scope="col" { "Status" } th scope="col" { "Records affected" } th scope="col" { "Jurisdiction" } } }
                    tbody {
                        @for incident in incidents {
                            tr {
                                td { (incident_title(incident)) br; code { (incident.id) } }
                                td { (incident.opened_at) }
                                td { (incident.severity) }
                                td { (incident.status) }
                                td { (incident.records_affected) }
                                td { @match &incident.jurisdiction {
                                    Some(id) => a href=(links.jurisdiction(id)) { code { (id) } },
                                    None => "whole node",
                                } }
                            }
                        }
                    }
                }
            }
            @for incident in incidents {
                section.incident aria-labelledby=(format!("incident-{}", incident.id)) {
                    h3 id=(format!("incident-{}", incident.id)) { (incident_title(incident)) " · " code { (incident.id) } }
                    p { (incident.summary) }
                    p.muted { "Data classes: " (incident.data_classes.join(", ")) ". Records affected: " (incident.records_affected) "." }
                    @if let Some(actions) = &incident.actions_taken { p { "What was done: " (actions) } }
                    @if !incident.timeline.is_empty() {
                        ol.timeline aria-label={ "Updates to incident " (incident.id) } {
                            @for update in &incident.timeline {
                                li { time datetime=(update.at) { (update.at) } " — " (update.status) ", " (update.severity) " severity"
                                     @if !update.text.is_empty() { ": " (update.text) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The pages' bar chart ([`crate::pages::bar_chart_laid_out`]) with room for "month · role"
/// labels.
fn bars(caption: &str, rows: &[(String, u64)]) -> Markup {
    let layout = crate::pages::BarLayout { label_width: 200, bar_width: 260, number_width: 80 };
    crate::pages::bar_chart_laid_out(caption, rows, layout)
}

fn checkpoint(report: &Report, links: Links) -> Markup {
    html! {
        h2 { "The audit log's signed checkpoint" }
        @match &report.checkpoint {
            None => p.muted { "No signed checkpoint yet: the first appears within a second of the first entry." },
            Some(checkpoint) => {
                div.table-scroll tabindex="0" role="region" aria-label="Signed checkpoint table" { table {
                    tbody {
                        tr { th scope="row" { "Log origin" } td { code { (checkpoint.origin) } } }
                        tr { th scope="row" { "Entries" } td { (checkpoint.size) } }
                        tr { th scope="row" { "Root hash" } td { code.wrap { (checkpoint.root) } } }
                        tr { th scope="row" { "Signed (UTC)" } td { (checkpoint.signed_at) } }
                        tr { th scope="row" { "Witnessed by" } td {
                            @if checkpoint.witnesses.is_empty() { span.muted { "no witness has cosigned this checkpoint yet" } }
                            @else { (checkpoint.witnesses.join(", ")) }
                        } }
                    }
                } }
                details { summary { "The signed note, with its cosignatures" } pre { code { (checkpoint.note) } } }
                @if links == Links::Live { p { a href="/audit" { "How to check the log yourself" } } }
            }
        }
    }
}

fn statistics(section: &JurisdictionReport) -> Markup {
    let reads: Vec<(String, u64)> =
        section.statistics.reads.iter().map(|((month, role), count)| (format!("{month} {role}"), *count)).collect();
    html! {
        h3 { "Confidential voter records read, by month and role" }
        @if reads.is_empty() { p { "None recorded." } } @else {
            (bars(&format!("Confidential records read in {}, by month and the reader's role", section.name), &reads))
        }
        h3 { "Approvals and emergency access" }
        (bars(&format!("Approved exports and break-glass uses in {}", section.name), &[
            ("Exports approved".to_owned(), section.statistics.exports_approved),
            ("Break-glass uses".to_owned(), section.statistics.break_glass_uses),
        ]))
    }
}

/// `index.html`: every incident, then each jurisdiction's statistics in short.
pub fn index_page(report: &Report, links: Links) -> Markup {
    let body = html! {
        h1 { "Transparency report" }
        p { "Every security incident this office's Canvass node recorded, opened by its detectors or by staff, with what
            is known publicly: when, how serious, which kinds of data and how many records. The staff account involved and
            any personal data are never shown; details that could help an attacker are withheld until an incident is closed." }
        h2 { "Incidents" }
        (incidents_table(&report.incidents, links))
        (checkpoint(report, links))
        h2 { "Jurisdictions" }
        ul {
            @for section in &report.jurisdictions {
                li { a href=(links.jurisdiction(&section.id)) { (section.name) } ": " (section.incidents.len()) " incidents, "
                    (section.statistics.exports_approved) " exports approved, " (section.statistics.break_glass_uses) " break-glass uses" }
            }
        }
        (feeds(report, links))
    };
    layout("Transparency report", links, report.demo, body)
}

/// One jurisdiction's page: its incidents, the log's checkpoint and its statistics.
pub fn jurisdiction_page(report: &Report, section: &JurisdictionReport, links: Links) -> Markup {
    let body = html! {
        p { a href=(links.index()) { "All jurisdictions" } }
        h1 { "Transparency report: " (section.name) }
        h2 { "Incidents" }
        (incidents_table(&section.incidents, links))
        (checkpoint(report, links))
        h2 { "What the audit log shows" }
        (statistics(section))
        (feeds(report, links))
    };
    layout(&format!("Transparency report: {}", section.name), links, report.demo, body)
}
