//! The public UOCAVA pages: the Federal Post Card Application form (`/uocava/fpca`) and the
//! one-time ballot link (`/uocava/ballot/{token}`), on the public listener.
//!
//! They share the lookups' protections: a limit per client address (their own budget), no
//! CSRF token (there is no session to ride) but a form-encoded body of bounded size, no log or
//! ledger line with what was typed, and pages that never echo a personal value. The ballot
//! link asks for the date of birth before the download; a link answers at most
//! [`MAX_WRONG_BIRTH_DATES`] wrong dates, then stops working until the office sends a new one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Extension, Router,
    extract::{Path, State, rejection::FormRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use canvass_core::{
    audit::{Actor, now},
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct, tree_order},
    uocava::{Classification, Delivery},
};
use canvass_formats::vri::{
    AdditionalInfo, Address, Assertion, BallotPeriod, BallotReceiptMethod, BallotRequest, ContactMethod,
    ContactMethodType, Name, Party, Place, PlaceName, PlaceNameType, RequestForm, RequestMethod, RequestType, Voter,
    VoterClassification, VoterClassificationType, VoterRecordsRequest,
};
use maud::{Markup, html};
use serde::Deserialize;
use time::{Date, Month};

use crate::{
    Node, ServerError,
    ledger::Audit,
    lookup::{self, LookupError, LookupLimiter},
    pages::{PageError, layout},
    uocava::{self, LinkRefusal},
    uocava_pending,
    vri_import::{PRECINCT_INFO, ReadRequest, VriSettings},
};

const FPCA_TITLE: &str = "Request your ballot from overseas or the military (FPCA)";
const BALLOT_TITLE: &str = "Your blank ballot";
/// Wrong dates of birth a link answers before it stops working.
pub(crate) const MAX_WRONG_BIRTH_DATES: u32 = 5;
/// The longest value any field of the form may have.
const MAX_FIELD_CHARS: usize = 200;

/// The routes, with their own limiter.
pub(crate) fn router() -> Router<Node> {
    Router::new()
        .route("/uocava/fpca", get(fpca_page).post(fpca_submit))
        .route("/uocava/ballot/{token}", get(link_page).post(link_submit))
        .route("/uocava/mark/{token}", get(marking_page))
        .layer(Extension(LookupLimiter::default()))
        .layer(Extension(WrongBirthDates::default()))
}

/// Wrong dates of birth per delivery, in memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct WrongBirthDates(Arc<Mutex<HashMap<i64, u32>>>);

impl WrongBirthDates {
    fn count(&self, delivery: i64) -> u32 {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&delivery).copied().unwrap_or(0)
    }

    fn add(&self, delivery: i64) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(delivery).or_insert(0) += 1;
    }
}

/// The form's fields as sent; all optional so a missing one gets a message naming it.
#[derive(Default, Deserialize)]
pub(crate) struct FpcaFields {
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    birth_date: Option<String>,
    county: Option<String>,
    precinct: Option<String>,
    street: Option<String>,
    city: Option<String>,
    zip: Option<String>,
    mailing_address: Option<String>,
    email: Option<String>,
    classification: Option<String>,
    party: Option<String>,
    delivery: Option<String>,
}

/// A refusal of the form: the field and what to fix, never the value.
struct FieldError(&'static str, String);

fn text<'a>(value: &'a Option<String>, field: &'static str, label: &str) -> Result<&'a str, FieldError> {
    let value = value.as_deref().map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(FieldError(field, format!("Enter your {label}.")));
    }
    optional(value, field).map(|value| value.unwrap_or_default())
}

fn optional<'a>(value: &'a str, field: &'static str) -> Result<Option<&'a str>, FieldError> {
    let value = value.trim();
    if value.chars().count() > MAX_FIELD_CHARS
        || value.chars().any(|character| character.is_control() && character != '\n' && character != '\r')
    {
        return Err(FieldError(field, format!("The {field} field is too long or holds characters it cannot.")));
    }
    Ok((!value.is_empty()).then_some(value))
}

