//! Overseas and military (UOCAVA) requests, blank-ballot deliveries and FWAB receipts as
//! stored. Ids, codes and times only: a link is stored as its token's hash, never the token.

use canvass_core::{
    CoreError,
    id::{ElectionId, JurisdictionId},
    uocava::{Classification, Delivery},
};
use time::Date;

use crate::StoreError;

/// One request received (an FPCA by form or import). Append-only: a later request of the same
/// voter for the same year supersedes an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUocavaRequest {
    /// Assigned by the store, increasing; 0 in a request not yet stored.
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: JurisdictionId,
    /// The calendar year whose elections the request covers.
    pub year: i32,
    pub delivery: Delivery,
    pub classification: Classification,
    /// Unix milliseconds.
    pub received_at: i64,
}

/// How a blank ballot went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryMethod {
    Mail,
    /// A one-time download link: its token's SHA-256 (hex) and when it stops working.
    Link {
        token_hash: String,
        expires_at: i64,
    },
}

/// One blank ballot sent to one voter for one election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUocavaDelivery {
    /// Assigned by the store, increasing; 0 in a delivery not yet stored.
    pub id: i64,
    pub registration_number: String,
    pub election: ElectionId,
    /// The ballot style sent (`style-N`).
    pub style: String,
    pub method: DeliveryMethod,
    /// Unix milliseconds.
    pub sent_at: i64,
    /// When the link was used (Unix milliseconds); a link is used once.
    pub downloaded_at: Option<i64>,
}

/// A Federal Write-In Absentee Ballot received for a voter and election (one per pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFwab {
    pub id: i64,
    pub registration_number: String,
    pub election: ElectionId,
    pub received_on: Date,
    /// Who recorded it, as the ledger names them.
    pub actor: String,
    pub recorded_at: i64,
}

fn corrupt(error: CoreError) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

/// A request row's columns as read, for [`request`].
#[derive(Debug)]
pub struct RequestColumns {
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: String,
    pub year: i32,
    pub delivery: String,
    pub classification: String,
    pub received_at: i64,
}

pub fn request(columns: RequestColumns) -> Result<StoredUocavaRequest, StoreError> {
    Ok(StoredUocavaRequest {
        id: columns.id,
        registration_number: columns.registration_number,
        jurisdiction: JurisdictionId::parse(&columns.jurisdiction).map_err(corrupt)?,
        year: columns.year,
        delivery: Delivery::parse(&columns.delivery).map_err(corrupt)?,
        classification: Classification::parse(&columns.classification).map_err(corrupt)?,
        received_at: columns.received_at,
    })
}

/// A delivery row's columns as read, for [`delivery`].
#[derive(Debug)]
pub struct DeliveryColumns {
    pub id: i64,
    pub registration_number: String,
    pub election: String,
    pub style: String,
    pub method: String,
    pub token_hash: Option<String>,
    pub sent_at: i64,
    pub expires_at: Option<i64>,
    pub downloaded_at: Option<i64>,
}

pub fn delivery(columns: DeliveryColumns) -> Result<StoredUocavaDelivery, StoreError> {
    let method = match (columns.method.as_str(), columns.token_hash, columns.expires_at) {
        ("mail", None, None) => DeliveryMethod::Mail,
        ("link", Some(token_hash), Some(expires_at)) => DeliveryMethod::Link { token_hash, expires_at },
        _ => return Err(StoreError::Corrupt(format!("UOCAVA delivery {} has an inconsistent method", columns.id))),
    };
    Ok(StoredUocavaDelivery {
        id: columns.id,
        registration_number: columns.registration_number,
        election: ElectionId::parse(&columns.election).map_err(corrupt)?,
        style: columns.style,
        method,
        sent_at: columns.sent_at,
        downloaded_at: columns.downloaded_at,
    })
}

impl DeliveryMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Link { .. } => "link",
        }
    }

    pub fn token_hash(&self) -> Option<&str> {
        match self {
            Self::Mail => None,
            Self::Link { token_hash, .. } => Some(token_hash),
        }
    }

    pub fn expires_at(&self) -> Option<i64> {
        match self {
            Self::Mail => None,
            Self::Link { expires_at, .. } => Some(*expires_at),
        }
    }
}
