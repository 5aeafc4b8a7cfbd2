//! Published results on the public listener, from memory. `GET /results/` (the archive),
//! `/results/{election}/` and `/results/{election}/current.json` (the pointer, short cache),
//! `/results/{election}/s/{sequence}/{path}` (immutable, cached for a year), and the node's
//! key and archive index for verifiers. Every body is prepared at publication in identity, gzip
//! and brotli; a request picks one by `Accept-Encoding` (br, then gzip, then identity), answers
//! `If-None-Match` with 304, and does no store I/O and no copying of a body: [`HotResults`] is
//! an `Arc` map swapped whole when a snapshot is published. A snapshot not in memory (an old one
//! after a restart) is loaded from the store once. Paths are looked up as map keys, never on a
//! file system, so no path can reach outside a snapshot.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, RwLock},
};

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use canvass_core::id::ElectionId;
use canvass_store::{SnapshotHeader, StoredBody, StoredSnapshot};
use maud::{DOCTYPE, Markup, html};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Node, ServerError,
    metrics::HotRoute,
    pages::PageError,
    results_publish::{MANIFEST, SIGNATURE, hex, sha256_hex},
};

/// Snapshots never change: caches may keep them for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The pointer, the election's page and the archive move with every publication.
pub const SHORT: &str = "public, max-age=5";

/// The public listener's policy plus the results pages' own script, which fetches the pointer
/// and the next snapshot's page from the same origin (the security layer keeps a policy a
/// handler set).
const RESULTS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<Node> {
    Router::new()
        .route("/results/", get(archive))
        .route("/results/index.json", get(archive_index))
        .route("/results/node_key.txt", get(node_key))
        .route(HotRoute::Landing.template(), get(landing))
        .route(HotRoute::Pointer.template(), get(pointer))
        .route(HotRoute::SnapshotRoot.template(), get(snapshot_root))
        .route(HotRoute::SnapshotFile.template(), get(snapshot_file))
}

/// A GET or HEAD of an election's page, pointer or snapshot file that is in memory, answered
/// as its route's handler would answer it but without waiting on anything: the public
/// listener's hot path ([`crate::hot_path`]). `None` leaves the request to the router, which
/// also loads what is not in memory and answers what does not exist.
pub(crate) fn answer_from_memory(
    node: &Node,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<(HotRoute, Response)> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    // Snapshot paths are plain ASCII: an escaped path is the router's to decode.
    let (election, rest) = path.strip_prefix("/results/")?.split_once('/')?;
    if election.is_empty() || path.contains('%') {
        return None;
    }
    let hot = node.results().read().elections.get(election)?.clone();
    match rest {
        "" => Some((HotRoute::Landing, serve(method, headers, &hot.landing, SHORT))),
        "current.json" => Some((HotRoute::Pointer, serve(method, headers, &hot.pointer, SHORT))),
        _ => {
            let (sequence, file) = rest.strip_prefix("s/")?.split_once('/')?;
            let snapshot = hot.snapshots.get(&sequence.parse().ok()?)?;
            let route = if file.is_empty() { HotRoute::SnapshotRoot } else { HotRoute::SnapshotFile };
            let served = snapshot.files.get(index_of(file).as_ref())?;
            Some((route, serve(method, headers, served, IMMUTABLE)))
        }
    }
}

/// A directory's page is its index.html, as a static server would serve it.
fn index_of(path: &str) -> std::borrow::Cow<'_, str> {
    if path.is_empty() || path.ends_with('/') { format!("{path}index.html").into() } else { path.into() }
}

// ---------------------------------------------------------------------------------------------
// What is kept in memory

/// One body in the three encodings it is served in, with its headers made once.
#[derive(Debug)]
pub struct ServedFile {
    content_type: HeaderValue,
    etag: HeaderValue,
    gzip_etag: HeaderValue,
    brotli_etag: HeaderValue,
    identity: Bytes,
    gzip: Bytes,
    brotli: Bytes,
}

