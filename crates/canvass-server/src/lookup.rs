//! The public "Am I registered?" lookup on the public listener: a voter gives first name, last
//! name, date of birth and county, and learns only whether they are registered, their status,
//! county, precinct and polling place (from the last polling-place import covering it).
//!
//! What it must not leak, and how:
//! - A voter whose address is confidential, or whose registration was removed or denied, gets
//!   the very same answer as someone not on the roll: one "not confirmed" body, byte for byte.
//! - Timing: the same work whatever the outcome, by construction. The county, the unsealed
//!   rings of its lineage, its precincts and polling places come from memory
//!   ([`crate::lookup_cache`]); then, under every unsealed ring, one blind-index query and
//!   exactly [`OPENED_PER_RING`] row openings: the candidates the index returned (it has
//!   deliberate false positives, about two to four rows per value on a roll of its projected
//!   size), and a decoy sealed under the same ring for the rest. A registered voter, a
//!   confidential one and someone not on the roll therefore make the same store query and the
//!   same decryptions; what is left is the one extra row the query returns when the person is
//!   on the roll (microseconds, within the database's own jitter), and a bucket holding more
//!   than [`OPENED_PER_RING`] rows, which is opened whole for anyone whose index value it is.
//!   The response is then held until [`MINIMUM_RESPONSE_TIME`] has passed since the request
//!   arrived, a fixed floor without jitter above the work on an idle node.
//! - Guessing: lookups are limited per client address and per looked-up identity (in memory,
//!   bounded), so dates of birth cannot be walked for a known name.
//! - Records: there is no ledger entry (the answer is public-record status, and an entry per
//!   lookup would let the ledger grow at an anonymous caller's pace), and the names and dates
//!   typed in are never logged: the request log carries no bodies, and nothing here traces them.

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasher, RandomState},
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Extension, Json, Router,
    extract::{
        State,
        rejection::{FormRejection, JsonRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use canvass_core::{
    config::LookupConfig,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind, tree_order},
    normalize,
    voter::VoterStatus,
};
use canvass_formats::ncvoter::PUBLIC_COLUMNS;
use canvass_store::{IndexLookup, SealedVoter, StoredPollingPlace};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, format_description::well_known::Iso8601};

use crate::{
    Node, ServerError, access,
    error::{ErrorBody, ErrorDetail},
    keys::UnsealedRing,
    lookup_cache::{CountyView, LookupCache},
    pages::{PageError, layout},
    places_import, roll,
    voters::Sealer,
};

/// Every lookup answer (and refusal) leaves no sooner than this after the request arrived.
/// The work is already the same for a match and a miss (see the module comment); the floor
/// covers what is not work, such as loading a county's view after a change, and is meant to
/// be above the whole lookup on an idle node, so that an idle node's answers all leave at the
/// floor. Fixed, without jitter: a random delay would only add noise an attacker averages away.
const MINIMUM_RESPONSE_TIME: Duration = Duration::from_millis(5);

/// Rows opened under each readable ring per lookup, candidates first and decoys for the rest:
/// well above the index's two to four expected rows per value, so a found, a confidential
/// and a missing person all open this many.
const OPENED_PER_RING: usize = 16;

/// Lookups from one client address, per `[lookup] per_address_per_minute`.
fn per_address(config: &LookupConfig) -> Limit {
    Limit { count: config.per_address_per_minute as usize, window: Duration::from_secs(60) }
}

/// Lookups of one identity (name, date of birth, county), from anywhere, per `[lookup]
/// per_identity_per_hour`: stops a distributed walk through the dates of birth of a known name.
fn per_identity(config: &LookupConfig) -> Limit {
    Limit { count: config.per_identity_per_hour as usize, window: Duration::from_secs(3600) }
}
/// Keys each limiter table holds at most; past this the longest-idle keys are forgotten first.
const MAX_TRACKED_KEYS: usize = 10_000;

pub(crate) const MAX_NAME_CHARS: usize = 100;

