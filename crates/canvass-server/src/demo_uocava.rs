//! The demo's overseas voter: a made-up Federal Post Card Application received through the
//! real path (`uocava::receive_fpca`: registered `temporary`, the year's request, an absentee
//! ballot requested), then the blank ballot sent as a one-time link (`uocava::send_due`), so
//! the link can be printed at start and opened with the voter's date of birth.

use canvass_core::{
    audit::now,
    ballot_styles,
    demo::DemoContent,
    id::JurisdictionId,
    jurisdiction::JurisdictionKind,
    uocava::{Classification, Delivery},
};
use canvass_formats::vri::{BallotPeriod, Election as VriElection};
use canvass_store::Store;
use time::macros::date;

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
}

/// Receives the demo FPCA in the first county and sends its ballot link.
pub async fn load(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    content: &DemoContent,
    public_url: &str,
) -> Result<DemoUocava, ServerError> {
    let county = content
        .jurisdictions
        .iter()
        .find(|jurisdiction| jurisdiction.kind == JurisdictionKind::County)
        .ok_or_else(|| ServerError::Internal("the demo has no county".into()))?;
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
    let birth_date = date!(1991 - 07 - 14);
    let details = FpcaDetails {
        first_name: "Marisol".into(),
        middle_name: None,
        last_name: "Abroadwell".into(),
        birth_date,
        county_name: county.name.to_string(),
        precinct: precinct.id.clone(),
        street: "12 Harbour Lane".into(),
        city: "Examplia City".into(),
        zip: "99501".into(),
        mailing_address: Some("Via Esempio 4\n00100 Roma\nItaly".into()),
        email: Some("marisol.abroadwell@examplia.invalid".into()),
        classification: Classification::Overseas,
        party: None,
        delivery: Delivery::Email,
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
    let ring = rings.current(store, &county.id).await?;
    let settings =
        VriSettings { jurisdiction: JurisdictionId::parse(ring.jurisdiction())?, actor: "demo".into(), precinct: None };
    let receipt = uocava::receive_fpca(store, audit, &ring, &read, VriEncoding::Json, &settings).await?;
    let settings = SendSettings { public_url: public_url.to_owned(), link_days: DEFAULT_LINK_DAYS };
    let sent = uocava::send_due(store, audit, &election.id, Some(&receipt.registration_number), &settings).await?;
    let link = sent
        .into_iter()
        .find_map(|sent| sent.link)
        .ok_or_else(|| ServerError::Internal("the demo voter's ballot went out without a link".into()))?;
    Ok(DemoUocava { registration_number: receipt.registration_number, birth_date: birth_date.to_string(), link })
}
