//! The one error type of canvass-server, and the one place each case becomes an HTTP status
//! and a stable JSON error code. Internal details go to the operator's log, never the client.

use axum::{
    Json,
    extract::rejection::JsonRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use canvass_core::CoreError;
use canvass_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Invalid(String),
    #[error("the request body is not valid JSON for this route: {0}")]
    MalformedBody(String),
    #[error("send the request body as application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than this node accepts")]
    BodyTooLarge,
    #[error("sign in first: this needs a staff session or an API token")]
    Unauthorized,
    /// The policy refuses: no grant allows this operation on this jurisdiction. The message
    /// never says which grants would.
    #[error("your roles do not allow this here")]
    Forbidden,
    #[error("this needs a second person's approval: make a two-person request ({0})")]
    ApprovalRequired(String),
    /// A refusal whose reason is safe to say (the requester approving their own request).
    #[error("{0}")]
    Refused(String),
    #[error("this needs a written justification")]
    JustificationRequired,
    #[error("too many failed sign-ins; wait a few minutes and try again")]
    Throttled,
    #[error("the form is missing its anti-forgery token or it does not match; reload the page and try again")]
    Csrf,
    #[error("this listener only accepts connections from its reverse proxy")]
    ForbiddenPeer,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// An NVRA list-maintenance rule refuses a voter status change; the message is the rule's
    /// sentence (the statute, the dates, when the change becomes possible).
    #[error("{0}")]
    ListMaintenance(String),
    /// The ballot rules refuse a step (`canvass_core::ballots`); the message says why and what
    /// the ballot may do next.
    #[error("{0}")]
    Ballot(String),
    #[error("{0}")]
    UnknownReference(String),
    /// A results upload refused whole: every problem, each naming its line or element and rule.
    #[error("the results upload was refused and nothing was written ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.join("\n"))]
    ResultsRefused(Vec<String>),
    #[error(
        "jurisdiction {0} is sealed: its officials must unseal it (canvass keys unseal) before its voter data can be used"
    )]
    Sealed(String),
    #[error("jurisdiction {0} has no key ring: create one with canvass keys init")]
    NoKeyRing(String),
    #[error("{0}")]
    WrongSecret(String),
    #[error("the database is not available")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
    #[error("cannot listen on {address}: {reason}")]
    Bind { address: String, reason: String },
    #[error("TLS set-up failed: {0}")]
    Tls(String),
    #[error("refusing to start: {0}")]
    Exposed(String),
}

impl ServerError {
    /// Whether the request was refused (not authorised, wrong secret) rather than failed.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized
                | Self::WrongSecret(_)
                | Self::ForbiddenPeer
                | Self::Forbidden
                | Self::Refused(_)
                | Self::ApprovalRequired(_)
                | Self::JustificationRequired
                | Self::Throttled
                | Self::Csrf
                | Self::ListMaintenance(_)
                | Self::Ballot(_)
                | Self::ResultsRefused(_)
        )
    }

    /// The stable machine-readable code clients and scripts match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_input",
            Self::MalformedBody(_) => "malformed_json",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTooLarge => "body_too_large",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Refused(_) => "refused",
            Self::ApprovalRequired(_) => "approval_required",
            Self::JustificationRequired => "justification_required",
            Self::Throttled => "too_many_attempts",
            Self::Csrf => "csrf",
            Self::ForbiddenPeer => "forbidden_peer",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "already_exists",
            Self::ListMaintenance(_) => "list_maintenance_refused",
            Self::Ballot(_) => "ballot_step_refused",
            Self::UnknownReference(_) => "unknown_reference",
            Self::ResultsRefused(_) => "results_refused",
            Self::Unavailable(_) => "unavailable",
            Self::Sealed(_) => "jurisdiction_sealed",
            Self::NoKeyRing(_) => "no_key_ring",
            Self::WrongSecret(_) => "wrong_secret",
            Self::Internal(_) | Self::Bind { .. } | Self::Tls(_) | Self::Exposed(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) | Self::MalformedBody(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden
            | Self::Refused(_)
            | Self::ApprovalRequired(_)
            | Self::JustificationRequired
            | Self::Csrf => StatusCode::FORBIDDEN,
            Self::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Self::ForbiddenPeer => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::UnknownReference(_) | Self::ListMaintenance(_) | Self::Ballot(_) | Self::ResultsRefused(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Sealed(_) => StatusCode::LOCKED,
            Self::NoKeyRing(_) => StatusCode::CONFLICT,
            Self::WrongSecret(_) => StatusCode::FORBIDDEN,
            Self::Internal(_) | Self::Bind { .. } | Self::Tls(_) | Self::Exposed(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// What the client may read: the message, except for failures whose detail is only for
    /// the operator.
    pub fn public_message(&self) -> String {
        self.to_string()
    }

    /// Writes server-side failures to the operator's log with their detail.
    fn log(&self) {
        match self {
            Self::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            Self::Unavailable(detail) => tracing::warn!(error = %detail, "database unavailable"),
            _ => {}
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code: invalid_input, malformed_json, unsupported_media_type, body_too_large,
    /// unauthorized, forbidden_peer, not_found, already_exists, unknown_reference,
    /// unavailable, jurisdiction_sealed, no_key_ring, wrong_secret, list_maintenance_refused,
    /// ballot_step_refused, results_refused, method_not_allowed (replacing or deleting an
    /// incident), internal.
    pub code: String,
    pub message: String,
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message: self.public_message() } };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, Self::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"canvass admin\""));
        }
        response
    }
}

impl From<CoreError> for ServerError {
    fn from(error: CoreError) -> Self {
        Self::Invalid(error.to_string())
    }
}

/// A crypto failure the caller did not map to something more specific (a wrong passphrase is
/// mapped where it can happen) is the node's own fault.
impl From<canvass_crypto::CryptoError> for ServerError {
    fn from(error: canvass_crypto::CryptoError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<StoreError> for ServerError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::AlreadyExists { .. } => Self::Conflict(error.to_string()),
            StoreError::Missing { .. } => Self::UnknownReference(error.to_string()),
            StoreError::Unavailable { .. } => Self::Unavailable(error.to_string()),
            StoreError::InUse { .. } => Self::Conflict(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ServerError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(bytes) if bytes.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::BodyTooLarge
            }
            other => Self::MalformedBody(other.body_text()),
        }
    }
}