impl ServedFile {
    fn new(sha256: &str, content_type: &str, identity: Bytes, gzip: Bytes, brotli: Bytes) -> Result<Self, ServerError> {
        let header = |text: String| {
            HeaderValue::from_str(&text).map_err(|_| ServerError::Internal("a snapshot header is not valid".into()))
        };
        Ok(Self {
            content_type: header(content_type.to_owned())?,
            etag: header(format!("\"{sha256}\""))?,
            gzip_etag: header(format!("\"{sha256}.gz\""))?,
            brotli_etag: header(format!("\"{sha256}.br\""))?,
            identity,
            gzip,
            brotli,
        })
    }

    fn from_stored(body: StoredBody, content_type: &str) -> Result<Self, ServerError> {
        Self::new(&body.sha256, content_type, body.identity.into(), body.gzip.into(), body.brotli.into())
    }

    /// A file made at install time (the manifest, the pointer): compressed here, once.
    fn made(content_type: &str, body: Vec<u8>) -> Result<Self, ServerError> {
        let sha256 = sha256_hex(&body);
        let gzip = crate::results_publish::gzip(&body)?;
        let brotli = crate::results_publish::brotli(&body)?;
        Self::new(&sha256, content_type, body.into(), gzip.into(), brotli.into())
    }
}

#[derive(Debug)]
struct HotSnapshot {
    files: HashMap<String, Arc<ServedFile>>,
}

#[derive(Debug)]
struct HotElection {
    current: SnapshotHeader,
    pointer: Arc<ServedFile>,
    landing: Arc<ServedFile>,
    snapshots: BTreeMap<u64, Arc<HotSnapshot>>,
}

#[derive(Debug, Default)]
struct HotSite {
    archive: Option<Arc<ServedFile>>,
    archive_index: Option<Arc<ServedFile>>,
    elections: HashMap<String, Arc<HotElection>>,
}

/// The node's published results in memory.
#[derive(Debug, Default)]
pub struct HotResults {
    site: RwLock<Arc<HotSite>>,
    /// Publications and loads change the map one at a time.
    writer: tokio::sync::Mutex<()>,
    /// The counties' precinct-level files last rendered, reused while their returns stand.
    memo: crate::results_publish::RenderMemo,
}

impl HotResults {
    pub(crate) fn memo(&self) -> &crate::results_publish::RenderMemo {
        &self.memo
    }

