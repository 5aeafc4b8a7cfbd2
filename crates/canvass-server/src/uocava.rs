//! Overseas and military voters (UOCAVA): ballot requests (the FPCA, by public form or VRI
//! import), blank-ballot delivery and the 45-day deadline.
//!
//! Private by construction:
//! - A request takes the voter-file path (`vri_import::import_fpca_registration`: sealed, blind
//!   indexed, a revision, ledger entries); the request row, the delivery rows and every ledger
//!   entry hold the registration number and codes, never a personal value.
//! - A download link is 256 random bits; only its SHA-256 is stored. It works once, until it
//!   expires, and only after the voter's date of birth is checked through the lookup blind
//!   index (and then against the sealed value, since the index is truncated on purpose).
//!   Every download, and every refused attempt, is a ledger entry.
//! - The message with the link is queued in the outbox addressed to `voter:NUMBER`, never to
//!   the voter's (sealed) email address, and its body (the link) is sealed under the voter's
//!   roll's key ring until the outbox sends it (`outbox_seal`).
//! - Every voter of a ballot style gets the same bytes: the PDF depends on the style only.

use std::collections::HashMap;

use canvass_core::{
    absentee_request::{AbsenteePeriod, AbsenteeRequest, ReceiptPreference},
    audit::{Action, now, now_millis},
    ballot_styles::{self, BallotStyle},
    ballots::{AbsenteeStatus, BallotKind, BallotStatus},
    election::Election,
    id::{ElectionId, JurisdictionId},
    results::ElectionDefinition,
    uocava::{Classification, DeadlineStanding, Delivery, send_deadline},
};
use canvass_formats::vri::{BallotPeriod, BallotReceiptMethod, RequestForm, VoterClassificationType};
use canvass_store::{DeliveryMethod, SealedVoter, Store, StoredFwab, StoredUocavaDelivery, StoredUocavaRequest};
use time::{Date, Month, OffsetDateTime};

use crate::{
    ServerError, access,
    ballots::{self, AbsenteeRequestOutcome, BallotRequest, BallotStep},
    keys::{KeyRings, UnsealedRing},
    ledger::{Audit, target},
    voters::Sealer,
    vri_import::{self, ReadRequest, RegistrationChange, VriEncoding, VriSettings},
};

/// How long a download link works unless the office says otherwise.
pub const DEFAULT_LINK_DAYS: i64 = 7;

/// Whether a VRI request is a Federal Post Card Application (it then takes [`receive_fpca`]).
pub fn is_fpca(read: &ReadRequest) -> bool {
    read.request.form == Some(RequestForm::FederalPostCardApplication)
}

/// What receiving an FPCA did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpcaReceipt {
    pub registration_number: String,
    pub change: RegistrationChange,
    pub year: i32,
    pub delivery: Delivery,
    pub classification: Classification,
    /// The absentee ballot of each election on file the request covers.
    pub ballots: Vec<AbsenteeRequestOutcome>,
}

/// The delivery the voter asked for: the first preference Canvass can serve (fax is served by
/// mail: Canvass sends no faxes), mail when none is stated.
fn delivery_of(read: &ReadRequest) -> Delivery {
    let preferences = read.request.ballot_request.as_ref().map(|ballot| ballot.receipt_preferences.as_slice());
    match preferences.unwrap_or_default().first() {
        Some(BallotReceiptMethod::Email) => Delivery::Email,
        Some(BallotReceiptMethod::EmailOrOnline | BallotReceiptMethod::Online) => Delivery::Online,
        Some(BallotReceiptMethod::Mail | BallotReceiptMethod::Fax) | None => Delivery::Mail,
    }
}

/// Military when the voter claims a uniformed-services classification, overseas otherwise.
fn classification_of(read: &ReadRequest) -> Classification {
    use VoterClassificationType::{ActivatedNationalGuard, ActiveDuty, ActiveDutySpouseOrDependent};
    let military = read.request.subject.classifications.iter().any(|class| {
        matches!(class.kind, ActiveDuty | ActiveDutySpouseOrDependent | ActivatedNationalGuard)
            && class.assertion == canvass_formats::vri::Assertion::Yes
    });
    if military { Classification::Military } else { Classification::Overseas }
}