const NOT_CONFIRMED: &str =
    "We could not confirm a registration with these details. Contact your county board of elections.";
const FOUND: &str = "You are registered to vote.";
const POLLING_PLACE_UNKNOWN: &str = "Polling place: see your county board's notice.";
const TITLE: &str = "Am I registered?";

/// The lookup's routes, with their own rate limiter (one per router, so per listener).
pub(crate) fn router() -> Router<Node> {
    Router::new()
        .route("/lookup/registration", get(form_page::<Registration>).post(form_submit::<Registration>))
        .route("/api/public/registration", post(api_lookup::<Registration>))
        .merge(crate::ballot_lookup::routes())
        .layer(Extension(LookupLimiter::default()))
        .layer(Extension(LookupCache::default()))
}

/// The fields as sent; every one optional so a missing one gets a message naming it rather
/// than a deserialiser's error.
#[derive(Default, Deserialize)]
pub(crate) struct LookupFields {
    #[serde(default)]
    pub(crate) first_name: Option<String>,
    #[serde(default)]
    pub(crate) last_name: Option<String>,
    #[serde(default)]
    pub(crate) birth_date: Option<String>,
    #[serde(default)]
    pub(crate) county: Option<String>,
}

/// Redacted: these are a person's name and date of birth.
impl std::fmt::Debug for LookupFields {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("LookupFields").finish_non_exhaustive()
    }
}

/// A lookup's parsed input: names with at least one letter, a plausible date of birth, and a
/// county this node hosts.
pub(crate) struct Identity {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) birth_date: Date,
    /// The county and what the lookup reads besides the voter's rows.
    pub(crate) view: Arc<CountyView>,
}

impl Identity {
    pub(crate) fn county(&self) -> &Jurisdiction {
        &self.view.county
    }
}

/// Voter-row queries and row openings one lookup made: the same for every outcome, and
/// counted in the node's metrics so that tests and operators can see it. (Loading a county's
/// view is not counted: it depends on changes to the county, never on who is looked up.)
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Work {
    pub(crate) queries: u64,
    pub(crate) openings: u64,
}

/// The answer, the same keys whatever the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RegistrationAnswer {
    registered: bool,
    /// active, inactive or temporary; null when not confirmed.
    status: Option<&'static str>,
    county: Option<String>,
    precinct: Option<String>,
    /// Where the voter's precinct votes on election day; null when not confirmed or when no
    /// import has given the precinct a place.
    polling_place: Option<PollingPlaceAnswer>,
    message: &'static str,
}

/// A polling place as the public sees it: all public data from the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct PollingPlaceAnswer {
    /// The place's name, or its address when the feed gives no name.
    name: String,
    address: String,
    hours: Option<String>,
    directions: Option<String>,
}

impl PollingPlaceAnswer {
    fn of(place: &StoredPollingPlace) -> Self {
        Self {
            name: place.name.clone().unwrap_or_else(|| place.address.clone()),
            address: place.address.clone(),
            hours: place.hours.clone(),
            directions: place.directions.clone(),
        }
    }
}

impl RegistrationAnswer {
    fn not_confirmed() -> Self {
        Self {
            registered: false,
            status: None,
            county: None,
            precinct: None,
            polling_place: None,
            message: NOT_CONFIRMED,
        }
    }
}

/// Why a lookup gave no answer.
pub(crate) enum LookupError {
    /// A field is missing or malformed: safe to say which and why.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Too many lookups; try again after this long.
    Throttled(Duration),
    /// No key ring of the county's lineage is unsealed, so its roll cannot be read.
    Unavailable,
    Failed(ServerError),
}

impl From<ServerError> for LookupError {
    fn from(error: ServerError) -> Self {
        Self::Failed(error)
    }
}