    fn read(&self) -> Arc<HotSite> {
        match self.site.read() {
            Ok(site) => site.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn swap(&self, site: HotSite) {
        let site = Arc::new(site);
        match self.site.write() {
            Ok(mut slot) => *slot = site,
            Err(poisoned) => *poisoned.into_inner() = site,
        }
    }

    /// Makes a just-stored snapshot current: its files (new bodies as given, the others shared
    /// with the snapshots in memory or read from the store), the pointer, the election's page
    /// and the archive.
    pub(crate) async fn install(
        &self,
        node: &Node,
        snapshot: &StoredSnapshot,
        new_bodies: Vec<StoredBody>,
    ) -> Result<(), ServerError> {
        let _guard = self.writer.lock().await;
        let site = self.read();
        let election_key = snapshot.header.election.as_str().to_owned();
        let mut fresh: HashMap<String, StoredBody> =
            new_bodies.into_iter().map(|body| (body.sha256.clone(), body)).collect();
        let known = site.elections.get(&election_key).map(|election| known_files(election)).unwrap_or_default();
        let hot = hot_snapshot(node, snapshot, &mut fresh, &known).await?;
        let mut snapshots =
            site.elections.get(&election_key).map(|election| election.snapshots.clone()).unwrap_or_default();
        snapshots.insert(snapshot.header.sequence, Arc::new(hot));
        let current = match site.elections.get(&election_key) {
            Some(election) if election.current.sequence > snapshot.header.sequence => election.current.clone(),
            _ => snapshot.header.clone(),
        };
        let election = HotElection {
            pointer: Arc::new(ServedFile::made(crate::site_file::JSON, pointer_json(&current))?),
            landing: Arc::new(ServedFile::made(
                crate::site_file::HTML,
                landing_html(&current).into_string().into_bytes(),
            )?),
            current,
            snapshots,
        };
        let mut elections = site.elections.clone();
        elections.insert(election_key, Arc::new(election));
        let headers = node.store().latest_results_snapshots().await?;
        let archive =
            Arc::new(ServedFile::made(crate::site_file::HTML, archive_html(&headers).into_string().into_bytes())?);
        let archive_index = Arc::new(ServedFile::made(crate::site_file::JSON, archive_json(&headers))?);
        self.swap(HotSite { archive: Some(archive), archive_index: Some(archive_index), elections });
        Ok(())
    }

    /// Loads an election's snapshot from the store into memory (after a restart); its latest
    /// too, so the pointer is right.
    async fn load(&self, node: &Node, election: &ElectionId, sequence: Option<u64>) -> Result<bool, ServerError> {
        let headers = node.store().results_snapshots(election).await?;
        let Some(latest) = headers.last() else { return Ok(false) };
        let wanted: Vec<u64> = match sequence {
            Some(sequence) if headers.iter().any(|header| header.sequence == sequence) => {
                vec![latest.sequence, sequence]
            }
            Some(_) => return Ok(false),
            None => vec![latest.sequence],
        };
        for sequence in wanted {
            let loaded =
                self.read().elections.get(election.as_str()).is_some_and(|hot| hot.snapshots.contains_key(&sequence));
            if loaded {
                continue;
            }
            let Some(snapshot) = node.store().results_snapshot(election, sequence).await? else { return Ok(false) };
            self.install(node, &snapshot, Vec::new()).await?;
        }
        Ok(true)
    }

    async fn election(&self, node: &Node, election: &str) -> Result<Option<Arc<HotElection>>, ServerError> {
        if let Some(hot) = self.read().elections.get(election) {
            return Ok(Some(hot.clone()));
        }
        let Ok(id) = ElectionId::parse(election) else { return Ok(None) };
        if !self.load(node, &id, None).await? {
            return Ok(None);
        }
        Ok(self.read().elections.get(election).cloned())
    }

    async fn snapshot(
        &self,
        node: &Node,
        election: &str,
        sequence: u64,
    ) -> Result<Option<Arc<HotSnapshot>>, ServerError> {
        let hot = self.election(node, election).await?;
        if let Some(snapshot) = hot.as_ref().and_then(|hot| hot.snapshots.get(&sequence)) {
            return Ok(Some(snapshot.clone()));
        }
        let Ok(id) = ElectionId::parse(election) else { return Ok(None) };
        if hot.is_none() || !self.load(node, &id, Some(sequence)).await? {
            return Ok(None);
        }
        Ok(self.read().elections.get(election).and_then(|hot| hot.snapshots.get(&sequence).cloned()))
    }

    async fn archive(&self, node: &Node) -> Result<(Arc<ServedFile>, Arc<ServedFile>), ServerError> {
        let site = self.read();
        if let (Some(archive), Some(index)) = (&site.archive, &site.archive_index) {
            return Ok((archive.clone(), index.clone()));
        }
        // After a restart: made once from the store, then kept until the next publication.
        let _guard = self.writer.lock().await;
        let headers = node.store().latest_results_snapshots().await?;
        let archive =
            Arc::new(ServedFile::made(crate::site_file::HTML, archive_html(&headers).into_string().into_bytes())?);
        let index = Arc::new(ServedFile::made(crate::site_file::JSON, archive_json(&headers))?);
        let elections = self.read().elections.clone();
        self.swap(HotSite { archive: Some(archive.clone()), archive_index: Some(index.clone()), elections });
        Ok((archive, index))
    }
}

/// Every body the election's snapshots in memory hold, by hash.
fn known_files(election: &HotElection) -> HashMap<String, Arc<ServedFile>> {
    let mut known = HashMap::new();
    for snapshot in election.snapshots.values() {
        for file in snapshot.files.values() {
            if let Ok(etag) = file.etag.to_str() {
                known.entry(etag.trim_matches('"').to_owned()).or_insert_with(|| file.clone());
            }
        }
    }
    known
}

async fn hot_snapshot(
    node: &Node,
    snapshot: &StoredSnapshot,
    fresh: &mut HashMap<String, StoredBody>,
    known: &HashMap<String, Arc<ServedFile>>,
) -> Result<HotSnapshot, ServerError> {
    let mut files = HashMap::with_capacity(snapshot.files.len() + 2);
    let mut made: HashMap<String, Arc<ServedFile>> = HashMap::new();
    for file in &snapshot.files {
        let served = if let Some(served) = made.get(&file.sha256).or_else(|| known.get(&file.sha256)) {
            if served.content_type.as_bytes() == file.content_type.as_bytes() {
                served.clone()
            } else {
                Arc::new(ServedFile::new(
                    &file.sha256,
                    &file.content_type,
                    served.identity.clone(),
                    served.gzip.clone(),
                    served.brotli.clone(),
                )?)
            }
        } else {
            let body = match fresh.remove(&file.sha256) {
                Some(body) => body,
                None => node.store().results_body(&file.sha256).await?.ok_or_else(|| {
                    ServerError::Internal(format!("snapshot body {} is missing from the store", file.sha256))
                })?,
            };
            Arc::new(ServedFile::from_stored(body, &file.content_type)?)
        };
        made.insert(file.sha256.clone(), served.clone());
        files.insert(file.path.clone(), served);
    }
    files.insert(MANIFEST.to_owned(), Arc::new(ServedFile::made(crate::site_file::JSON, snapshot.manifest.clone())?));
    let signature = format!("{}\n", hex(&snapshot.signature)).into_bytes();
    files.insert(SIGNATURE.to_owned(), Arc::new(ServedFile::made("text/plain; charset=utf-8", signature)?));
    Ok(HotSnapshot { files })
}

// ---------------------------------------------------------------------------------------------
// The files outside snapshots, the same here and in `canvass results publish --to DIR`

/// `{election}/current.json`.
pub fn pointer_json(current: &SnapshotHeader) -> Vec<u8> {
    let published_at = OffsetDateTime::from_unix_timestamp(current.published_at)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default();
    let value = serde_json::json!({
        "election": current.election.as_str(),
        "sequence": current.sequence,
        "published_at": published_at,
        "manifest_sha256": current.manifest_sha256,
        "url": format!("s/{}/", current.sequence),
    });
    value.to_string().into_bytes()
}

/// `{election}/index.html`: sends the reader to the current snapshot (a link, and a refresh
/// that needs no script).
pub fn landing_html(current: &SnapshotHeader) -> Markup {
    let target = format!("s/{}/", current.sequence);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content={ "0; url=" (target) };
                title { (current.election_name) " results" }
            }
            body {
                main {
                    h1 { (current.election_name) " results" }
                    p { a href=(target) { "The latest results (update " (current.sequence) ")" } }
                    p { a href="../" { "Results of other elections" } }
                }
            }
        }
    }
}

