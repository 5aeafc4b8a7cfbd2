//! The public transparency report: every incident of the register with its public fields, and
//! per jurisdiction the ledger's signed checkpoint with its witnesses and statistics read from
//! the ledger (confidential reads by role per month, approved exports, break-glass uses).
//!
//! What is public about an incident ([`PublicIncident`]): its id, jurisdiction, when it was
//! opened, its kind, severity and status, the data classes and the number of records affected.
//! Never public: the subject (the staff account involved) and any personal data. Withheld until
//! the incident is closed, because it can help an attacker: the register's own summary (it may
//! name thresholds, methods or accounts); until then a fixed description of the kind stands in,
//! and once closed the summary is shown with the subject's name replaced.
//!
//! The JSON feed is signed by the node key exactly as results manifests are (Ed25519 over the
//! file's bytes, hex in `feed.json.sig`). It holds the incidents only, so it changes only when
//! the register does and a feed and its signature fetched one after the other agree.

use std::collections::BTreeMap;

use canvass_core::{
    access::{Decision, Grant, Operation, RequestKind, decide},
    audit::{Action, Actor, AuditEntry},
    credential::Username,
    id::JurisdictionId,
    jurisdiction::Jurisdiction,
};
use canvass_store::{LEDGER_SEARCH_LIMIT, LedgerQuery, Store, StoredIncident};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::ServerError;

/// Incidents read for the report: the register's whole history at any realistic size.
const INCIDENT_LIMIT: u32 = 100_000;

/// The public view of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicIncident {
    pub id: String,
    pub jurisdiction: Option<String>,
    /// RFC 3339, UTC.
    pub opened_at: String,
    pub kind: String,
    pub severity: String,
    pub status: String,
    /// The register's summary once closed; before that, a fixed description of the kind.
    pub summary: String,
    /// Whether detail is withheld because the incident is still open.
    pub details_withheld: bool,
    pub data_classes: Vec<String>,
    /// Counts only.
    pub records_affected: u64,
    /// What the office did, once the incident is closed (before that it could guide an attacker).
    pub actions_taken: Option<String>,
    /// The register's updates, oldest first, with the text the office wrote for the public.
    pub timeline: Vec<PublicUpdate>,
}

/// One update of an incident as the public sees it: never its author or internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUpdate {
    /// RFC 3339, UTC.
    pub at: String,
    pub status: String,
    pub severity: String,
    pub records_affected: u64,
    pub text: String,
}

impl PublicUpdate {
    fn of(update: &canvass_store::StoredIncidentUpdate) -> Self {
        Self {
            at: rfc3339(update.at),
            status: update.status.clone(),
            severity: update.severity.clone(),
            records_affected: update.records_affected,
            text: update.public_text.clone(),
        }
    }
}

impl PublicIncident {
    pub fn of(incident: &StoredIncident) -> Self {
        let closed = incident.status == "closed";
        let summary = if closed { redacted_summary(incident) } else { withheld_summary(&incident.kind) };
        Self {
            id: incident.id.clone(),
            jurisdiction: incident.jurisdiction.as_ref().map(|id| id.as_str().to_owned()),
            opened_at: rfc3339(incident.opened_at),
            kind: incident.kind.clone(),
            severity: incident.severity.clone(),
            status: incident.status.clone(),
            summary,
            details_withheld: !closed,
            data_classes: if incident.data_classes.is_empty() {
                data_classes(&incident.kind)
            } else {
                incident.data_classes.clone()
            },
            records_affected: incident.records_affected,
            actions_taken: (closed && !incident.actions_taken.is_empty()).then(|| incident.actions_taken.clone()),
            timeline: Vec::new(),
        }
    }
}

/// The data classes an incident of this kind touches, for an incident recorded with none (the
/// register before migration 0016).
fn data_classes(kind: &str) -> Vec<String> {
    let classes: &[&str] = match kind {
        "bulk_read" => &["voter_confidential"],
        _ => &["unspecified"],
    };
    classes.iter().map(|class| (*class).to_owned()).collect()
}

fn withheld_summary(kind: &str) -> String {
    match kind {
        "bulk_read" => "A staff account tried to read more confidential voter records within an hour than its role \
                        allows. The account was suspended at once. Details are withheld until the incident is closed."
            .to_owned(),
        _ => "A security incident was recorded. Details are withheld until the incident is closed.".to_owned(),
    }
}