impl From<canvass_store::StoreError> for LookupError {
    fn from(error: canvass_store::StoreError) -> Self {
        Self::Failed(error.into())
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> LookupError {
    LookupError::Invalid { field, message: message.into() }
}

const UNAVAILABLE: &str =
    "Lookups for this county are not available right now. Try again later or contact your county board of elections.";

pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    // Rounded up, and at least 1: "0" would invite an immediate retry that is refused again.
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

pub(crate) fn too_many(wait: Duration) -> String {
    format!("Too many lookups. Try again in {} seconds.", retry_after_seconds(wait))
}

impl IntoResponse for LookupError {
    fn into_response(self) -> Response {
        match self {
            Self::Invalid { field, message } => ServerError::Invalid(format!("{field}: {message}")).into_response(),
            Self::Throttled(wait) => {
                let body =
                    ErrorBody { error: ErrorDetail { code: "too_many_attempts".to_owned(), message: too_many(wait) } };
                let retry_after = HeaderValue::from(retry_after_seconds(wait));
                (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry_after)], Json(body)).into_response()
            }
            Self::Unavailable => {
                let body =
                    ErrorBody { error: ErrorDetail { code: "unavailable".to_owned(), message: UNAVAILABLE.into() } };
                (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
            }
            Self::Failed(error) => error.into_response(),
        }
    }
}

/// A name as typed: trimmed, not too long, with at least one letter (what the index keeps).
fn parse_name(field: &'static str, label: &str, value: Option<&str>) -> Result<String, LookupError> {
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(invalid(field, format!("enter your {label}")));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(field, format!("the {label} is longer than {MAX_NAME_CHARS} characters")));
    }
    if value.chars().any(char::is_control) || normalize::name(value).is_empty() {
        return Err(invalid(field, format!("the {label} must contain letters")));
    }
    Ok(value.to_owned())
}

/// `YYYY-MM-DD` exactly (ISO 8601 allows other shapes this form does not), not in the future
/// and not before 1900.
pub(crate) fn parse_birth_date(value: Option<&str>) -> Result<Date, LookupError> {
    const SHAPE: &str = "use the form YYYY-MM-DD, for example 1980-04-30";
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(invalid("birth_date", format!("enter your date of birth ({SHAPE})")));
    }
    let shaped = value.len() == 10
        && value
            .bytes()
            .enumerate()
            .all(|(at, byte)| if at == 4 || at == 7 { byte == b'-' } else { byte.is_ascii_digit() });
    let date = shaped
        .then(|| Date::parse(value, &Iso8601::DATE).ok())
        .flatten()
        .ok_or_else(|| invalid("birth_date", format!("`{value}` is not a date: {SHAPE}")))?;
    if date > OffsetDateTime::now_utc().date() || date.year() < 1900 {
        return Err(invalid("birth_date", "the date of birth must be between 1900 and today"));
    }
    Ok(date)
}

async fn parse_county(node: &Node, cache: &LookupCache, value: Option<&str>) -> Result<Arc<CountyView>, LookupError> {
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(invalid("county", "choose your county"));
    }
    let unknown = || invalid("county", format!("there is no county `{value}` on this node"));
    let id = JurisdictionId::parse(value).map_err(|_| unknown())?;
    cache.county(node, &id).await?.ok_or_else(unknown)
}

async fn parse(node: &Node, cache: &LookupCache, fields: &LookupFields) -> Result<Identity, LookupError> {
    Ok(Identity {
        first_name: parse_name("first_name", "first name", fields.first_name.as_deref())?,
        last_name: parse_name("last_name", "last name", fields.last_name.as_deref())?,
        birth_date: parse_birth_date(fields.birth_date.as_deref())?,
        view: parse_county(node, cache, fields.county.as_deref()).await?,
    })
}

/// What a lookup opens of a row: the same four sealed fields of every row, decoys included
/// (a row sealed by a voter-file import always has them; the lookup index exists only for rows
/// with a date of birth).
pub(crate) struct Candidate {
    pub(crate) registration_number: String,
    county: String,
    precinct: String,
    status: VoterStatus,
    first_name: String,
    last_name: String,
    birth_date: Option<Date>,
    pub(crate) address_confidential: bool,
}