/// The calendar year the request is for: its election's or period's first year, else the year
/// it was made.
fn year_of(read: &ReadRequest) -> i32 {
    match read.request.ballot_request.as_ref().map(|ballot| &ballot.period) {
        Some(BallotPeriod::ElectionBased(election)) => election.start_date.year(),
        Some(BallotPeriod::Temporal { start_date, .. }) => start_date.year(),
        Some(BallotPeriod::Permanent) | None => read.request.generated_date.year(),
    }
}

fn receipt_of(delivery: Delivery) -> ReceiptPreference {
    match delivery {
        Delivery::Mail => ReceiptPreference::Mail,
        Delivery::Email => ReceiptPreference::Email,
        Delivery::Online => ReceiptPreference::Online,
    }
}

/// Receives an FPCA: registers or updates the voter (new voters `temporary`), records the
/// UOCAVA request for the year with its delivery, and an absentee ballot `requested` for each
/// election of that year on file.
pub async fn receive_fpca(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    read: &ReadRequest,
    encoding: VriEncoding,
    settings: &VriSettings,
) -> Result<FpcaReceipt, ServerError> {
    let (registration_number, change) =
        vri_import::import_fpca_registration(store, audit, ring, read, encoding, settings).await?;
    let (delivery, classification, year) = (delivery_of(read), classification_of(read), year_of(read));
    let request = StoredUocavaRequest {
        id: 0,
        registration_number: registration_number.clone(),
        jurisdiction: settings.jurisdiction.clone(),
        year,
        delivery,
        classification,
        received_at: now_millis(),
    };
    let entry = audit.entry(Action::UocavaRequest).with_jurisdiction(&settings.jurisdiction);
    let entry = target(entry, format!("voter:{registration_number}"))?;
    let entry = target(entry, format!("year:{year}"))?;
    let entry = target(entry, format!("delivery:{}", delivery.as_str()))?;
    let entry = target(entry, format!("class:{}", classification.as_str()))?;
    audit.run(entry, async { Ok(store.insert_uocava_request(&request).await?) }).await?;
    let ballots = request_ballots(store, audit, &request).await?;
    Ok(FpcaReceipt { registration_number, change, year, delivery, classification, ballots })
}

/// The absentee ballots a UOCAVA request covers: every election of its year on file.
async fn request_ballots(
    store: &dyn Store,
    audit: &Audit,
    request: &StoredUocavaRequest,
) -> Result<Vec<AbsenteeRequestOutcome>, ServerError> {
    let (Ok(start), Ok(end)) = (
        Date::from_calendar_date(request.year, Month::January, 1),
        Date::from_calendar_date(request.year, Month::December, 31),
    ) else {
        return Err(ServerError::Invalid(format!("year: {} is not a calendar year", request.year)));
    };
    let absentee = AbsenteeRequest {
        jurisdiction: request.jurisdiction.clone(),
        registration_number: request.registration_number.clone(),
        period: AbsenteePeriod::Between { start, end },
        receipt: vec![receipt_of(request.delivery)],
        requested_on: now().date().max(start).min(end),
    };
    ballots::record_absentee_request(store, audit, &absentee).await
}

/// The requests in force for a year: each voter's latest.
pub async fn current_requests(store: &dyn Store, year: i32) -> Result<Vec<StoredUocavaRequest>, ServerError> {
    let mut latest: HashMap<String, StoredUocavaRequest> = HashMap::new();
    for request in store.uocava_requests(year).await? {
        latest.insert(request.registration_number.clone(), request);
    }
    let mut requests: Vec<StoredUocavaRequest> = latest.into_values().collect();
    requests.sort_by_key(|request| request.id);
    Ok(requests)
}

/// The election with its definition; both must exist to send ballots.
async fn election_and_definition(
    store: &dyn Store,
    election: &ElectionId,
) -> Result<(Election, ElectionDefinition), ServerError> {
    let found = store
        .election(election)
        .await?
        .ok_or_else(|| ServerError::UnknownReference(format!("election {election} does not exist")))?;
    let definition = store.election_definition(election).await?.ok_or_else(|| {
        ServerError::UnknownReference(format!(
            "election {election} has no definition (contests by precinct); import it with `canvass elections import`"
        ))
    })?;
    Ok((found, definition))
}