/// The summary with the subject's name replaced: the report never names the account.
fn redacted_summary(incident: &StoredIncident) -> String {
    match &incident.subject {
        Some(subject) => incident.summary.replace(subject.as_str(), "[staff account]"),
        None => incident.summary.clone(),
    }
}

pub fn rfc3339(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|time| time.replace_nanosecond(0).ok())
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Every incident, newest first, in its public form.
pub async fn public_incidents(store: &dyn Store) -> Result<Vec<PublicIncident>, ServerError> {
    let mut public = Vec::new();
    for incident in store.incidents(INCIDENT_LIMIT).await? {
        let mut view = PublicIncident::of(&incident);
        view.timeline = store.incident_updates(&incident.id).await?.iter().map(PublicUpdate::of).collect();
        public.push(view);
    }
    Ok(public)
}

/// The signed feed's content: the node's key and every incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    pub version: u32,
    /// Hex Ed25519 key that signs this file (`feed.json.sig`).
    pub node_key: String,
    /// The newest incident's opening time (the feed changes only with the register).
    pub updated: String,
    pub incidents: Vec<PublicIncident>,
}

pub fn feed(node_key: &canvass_crypto::PublicKey, incidents: Vec<PublicIncident>) -> Feed {
    let updated = incidents.iter().map(|incident| incident.opened_at.clone()).max().unwrap_or_else(|| rfc3339(0));
    Feed { version: 1, node_key: node_key.to_hex(), updated, incidents }
}

/// The feed's bytes and their detached signature (hex, newline-terminated).
pub fn signed_feed(feed: &Feed, sign: impl FnOnce(&[u8]) -> [u8; 64]) -> Result<(Vec<u8>, String), ServerError> {
    let mut bytes = serde_json::to_vec_pretty(feed).map_err(|error| ServerError::Internal(error.to_string()))?;
    bytes.push(b'\n');
    let signature = format!("{}\n", crate::results_publish::hex(&sign(&bytes)));
    Ok((bytes, signature))
}

/// The incidents as an Atom 1.0 feed (RFC 4287): one entry per incident, its id a URN under
/// the node's key so two nodes' entries never collide.
pub fn atom(feed: &Feed, title: &str) -> String {
    use atom_syndication::{Content, Entry, FixedDateTime, Person, Text};
    let date = |text: &str| FixedDateTime::parse_from_rfc3339(text).unwrap_or_default();
    let entries: Vec<Entry> = feed
        .incidents
        .iter()
        .map(|incident| {
            let content = format!(
                "{}\n\nKind: {}. Severity: {}. Status: {}. Jurisdiction: {}. Data classes: {}. Records affected: {}.",
                incident.summary,
                incident.kind,
                incident.severity,
                incident.status,
                incident.jurisdiction.as_deref().unwrap_or("the whole node"),
                incident.data_classes.join(", "),
                incident.records_affected
            );
            Entry {
                id: format!("urn:canvass:{}:incident:{}", feed.node_key, incident.id),
                title: Text::plain(format!(
                    "{} ({} severity, {})",
                    incident_title(incident),
                    incident.severity,
                    incident.status
                )),
                updated: date(&incident.opened_at),
                published: Some(date(&incident.opened_at)),
                summary: Some(Text::plain(incident.summary.clone())),
                content: Some(Content {
                    value: Some(content),
                    content_type: Some("text".to_owned()),
                    ..Content::default()
                }),
                ..Entry::default()
            }
        })
        .collect();
    let atom = atom_syndication::Feed {
        id: format!("urn:canvass:{}:transparency", feed.node_key),
        title: Text::plain(title.to_owned()),
        updated: date(&feed.updated),
        authors: vec![Person { name: "Canvass node".to_owned(), ..Person::default() }],
        subtitle: Some(Text::plain(format!(
            "Security incidents recorded by the Canvass node with key {}",
            feed.node_key
        ))),
        entries,
        ..atom_syndication::Feed::default()
    };
    atom.to_string()
}

/// A reader's title for an incident.
pub fn incident_title(incident: &PublicIncident) -> String {
    match incident.kind.as_str() {
        "bulk_read" => "Unusual volume of confidential reads".to_owned(),
        "manual" => "Incident reported by staff".to_owned(),
        other => format!("Incident: {}", other.replace('_', " ")),
    }
}

/// The ledger's current signed checkpoint and who witnessed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: String,
    pub signed_at: String,
    pub witnesses: Vec<String>,
    /// The signed note with every cosignature, as `/log/checkpoint` serves it.
    pub note: String,
}