/// `index.html`: every election, newest first.
pub fn archive_html(headers: &[SnapshotHeader]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Election results" }
            }
            body {
                main {
                    h1 { "Election results" }
                    @if headers.is_empty() { p { "No results have been published yet." } }
                    ul {
                        @for header in headers {
                            li { a href={ (header.election.as_str()) "/" } { (header.election_name) } " (" (header.election_date) ")" }
                        }
                    }
                }
            }
        }
    }
}

/// `index.json`: what a verifier walks: each election with its latest sequence.
pub fn archive_json(headers: &[SnapshotHeader]) -> Vec<u8> {
    let elections: Vec<serde_json::Value> = headers
        .iter()
        .map(|header| {
            serde_json::json!({
                "id": header.election.as_str(),
                "name": header.election_name,
                "date": header.election_date,
                "sequence": header.sequence,
                "manifest_sha256": header.manifest_sha256,
            })
        })
        .collect();
    serde_json::json!({ "elections": elections }).to_string().into_bytes()
}

/// `node_key.txt`: the node's Ed25519 public key in hex.
pub fn node_key_text(key: &canvass_crypto::PublicKey) -> String {
    format!("{}\n", key.to_hex())
}

// ---------------------------------------------------------------------------------------------
// Handlers

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The best encoding the client accepts: br, then gzip, then identity. A coding with `q=0`
/// is refused; `*` accepts both.
fn negotiate(headers: &HeaderMap) -> Encoding {
    let mut brotli = false;
    let mut gzip = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|parameter| {
                let parameter = parameter.trim();
                parameter.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            if refused {
                continue;
            }
            if coding.eq_ignore_ascii_case("br") {
                brotli = true;
            } else if coding.eq_ignore_ascii_case("gzip") || coding == "*" {
                gzip = true;
                brotli |= coding == "*";
            }
        }
    }
    if brotli {
        Encoding::Brotli
    } else if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn not_modified(headers: &HeaderMap, file: &ServedFile) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        let Ok(text) = value.to_str() else { return false };
        text.split(',').map(str::trim).any(|tag| {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*"
                || [&file.etag, &file.gzip_etag, &file.brotli_etag].iter().any(|etag| etag.as_bytes() == tag.as_bytes())
        })
    })
}