/// The form, checked, as the VRI request it stands for.
struct Fpca {
    county: JurisdictionId,
    request: VoterRecordsRequest,
    /// What the answer page says: the same whether the request was applied or held.
    year: i32,
    delivery: Delivery,
}

fn parse_fpca(fields: &FpcaFields, counties: &[Jurisdiction], precincts: &[Precinct]) -> Result<Fpca, FieldError> {
    let first = text(&fields.first_name, "first_name", "first name")?;
    let last = text(&fields.last_name, "last_name", "last name")?;
    let middle = optional(fields.middle_name.as_deref().unwrap_or_default(), "middle_name")?;
    let birth_date = lookup::parse_birth_date(fields.birth_date.as_deref()).map_err(|_| {
        FieldError("birth_date", "Enter your date of birth as YYYY-MM-DD, between 1900 and today.".into())
    })?;
    let county_id = text(&fields.county, "county", "county")?;
    let county = counties
        .iter()
        .find(|county| county.id.as_str() == county_id)
        .ok_or_else(|| FieldError("county", "Choose your county from the list.".into()))?;
    let precinct_id = text(&fields.precinct, "precinct", "precinct")?;
    let precinct = PrecinctId::parse(precinct_id)
        .ok()
        .filter(|id| precincts.iter().any(|precinct| precinct.id == *id && precinct.jurisdiction == county.id))
        .ok_or_else(|| FieldError("precinct", "Choose a precinct of your county from the list.".into()))?;
    let street = text(&fields.street, "street", "street address in the county")?;
    let city = text(&fields.city, "city", "city or town")?;
    let zip = text(&fields.zip, "zip", "ZIP code")?;
    if zip.len() != 5 || !zip.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FieldError("zip", "Enter the five-digit ZIP code of your voting address.".into()));
    }
    let delivery = Delivery::parse(text(&fields.delivery, "delivery", "choice of how to receive the ballot")?)
        .map_err(|_| FieldError("delivery", "Choose mail, email or online download.".into()))?;
    let classification = Classification::parse(text(&fields.classification, "classification", "voter category")?)
        .map_err(|_| FieldError("classification", "Choose military or overseas citizen.".into()))?;
    let email = optional(fields.email.as_deref().unwrap_or_default(), "email")?;
    if let Some(email) = email
        && (!email.contains('@') || email.contains(char::is_whitespace))
    {
        return Err(FieldError("email", "Enter an email address such as name@example.org.".into()));
    }
    if delivery.is_electronic() && email.is_none() {
        return Err(FieldError("email", "Enter your email address: the ballot link is sent there.".into()));
    }
    let mailing = optional(fields.mailing_address.as_deref().unwrap_or_default(), "mailing_address")?;
    if delivery == Delivery::Mail && mailing.is_none() {
        return Err(FieldError("mailing_address", "Enter the address where the ballot should be mailed.".into()));
    }
    let party = optional(fields.party.as_deref().unwrap_or_default(), "party")?;
    let details = FpcaDetails {
        first_name: first.to_owned(),
        middle_name: middle.map(str::to_owned),
        last_name: last.to_owned(),
        birth_date,
        county_name: county.name.to_string(),
        precinct,
        street: street.to_owned(),
        city: city.to_owned(),
        zip: zip.to_owned(),
        mailing_address: mailing.map(str::to_owned),
        email: email.map(str::to_owned),
        classification,
        party: party.map(str::to_owned),
        delivery,
    };
    let today = now().date();
    let request = fpca_request(&details, year_period(today), today);
    Ok(Fpca { county: county.id.clone(), request, year: today.year(), delivery })
}

/// What an FPCA says, checked.
pub(crate) struct FpcaDetails {
    pub(crate) first_name: String,
    pub(crate) middle_name: Option<String>,
    pub(crate) last_name: String,
    pub(crate) birth_date: Date,
    pub(crate) county_name: String,
    pub(crate) precinct: PrecinctId,
    pub(crate) street: String,
    pub(crate) city: String,
    pub(crate) zip: String,
    pub(crate) mailing_address: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) classification: Classification,
    pub(crate) party: Option<String>,
    pub(crate) delivery: Delivery,
}