pub async fn checkpoint(store: &dyn Store) -> Result<Option<PublicCheckpoint>, ServerError> {
    let Some(latest) = store.latest_checkpoint().await? else { return Ok(None) };
    let internal = |error: canvass_ledger::LedgerError| ServerError::Internal(error.to_string());
    let note = canvass_ledger::Note::parse(latest.note.as_bytes()).map_err(internal)?;
    let parsed = canvass_ledger::Checkpoint::parse(&note.text).map_err(internal)?;
    let witnesses = store.cosignatures(latest.size).await?.into_iter().map(|cosignature| cosignature.witness).collect();
    let text = crate::audit_log::checkpoint_text(store).await?.unwrap_or_default();
    Ok(Some(PublicCheckpoint {
        origin: parsed.origin.to_string(),
        size: parsed.size,
        root: parsed.root.to_string(),
        signed_at: rfc3339(latest.time_millis),
        witnesses,
        note: text,
    }))
}

/// What the ledger says about one jurisdiction's use of its data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerStatistics {
    /// (month `YYYY-MM`, role) to confidential voter records read.
    pub reads: BTreeMap<(String, String), u64>,
    /// Two-person export requests approved (the whole voter file, or an incident's affected voters).
    pub exports_approved: u64,
    pub break_glass_uses: u64,
}

/// Every entry of one action in one jurisdiction, allowed ones only, oldest page last.
async fn entries(
    store: &dyn Store,
    action: Action,
    jurisdiction: &JurisdictionId,
) -> Result<Vec<AuditEntry>, ServerError> {
    let mut found = Vec::new();
    let mut before_index = None;
    loop {
        let query = LedgerQuery {
            action: Some(action.as_str().to_owned()),
            jurisdiction: Some(jurisdiction.as_str().to_owned()),
            outcome: Some("allowed".to_owned()),
            before_index,
            limit: LEDGER_SEARCH_LIMIT,
            ..LedgerQuery::default()
        };
        let rows = store.search_ledger(&query).await?;
        let full = rows.len() as u32 >= LEDGER_SEARCH_LIMIT;
        before_index = rows.last().map(|row| row.index);
        found.extend(rows.iter().filter_map(|row| AuditEntry::decode(&row.body).ok()));
        if !full || before_index.is_none() {
            return Ok(found);
        }
    }
}

/// The role a reader held when reading: the grant the policy would have used then.
fn role_of(actor: &Actor, readers: &Readers, lineage: &[JurisdictionId], time: i64) -> String {
    let Readers { grants, tokens } = readers;
    match actor {
        Actor::User(username) => {
            let held = grants.get(username).map_or(&[][..], Vec::as_slice);
            match decide(held, Operation::ReadVoters, lineage, time) {
                Decision::Allowed { role, .. } => role.title().to_owned(),
                Decision::Denied => "former role".to_owned(),
            }
        }
        Actor::Token(id) => match tokens.get(id) {
            Some(role) => format!("{} (API token)", role.title()),
            None => "API token".to_owned(),
        },
        Actor::Operator => "node operator".to_owned(),
        Actor::System => "the node itself".to_owned(),
        Actor::Anonymous => "anonymous".to_owned(),
    }
}

/// Who could read: each account's grants, each token's role.
struct Readers {
    grants: BTreeMap<Username, Vec<Grant>>,
    tokens: BTreeMap<String, canvass_core::access::StaffRole>,
}

pub async fn statistics(store: &dyn Store, jurisdiction: &JurisdictionId) -> Result<LedgerStatistics, ServerError> {
    let mut grants: BTreeMap<Username, Vec<Grant>> = BTreeMap::new();
    for (username, grant) in store.all_grants().await? {
        grants.entry(username).or_default().push(grant);
    }
    let tokens = store.api_tokens().await?.into_iter().map(|token| (token.id, token.role)).collect();
    let readers = Readers { grants, tokens };
    let lineage = crate::access::lineage(store, jurisdiction).await?;
    let mut statistics = LedgerStatistics::default();
    for entry in entries(store, Action::VoterRead, jurisdiction).await? {
        let records = entry.targets.iter().filter(|target| target.starts_with("voter:")).count() as u64;
        let month = format!("{:04}-{:02}", entry.time.year(), u8::from(entry.time.month()));
        let role = role_of(&entry.actor, &readers, &lineage, entry.unix_millis());
        *statistics.reads.entry((month, role)).or_default() += records;
    }
    for entry in entries(store, Action::RequestApprove, jurisdiction).await? {
        for id in entry.targets.iter().filter_map(|target| target.strip_prefix("request:")) {
            if let Some(request) = store.request(id).await?
                && is_export(request.kind)
            {
                statistics.exports_approved += 1;
            }
        }
    }
    statistics.break_glass_uses = entries(store, Action::BreakGlass, jurisdiction).await?.len() as u64;
    Ok(statistics)
}