/// The column of the public-record details that marks an address-confidential voter.
fn confidential_column() -> Option<usize> {
    PUBLIC_COLUMNS.iter().position(|column| *column == "confidential_ind")
}

fn open_candidate(ring: &UnsealedRing, sealed: &SealedVoter) -> Result<Candidate, ServerError> {
    let sealer = Sealer { ring, record: &sealed.registration_number, version: sealed.key_version };
    let details = sealed.fields.details.as_ref().map(|details| sealer.open("details", details)).transpose()?;
    let address_confidential = match (details, confidential_column()) {
        (Some(details), Some(column)) => {
            details.split('\t').nth(column).is_some_and(|value| value.eq_ignore_ascii_case("y"))
        }
        _ => false,
    };
    let birth_date = sealed.fields.birth_date.as_ref().map(|date| sealer.open("birth_date", date)).transpose()?;
    Ok(Candidate {
        registration_number: sealed.registration_number.clone(),
        county: sealed.county.to_string(),
        precinct: sealed.precinct.to_string(),
        status: sealed.status,
        first_name: sealer.open("first_name", &sealed.fields.first_name)?,
        last_name: sealer.open("last_name", &sealed.fields.last_name)?,
        birth_date: birth_date.and_then(|text| Date::parse(&text, &Iso8601::DATE).ok()),
        address_confidential,
    })
}

fn same_person(candidate: &Candidate, identity: &Identity) -> bool {
    candidate.county == identity.county().id.as_str()
        && candidate.birth_date == Some(identity.birth_date)
        && normalize::name(&candidate.last_name) == normalize::name(&identity.last_name)
        && normalize::name(&candidate.first_name) == normalize::name(&identity.first_name)
}

fn counts_as_registered(status: VoterStatus) -> bool {
    matches!(status, VoterStatus::Active | VoterStatus::Inactive | VoterStatus::Temporary)
}

/// The lookup itself: the same work whatever it finds (see the module comment).
async fn find(node: &Node, identity: &Identity, work: &mut Work) -> Result<RegistrationAnswer, LookupError> {
    let matches = matching_candidates(node, identity, work).await?;
    Ok(answer_for(&identity.view, &matches))
}

/// The rows on the roll that are the looked-up person, after the same work whoever that is:
/// per readable ring one index query and [`OPENED_PER_RING`] openings (decoys making up the
/// rest). `Unavailable` when no ring of the county's lineage is unsealed.
pub(crate) async fn matching_candidates(
    node: &Node,
    identity: &Identity,
    work: &mut Work,
) -> Result<Vec<Candidate>, LookupError> {
    let view = &identity.view;
    if view.rings.is_empty() {
        return Err(LookupError::Unavailable);
    }
    let mut matches: Vec<Candidate> = Vec::new();
    for readable in &view.rings {
        let index = roll::lookup_index(&readable.ring, &identity.last_name, &identity.first_name, identity.birth_date)?;
        let candidates = node.store().voters_by_index(&readable.jurisdiction, IndexLookup::Lookup(index)).await?;
        work.queries += 1;
        let decoys = OPENED_PER_RING.saturating_sub(candidates.len());
        let rows =
            candidates.iter().map(|row| (row, false)).chain(std::iter::repeat_n((&readable.decoy, true), decoys));
        for (sealed, is_decoy) in rows {
            work.openings += 1;
            match open_candidate(&readable.ring, sealed) {
                // The decoy is compared too, so that it costs what a candidate costs, and then
                // set aside whatever its values.
                Ok(candidate) => {
                    if same_person(&candidate, identity) && !is_decoy {
                        matches.push(candidate);
                    }
                }
                // One damaged row must not break every lookup sharing its index value; the
                // operator hears of it without the record or the looked-up person.
                Err(_) => {
                    let jurisdiction = &readable.jurisdiction;
                    tracing::warn!(%jurisdiction, "a registration lookup candidate could not be opened");
                }
            }
        }
    }
    Ok(matches)
}