/// The FPCA as the VRI request it stands for (`Form` `fpca`, registration and ballot request),
/// so it takes the import's path.
pub(crate) fn fpca_request(details: &FpcaDetails, period: BallotPeriod, today: Date) -> VoterRecordsRequest {
    VoterRecordsRequest {
        request_types: vec![RequestType::Registration, RequestType::BallotRequest],
        other_request_type: None,
        form: Some(RequestForm::FederalPostCardApplication),
        other_form: None,
        request_method: RequestMethod::VoterViaInternet,
        other_request_method: None,
        generated_date: today,
        issuer: None,
        transaction_id: None,
        vendor_application_id: None,
        additional_info: vec![AdditionalInfo {
            name: PRECINCT_INFO.into(),
            value: Some(details.precinct.to_string()),
            file: None,
        }],
        ballot_request: Some(BallotRequest {
            period,
            receipt_preferences: vec![receipt(details.delivery)],
            mail_forwarding_address: None,
        }),
        request_helpers: Vec::new(),
        subject: Voter {
            name: Name {
                first: Some(details.first_name.clone()),
                middle: details.middle_name.iter().cloned().collect(),
                last: Some(details.last_name.clone()),
                ..Name::default()
            },
            previous_name: None,
            date_of_birth: Some(details.birth_date),
            gender: None,
            ethnicity: None,
            contact_methods: details
                .email
                .iter()
                .map(|email| ContactMethod {
                    kind: ContactMethodType::Email,
                    other_type: None,
                    value: email.clone(),
                    capabilities: Vec::new(),
                })
                .collect(),
            voter_ids: Vec::new(),
            classifications: vec![VoterClassification {
                kind: match details.classification {
                    Classification::Military => VoterClassificationType::ActiveDuty,
                    Classification::Overseas => VoterClassificationType::CitizenAbroadIntentToReturn,
                },
                other_type: None,
                assertion: Assertion::Yes,
                other_assertion: None,
            }],
            party: details
                .party
                .as_ref()
                .map(|party| Party { name: party.clone(), abbreviation: Some(party.to_uppercase()) }),
            residence_address: Address::DeliveryPoint {
                delivery_point: details.street.clone(),
                place: Place::Parts {
                    names: vec![
                        PlaceName {
                            name: details.city.clone(),
                            kind: Some(PlaceNameType::PostalCommunity),
                            sequence_number: None,
                        },
                        PlaceName {
                            name: details.county_name.clone(),
                            kind: Some(PlaceNameType::County),
                            sequence_number: None,
                        },
                    ],
                    state: None,
                    zip_code: Some(details.zip.clone()),
                    zip_plus_four: None,
                    country: None,
                },
            },
            mailing_address: details.mailing_address.as_deref().map(mailing_address),
            previous_residence_address: None,
            residence_address_is_mailing_address: None,
            signature: None,
            previous_signature: None,
        },
    }
}

/// An overseas address as typed: its first line, then the rest as place lines.
fn mailing_address(text: &str) -> Address {
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned);
    let first = lines.next().unwrap_or_default();
    Address::DeliveryPoint { delivery_point: first, place: Place::Lines(lines.collect()) }
}

/// The calendar year of `today`: an FPCA covers the year's elections.
fn year_period(today: Date) -> BallotPeriod {
    let start = Date::from_calendar_date(today.year(), Month::January, 1).unwrap_or(today);
    let end = Date::from_calendar_date(today.year(), Month::December, 31).unwrap_or(today);
    BallotPeriod::Temporal { start_date: start, end_date: end }
}

fn receipt(delivery: Delivery) -> BallotReceiptMethod {
    match delivery {
        Delivery::Mail => BallotReceiptMethod::Mail,
        Delivery::Email => BallotReceiptMethod::Email,
        Delivery::Online => BallotReceiptMethod::Online,
    }
}