/// Whether the voter votes in the election (their county is in or under its jurisdiction).
async fn votes_in(store: &dyn Store, voter: &SealedVoter, election: &Election) -> Result<bool, ServerError> {
    Ok(access::lineage(store, &voter.county).await?.contains(&election.jurisdiction))
}

/// How a send goes.
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// Where the public listener is reached, for the link (`https://vote.example.gov`).
    pub public_url: String,
    pub link_days: i64,
}

/// One ballot sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Sent {
    pub registration_number: String,
    pub style: String,
    pub delivery: Delivery,
    /// The link, for electronic delivery: shown once here (the demo prints it), stored only as
    /// its hash.
    pub link: Option<String>,
}

// The link is a credential: Debug leaves it out.
impl std::fmt::Debug for Sent {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Sent")
            .field("registration_number", &self.registration_number)
            .field("style", &self.style)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

/// Sends the blank ballot to every request of the election's year not yet served (or only to
/// `voter`): by mail (recorded as sent), or as a one-time link queued in the outbox. Each is a
/// `uocava.send` entry and the absentee ballot's `send` step.
///
/// `rings` must hold the ring of each electronic voter's roll: the message with the link is
/// sealed under it until sent.
pub async fn send_due(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    election: &ElectionId,
    voter: Option<&str>,
    settings: &SendSettings,
) -> Result<Vec<Sent>, ServerError> {
    if settings.link_days < 1 {
        return Err(ServerError::Invalid("link days: a link must work for at least one day".into()));
    }
    let (election, definition) = election_and_definition(store, election).await?;
    let styles = ballot_styles::ballot_styles(&definition);
    let served: Vec<String> =
        store.uocava_deliveries(&election.id).await?.into_iter().map(|delivery| delivery.registration_number).collect();
    let mut requests = current_requests(store, election.date.year()).await?;
    if let Some(number) = voter {
        requests.retain(|request| request.registration_number == number);
        if requests.is_empty() {
            return Err(ServerError::NotFound(format!(
                "voter {number} has no UOCAVA request for {}",
                election.date.year()
            )));
        }
    }
    let mut sent = Vec::new();
    for request in requests.iter().filter(|request| !served.contains(&request.registration_number)) {
        let Some(stored) = store.voter(&request.registration_number).await? else { continue };
        if !votes_in(store, &stored, &election).await? {
            continue;
        }
        let Some(style) = ballot_styles::style_of(&styles, &stored.precinct) else {
            return Err(ServerError::Invalid(format!(
                "voter {}: precinct {} has no ballot style in {} (its definition lists no contest there)",
                request.registration_number, stored.precinct, election.id
            )));
        };
        // The ring is needed before anything is written for this voter: a link is never
        // queued unsealed.
        let ring = if request.delivery.is_electronic() {
            Some(rings.current(store, &stored.jurisdiction).await.map_err(|error| match error {
                ServerError::Sealed(jurisdiction) => ServerError::Refused(format!(
                    "the key ring of {jurisdiction} must be unsealed to send ballot links (the message is sealed under it until sent)"
                )),
                other => other,
            })?)
        } else {
            None
        };
        sent.push(send_one(store, audit, ring.as_deref(), &election, request, style, settings).await?);
    }
    Ok(sent)
}

async fn send_one(
    store: &dyn Store,
    audit: &Audit,
    ring: Option<&UnsealedRing>,
    election: &Election,
    request: &StoredUocavaRequest,
    style: &BallotStyle,
    settings: &SendSettings,
) -> Result<Sent, ServerError> {
    let number = request.registration_number.as_str();
    request_ballots(store, audit, request).await?;
    let sent_at = now_millis();
    let (method, link) = if request.delivery.is_electronic() {
        let token = canvass_crypto::random_hex(32)?;
        let expires_at = sent_at.saturating_add(settings.link_days.saturating_mul(86_400_000));
        let link = format!("{}/uocava/ballot/{token}", settings.public_url.trim_end_matches('/'));
        (DeliveryMethod::Link { token_hash: token_hash(&token)?, expires_at }, Some(link))
    } else {
        (DeliveryMethod::Mail, None)
    };
    let delivery = StoredUocavaDelivery {
        id: 0,
        registration_number: number.to_owned(),
        election: election.id.clone(),
        style: style.id.clone(),
        method,
        sent_at,
        downloaded_at: None,
    };
    let entry = audit.entry(Action::UocavaSend).with_jurisdiction(&request.jurisdiction);
    let entry = target(entry, format!("voter:{number}"))?;
    let entry = target(entry, format!("election:{}", election.id))?;
    let entry = target(entry, format!("style:{}", style.id))?;
    let entry = target(entry, format!("method:{}", delivery.method.as_str()))?;
    audit
        .run(entry, async {
            store.insert_uocava_delivery(&delivery).await?;
            if let Some(link) = &link {
                let body = link_message(election, link, settings.link_days);
                let ring = ring.ok_or_else(|| ServerError::Internal("a link to send without its ring".into()))?;
                // Addressed to the voter by number (the outbox never holds their address), the
                // link sealed until it is sent.
                crate::outbox_seal::queue_voter_message(store, ring, number, "Your blank ballot", &body, sent_at)
                    .await?;
            }
            Ok(())
        })
        .await?;
    mark_ballot_sent(store, audit, request, &election.id).await?;
    Ok(Sent { registration_number: number.to_owned(), style: style.id.clone(), delivery: request.delivery, link })
}

fn link_message(election: &Election, link: &str, days: i64) -> String {
    format!(
        "Your blank ballot for {} ({}) is ready.\n\nOpen this link and enter your date of birth to download it. \
         The link works once, for {days} days:\n{link}\n\nReturn your voted ballot as the instructions on it say. \
         If you did not ask for a ballot, contact your election office.\n",
        election.name, election.date
    )
}

/// The absentee ballot's `send` step, when it is still `requested`.
async fn mark_ballot_sent(
    store: &dyn Store,
    audit: &Audit,
    request: &StoredUocavaRequest,
    election: &ElectionId,
) -> Result<(), ServerError> {
    let requested = store.voter_ballots(&request.registration_number).await?.into_iter().any(|ballot| {
        ballot.election == *election && ballot.status == BallotStatus::Absentee(AbsenteeStatus::Requested)
    });
    if requested {
        let step = BallotRequest {
            jurisdiction: request.jurisdiction.clone(),
            registration_number: request.registration_number.clone(),
            election: election.clone(),
            step: BallotStep::Send,
            on: None,
        };
        ballots::record(store, audit, &step).await?;
    }
    Ok(())
}

/// A link token's SHA-256, hex: what the store keeps and looks up.
pub fn token_hash(token: &str) -> Result<String, ServerError> {
    canvass_crypto::sha256_hex(&mut token.as_bytes())
        .map_err(|error| ServerError::Internal(format!("cannot hash the link: {error}")))
}

/// Why a link does not lead to a ballot (one page each; the token itself is never echoed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Unknown,
    Used,
    Expired,
}