/// The answer for what matched: any address-confidential match answers as a miss (the lookup
/// must not confirm that a protected person lives in this county); otherwise the best
/// registered match, active first.
fn answer_for(view: &CountyView, matches: &[Candidate]) -> RegistrationAnswer {
    if matches.iter().any(|candidate| candidate.address_confidential) {
        return RegistrationAnswer::not_confirmed();
    }
    let best = matches
        .iter()
        .filter(|candidate| counts_as_registered(candidate.status))
        .min_by_key(|candidate| candidate.status != VoterStatus::Active);
    let Some(candidate) = best else { return RegistrationAnswer::not_confirmed() };
    let precinct = view.precinct_names.get(&candidate.precinct).unwrap_or(&candidate.precinct);
    RegistrationAnswer {
        registered: true,
        status: Some(candidate.status.as_str()),
        county: Some(view.county.name.to_string()),
        precinct: Some(precinct.clone()),
        polling_place: places_import::polling_place_for(&view.places, &candidate.precinct).map(PollingPlaceAnswer::of),
        message: FOUND,
    }
}

/// Rate limits on lookups, in memory. Addresses and identities are kept in separate tables so
/// a flood of addresses cannot push identities out (or the reverse). Identities are held as a
/// keyed hash (keys random per process), never as names or dates.
#[derive(Debug, Clone, Default)]
pub(crate) struct LookupLimiter {
    addresses: Arc<Mutex<Window<Option<IpAddr>>>>,
    identities: Arc<Mutex<Window<u64>>>,
    hasher: RandomState,
}

#[derive(Debug, Clone, Copy)]
struct Limit {
    count: usize,
    window: Duration,
}

/// Recent event times per key, for one [`Limit`].
#[derive(Debug)]
struct Window<K> {
    times: HashMap<K, VecDeque<Instant>>,
}