/// Counties and their precincts, in tree order.
async fn places(node: &Node) -> Result<(Vec<Jurisdiction>, Vec<Precinct>), ServerError> {
    let all = node.store().jurisdictions().await?;
    let counties: Vec<Jurisdiction> = tree_order(&all)
        .into_iter()
        .filter(|(_, jurisdiction)| jurisdiction.kind == JurisdictionKind::County)
        .map(|(_, jurisdiction)| jurisdiction.clone())
        .collect();
    Ok((counties, node.store().precincts(None).await?))
}

fn fpca_form(counties: &[Jurisdiction], precincts: &[Precinct], message: Option<&str>) -> Markup {
    html! {
        h1 { (FPCA_TITLE) }
        p { "Members of the uniformed services, their families, and U.S. citizens living abroad can register and ask
            for their ballot here (the Federal Post Card Application). Your request covers every election this
            calendar year. What you enter is stored encrypted; it is never shown on this site." }
        @if let Some(message) = message { p.error role="alert" { (message) } }
        form method="post" action="/uocava/fpca" {
            fieldset {
                legend { "Who you are" }
                p { label for="first_name" { "First name" } br; input id="first_name" name="first_name" autocomplete="given-name" maxlength=(MAX_FIELD_CHARS) required; }
                p { label for="middle_name" { "Middle name (optional)" } br; input id="middle_name" name="middle_name" autocomplete="additional-name" maxlength=(MAX_FIELD_CHARS); }
                p { label for="last_name" { "Last name" } br; input id="last_name" name="last_name" autocomplete="family-name" maxlength=(MAX_FIELD_CHARS) required; }
                p { label for="birth_date" { "Date of birth" } br; input id="birth_date" name="birth_date" type="date" autocomplete="bday" required; }
                p { "I am" br;
                    label { input type="radio" name="classification" value="military" required; " a member of the uniformed services or merchant marine (or a spouse or dependant)" } br;
                    label { input type="radio" name="classification" value="overseas"; " a U.S. citizen living outside the United States" } }
                p { label for="party" { "Party (optional; only where primaries need it)" } br; input id="party" name="party" maxlength="20"; }
            }
            fieldset {
                legend { "Your voting residence" }
                p { label for="county" { "County" } br;
                    select id="county" name="county" required {
                        option value="" { "Choose your county" }
                        @for county in counties { option value=(county.id) { (county.name) } }
                    } }
                p { label for="precinct" { "Precinct (on your voter card or sample ballot; your county can tell you)" } br;
                    select id="precinct" name="precinct" required {
                        option value="" { "Choose your precinct" }
                        @for county in counties {
                            optgroup label=(county.name) {
                                @for precinct in precincts.iter().filter(|precinct| precinct.jurisdiction == county.id) {
                                    option value=(precinct.id) { (precinct.name) }
                                }
                            }
                        }
                    } }
                p { label for="street" { "Street address (your last address in the county)" } br; input id="street" name="street" autocomplete="address-line1" maxlength=(MAX_FIELD_CHARS) required; }
                p { label for="city" { "City or town" } br; input id="city" name="city" autocomplete="address-level2" maxlength=(MAX_FIELD_CHARS) required; }
                p { label for="zip" { "ZIP code" } br; input id="zip" name="zip" inputmode="numeric" pattern="[0-9]{5}" maxlength="5" required; }
            }
            fieldset {
                legend { "How to reach you" }
                p { label for="mailing_address" { "Mailing address where you are now (APO/FPO/DPO or abroad)" } br;
                    textarea id="mailing_address" name="mailing_address" rows="4" maxlength=(MAX_FIELD_CHARS) {} }
                p { label for="email" { "Email" } br; input id="email" name="email" type="email" autocomplete="email" maxlength=(MAX_FIELD_CHARS); }
                p { "Send my blank ballot by" br;
                    label { input type="radio" name="delivery" value="email" required; " email (a link to download it)" } br;
                    label { input type="radio" name="delivery" value="online"; " online download (a link by email)" } br;
                    label { input type="radio" name="delivery" value="mail"; " mail" } }
            }
            p { button type="submit" { "Send my request" } }
        }
    }
}

/// `GET /uocava/fpca`.
async fn fpca_page(State(node): State<Node>) -> Result<Markup, PageError> {
    let (counties, precincts) = places(&node).await?;
    Ok(layout(FPCA_TITLE, node.is_demo(), fpca_form(&counties, &precincts, None)))
}

fn throttled_page(node: &Node, title: &str, wait: std::time::Duration) -> Response {
    let page =
        layout(title, node.is_demo(), html! { h1 { (title) } p.error role="alert" { (lookup::too_many(wait)) } });
    let retry_after = HeaderValue::from(lookup::retry_after_seconds(wait));
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry_after)], page).into_response()
}