/// A link that still works: its delivery.
pub async fn usable_link(
    store: &dyn Store,
    token: &str,
) -> Result<Result<StoredUocavaDelivery, LinkRefusal>, ServerError> {
    let Some(delivery) = link_delivery(store, token).await? else { return Ok(Err(LinkRefusal::Unknown)) };
    if delivery.downloaded_at.is_some() {
        return Ok(Err(LinkRefusal::Used));
    }
    if delivery.method.expires_at().is_none_or(|expires_at| expires_at <= now_millis()) {
        return Ok(Err(LinkRefusal::Expired));
    }
    Ok(Ok(delivery))
}

/// The election definition and the ballot style a delivery sent.
pub async fn delivered_style(
    store: &dyn Store,
    delivery: &StoredUocavaDelivery,
) -> Result<(ElectionDefinition, ballot_styles::BallotStyle), ServerError> {
    let (election, definition) = election_and_definition(store, &delivery.election).await?;
    let style = ballot_styles::ballot_styles(&definition).into_iter().find(|style| style.id == delivery.style);
    let style = style.ok_or_else(|| {
        ServerError::Internal(format!("style {} is no longer in {}'s definition", delivery.style, election.id))
    })?;
    Ok((definition, style))
}

/// The delivery a link's token names, if any. A token is 64 hexadecimal digits; anything else
/// is not one of ours, and is not hashed or looked up.
async fn link_delivery(store: &dyn Store, token: &str) -> Result<Option<StoredUocavaDelivery>, ServerError> {
    if token.len() != 64 || !token.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(store.uocava_delivery_by_token(&token_hash(token)?).await?)
}