impl<K> Default for Window<K> {
    fn default() -> Self {
        Self { times: HashMap::new() }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Window<K> {
    /// Counts an event for `key` unless it is at its limit; if it is, how long until it is not.
    fn admit(&mut self, key: &K, limit: Limit, now: Instant) -> Result<(), Duration> {
        if !self.times.contains_key(key) && self.times.len() >= MAX_TRACKED_KEYS {
            self.forget(limit, now);
        }
        let times = self.times.entry(key.clone()).or_default();
        while times.front().is_some_and(|time| now.duration_since(*time) >= limit.window) {
            times.pop_front();
        }
        if times.len() >= limit.count {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(limit.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }

    /// Drops keys with nothing inside the window; if the table is still full (a flood of
    /// distinct keys), the longest-idle quarter goes too, so memory stays bounded.
    fn forget(&mut self, limit: Limit, now: Instant) {
        self.times.retain(|_, times| times.back().is_some_and(|time| now.duration_since(*time) < limit.window));
        if self.times.len() >= MAX_TRACKED_KEYS {
            let mut last_seen: Vec<(Instant, K)> =
                self.times.iter().filter_map(|(key, times)| times.back().map(|time| (*time, key.clone()))).collect();
            last_seen.sort_by_key(|(time, _)| *time);
            for (_, key) in last_seen.into_iter().take(MAX_TRACKED_KEYS / 4) {
                self.times.remove(&key);
            }
        }
    }
}

impl LookupLimiter {
    pub(crate) fn admit_address(&self, config: &LookupConfig, address: Option<IpAddr>) -> Result<(), LookupError> {
        // A poisoned lock only means another lookup panicked mid-count; the counts are still
        // usable, and refusing every lookup from then on would be worse.
        let mut window = self.addresses.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        window.admit(&address, per_address(config), Instant::now()).map_err(LookupError::Throttled)
    }

    fn admit_identity(&self, config: &LookupConfig, identity: &Identity) -> Result<(), LookupError> {
        let key = self.hasher.hash_one((
            normalize::name(&identity.last_name),
            normalize::name(&identity.first_name),
            normalize::date(identity.birth_date),
            identity.county().id.as_str(),
        ));
        let mut window = self.identities.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        window.admit(&key, per_identity(config), Instant::now()).map_err(LookupError::Throttled)
    }
}

/// The client's address: the connection's peer, or, when the peer is the configured reverse
/// proxy, the last `X-Forwarded-For` entry (the one that proxy added). `None` when the router
/// runs without connection info (tests driving it in-process): all such requests then share
/// one address bucket.
pub(crate) fn client_address(node: &Node, extensions: &axum::http::Extensions, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = access::peer_address(extensions)?;
    if node.config().public.behind_proxy != Some(peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|last| last.trim().parse::<IpAddr>().ok());
    Some(forwarded.unwrap_or(peer))
}

/// What differs between the public lookup pages ("Am I registered?", "Did my ballot count?"):
/// the search and the markup. Everything else (the rate limits, parsing, the padding, the work
/// counted in the metrics, the error pages) is one piece of code, so both pages keep the same
/// not-found rule and the same timing by construction.
pub(crate) trait PublicLookup: Send + Sync + 'static {
    type Answer: Serialize + Send;
    const TITLE: &'static str;
    /// What a form post that cannot be read is told.
    const WRONG_FORM: &'static str;
    /// Looks the identity up, counting the store queries and openings in `work`.
    fn find(
        node: &Node,
        identity: &Identity,
        work: &mut Work,
    ) -> impl Future<Output = Result<Self::Answer, LookupError>> + Send;
    fn form(counties: &[Jurisdiction], fields: &LookupFields, message: Option<&str>) -> Markup;
    /// The answer's page: it depends only on the answer, never on what was typed.
    fn result_page(answer: &Self::Answer) -> Markup;
}

/// "Am I registered?".
pub(crate) struct Registration;

impl PublicLookup for Registration {
    type Answer = RegistrationAnswer;
    const TITLE: &'static str = TITLE;
    const WRONG_FORM: &'static str = "send the form from the lookup page";

    async fn find(node: &Node, identity: &Identity, work: &mut Work) -> Result<RegistrationAnswer, LookupError> {
        find(node, identity, work).await
    }

    fn form(counties: &[Jurisdiction], fields: &LookupFields, message: Option<&str>) -> Markup {
        form(counties, fields, message)
    }

    fn result_page(answer: &RegistrationAnswer) -> Markup {
        result_page(answer)
    }
}

/// Rate limits, parsing and the lookup, in that order: the per-address limit counts every
/// attempt, even malformed ones.
async fn answer<L: PublicLookup>(
    node: &Node,
    limiter: &LookupLimiter,
    cache: &LookupCache,
    address: Option<IpAddr>,
    fields: &LookupFields,
) -> Result<L::Answer, LookupError> {
    let mut work = Work::default();
    let result = async {
        let limits = &node.config().lookup;
        limiter.admit_address(limits, address)?;
        let identity = parse(node, cache, fields).await?;
        limiter.admit_identity(limits, &identity)?;
        L::find(node, &identity, &mut work).await
    }
    .await;
    node.metrics().record_lookup(work.queries, work.openings);
    result
}

/// Holds the response until the minimum time since `started` has passed.
async fn pad(started: Instant) {
    tokio::time::sleep_until((started + MINIMUM_RESPONSE_TIME).into()).await;
}

/// `POST /api/public/registration` and `/api/public/ballot`: JSON in, the answer out.
pub(crate) async fn api_lookup<L: PublicLookup>(
    State(node): State<Node>,
    Extension(limiter): Extension<LookupLimiter>,
    Extension(cache): Extension<LookupCache>,
    parts: axum::http::request::Parts,
    body: Result<Json<LookupFields>, JsonRejection>,
) -> Response {
    let started = Instant::now();
    let address = client_address(&node, &parts.extensions, &parts.headers);
    let result = match body {
        Ok(Json(fields)) => answer::<L>(&node, &limiter, &cache, address, &fields).await,
        Err(rejection) => match limiter.admit_address(&node.config().lookup, address) {
            Ok(()) => Err(LookupError::Failed(rejection.into())),
            Err(throttled) => Err(throttled),
        },
    };
    pad(started).await;
    match result {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The counties a voter may choose, in tree order (state by state).
async fn counties(node: &Node) -> Result<Vec<Jurisdiction>, ServerError> {
    let all = node.store().jurisdictions().await?;
    Ok(tree_order(&all)
        .into_iter()
        .filter(|(_, jurisdiction)| jurisdiction.kind == JurisdictionKind::County)
        .map(|(_, jurisdiction)| jurisdiction.clone())
        .collect())
}

fn form(counties: &[Jurisdiction], fields: &LookupFields, message: Option<&str>) -> Markup {
    let value = |field: &Option<String>| field.clone().unwrap_or_default();
    let chosen = fields.county.as_deref().unwrap_or_default();
    html! {
        h1 { (TITLE) }
        p { "Check whether you are registered to vote, in which precinct, and where you vote. Enter your name as it
            appears on your registration. We show only your registration status, county, precinct and polling place;
            nothing you type here is kept." }
        @if let Some(message) = message { p.error role="alert" { (message) } }
        form method="post" action="/lookup/registration" {
            p { label for="first_name" { "First name" } br;
                input id="first_name" name="first_name" autocomplete="given-name" maxlength=(MAX_NAME_CHARS) required value=(value(&fields.first_name)); }
            p { label for="last_name" { "Last name" } br;
                input id="last_name" name="last_name" autocomplete="family-name" maxlength=(MAX_NAME_CHARS) required value=(value(&fields.last_name)); }
            p { label for="birth_date" { "Date of birth" } br;
                input id="birth_date" name="birth_date" type="date" autocomplete="bday" required value=(value(&fields.birth_date)); }
            p { label for="county" { "County" } br;
                select id="county" name="county" required {
                    option value="" { "Choose your county" }
                    @for county in counties {
                        option value=(county.id) selected[county.id.as_str() == chosen] { (county.name) }
                    }
                }
            }
            p { button type="submit" { "Look up my registration" } }
        }
        p { a href="/lookup/ballot" { "Did my ballot count?" } " Check whether your absentee or provisional ballot counted." }
    }
}

/// The result page: its markup depends only on the answer, never on what was typed, so every
/// "not confirmed" page is the same bytes.
fn result_page(answer: &RegistrationAnswer) -> Markup {
    html! {
        h1 { (TITLE) }
        @if answer.registered {
            p role="status" { strong { (answer.message) } }
            table {
                tbody {
                    tr { th { "Status" } td { (answer.status.unwrap_or_default()) } }
                    tr { th { "County" } td { (answer.county.as_deref().unwrap_or_default()) } }
                    tr { th { "Precinct" } td { (answer.precinct.as_deref().unwrap_or_default()) } }
                }
            }
            @match &answer.polling_place {
                Some(place) => {
                    h2 { "Your polling place on election day" }
                    p.polling-place {
                        strong { (place.name) } br;
                        (place.address)
                        @if let Some(hours) = &place.hours { br; "Hours: " (hours) }
                        @if let Some(directions) = &place.directions { br; (directions) }
                    }
                }
                None => p { (POLLING_PLACE_UNKNOWN) },
            }
        } @else {
            p role="status" { (answer.message) }
        }
        p { a href="/lookup/registration" { "Look up another registration" } }
        p { a href="/lookup/ballot" { "Did my ballot count?" } }
    }
}

/// `GET /lookup/registration` and `/lookup/ballot`: the form.
pub(crate) async fn form_page<L: PublicLookup>(State(node): State<Node>) -> Result<Markup, PageError> {
    let counties = counties(&node).await?;
    Ok(layout(L::TITLE, node.is_demo(), L::form(&counties, &LookupFields::default(), None)))
}

/// `POST /lookup/registration` and `/lookup/ballot`: the answer as a page, or the form again
/// with what to fix.
pub(crate) async fn form_submit<L: PublicLookup>(
    State(node): State<Node>,
    Extension(limiter): Extension<LookupLimiter>,
    Extension(cache): Extension<LookupCache>,
    parts: axum::http::request::Parts,
    body: Result<axum::Form<LookupFields>, FormRejection>,
) -> Response {
    let started = Instant::now();
    let address = client_address(&node, &parts.extensions, &parts.headers);
    let (fields, result) = match body {
        Ok(axum::Form(fields)) => {
            let result = answer::<L>(&node, &limiter, &cache, address, &fields).await;
            (fields, result)
        }
        Err(_) => {
            let result = match limiter.admit_address(&node.config().lookup, address) {
                Ok(()) => Err(invalid("form", L::WRONG_FORM)),
                Err(throttled) => Err(throttled),
            };
            (LookupFields::default(), result)
        }
    };
    pad(started).await;
    match result {
        Ok(answer) => layout(L::TITLE, node.is_demo(), L::result_page(&answer)).into_response(),
        Err(LookupError::Invalid { message, .. }) => {
            form_again::<L>(&node, StatusCode::BAD_REQUEST, &fields, &sentence(&message)).await
        }
        Err(LookupError::Throttled(wait)) => {
            let page =
                layout(L::TITLE, node.is_demo(), html! { h1 { (L::TITLE) } p.error role="alert" { (too_many(wait)) } });
            let retry_after = HeaderValue::from(retry_after_seconds(wait));
            (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry_after)], page).into_response()
        }
        Err(LookupError::Unavailable) => {
            form_again::<L>(&node, StatusCode::SERVICE_UNAVAILABLE, &fields, UNAVAILABLE).await
        }
        Err(LookupError::Failed(error)) => PageError(error).into_response(),
    }
}

/// The form again, filled in as sent, with what to fix.
async fn form_again<L: PublicLookup>(
    node: &Node,
    status: StatusCode,
    fields: &LookupFields,
    message: &str,
) -> Response {
    match counties(node).await {
        Ok(counties) => {
            (status, layout(L::TITLE, node.is_demo(), L::form(&counties, fields, Some(message)))).into_response()
        }
        Err(error) => PageError(error).into_response(),
    }
}

/// A field message as a sentence for the page ("enter your first name" -> "Enter your first name.").
fn sentence(message: &str) -> String {
    let mut characters = message.chars();
    let mut text: String =
        characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_never_zero() {
        assert_eq!(retry_after_seconds(Duration::from_millis(0)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(300)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(59)), 59);
        assert_eq!(retry_after_seconds(Duration::from_millis(59_001)), 60);
    }

    #[test]
    fn a_window_refuses_past_its_limit_and_admits_again_once_it_slides() {
        let limit = Limit { count: 2, window: Duration::from_secs(60) };
        let mut window = Window::default();
        let start = Instant::now();
        assert!(window.admit(&1_u64, limit, start).is_ok());
        assert!(window.admit(&1_u64, limit, start).is_ok());
        let wait = window.admit(&1_u64, limit, start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(window.admit(&2_u64, limit, start).is_ok(), "other keys are counted apart");
        assert!(window.admit(&1_u64, limit, start + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn a_window_never_holds_more_than_its_bound() {
        let limit = Limit { count: 5, window: Duration::from_secs(3600) };
        let mut window = Window::default();
        let now = Instant::now();
        for key in 0..(MAX_TRACKED_KEYS as u64 * 2) {
            assert!(window.admit(&key, limit, now).is_ok());
            assert!(window.times.len() <= MAX_TRACKED_KEYS);
        }
    }

    #[test]
    fn birth_dates_must_be_plain_iso_dates_in_range() {
        assert!(parse_birth_date(Some("1980-04-30")).is_ok());
        for bad in ["", "1980-4-30", "30/04/1980", "1980-02-30", "1899-12-31", "9999-01-01", "+01980-04-30"] {
            assert!(
                matches!(parse_birth_date(Some(bad)), Err(LookupError::Invalid { field: "birth_date", .. })),
                "{bad}"
            );
        }
    }
}