fn is_export(kind: RequestKind) -> bool {
    matches!(kind, RequestKind::ExportVoters | RequestKind::ExportAffectedVoters)
}

/// One jurisdiction's section of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JurisdictionReport {
    pub id: String,
    pub name: String,
    pub incidents: Vec<PublicIncident>,
    pub statistics: LedgerStatistics,
}

/// The whole report, as the pages render it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub node_key: String,
    pub checkpoint: Option<PublicCheckpoint>,
    pub incidents: Vec<PublicIncident>,
    pub jurisdictions: Vec<JurisdictionReport>,
    pub demo: bool,
}

pub async fn report(
    store: &dyn Store,
    node_key: &canvass_crypto::PublicKey,
    demo: bool,
) -> Result<Report, ServerError> {
    let incidents = public_incidents(store).await?;
    let mut jurisdictions = Vec::new();
    let mut all: Vec<Jurisdiction> = store.jurisdictions().await?;
    all.sort_by(|left, right| left.id.as_str().cmp(right.id.as_str()));
    for jurisdiction in all {
        jurisdictions.push(jurisdiction_report(store, &jurisdiction, &incidents).await?);
    }
    Ok(Report { node_key: node_key.to_hex(), checkpoint: checkpoint(store).await?, incidents, jurisdictions, demo })
}

async fn jurisdiction_report(
    store: &dyn Store,
    jurisdiction: &Jurisdiction,
    incidents: &[PublicIncident],
) -> Result<JurisdictionReport, ServerError> {
    let id = jurisdiction.id.as_str();
    Ok(JurisdictionReport {
        id: id.to_owned(),
        name: jurisdiction.name.to_string(),
        incidents: incidents.iter().filter(|incident| incident.jurisdiction.as_deref() == Some(id)).cloned().collect(),
        statistics: statistics(store, &jurisdiction.id).await?,
    })
}

// ---------------------------------------------------------------------------------------------
// The public listener's routes and the static publication

/// The feed's title in readers.
const FEED_TITLE: &str = "Canvass transparency report: security incidents";

/// `/transparency`, a page per jurisdiction, and the feeds, on the public listener.
pub fn router() -> axum::Router<crate::Node> {
    use axum::routing::get;
    axum::Router::new()
        .route("/transparency", get(index))
        .route("/transparency/", get(index))
        .route("/transparency/feed.json", get(feed_json))
        .route("/transparency/feed.json.sig", get(feed_signature))
        .route("/transparency/feed.atom", get(feed_atom))
        .route("/transparency/node_key.txt", get(node_key))
        .route("/transparency/{jurisdiction}", get(jurisdiction))
}

type Page = Result<maud::Markup, crate::pages::PageError>;

async fn index(axum::extract::State(node): axum::extract::State<crate::Node>) -> Page {
    let report = report(node.store(), &node.public_key(), node.is_demo()).await?;
    Ok(crate::transparency_site::index_page(&report, crate::transparency_site::Links::Live))
}

async fn jurisdiction(
    axum::extract::State(node): axum::extract::State<crate::Node>,
    crate::api::ApiPath(id): crate::api::ApiPath<String>,
) -> Page {
    let id = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let found = node
        .store()
        .jurisdiction(&id)
        .await?
        .ok_or_else(|| ServerError::NotFound("There is no such jurisdiction on this node.".into()))?;
    let incidents = public_incidents(node.store()).await?;
    let section = jurisdiction_report(node.store(), &found, &incidents).await?;
    let report = Report {
        node_key: node.public_key().to_hex(),
        checkpoint: checkpoint(node.store()).await?,
        incidents,
        jurisdictions: Vec::new(),
        demo: node.is_demo(),
    };
    Ok(crate::transparency_site::jurisdiction_page(&report, &section, crate::transparency_site::Links::Live))
}