/// The delivery a marking-page link names: known and not expired. Unlike the download, a used
/// link still opens its marking page: the page shows only the style's contests, which are
/// public (its sample ballot is), and the voter marks after downloading.
pub async fn marking_link(
    store: &dyn Store,
    token: &str,
) -> Result<Result<StoredUocavaDelivery, LinkRefusal>, ServerError> {
    let Some(delivery) = link_delivery(store, token).await? else { return Ok(Err(LinkRefusal::Unknown)) };
    if delivery.method.expires_at().is_none_or(|expires_at| expires_at <= now_millis()) {
        return Ok(Err(LinkRefusal::Expired));
    }
    Ok(Ok(delivery))
}

/// Whether `birth_date` is the voter's: through the lookup blind index (last name, first name,
/// date of birth), then against the sealed value, since the index is truncated on purpose.
pub fn birth_date_matches(ring: &UnsealedRing, voter: &SealedVoter, birth_date: Date) -> Result<bool, ServerError> {
    let sealer = Sealer { ring, record: &voter.registration_number, version: voter.key_version };
    let last = sealer.open("last_name", &voter.fields.last_name)?;
    let first = sealer.open("first_name", &voter.fields.first_name)?;
    let index = crate::roll::lookup_index(ring, &last, &first, birth_date)?;
    if voter.indexes.lookup != Some(index) {
        return Ok(false);
    }
    let stored = sealer.open_optional("birth_date", voter.fields.birth_date.as_ref())?;
    Ok(stored.as_deref() == Some(birth_date.to_string().as_str()))
}

/// Checks the date of birth and, if it is right, uses the link once and records the download;
/// returns the ballot's PDF. A wrong date, a used or an expired link is a denied
/// `uocava.download` entry and changes nothing.
pub async fn download(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    delivery: &StoredUocavaDelivery,
    voter: &SealedVoter,
    birth_date: Date,
) -> Result<Vec<u8>, ServerError> {
    let entry = audit.entry(Action::UocavaDownload).with_jurisdiction(&voter.jurisdiction);
    let entry = target(entry, format!("voter:{}", voter.registration_number))?;
    let entry = target(entry, format!("election:{}", delivery.election))?;
    let entry = target(entry, format!("style:{}", delivery.style))?;
    let checked = async {
        if !birth_date_matches(ring, voter, birth_date)? {
            return Err(ServerError::Refused("birth_date: the date of birth does not match our records".into()));
        }
        let (definition, style) = delivered_style(store, delivery).await?;
        crate::ballot_pdf::style_pdf(&definition, &style, false)
    }
    .await;
    let pdf = match checked {
        Ok(pdf) => pdf,
        Err(error) => return Err(audit.refuse(entry, error).await),
    };
    audit
        .run(entry, async {
            if store.use_uocava_link(delivery.id, now_millis()).await? {
                Ok(pdf)
            } else {
                Err(ServerError::Conflict("this link was used or expired while it was being opened".into()))
            }
        })
        .await
}

/// One request on the deadline report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineRow {
    pub registration_number: String,
    pub jurisdiction: JurisdictionId,
    pub delivery: Delivery,
    pub classification: Classification,
    pub requested_on: Date,
    pub sent_on: Option<Date>,
    pub downloaded: bool,
    pub standing: DeadlineStanding,
    /// The absentee ballot's status code (`requested`, `sent`, `returned`, `accepted`,
    /// `rejected:REASON`...), or `fwab` when a write-in ballot came back instead.
    pub tracking: String,
}

/// The 45-day report of an election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineReport {
    pub election: Election,
    pub deadline: Date,
    pub today: Date,
    /// Every request in force, oldest first.
    pub rows: Vec<DeadlineRow>,
}

impl DeadlineReport {
    /// The requests whose ballot was not sent by the deadline (or is not sent yet).
    pub fn needing_action(&self) -> impl Iterator<Item = &DeadlineRow> {
        self.rows.iter().filter(|row| row.standing.needs_action())
    }
}