/// The anonymous caller's audit context (the ledger names no one it cannot authenticate).
fn public_audit(node: &Node) -> Audit {
    Audit { ledger: node.ledger().clone(), actor: Actor::Anonymous, request_id: None }
}

/// The roll a county's voters are on: the nearest jurisdiction of its lineage whose key ring
/// is unsealed here.
async fn roll_of(node: &Node, county: &JurisdictionId) -> Result<Option<Arc<crate::keys::UnsealedRing>>, ServerError> {
    for jurisdiction in crate::access::lineage(node.store(), county).await? {
        if let Ok(ring) = node.keys().current(node.store(), &jurisdiction).await {
            return Ok(Some(ring));
        }
    }
    Ok(None)
}

/// `POST /uocava/fpca`.
async fn fpca_submit(
    State(node): State<Node>,
    Extension(limiter): Extension<LookupLimiter>,
    parts: axum::http::request::Parts,
    body: Result<axum::Form<FpcaFields>, FormRejection>,
) -> Response {
    let address = lookup::client_address(&node, &parts.extensions, &parts.headers);
    if let Err(LookupError::Throttled(wait)) = limiter.admit_address(&node.config().lookup, address) {
        return throttled_page(&node, FPCA_TITLE, wait);
    }
    let (counties, precincts) = match places(&node).await {
        Ok(places) => places,
        Err(error) => return PageError(error).into_response(),
    };
    let again = |status: StatusCode, message: &str| {
        (status, layout(FPCA_TITLE, node.is_demo(), fpca_form(&counties, &precincts, Some(message)))).into_response()
    };
    let Ok(axum::Form(fields)) = body else {
        return again(StatusCode::BAD_REQUEST, "Send the form from this page.");
    };
    let fpca = match parse_fpca(&fields, &counties, &precincts) {
        Ok(fpca) => fpca,
        Err(FieldError(field, message)) => {
            // The field's name only: what was typed stays out of the log.
            tracing::debug!(field, "an FPCA form was refused");
            return again(StatusCode::BAD_REQUEST, &message);
        }
    };
    let ring = match roll_of(&node, &fpca.county).await {
        Ok(Some(ring)) => ring,
        Ok(None) => {
            return again(
                StatusCode::SERVICE_UNAVAILABLE,
                "Requests cannot be taken right now (the county's records are locked). Please try again later.",
            );
        }
        Err(error) => return PageError(error).into_response(),
    };
    let digest = match canvass_crypto::random_hex(32) {
        Ok(nonce) => format!("fpca-form-{nonce}"),
        Err(error) => return PageError(error.into()).into_response(),
    };
    let (year, delivery) = (fpca.year, fpca.delivery);
    let read = ReadRequest { request: fpca.request, digest };
    let Ok(jurisdiction) = JurisdictionId::parse(ring.jurisdiction()) else {
        return PageError(ServerError::Internal("a ring names no jurisdiction".into())).into_response();
    };
    let settings = VriSettings { jurisdiction, actor: Actor::Anonymous.to_string(), precinct: None };
    let audit = public_audit(&node);
    // A request for a voter already on the roll is held for a clerk (uocava_pending); the
    // answer is the same either way, so the form does not tell who is on the roll. Holding and
    // registering take different times, so the answer waits until the same moment whichever
    // was done (or refused).
    let answer_at = tokio::time::Instant::now() + FPCA_ANSWER_TIME;
    let outcome = uocava_pending::receive_public_fpca(node.store(), &audit, &ring, &read, &settings).await;
    tokio::time::sleep_until(answer_at).await;
    match outcome {
        Ok(_) => {
            node.outbox_signal().notify_one();
            layout(FPCA_TITLE, node.is_demo(), received(year, delivery)).into_response()
        }
        Err(ServerError::Invalid(message) | ServerError::Refused(message)) => {
            // The import's refusals name an element and never a value.
            tracing::info!(reason = %message, "an FPCA was refused");
            again(
                StatusCode::BAD_REQUEST,
                "We could not take this request as entered. Check the county, precinct and address, or contact your election office.",
            )
        }
        Err(error) => PageError(error).into_response(),
    }
}

