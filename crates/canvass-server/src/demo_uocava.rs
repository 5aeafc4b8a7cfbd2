//! The demo's overseas voter: a made-up Federal Post Card Application received through the
//! real path (`uocava::receive_fpca`: registered `temporary`, the year's request, an absentee
//! ballot requested), then the blank ballot sent as a one-time link (`uocava::send_due`), so
//! the link can be printed at start and opened with the voter's date of birth. A second,
//! military voter's link is opened at once ([`load_downloaded`]), so "Did my ballot count?"
//! shows one ballot sent and downloaded, and the first sent but not yet downloaded. Then the
//! public form is sent again for the first voter with another email ([`load_held`]): held for
//! a clerk at `/uocava/pending`, not applied.

use canvass_core::{
    audit::now,
    ballot_styles,
    demo::DemoContent,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind},
    uocava::{Classification, Delivery},
};
use canvass_formats::vri::{BallotPeriod, Election as VriElection};
use canvass_store::Store;
use time::{Date, macros::date};

use crate::{
    ServerError,
    keys::KeyRings,
    ledger::Audit,
    uocava::{self, DEFAULT_LINK_DAYS, SendSettings},
    uocava_pages::{FpcaDetails, fpca_request},
    vri_import::{ReadRequest, VriEncoding, VriSettings},
};

/// What the demo prints: the voter's number, their date of birth and the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUocava {
    pub registration_number: String,
    /// YYYY-MM-DD: what the link asks for.
    pub birth_date: String,
    pub link: String,
    /// What to type into "Did my ballot count?" to see the ballot's steps.
    pub lookup: String,
}

/// Receives the demo FPCA in the first county and sends its ballot link.
pub async fn load(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    content: &DemoContent,
    public_url: &str,
) -> Result<DemoUocava, ServerError> {
    receive_and_send(store, audit, rings, content, public_url, &overseas_voter()).await
}

/// A second demo voter, military, whose ballot link is opened with their date of birth
/// through the real download (`uocava::download`: checked, used once, a ledger entry).
pub async fn load_downloaded(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    content: &DemoContent,
) -> Result<DemoUocava, ServerError> {
    let voter = DemoVoter {
        first_name: "Tobias",
        last_name: "Farfield",
        birth_date: date!(1984 - 03 - 09),
        classification: Classification::Military,
        delivery: Delivery::Online,
        story: "a military voter: ballot sent as an online link and downloaded",
    };
    let demo = receive_and_send(store, audit, rings, content, "", &voter).await?;
    let token = demo.link.trim_start_matches("/uocava/ballot/");
    let delivery = match uocava::usable_link(store, token).await? {
        Ok(delivery) => delivery,
        Err(refusal) => return Err(ServerError::Internal(format!("the demo link does not work: {refusal:?}"))),
    };
    let stored = store
        .voter(&demo.registration_number)
        .await?
        .ok_or_else(|| ServerError::Internal("the demo military voter is not on the roll".into()))?;
    let ring = rings.current(store, &stored.jurisdiction).await?;
    uocava::download(store, audit, &ring, &delivery, &stored, voter.birth_date).await?;
    Ok(demo)
}

/// A held FPCA for the clerk to decide: someone sends the public form again for the overseas
/// voter of [`load`] (run it first), asking for their ballot at another email address. As
/// the voter is on the roll, it is held (`uocava_pending`), not applied: the admin page
/// `/uocava/pending` shows it. Returns its id.
pub async fn load_held(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    content: &DemoContent,
) -> Result<String, ServerError> {
    let (county, read) =
        demo_request(store, content, &overseas_voter(), Some("someone.else@examplia.invalid".into())).await?;
    let ring = rings.current(store, &county.id).await?;
    let settings = VriSettings {
        jurisdiction: JurisdictionId::parse(ring.jurisdiction())?,
        actor: "anonymous".into(),
        precinct: None,
    };
    // Sent through the anonymous form: the ledger names no one.
    let anonymous =
        Audit { ledger: audit.ledger.clone(), actor: canvass_core::audit::Actor::Anonymous, request_id: None };
    match crate::uocava_pending::receive_public_fpca(store, &anonymous, &ring, &read, &settings).await? {
        crate::uocava_pending::PublicFpca::Held(id) => Ok(id),
        crate::uocava_pending::PublicFpca::Applied(_) => Err(ServerError::Internal(
            "the demo's second FPCA was applied, not held: load the first voter first".into(),
        )),
    }
}