/// The UTC day of a time in Unix milliseconds.
pub fn day_of(millis: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)).map_or_else(|_| now().date(), |time| time.date())
}

/// Every UOCAVA request of the election's year from voters who vote in it, with where each
/// stands against the deadline and the ballot's tracking, as of `today`.
pub async fn deadline_report(
    store: &dyn Store,
    election: &ElectionId,
    today: Date,
) -> Result<DeadlineReport, ServerError> {
    let election = store
        .election(election)
        .await?
        .ok_or_else(|| ServerError::UnknownReference(format!("election {election} does not exist")))?;
    let deliveries = store.uocava_deliveries(&election.id).await?;
    let fwabs = store.uocava_fwabs(&election.id).await?;
    let mut rows = Vec::new();
    for request in current_requests(store, election.date.year()).await? {
        let number = request.registration_number.as_str();
        let Some(voter) = store.voter(number).await? else { continue };
        if !votes_in(store, &voter, &election).await? {
            continue;
        }
        let delivered = deliveries.iter().find(|delivery| delivery.registration_number == number);
        let sent_on = delivered.map(|delivery| day_of(delivery.sent_at));
        let ballot = store
            .voter_ballots(number)
            .await?
            .into_iter()
            .rfind(|ballot| ballot.election == election.id && ballot.kind() == BallotKind::Absentee);
        let tracking = match (ballot, fwabs.iter().any(|fwab| fwab.registration_number == number)) {
            (Some(ballot), _)
                if ballot.status != BallotStatus::Absentee(AbsenteeStatus::Requested)
                    && ballot.status != BallotStatus::Absentee(AbsenteeStatus::Sent) =>
            {
                ballot.status.as_str().to_owned()
            }
            (_, true) => "fwab".to_owned(),
            (Some(ballot), false) => ballot.status.as_str().to_owned(),
            (None, false) => "requested".to_owned(),
        };
        rows.push(DeadlineRow {
            registration_number: number.to_owned(),
            jurisdiction: request.jurisdiction.clone(),
            delivery: request.delivery,
            classification: request.classification,
            requested_on: day_of(request.received_at),
            sent_on,
            downloaded: delivered.is_some_and(|delivery| delivery.downloaded_at.is_some()),
            standing: DeadlineStanding::of(election.date, sent_on, today),
            tracking,
        });
    }
    Ok(DeadlineReport { deadline: send_deadline(election.date), today, election, rows })
}

/// Records a Federal Write-In Absentee Ballot received for a voter: a `uocava.fwab` entry and
/// its row (once per voter and election).
pub async fn record_fwab(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
    election: &ElectionId,
    received_on: Option<Date>,
) -> Result<StoredFwab, ServerError> {
    let today = now().date();
    let received_on = received_on.unwrap_or(today);
    let entry = audit.entry(Action::UocavaFwab).with_jurisdiction(jurisdiction);
    let entry = target(entry, format!("voter:{registration_number}"))?;
    let entry = target(entry, format!("election:{election}"))?;
    let checked = async {
        if received_on > today {
            return Err(ServerError::Invalid(format!("on: {received_on} is in the future")));
        }
        let voter = store.voter(registration_number).await?.filter(|voter| voter.jurisdiction == *jurisdiction);
        if voter.is_none() {
            return Err(ServerError::NotFound(format!(
                "no voter with registration number {registration_number} in {jurisdiction}"
            )));
        }
        if store.election(election).await?.is_none() {
            return Err(ServerError::UnknownReference(format!("election {election} does not exist")));
        }
        Ok(())
    }
    .await;
    if let Err(error) = checked {
        return Err(audit.refuse(entry, error).await);
    }
    let mut fwab = StoredFwab {
        id: 0,
        registration_number: registration_number.to_owned(),
        election: election.clone(),
        received_on,
        actor: audit.actor.to_string(),
        recorded_at: now_millis(),
    };
    let id = audit.run(entry, async { Ok(store.insert_uocava_fwab(&fwab).await?) }).await?;
    fwab.id = id;
    Ok(fwab)
}

/// Where voters reach the public listener when the office names no other address: its listen
/// address, `https` when the node serves TLS.
pub fn default_public_url(config: &canvass_core::config::NodeConfig) -> String {
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{}", config.public.listen)
}