/// How long a sent form's answer takes, whatever was done with it: longer than holding or
/// registering takes, so their difference does not show (a form is sent once, not in a hurry).
const FPCA_ANSWER_TIME: std::time::Duration = std::time::Duration::from_millis(400);

/// The answer to an accepted form, whether it was applied or held for a clerk: it depends on
/// what was asked only.
fn received(year: i32, delivery: Delivery) -> Markup {
    let how = match delivery {
        Delivery::Mail => "by mail",
        Delivery::Email | Delivery::Online => "as a download link by email",
    };
    html! {
        h1 { "Request received" }
        p role="status" { "Thank you. Your registration and ballot request for " (year) " elections was received.
            Your blank ballot will be sent " (how) " at least 45 days before each federal election." }
        p { "Your election office may contact you to confirm your request before it takes effect." }
        p { a href="/lookup/ballot" { "Did my ballot count?" } " Follow your ballot once it is sent." }
    }
}

fn refusal_page(node: &Node, refusal: LinkRefusal) -> Response {
    let (status, message) = match refusal {
        LinkRefusal::Unknown => {
            (StatusCode::NOT_FOUND, "This ballot link is not valid. Check that you copied the whole link.")
        }
        LinkRefusal::Used => (
            StatusCode::GONE,
            "This ballot link was already used: each link works once. If you need your ballot again, contact your election office.",
        ),
        LinkRefusal::Expired => {
            (StatusCode::GONE, "This ballot link has expired. Contact your election office for a new one.")
        }
    };
    (status, layout(BALLOT_TITLE, node.is_demo(), html! { h1 { (BALLOT_TITLE) } p.error role="alert" { (message) } }))
        .into_response()
}

fn birth_date_form(token: &str, message: Option<&str>) -> Markup {
    html! {
        h1 { (BALLOT_TITLE) }
        p { "To download your ballot, enter your date of birth. The link works once." }
        @if let Some(message) = message { p.error role="alert" { (message) } }
        form method="post" action={ "/uocava/ballot/" (token) } {
            p { label for="birth_date" { "Date of birth" } br;
                input id="birth_date" name="birth_date" type="date" autocomplete="bday" required; }
            p { button type="submit" { "Download my ballot (PDF)" } }
        }
        p { "Print the ballot, mark it, and return it as its instructions say. Nothing is sent back through this site." }
        p { "You can also " a href={ "/uocava/mark/" (token) } { "fill in your ballot on screen and print it" }
            ": the page works only in your browser and sends nothing anywhere." }
    }
}

/// `GET /uocava/mark/{token}`: the marking page of the link's ballot style, for the voter to
/// fill in on screen and print (see [`uocava::marking_link`] for why it asks no date of birth).
async fn marking_page(State(node): State<Node>, Path(token): Path<String>) -> Response {
    let delivery = match uocava::marking_link(node.store(), &token).await {
        Ok(Ok(delivery)) => delivery,
        Ok(Err(refusal)) => return refusal_page(&node, refusal),
        Err(error) => return PageError(error).into_response(),
    };
    let page = async {
        let (definition, style) = uocava::delivered_style(node.store(), &delivery).await?;
        crate::ballot_marking::marking_page(&definition, &style)
    }
    .await;
    match page {
        Ok(page) => crate::ballot_marking::marking_response(page),
        Err(error) => PageError(error).into_response(),
    }
}

/// `GET /uocava/ballot/{token}`: the date-of-birth form, or why the link does not work.
async fn link_page(State(node): State<Node>, Path(token): Path<String>) -> Response {
    match uocava::usable_link(node.store(), &token).await {
        Ok(Ok(_)) => layout(BALLOT_TITLE, node.is_demo(), birth_date_form(&token, None)).into_response(),
        Ok(Err(refusal)) => refusal_page(&node, refusal),
        Err(error) => PageError(error).into_response(),
    }
}

#[derive(Default, Deserialize)]
pub(crate) struct BirthDateField {
    birth_date: Option<String>,
}

/// `POST /uocava/ballot/{token}`: the date of birth checked, the link used, the PDF.
async fn link_submit(
    State(node): State<Node>,
    Extension(limiter): Extension<LookupLimiter>,
    Extension(wrong): Extension<WrongBirthDates>,
    Path(token): Path<String>,
    parts: axum::http::request::Parts,
    body: Result<axum::Form<BirthDateField>, FormRejection>,
) -> Response {
    let address = lookup::client_address(&node, &parts.extensions, &parts.headers);
    if let Err(LookupError::Throttled(wait)) = limiter.admit_address(&node.config().lookup, address) {
        return throttled_page(&node, BALLOT_TITLE, wait);
    }
    let delivery = match uocava::usable_link(node.store(), &token).await {
        Ok(Ok(delivery)) => delivery,
        Ok(Err(refusal)) => return refusal_page(&node, refusal),
        Err(error) => return PageError(error).into_response(),
    };
    if wrong.count(delivery.id) >= MAX_WRONG_BIRTH_DATES {
        let message =
            "Too many wrong dates of birth: this link no longer works. Contact your election office for a new one.";
        let page =
            layout(BALLOT_TITLE, node.is_demo(), html! { h1 { (BALLOT_TITLE) } p.error role="alert" { (message) } });
        return (StatusCode::FORBIDDEN, page).into_response();
    }
    let form_again = |status: StatusCode, message: &str| {
        (status, layout(BALLOT_TITLE, node.is_demo(), birth_date_form(&token, Some(message)))).into_response()
    };
    let birth_date =
        match body.ok().and_then(|axum::Form(field)| lookup::parse_birth_date(field.birth_date.as_deref()).ok()) {
            Some(date) => date,
            None => return form_again(StatusCode::BAD_REQUEST, "Enter your date of birth as YYYY-MM-DD."),
        };
    let voter = match node.store().voter(&delivery.registration_number).await {
        Ok(Some(voter)) => voter,
        Ok(None) => return refusal_page(&node, LinkRefusal::Unknown),
        Err(error) => return PageError(error.into()).into_response(),
    };
    let ring = match node.keys().current(node.store(), &voter.jurisdiction).await {
        Ok(ring) => ring,
        Err(ServerError::Sealed(_) | ServerError::NoKeyRing(_)) => {
            return form_again(
                StatusCode::SERVICE_UNAVAILABLE,
                "Ballots cannot be downloaded right now (the records are locked). Please try again later.",
            );
        }
        Err(error) => return PageError(error).into_response(),
    };
    let audit = public_audit(&node);
    match uocava::download(node.store(), &audit, &ring, &delivery, &voter, birth_date).await {
        Ok(pdf) => {
            let disposition = format!("attachment; filename=\"ballot-{}-{}.pdf\"", delivery.election, delivery.style);
            let disposition = HeaderValue::from_str(&disposition)
                .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"ballot.pdf\""));
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                pdf,
            )
                .into_response()
        }
        Err(ServerError::Refused(_)) => {
            wrong.add(delivery.id);
            form_again(StatusCode::FORBIDDEN, "The date of birth does not match our records.")
        }
        Err(ServerError::Conflict(_)) => refusal_page(&node, LinkRefusal::Used),
        Err(error) => PageError(error).into_response(),
    }
}