fn serve(method: &Method, headers: &HeaderMap, file: &ServedFile, cache: &'static str) -> Response {
    let encoding = negotiate(headers);
    let (body, etag, coding) = match encoding {
        Encoding::Brotli => (&file.brotli, &file.brotli_etag, Some("br")),
        Encoding::Gzip => (&file.gzip, &file.gzip_etag, Some("gzip")),
        Encoding::Identity => (&file.identity, &file.etag, None),
    };
    // Sized once for these and the security headers added after: this runs for nearly every
    // request on election night, and a map grown header by header reallocates several times.
    let mut answer = HeaderMap::with_capacity(RESPONSE_HEADERS);
    answer.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    answer.insert(header::ETAG, etag.clone());
    answer.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    answer.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    answer.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(RESULTS_CONTENT_SECURITY_POLICY));
    let (status, body) = if not_modified(headers, file) {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        answer.insert(header::CONTENT_TYPE, file.content_type.clone());
        answer.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        if let Some(coding) = coding {
            answer.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        (StatusCode::OK, if method == Method::HEAD { Body::empty() } else { Body::from(body.clone()) })
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = answer;
    response
}

/// The results headers and the security headers together, with room to spare.
const RESPONSE_HEADERS: usize = 16;

fn missing() -> PageError {
    PageError(ServerError::NotFound("There are no published results at this address.".into()))
}

async fn archive(State(node): State<Node>, method: Method, headers: HeaderMap) -> Result<Response, PageError> {
    let (archive, _) = node.results().archive(&node).await.map_err(PageError)?;
    Ok(serve(&method, &headers, &archive, SHORT))
}

async fn archive_index(State(node): State<Node>, method: Method, headers: HeaderMap) -> Result<Response, PageError> {
    let (_, index) = node.results().archive(&node).await.map_err(PageError)?;
    Ok(serve(&method, &headers, &index, SHORT))
}

async fn node_key(State(node): State<Node>) -> Response {
    let mut response = node_key_text(&node.public_key()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(SHORT));
    response
}

async fn landing(
    State(node): State<Node>,
    Path(election): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let hot = node.results().election(&node, &election).await.map_err(PageError)?.ok_or_else(missing)?;
    Ok(serve(&method, &headers, &hot.landing, SHORT))
}

async fn pointer(
    State(node): State<Node>,
    Path(election): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let hot = node.results().election(&node, &election).await.map_err(PageError)?.ok_or_else(missing)?;
    Ok(serve(&method, &headers, &hot.pointer, SHORT))
}

async fn snapshot_root(
    State(node): State<Node>,
    Path((election, sequence)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    file_response(&node, &election, &sequence, "index.html", &method, &headers).await
}

async fn snapshot_file(
    State(node): State<Node>,
    Path((election, sequence, path)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    file_response(&node, &election, &sequence, &path, &method, &headers).await
}

async fn file_response(
    node: &Node,
    election: &str,
    sequence: &str,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let sequence: u64 = sequence.parse().map_err(|_| missing())?;
    let snapshot = node.results().snapshot(node, election, sequence).await.map_err(PageError)?.ok_or_else(missing)?;
    let file = snapshot.files.get(index_of(path).as_ref()).ok_or_else(missing)?;
    Ok(serve(method, headers, file, IMMUTABLE))
}

/// The compressed siblings `publish --to DIR` writes beside each file.
pub fn encodings(body: &StoredBody) -> [(&'static str, &[u8]); 3] {
    [("", &body.identity), (".gz", &body.gzip), (".br", &body.brotli)]
}