/// A made-up UOCAVA voter of the demo.
struct DemoVoter {
    first_name: &'static str,
    last_name: &'static str,
    birth_date: Date,
    classification: Classification,
    delivery: Delivery,
    /// What their ballot shows, for the lookup hint.
    story: &'static str,
}

fn overseas_voter() -> DemoVoter {
    DemoVoter {
        first_name: "Marisol",
        last_name: "Abroadwell",
        birth_date: date!(1991 - 07 - 14),
        classification: Classification::Overseas,
        delivery: Delivery::Email,
        story: "an overseas voter: ballot sent by email link, not yet downloaded",
    }
}

fn first_county(content: &DemoContent) -> Result<&Jurisdiction, ServerError> {
    content
        .jurisdictions
        .iter()
        .find(|jurisdiction| jurisdiction.kind == JurisdictionKind::County)
        .ok_or_else(|| ServerError::Internal("the demo has no county".into()))
}

/// The voter's FPCA in the first county, asking for the election's ballot.
async fn demo_request<'a>(
    store: &dyn Store,
    content: &'a DemoContent,
    voter: &DemoVoter,
    email: Option<String>,
) -> Result<(&'a Jurisdiction, ReadRequest), ServerError> {
    let county = first_county(content)?;
    let election = &content.election;
    let definition = store
        .election_definition(&election.id)
        .await?
        .ok_or_else(|| ServerError::Internal("the demo election has no definition".into()))?;
    let styles = ballot_styles::ballot_styles(&definition);
    let precinct = content
        .precincts
        .iter()
        .filter(|precinct| precinct.jurisdiction == county.id)
        .find(|precinct| ballot_styles::style_of(&styles, &precinct.id).is_some())
        .ok_or_else(|| ServerError::Internal("no demo precinct of the first county has a ballot".into()))?;
    let birth_date = voter.birth_date;
    let details = FpcaDetails {
        first_name: voter.first_name.into(),
        middle_name: None,
        last_name: voter.last_name.into(),
        birth_date,
        county_name: county.name.to_string(),
        precinct: precinct.id.clone(),
        street: "12 Harbour Lane".into(),
        city: "Examplia City".into(),
        zip: "99501".into(),
        mailing_address: Some("Via Esempio 4\n00100 Roma\nItaly".into()),
        email: email
            .or_else(|| Some(format!("{}.{}@examplia.invalid", voter.first_name, voter.last_name).to_lowercase())),
        classification: voter.classification,
        party: None,
        delivery: voter.delivery,
    };
    let period = BallotPeriod::ElectionBased(VriElection {
        name: Some(election.name.to_string()),
        start_date: election.date,
        end_date: None,
    });
    let read = ReadRequest {
        request: fpca_request(&details, period, now().date()),
        digest: format!("demo-fpca-{}", canvass_crypto::random_hex(8)?),
    };
    Ok((county, read))
}

/// Receives the voter's FPCA in the first county and sends their ballot link.
async fn receive_and_send(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    content: &DemoContent,
    public_url: &str,
    voter: &DemoVoter,
) -> Result<DemoUocava, ServerError> {
    let (county, read) = demo_request(store, content, voter, None).await?;
    let election = &content.election;
    let birth_date = voter.birth_date;
    let ring = rings.current(store, &county.id).await?;
    let settings =
        VriSettings { jurisdiction: JurisdictionId::parse(ring.jurisdiction())?, actor: "demo".into(), precinct: None };
    let receipt = uocava::receive_fpca(store, audit, &ring, &read, VriEncoding::Json, &settings).await?;
    let settings = SendSettings { public_url: public_url.to_owned(), link_days: DEFAULT_LINK_DAYS };
    let sent =
        uocava::send_due(store, audit, rings, &election.id, Some(&receipt.registration_number), &settings).await?;
    let link = sent
        .into_iter()
        .find_map(|sent| sent.link)
        .ok_or_else(|| ServerError::Internal("the demo voter's ballot went out without a link".into()))?;
    let lookup = format!(
        "first name {}, last name {}, date of birth {birth_date}, county {} ({})",
        voter.first_name, voter.last_name, county.name, voter.story
    );
    Ok(DemoUocava {
        registration_number: receipt.registration_number,
        birth_date: birth_date.to_string(),
        link,
        lookup,
    })
}