fn with_type(body: impl axum::response::IntoResponse, content_type: &'static str) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Short: a new incident shows within a minute even behind a cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

async fn current_feed(node: &crate::Node) -> Result<(Vec<u8>, String), ServerError> {
    let feed = feed(&node.public_key(), public_incidents(node.store()).await?);
    signed_feed(&feed, |bytes| node.sign(bytes))
}

async fn feed_json(
    axum::extract::State(node): axum::extract::State<crate::Node>,
) -> Result<axum::response::Response, ServerError> {
    Ok(with_type(current_feed(&node).await?.0, "application/json"))
}

async fn feed_signature(
    axum::extract::State(node): axum::extract::State<crate::Node>,
) -> Result<axum::response::Response, ServerError> {
    Ok(with_type(current_feed(&node).await?.1, "text/plain; charset=utf-8"))
}

async fn feed_atom(
    axum::extract::State(node): axum::extract::State<crate::Node>,
) -> Result<axum::response::Response, ServerError> {
    let feed = feed(&node.public_key(), public_incidents(node.store()).await?);
    Ok(with_type(atom(&feed, FEED_TITLE), "application/atom+xml; charset=utf-8"))
}

async fn node_key(axum::extract::State(node): axum::extract::State<crate::Node>) -> axum::response::Response {
    with_type(crate::results_routes::node_key_text(&node.public_key()), "text/plain; charset=utf-8")
}

/// What `canvass transparency publish` wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WrittenReport {
    pub files: usize,
    pub incidents: usize,
    pub jurisdictions: usize,
}

/// Writes the report as static files into `dir`: `index.html`, a page per jurisdiction,
/// `feed.json` with `feed.json.sig`, `feed.atom`, `node_key.txt` and the stylesheet. Serve the
/// directory as `/transparency/` (or anywhere: every link is relative).
pub async fn write_report(
    store: &dyn Store,
    key: &canvass_crypto::PublicKey,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
    dir: &std::path::Path,
) -> Result<WrittenReport, ServerError> {
    use crate::transparency_site::{Links, index_page, jurisdiction_file, jurisdiction_page};
    let report = report(store, key, false).await?;
    let feed = feed(key, report.incidents.clone());
    let (json, signature) = signed_feed(&feed, sign)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("index.html".to_owned(), index_page(&report, Links::Static).into_string().into_bytes()),
        ("feed.json".to_owned(), json),
        ("feed.json.sig".to_owned(), signature.into_bytes()),
        ("feed.atom".to_owned(), atom(&feed, FEED_TITLE).into_bytes()),
        ("node_key.txt".to_owned(), crate::results_routes::node_key_text(key).into_bytes()),
        ("canvass.css".to_owned(), crate::pages::STYLESHEET.as_bytes().to_vec()),
    ];
    for section in &report.jurisdictions {
        let page = jurisdiction_page(&report, section, Links::Static).into_string();
        files.push((jurisdiction_file(&section.id), page.into_bytes()));
    }
    std::fs::create_dir_all(dir)
        .map_err(|error| ServerError::Invalid(format!("cannot create {}: {error}", dir.display())))?;
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .map_err(|error| ServerError::Invalid(format!("cannot write {}: {error}", path.display())))?;
    }
    Ok(WrittenReport {
        files: files.len(),
        incidents: report.incidents.len(),
        jurisdictions: report.jurisdictions.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(status: &str) -> StoredIncident {
        StoredIncident {
            id: "inc-1".to_owned(),
            jurisdiction: None,
            opened_at: 1_795_000_000_000,
            kind: "bulk_read".to_owned(),
            severity: "high".to_owned(),
            summary: "Staff account mallory tried to read 60 confidential voter records within an hour (limit 50)."
                .to_owned(),
            subject: Some(Username::parse("mallory").unwrap_or_else(|_| unreachable!())),
            records_affected: 40,
            status: status.to_owned(),
            ..StoredIncident::default()
        }
    }

    #[test]
    fn an_open_incident_withholds_its_summary_and_a_closed_one_hides_only_the_account() {
        let open = PublicIncident::of(&incident("open"));
        assert!(open.details_withheld);
        assert!(!open.summary.contains("limit 50") && !open.summary.contains("mallory"), "{}", open.summary);
        assert_eq!(open.opened_at, "2026-11-18T11:06:40Z");
        let closed = PublicIncident::of(&incident("closed"));
        assert!(!closed.details_withheld);
        assert_eq!(
            closed.summary,
            "Staff account [staff account] tried to read 60 confidential voter records within an hour (limit 50)."
        );
        let json = serde_json::to_string(&closed).unwrap_or_default();
        assert!(!json.contains("mallory") && !json.contains("subject"), "{json}");
    }
}
