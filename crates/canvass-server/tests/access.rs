//! The access layer through the real admin router: the authorization matrix generated from the
//! router's own route lists and the policy table; a bulk read that trips the read-volume
//! monitor (suspension, incident, mail over real SMTP); two-person requests; and the ways in
//! that must stay shut (wrong passwords, replayed codes, dead tokens, forged forms, another
//! county's voters, break-glass without a reason or past its expiry).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    cell::Cell,
    collections::{BTreeSet, HashMap},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use base64::Engine;
use canvass_core::{
    access::{Decision, Grant, Operation, RequestKind, RequestStatus, StaffRole, decide},
    audit::now_millis,
    credential::{EmailAddress, StaffAccount, Username},
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    results::ElectionDefinition,
};
use canvass_crypto::{ExposeSecret, SecretString, TotpSecret, generate_password, sha256};
use canvass_server::{
    access::{self, ADMIN_ROUTES, RouteAccess, ScopeFrom},
    admin_app,
    keys::{self, UnsealedRing},
    openapi_document, service, staff,
};
use canvass_store::{Store, StoredRequest, StoredToken};
use support::{PASSWORD, Reply, TestNode, send, smtp::SmtpListener, test_node};

const OWN_STATE: &str = "st-own";
const OWN_COUNTY: &str = "co-own";
const OTHER_STATE: &str = "st-other";
const OTHER_COUNTY: &str = "co-other";
const MAIL_WAIT: Duration = Duration::from_secs(10);

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

fn user(name: &str) -> Username {
    Username::parse(name).unwrap()
}

fn unix_seconds() -> u64 {
    u64::try_from(now_millis() / 1000).unwrap()
}

/// A node with two states, each with one county whose key ring is unsealed, and helpers to add
/// staff, tokens and voters to it.
struct World {
    test: TestNode,
    app: Router,
    /// Each county's passphrase.
    passphrases: HashMap<&'static str, String>,
    /// A copy of each county's unsealed ring, to unseal it again after a test sealed it.
    rings: Vec<(JurisdictionId, UnsealedRing)>,
    counter: Cell<u32>,
}

impl World {
    async fn new(config: &str) -> Self {
        let test = test_node(config, false).await;
        let store = test.node.store();
        let audit = test.node.system_audit();
        let places = [
            (OWN_STATE, "Own State", JurisdictionKind::State, None),
            (OWN_COUNTY, "Own County", JurisdictionKind::County, Some(OWN_STATE)),
            (OTHER_STATE, "Other State", JurisdictionKind::State, None),
            (OTHER_COUNTY, "Other County", JurisdictionKind::County, Some(OTHER_STATE)),
        ];
        for (place, name, kind, parent) in places {
            let jurisdiction =
                Jurisdiction { id: id(place), name: Name::parse(name).unwrap(), kind, parent: parent.map(id) };
            service::add_jurisdiction(store, &audit, &jurisdiction).await.unwrap();
        }
        let mut passphrases = HashMap::new();
        let mut rings = Vec::new();
        for county in [OWN_COUNTY, OTHER_COUNTY] {
            let precinct = Precinct {
                id: PrecinctId::parse(&format!("{county}-p1")).unwrap(),
                jurisdiction: id(county),
                name: Name::parse("Precinct 1").unwrap(),
            };
            service::add_precinct(store, &audit, &precinct).await.unwrap();
            let passphrase = generate_password(4).unwrap();
            let ring = keys::create_key_ring(store, &audit, &id(county), passphrase.clone(), 10_000).await.unwrap();
            rings.push((id(county), keys::reload(store, &ring).await.unwrap()));
            test.node.keys().insert(id(county), ring).unwrap();
            passphrases.insert(county, passphrase.expose_secret().to_owned());
        }
        for state in [OWN_STATE, OTHER_STATE] {
            let election = Election {
                id: ElectionId::parse(&format!("{state}-general")).unwrap(),
                jurisdiction: id(state),
                name: Name::parse("General Election").unwrap(),
                kind: ElectionKind::General,
                date: time::macros::date!(2027 - 11 - 02),
            };
            store.insert_election(&election, &[]).await.unwrap();
        }
        for (state, county) in [(OWN_STATE, OWN_COUNTY), (OTHER_STATE, OTHER_COUNTY)] {
            store.insert_election_definition(&results_definition(state, county)).await.unwrap();
        }
        let app = admin_app(test.node.clone());
        Self { test, app, passphrases, rings, counter: Cell::new(0) }
    }

    fn store(&self) -> &dyn Store {
        self.test.node.store()
    }

    /// A number no earlier call returned, for unique names.
    fn next(&self) -> u32 {
        let value = self.counter.get() + 1;
        self.counter.set(value);
        value
    }

    /// A staff account with password [`PASSWORD`] and, if given, one permanent grant.
    async fn add_staff(&self, name: &str, email: Option<&str>, grant: Option<(StaffRole, Option<&str>)>) -> Username {
        let audit = self.test.node.system_audit();
        let username = user(name);
        let email = email.map(|address| EmailAddress::parse(address).unwrap());
        staff::add_account(self.store(), &audit, &username, email, SecretString::from(PASSWORD)).await.unwrap();
        if let Some((role, jurisdiction)) = grant {
            staff::grant(self.store(), &audit, &username, &Grant::permanent(role, jurisdiction.map(id))).await.unwrap();
        }
        username
    }

    /// An API token acting as `owner` with one role.
    async fn token(&self, owner: &Username, role: StaffRole, jurisdiction: Option<&str>) -> String {
        let grant = Grant::permanent(role, jurisdiction.map(id));
        let audit = self.test.node.system_audit();
        access::issue_token(self.store(), &audit, owner, &grant, "test", 1).await.unwrap().1
    }

    /// An incident of `county`, stored directly; its id.
    async fn stored_incident(&self, county: &str) -> String {
        let incident_id = format!("inc-matrix-{}", self.next());
        let now = now_millis();
        let incident = canvass_store::StoredIncident {
            id: incident_id.clone(),
            jurisdiction: Some(id(county)),
            opened_at: now,
            detected_at: now,
            kind: "manual".into(),
            severity: "low".into(),
            summary: "Matrix test incident".into(),
            status: "open".into(),
            ..canvass_store::StoredIncident::default()
        };
        self.store().insert_incident(&incident).await.unwrap();
        incident_id
    }

    /// Enrols a second factor by writing the sealed secret, as enrolment would.
    async fn enrol(&self, username: &Username) -> TotpSecret {
        let secret = TotpSecret::generate().unwrap();
        let sealed = secret.seal(self.test.node.totp_key(), username.as_str()).unwrap();
        let account = self.store().staff_account(username).await.unwrap().unwrap();
        let account = StaffAccount { totp_secret: Some(sealed), totp_last_step: 0, ..account };
        self.store().upsert_staff_account(&account).await.unwrap();
        secret
    }

    /// Registers a voter through the API as the node's administrator.
    async fn add_voter(&self, county: &str, number: &str, first_name: &str, last_name: &str) {
        let body = voter_body(county, number, first_name, last_name);
        let reply = self.admin(Method::POST, "/api/voters", Some(&body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }

    /// Stores a signature image for the county's Ada (once), so the image route has one to show.
    async fn ensure_signature(&self, county: &'static str) {
        let jurisdiction = id(county);
        let number = self.ada(county);
        if self.store().voter_signature(&jurisdiction, &number).await.unwrap().is_some() {
            return;
        }
        let ring = self.test.node.keys().current(self.store(), &jurisdiction).await.unwrap();
        let audit = self.test.node.system_audit();
        canvass_server::signatures::set_signature(
            self.store(),
            &audit,
            &ring,
            &jurisdiction,
            &number,
            &signature_png(),
        )
        .await
        .unwrap();
    }

    /// The registration number of the Ada Lovelace the matrix test registers in `county`.
    fn ada(&self, county: &str) -> String {
        if county == OWN_COUNTY { "ADAOWN".to_owned() } else { "ADAOTHER".to_owned() }
    }

    async fn admin(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        send(&self.app, support::with_token(&self.test.admin_token, method, path, body)).await
    }

    async fn as_token(&self, token: &str, method: Method, path: &str, body: Option<&str>) -> Reply {
        send(&self.app, support::with_token(token, method, path, body)).await
    }

    /// Ledger entries matching an `/api/audit` query, newest first.
    async fn ledger(&self, query: &str) -> Vec<serde_json::Value> {
        let reply = self.admin(Method::GET, &format!("/api/audit?limit=1000&{query}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }

    /// Unseals again any county a request sealed.
    async fn unseal_all(&self) {
        for (county, ring) in &self.rings {
            if !self.test.node.keys().is_unsealed(county) {
                let copy = keys::reload(self.store(), ring).await.unwrap();
                self.test.node.keys().insert(county.clone(), copy).unwrap();
            }
        }
    }

    /// A pending or approved export request of `county`, stored directly.
    async fn stored_request(
        &self,
        requester: &Username,
        county: &str,
        status: RequestStatus,
        expires_at: i64,
    ) -> String {
        let now = now_millis();
        let request = StoredRequest {
            id: format!("req-test-{}", self.next()),
            kind: RequestKind::ExportVoters,
            requester: requester.clone(),
            jurisdiction: id(county),
            subject: String::new(),
            justification: "Stored by the test".to_owned(),
            created_at: now - 1_000,
            expires_at,
            status,
            approver: (status == RequestStatus::Approved).then(|| user("requester")),
            decided_at: (status == RequestStatus::Approved).then_some(now - 500),
        };
        self.store().insert_request(&request).await.unwrap();
        request.id
    }
}

fn voter_body(county: &str, number: &str, first_name: &str, last_name: &str) -> String {
    serde_json::json!({
        "jurisdiction": county, "registration_number": number, "county": county,
        "precinct": format!("{county}-p1"), "first_name": first_name, "last_name": last_name,
        "party": "una", "status": "active", "registered_on": "2024-05-01",
        "birth_date": "1980-02-09", "ssn_last_four": "1234", "email": "voter@example.invalid"
    })
    .to_string()
}

/// A browser's signed-in session: its cookie and the anti-forgery token its pages carry.
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    async fn open(app: &Router, username: &str, code: &str) -> Self {
        let reply = support::sign_in(app, username, PASSWORD, code).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{username} could not sign in: {}", reply.body);
        let cookie = support::session_cookie(&reply).unwrap();
        let set_cookie = reply.header(header::SET_COOKIE).unwrap();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
        let mut session = Self { cookie, csrf: String::new() };
        let page = send(app, session.request(Method::GET, "/account", None)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let marker = "name=\"csrf\" value=\"";
        let start = page.body.find(marker).expect("the page's forms carry the anti-forgery token") + marker.len();
        let length = page.body[start..].find('"').unwrap();
        session.csrf = page.body[start..start + length].to_owned();
        assert!(!session.csrf.is_empty());
        session
    }

    fn builder(&self, method: Method, path: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, format!("{}={}", access::SESSION_COOKIE, self.cookie))
    }

    /// A request with the cookie only (a JSON body if given).
    fn request(&self, method: Method, path: &str, json: Option<&str>) -> Request<Body> {
        let builder = self.builder(method, path);
        match json {
            Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_owned())),
            None => builder.body(Body::empty()),
        }
        .unwrap()
    }

    /// A JSON API request with the cookie and the anti-forgery header.
    fn api(&self, method: Method, path: &str, json: Option<&str>, extra: &[(&str, &str)]) -> Request<Body> {
        let mut builder = self.builder(method, path).header(access::CSRF_HEADER, &self.csrf);
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        match json {
            Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_owned())),
            None => builder.body(Body::empty()),
        }
        .unwrap()
    }

    /// A form post with the cookie; `fields` carry the `csrf` field or not, as the test wants.
    fn form(&self, path: &str, fields: &[(&str, &str)]) -> Request<Body> {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.builder(Method::POST, path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    }
}

/// Waits (without blocking the runtime the outbox runs on) for `count` messages.
async fn wait_for_mail(listener: &SmtpListener, count: usize) -> Vec<support::smtp::ReceivedMail> {
    let deadline = Instant::now() + MAIL_WAIT;
    loop {
        let messages = listener.messages();
        if messages.len() >= count || Instant::now() > deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for a message to `address`; then a moment more, for any that should not come.
async fn wait_for_mail_to(listener: &SmtpListener, address: &str) -> Vec<support::smtp::ReceivedMail> {
    let deadline = Instant::now() + MAIL_WAIT;
    while Instant::now() < deadline
        && !listener.messages().iter().any(|mail| mail.recipients.iter().any(|to| to == address))
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    listener.messages()
}

fn mail_config(port: u16) -> String {
    format!(
        "[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\nsecurity = \"none\"\nfrom = \"canvass@localhost\"\n"
    )
}

// ---------------------------------------------------------------------------------------------
// The authorization matrix.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Own,
    Other,
}

impl Side {
    fn county(self) -> &'static str {
        match self {
            Self::Own => OWN_COUNTY,
            Self::Other => OTHER_COUNTY,
        }
    }

    fn state(self) -> &'static str {
        match self {
            Self::Own => OWN_STATE,
            Self::Other => OTHER_STATE,
        }
    }
}

/// One staff member per role, each holding that role on the own state, with a token.
struct Member {
    username: Username,
    role: StaffRole,
    token: String,
    grants: Vec<Grant>,
}

/// Where a handler's own policy check looks, after the layer's.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Lineage empty: any grant allowing the operation.
    Anywhere,
    At(&'static str),
}

/// Whether the handler also asks for the rule's written reason (and refuses two-person rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// The handler only asks whether the role may (two-person operations go through requests).
    NotAsked,
    /// Asked, in the `x-canvass-justification` header: tried without it, then with it.
    Header,
    /// Asked, and the sample's body always gives one.
    InBody,
}

#[derive(Debug, Clone)]
enum Payload {
    Empty,
    Json(serde_json::Value),
    Form(Vec<(&'static str, String)>),
    /// A multipart form with one file, in field `signature`.
    Upload(Vec<u8>),
    /// A body sent as it is (`application/octet-stream`): a file.
    Raw(Vec<u8>),
    /// A multipart form with these fields.
    Fields(Vec<(&'static str, Vec<u8>)>),
    /// A body as it is, with its content type (a results file; a multipart results form).
    Typed(String, Vec<u8>),
}

const BOUNDARY: &str = "matrix-boundary";

/// The smallest thing the signature routes take for a PNG: its first bytes.
fn signature_png() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\nmatrix".to_vec()
}

fn multipart_body(file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"s.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn multipart_fields(fields: &[(&'static str, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A small election definition in the CSV layout for `jurisdiction` (a county), unique to
/// `number` so each allowed import is a new election.
fn definition_csv(number: u32) -> Vec<u8> {
    format!(
        "election,date,kind\nMatrix {number},2026-11-03,general\ncounty,precinct,contest,kind,vote_for,choice,party\n\
         ,P{number},Mayor,candidate,1,Ann,\n"
    )
    .into_bytes()
}

/// A request for one route, and what the handler checks beyond the layer.
#[derive(Debug, Clone)]
struct Sample {
    uri: String,
    payload: Payload,
    /// The jurisdiction a `Path` or `Query` scope names.
    target: Option<&'static str>,
    handler: Vec<(Operation, Scope)>,
    reason: Reason,
    /// Statuses of a request the policy allows.
    ok: &'static [u16],
}

impl Sample {
    fn new(uri: impl Into<String>, ok: &'static [u16]) -> Self {
        Self {
            uri: uri.into(),
            payload: Payload::Empty,
            target: None,
            handler: Vec::new(),
            reason: Reason::NotAsked,
            ok,
        }
    }

    fn json(mut self, value: serde_json::Value) -> Self {
        self.payload = Payload::Json(value);
        self
    }

    fn form(mut self, fields: &[(&'static str, &str)]) -> Self {
        self.payload = Payload::Form(fields.iter().map(|(key, value)| (*key, (*value).to_owned())).collect());
        self
    }

    fn target(mut self, jurisdiction: &'static str) -> Self {
        self.target = Some(jurisdiction);
        self
    }

    fn checks(mut self, operation: Operation, scope: Scope) -> Self {
        self.handler.push((operation, scope));
        self
    }

    fn reason(mut self, reason: Reason) -> Self {
        self.reason = reason;
        self
    }

    fn request(&self, method: &str, token: Option<&str>, justification: bool) -> Request<Body> {
        let mut builder = Request::builder().method(method).uri(&self.uri);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, support::bearer(token));
        }
        if justification {
            builder = builder.header(access::JUSTIFICATION_HEADER, "Matrix test: checking a voter's record");
        }
        match &self.payload {
            Payload::Empty => builder.body(Body::empty()),
            Payload::Json(value) => {
                builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(value.to_string()))
            }
            Payload::Form(fields) => {
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields.iter().map(|(key, value)| (*key, value.as_str())))
                    .finish();
                builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(body))
            }
            Payload::Upload(file) => builder
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
                .body(Body::from(multipart_body(file))),
            Payload::Raw(bytes) => {
                builder.header(header::CONTENT_TYPE, "application/octet-stream").body(Body::from(bytes.clone()))
            }
            Payload::Fields(fields) => builder
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
                .body(Body::from(multipart_fields(fields))),
            Payload::Typed(content_type, body) => {
                builder.header(header::CONTENT_TYPE, content_type.as_str()).body(Body::from(body.clone()))
            }
        }
        .unwrap()
    }
}

/// An election of the state whose one contest the county's precinct votes on: what the results
/// routes' samples report.
fn results_definition(state: &str, county: &str) -> ElectionDefinition {
    let election = ElectionId::parse(&format!("{state}-results")).unwrap();
    let contest = Contest {
        id: ContestId::parse("council").unwrap(),
        election: election.clone(),
        district: id(county),
        name: Name::parse("Council").unwrap(),
        kind: ContestKind::Candidate,
        vote_for: VoteFor::ONE,
        choices: ["Ann", "Bo"].iter().map(|name| Choice { name: Name::parse(name).unwrap(), party: None }).collect(),
    };
    let precinct = Precinct {
        id: PrecinctId::parse(&format!("{county}-p1")).unwrap(),
        jurisdiction: id(county),
        name: Name::parse("Precinct 1").unwrap(),
    };
    let county_name = if county == OWN_COUNTY { "Own County" } else { "Other County" };
    ElectionDefinition {
        election: Election {
            id: election,
            jurisdiction: id(state),
            name: Name::parse("Results Election").unwrap(),
            kind: ElectionKind::General,
            date: time::macros::date!(2027 - 11 - 02),
        },
        coverage: [(contest.id.clone(), [precinct.id.clone()].into_iter().collect())].into_iter().collect(),
        contests: vec![contest],
        counties: vec![Jurisdiction {
            id: id(county),
            name: Name::parse(county_name).unwrap(),
            kind: JurisdictionKind::County,
            parent: Some(id(state)),
        }],
        precincts: vec![precinct],
    }
}

/// A county's results file for [`results_definition`] (the same numbers every time: the first
/// upload reports them, later ones are no change).
fn results_file(county: &str) -> Vec<u8> {
    let county_name = if county == OWN_COUNTY { "Own County" } else { "Other County" };
    format!("county,precinct,office,candidate,votes\n{county_name},Precinct 1,Council,Ann,3\n{county_name},Precinct 1,Council,Bo,4\n")
        .into_bytes()
}

/// An incident of `county` whose subject is the matrix's victim account; returns its id.
async fn matrix_incident(world: &World, county: &str, number: u32, victim: &str) -> String {
    let incident = canvass_store::StoredIncident {
        id: format!("inc-matrix-{number}"),
        jurisdiction: Some(id(county)),
        opened_at: now_millis(),
        kind: "bulk_read".to_owned(),
        severity: "high".to_owned(),
        summary: "Matrix test".to_owned(),
        subject: Some(user(victim)),
        records_affected: 0,
        status: "open".to_owned(),
        ..Default::default()
    };
    world.store().insert_incident(&incident).await.unwrap();
    incident.id
}

/// The sample request of each route, for a caller (None: anonymous) on one side. None for a
/// route this table does not know: the matrix fails on it.
async fn sample(world: &World, method: &str, path: &str, caller: Option<&Member>, side: Side) -> Option<Sample> {
    let county = side.county();
    let state = side.state();
    let number = world.next();
    let role = caller.map_or(StaffRole::Observer, |member| member.role);
    let me = caller.map_or_else(|| user("requester"), |member| member.username.clone());
    let victim = format!("victim-{}", if side == Side::Own { "own" } else { "other" });
    let new_user = serde_json::json!({
        "username": format!("new-{number}"), "password": PASSWORD, "role": "observer", "jurisdiction": county
    });
    let reason = "Matrix test: a reason for the record";
    let sample = match (method, path) {
        (
            "GET",
            "/healthz" | "/readyz" | "/api/openapi.json" | "/assets/canvass.css" | "/login" | "/account" | "/metrics" | "/"
            | "/users" | "/approvals" | "/api/node" | "/api/jurisdictions" | "/api/precincts" | "/api/elections"
            | "/api/keys" | "/api/users" | "/api/tokens" | "/api/requests" | "/api/incidents" | "/incidents",
        ) => Sample::new(path, &[200]),
        ("POST", "/api/incidents") => Sample::new(path, &[201])
            .json(serde_json::json!({ "jurisdiction": county, "severity": "low", "summary": "Matrix test incident" }))
            .checks(Operation::ManageIncidents, Scope::At(county)),
        ("POST", "/incidents") => Sample::new(path, &[303])
            .form(&[("jurisdiction", county), ("severity", "low"), ("summary", "Matrix test incident")])
            .checks(Operation::ManageIncidents, Scope::At(county)),
        ("GET", "/api/incidents/{id}" | "/incidents/{id}") => {
            let incident = world.stored_incident(county).await;
            Sample::new(path.replace("{id}", &incident), &[200]).checks(Operation::SearchLedger, Scope::At(county))
        }
        ("POST", "/api/incidents/{id}/updates") => {
            let incident = world.stored_incident(county).await;
            Sample::new(path.replace("{id}", &incident), &[201])
                .json(serde_json::json!({ "public_text": "Matrix test note" }))
                .checks(Operation::ManageIncidents, Scope::At(county))
        }
        ("POST", "/incidents/{id}/updates") => {
            let incident = world.stored_incident(county).await;
            Sample::new(path.replace("{id}", &incident), &[303])
                .form(&[("public_text", "Matrix test note")])
                .checks(Operation::ManageIncidents, Scope::At(county))
        }
        ("PUT" | "DELETE", "/api/incidents/{id}") => {
            let incident = world.stored_incident(county).await;
            Sample::new(path.replace("{id}", &incident), &[405])
        }
        ("GET", "/api/incidents/{id}/affected") => {
            let incident = matrix_incident(world, county, number, &victim).await;
            Sample::new(path.replace("{id}", &incident), &[200])
                .checks(Operation::ReadVoters, Scope::At(county))
                .reason(Reason::Header)
        }
        ("GET", "/incidents/{id}/affected") => {
            let incident = matrix_incident(world, county, number, &victim).await;
            Sample::new(format!("/incidents/{incident}/affected?reason=Matrix%20test"), &[200])
                .checks(Operation::ReadVoters, Scope::At(county))
                .reason(Reason::InBody)
        }
        ("POST", "/login") => Sample::new(path, &[303]).form(&[("username", "door"), ("password", PASSWORD)]),
        ("POST", "/logout") => Sample::new(path, &[303]).form(&[]),
        ("POST", "/account/second-factor") => {
            // A real enrolment offer for the caller with a code that can never match: the
            // handler runs and refuses the code (400), leaving the account as it was.
            let secret = TotpSecret::generate().unwrap();
            let sealed = secret.seal(world.test.node.totp_key(), me.as_str()).unwrap();
            let pending = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed);
            Sample::new(path, &[400]).form(&[("pending", &pending), ("code", "abcdef")])
        }
        ("POST", "/users") => Sample::new(path, &[303])
            .form(&[
                ("username", &format!("new-{number}")),
                ("password", PASSWORD),
                ("role", "observer"),
                ("jurisdiction", county),
            ])
            .checks(Operation::ManageStaff, Scope::At(county)),
        ("POST", "/users/{username}/suspend" | "/users/{username}/reinstate" | "/users/{username}/reset-mfa") => {
            Sample::new(path.replace("{username}", &victim), &[303])
                .form(&[])
                .checks(Operation::ManageStaff, Scope::At(county))
        }
        ("POST", "/approvals") => Sample::new(path, &[303])
            .form(&[("kind", "export_voters"), ("jurisdiction", county), ("justification", reason)])
            .checks(Operation::ExportVoters, Scope::At(county)),
        ("POST", "/approvals/{id}/approve" | "/approvals/{id}/reject") => {
            let request = world.stored_request(&user("requester"), county, RequestStatus::Pending, now_millis() + 3_600_000).await;
            Sample::new(path.replace("{id}", &request), &[303]).form(&[]).checks(Operation::ExportVoters, Scope::At(county))
        }
        ("POST", "/break-glass") => Sample::new(path, &[303])
            .form(&[("jurisdiction", county), ("minutes", "5"), ("justification", reason)])
            .checks(Operation::BreakGlass, Scope::Anywhere)
            .reason(Reason::InBody),
        ("POST", "/api/jurisdictions") => Sample::new(path, &[201])
            .json(serde_json::json!({ "id": format!("new-county-{number}"), "name": "New County", "kind": "county", "parent": state }))
            .checks(Operation::ManageJurisdictions, Scope::At(state)),
        ("GET", "/api/jurisdictions/{id}") => Sample::new(format!("/api/jurisdictions/{county}"), &[200]),
        ("POST", "/api/precincts") => Sample::new(path, &[201])
            .json(serde_json::json!({ "id": format!("new-precinct-{number}"), "jurisdiction": county, "name": "New" }))
            .checks(Operation::ManageJurisdictions, Scope::At(county)),
        ("GET", "/api/elections/{id}") => Sample::new(format!("/api/elections/{state}-general"), &[200]),
        ("GET", "/api/elections/{id}/definition") => {
            Sample::new(format!("/api/elections/{state}-general/definition"), &[200])
        }
        ("GET", "/elections") => Sample::new(path, &[200]),
        ("GET", "/elections/{id}") => Sample::new(format!("/elections/{state}-general"), &[200]),
        ("POST", "/api/jurisdictions/{id}/elections") => {
            let mut sample = Sample::new(
                format!("/api/jurisdictions/{county}/elections?format=csv&election=matrix-{number}"),
                &[201],
            )
            .target(county);
            sample.payload = Payload::Raw(definition_csv(number));
            sample
        }
        ("POST", "/elections") => {
            let mut sample = Sample::new(path, &[303]).checks(Operation::DefineElections, Scope::At(county));
            sample.payload = Payload::Fields(vec![
                ("jurisdiction", county.as_bytes().to_vec()),
                ("format", b"csv".to_vec()),
                ("election", format!("matrix-{number}").into_bytes()),
                ("file", definition_csv(number)),
            ]);
            sample
        }
        ("POST", "/api/jurisdictions/{id}/unseal") => Sample::new(format!("/api/jurisdictions/{county}/unseal"), &[200])
            .json(serde_json::json!({ "passphrase": world.passphrases[county] }))
            .target(county),
        ("POST", "/api/jurisdictions/{id}/seal") => {
            Sample::new(format!("/api/jurisdictions/{county}/seal"), &[200]).target(county)
        }
        ("POST", "/api/voters") => Sample::new(path, &[201])
            .json(serde_json::from_str(&voter_body(county, &format!("M{number}"), "Mat", "Rix")).unwrap())
            .checks(Operation::WriteVoters, Scope::At(county)),
        ("GET", "/api/jurisdictions/{id}/voters") => Sample::new(
            format!("/api/jurisdictions/{county}/voters?last_name=Lovelace&first_name=Ada&confidential=true&reason=Matrix%20test"),
            &[200],
        )
        .target(county)
        .checks(Operation::ReadVoters, Scope::At(county))
        .reason(Reason::InBody),
        ("GET", "/api/jurisdictions/{id}/voters/{voter}/vri") => Sample::new(
            format!("/api/jurisdictions/{county}/voters/{}/vri?reason=Matrix%20test", world.ada(county)),
            &[200],
        )
        .target(county)
        .checks(Operation::ReadVoters, Scope::At(county))
        .reason(Reason::InBody),
        ("GET", "/api/jurisdictions/{id}/voters/{voter}/status") => {
            Sample::new(format!("/api/jurisdictions/{county}/voters/{}/status", world.ada(county)), &[200]).target(county)
        }
        ("POST", "/api/jurisdictions/{id}/voters/{voter}/status") => {
            let voter = format!("ST{number}");
            world.add_voter(county, &voter, "Sam", "Status").await;
            Sample::new(format!("/api/jurisdictions/{county}/voters/{voter}/status"), &[201])
                .json(serde_json::json!({ "status": "removed", "reason": "voter_request" }))
                .target(county)
        }
        ("GET", "/api/jurisdictions/{id}/voters/{voter}/ballots") => {
            Sample::new(format!("/api/jurisdictions/{county}/voters/{}/ballots", world.ada(county)), &[200]).target(county)
        }
        ("POST", "/api/jurisdictions/{id}/voters/{voter}/ballots") => {
            let voter = format!("BA{number}");
            world.add_voter(county, &voter, "Bea", "Ballot").await;
            Sample::new(format!("/api/jurisdictions/{county}/voters/{voter}/ballots"), &[201])
                .json(serde_json::json!({ "election": format!("{state}-general"), "step": "request" }))
                .target(county)
        }
        ("POST", "/jurisdictions/{id}/voters/{voter}/ballots") => {
            let voter = format!("BF{number}");
            world.add_voter(county, &voter, "Bea", "Ballot").await;
            Sample::new(format!("/jurisdictions/{county}/voters/{voter}/ballots"), &[303])
                .form(&[("election", &format!("{state}-general")), ("step", "request")])
                .target(county)
        }
        ("GET", "/voters") => Sample::new(path, &[200]),
        ("GET", "/jurisdictions/{id}/voters") => {
            Sample::new(format!("/jurisdictions/{county}/voters"), &[200]).target(county)
        }
        ("POST", "/jurisdictions/{id}/voters") => Sample::new(format!("/jurisdictions/{county}/voters"), &[200])
            .form(&[("last_name", "Lovelace"), ("first_name", "Ada"), ("confidential", "on"), ("reason", reason)])
            .target(county)
            .checks(Operation::ReadVoters, Scope::At(county))
            .reason(Reason::InBody),
        ("GET", "/jurisdictions/{id}/voters/{voter}") => {
            Sample::new(format!("/jurisdictions/{county}/voters/{}", world.ada(county)), &[200]).target(county)
        }
        ("POST", "/jurisdictions/{id}/voters/{voter}/status") => {
            let voter = format!("SF{number}");
            world.add_voter(county, &voter, "Sam", "Status").await;
            Sample::new(format!("/jurisdictions/{county}/voters/{voter}/status"), &[303])
                .form(&[("status", "removed"), ("reason", "voter_request")])
                .target(county)
        }
        ("GET", "/api/jurisdictions/{id}/voters/{voter}/vote-history") => {
            Sample::new(format!("/api/jurisdictions/{county}/voters/{}/vote-history", world.ada(county)), &[200])
                .target(county)
        }
        ("GET", "/jurisdictions/{id}/voters/{voter}/signature") => {
            world.ensure_signature(county).await;
            let uri = format!("/jurisdictions/{county}/voters/{}/signature?reason=Matrix%20test", world.ada(county));
            Sample::new(uri, &[200]).target(county).checks(Operation::ReadVoters, Scope::At(county)).reason(Reason::InBody)
        }
        ("POST", "/jurisdictions/{id}/voters/{voter}/signature") => {
            let mut sample = Sample::new(format!("/jurisdictions/{county}/voters/{}/signature", world.ada(county)), &[303])
                .target(county);
            sample.payload = Payload::Upload(signature_png());
            sample
        }
        ("GET", "/api/jurisdictions/{id}/duplicates" | "/jurisdictions/{id}/duplicates") => {
            Sample::new(path.replace("{id}", county), &[200]).target(county)
        }
        (
            "POST",
            "/api/jurisdictions/{id}/duplicates/merge"
            | "/api/jurisdictions/{id}/duplicates/dismiss"
            | "/jurisdictions/{id}/duplicates/merge"
            | "/jurisdictions/{id}/duplicates/dismiss",
        ) => {
            // A fresh pair each time: one name and birth date on two records.
            let (first, second) = (format!("DA{number}"), format!("DB{number}"));
            world.add_voter(county, &first, "Dana", &format!("Twin{number}")).await;
            world.add_voter(county, &second, "Dana", &format!("Twin{number}")).await;
            let fields = if path.ends_with("merge") { ["keep", "remove"] } else { ["first", "second"] };
            let sample = Sample::new(path.replace("{id}", county), if path.starts_with("/api") { &[201] } else { &[303] });
            let sample = if path.starts_with("/api") {
                sample.json(serde_json::json!({ fields[0]: first, fields[1]: second, "reason": reason }))
            } else {
                sample.form(&[(fields[0], &first), (fields[1], &second), ("reason", reason)])
            };
            sample.target(county)
        }
        ("GET", "/api/audit") => Sample::new(format!("/api/audit?jurisdiction={county}"), &[200]).target(county),
        ("POST", "/api/users") => Sample::new(path, &[201]).json(new_user).checks(Operation::ManageStaff, Scope::At(county)),
        (
            "POST",
            "/api/users/{username}/suspend" | "/api/users/{username}/reinstate" | "/api/users/{username}/reset-mfa",
        ) => Sample::new(path.replace("{username}", &victim), &[204]).checks(Operation::ManageStaff, Scope::At(county)),
        ("POST", "/api/tokens") => Sample::new(path, &[201])
            .json(serde_json::json!({ "label": "matrix", "role": role.as_str(), "jurisdiction": county, "days": 1 }))
            .checks(Operation::ManageTokens, Scope::At(county)),
        ("POST", "/api/tokens/{id}/revoke") => {
            let token = world.token(&user("requester"), StaffRole::CountyAdministrator, Some(county)).await;
            let token_id = support::token_id(&token).to_owned();
            Sample::new(format!("/api/tokens/{token_id}/revoke"), &[204])
                .checks(Operation::ManageTokens, Scope::At(county))
        }
        ("POST", "/api/requests") => Sample::new(path, &[201])
            .json(serde_json::json!({ "kind": "export_voters", "jurisdiction": county, "justification": reason }))
            .checks(Operation::ExportVoters, Scope::At(county)),
        ("POST", "/api/requests/{id}/approve" | "/api/requests/{id}/reject") => {
            let request = world.stored_request(&user("requester"), county, RequestStatus::Pending, now_millis() + 3_600_000).await;
            Sample::new(path.replace("{id}", &request), &[200]).checks(Operation::ExportVoters, Scope::At(county))
        }
        ("POST", "/api/requests/{id}/run") => {
            let request = world.stored_request(&me, county, RequestStatus::Approved, now_millis() + 3_600_000).await;
            Sample::new(path.replace("{id}", &request), &[200]).checks(Operation::ExportVoters, Scope::At(county))
        }
        ("POST", "/api/break-glass") => Sample::new(path, &[201])
            .json(serde_json::json!({ "jurisdiction": county, "justification": reason, "minutes": 5 }))
            .checks(Operation::BreakGlass, Scope::Anywhere)
            .reason(Reason::InBody),
        ("GET", "/elections/{id}/uocava") => Sample::new(path.replace("{id}", &format!("{state}-results")), &[200])
            .checks(Operation::ReadBallots, Scope::At(state)),
        ("POST", "/elections/{id}/uocava/fwab") => {
            Sample::new(path.replace("{id}", &format!("{state}-results")), &[404])
                .form(&[("jurisdiction", county), ("registration_number", "NOBODY"), ("on", "")])
                .checks(Operation::RecordBallots, Scope::At(county))
        }
        // Held FPCAs: the list shows only the rolls the caller may decide for; an unknown
        // request is not found for anyone the layer lets through (tests/uocava_pending.rs
        // checks the handler's per-roll refusal on a held request).
        ("GET", "/uocava/pending") => Sample::new(path, &[200]),
        ("GET", "/uocava/pending/{id}") => Sample::new(path.replace("{id}", "fpca-none"), &[404]),
        ("POST", "/uocava/pending/{id}/confirm") => Sample::new(path.replace("{id}", "fpca-none"), &[404]).form(&[]),
        ("POST", "/uocava/pending/{id}/reject") => {
            Sample::new(path.replace("{id}", "fpca-none"), &[404]).form(&[("reason", "matrix test")])
        }
        ("GET", "/api/elections/{id}/results" | "/elections/{id}/results") => {
            Sample::new(path.replace("{id}", &format!("{state}-results")), &[200])
        }
        ("POST", "/api/elections/{id}/results") => {
            let mut sample =
                Sample::new(format!("/api/elections/{state}-results/results?format=openelections"), &[200])
                    .checks(Operation::UploadResults, Scope::At(county));
            sample.payload = Payload::Typed("application/octet-stream".into(), results_file(county));
            sample
        }
        ("POST", "/elections/{id}/results") => {
            let mut body = format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nopenelections\r\n\
                 --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .into_bytes();
            body.extend(results_file(county));
            body.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
            let mut sample = Sample::new(path.replace("{id}", &format!("{state}-results")), &[200])
                .checks(Operation::UploadResults, Scope::At(county));
            sample.payload = Payload::Typed(format!("multipart/form-data; boundary={BOUNDARY}"), body);
            sample
        }
        ("POST", "/api/elections/{id}/certify") => {
            Sample::new(path.replace("{id}", &format!("{state}-results")), &[201])
                .json(serde_json::json!({ "justification": reason }))
                .checks(Operation::CertifyResults, Scope::At(state))
        }
        _ => return None,
    };
    Some(sample)
}

/// What the policy table says should happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    /// 403 with this error code.
    Refused(&'static str),
}

async fn lineage_of(world: &World, scope: Scope) -> Vec<JurisdictionId> {
    match scope {
        Scope::Anywhere => Vec::new(),
        Scope::At(place) => access::lineage(world.store(), &id(place)).await.unwrap(),
    }
}

async fn expectation(world: &World, access: RouteAccess, sample: &Sample, grants: &[Grant], justified: bool) -> Expect {
    let RouteAccess::Staff(operation, scope) = access else {
        return Expect::Allowed;
    };
    let now = now_millis();
    let layer_scope = match scope {
        ScopeFrom::Node | ScopeFrom::Handler => Scope::Anywhere,
        ScopeFrom::Path(_) | ScopeFrom::Query(_) => {
            Scope::At(sample.target.expect("a sample of a route scoped by path or query names its jurisdiction"))
        }
    };
    let mut decision = decide(grants, operation, &lineage_of(world, layer_scope).await, now);
    for (operation, scope) in &sample.handler {
        if decision == Decision::Denied {
            break;
        }
        decision = decide(grants, *operation, &lineage_of(world, *scope).await, now);
    }
    match decision {
        Decision::Denied => Expect::Refused("forbidden"),
        Decision::Allowed { rule, .. } if sample.reason != Reason::NotAsked && rule.second_approver => {
            Expect::Refused("approval_required")
        }
        Decision::Allowed { rule, .. } if sample.reason == Reason::Header && rule.justification && !justified => {
            Expect::Refused("justification_required")
        }
        Decision::Allowed { .. } => Expect::Allowed,
    }
}

/// Whether a refusal is the expected one: the layer's and the API's are JSON with a code; a
/// page handler's is an HTML page saying the same.
fn refused_as(reply: &Reply, code: &str) -> bool {
    if reply.status != StatusCode::FORBIDDEN {
        return false;
    }
    match reply.error_code().as_str() {
        "" => code == "forbidden" && reply.body.contains("your roles do not allow this here"),
        actual => actual == code,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_in_and_out_of_its_jurisdiction_as_the_policy_table_says() {
    let started = Instant::now();
    let world = World::new("").await;

    // The routes: every path and method of the OpenAPI document, plus the entries of the
    // policy list that are not API routes (pages, metrics, the document itself).
    let document = serde_json::to_value(openapi_document()).unwrap();
    let mut routes: BTreeSet<(String, String)> = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        // Described in the document, served on the public listener (witnesses post there).
        if path.starts_with("/log/") {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    let documented = routes.clone();
    let unlisted: Vec<_> = documented
        .iter()
        .filter(|(method, path)| access::route_policy(&Method::from_bytes(method.as_bytes()).unwrap(), path).is_none())
        .collect();
    assert!(unlisted.is_empty(), "API routes without an entry in ADMIN_ROUTES (refused to everyone): {unlisted:?}");
    for route in ADMIN_ROUTES {
        let key = (route.method.to_owned(), route.path.to_owned());
        if route.path.starts_with("/api/") && route.path != "/api/openapi.json" {
            assert!(
                documented.contains(&key),
                "{} {} has a policy but no OpenAPI description",
                route.method,
                route.path
            );
        }
        if let RouteAccess::Staff(operation, _) = route.access {
            assert!(canvass_core::access::has_rule(operation), "{operation} has no row in the policy table");
        }
        routes.insert(key);
    }
    assert_eq!(routes.len(), ADMIN_ROUTES.len(), "each route has exactly one policy entry");

    // The people: one per role on the own state, and the accounts samples act on.
    let mut members = Vec::new();
    for role in StaffRole::ALL {
        let name = format!("member-{}", role.as_str().replace('_', "-"));
        let username = world.add_staff(&name, None, Some((role, Some(OWN_STATE)))).await;
        let token = world.token(&username, role, Some(OWN_STATE)).await;
        members.push(Member { username, role, token, grants: vec![Grant::permanent(role, Some(id(OWN_STATE)))] });
    }
    world.add_staff("victim-own", None, Some((StaffRole::Observer, Some(OWN_COUNTY)))).await;
    world.add_staff("victim-other", None, Some((StaffRole::Observer, Some(OTHER_COUNTY)))).await;
    world.add_staff("requester", None, None).await;
    world.add_staff("door", None, Some((StaffRole::Observer, None))).await;
    for county in [OWN_COUNTY, OTHER_COUNTY] {
        world.add_voter(county, &world.ada(county), "Ada", "Lovelace").await;
    }

    let mut failures: Vec<String> = Vec::new();
    let mut missing_samples = Vec::new();
    let mut answered: BTreeSet<(String, String)> = BTreeSet::new();
    let mut checked = 0;
    for (method, path) in &routes {
        let access = access::route_policy(&Method::from_bytes(method.as_bytes()).unwrap(), path).unwrap();
        let is_page = !path.starts_with("/api/");
        let route = format!("{method} {path}");

        // Anonymous.
        let Some(anonymous) = sample(&world, method, path, None, Side::Own).await else {
            missing_samples.push(route);
            continue;
        };
        let reply = send(&world.app, anonymous.request(method, None, true)).await;
        world.unseal_all().await;
        checked += 1;
        if ![404, 405].contains(&reply.status.as_u16()) {
            answered.insert((method.clone(), path.clone()));
        }
        let anonymous_ok = match access {
            RouteAccess::Open => anonymous.ok.contains(&reply.status.as_u16()),
            _ if is_page => reply.is_redirect_to_login() && reply.header(header::SET_COOKIE).is_none(),
            _ => reply.status == StatusCode::UNAUTHORIZED && reply.error_code() == "unauthorized",
        };
        if !anonymous_ok {
            failures.push(format!("{route} anonymous: {} {}", reply.status, reply.body));
        }

        for side in [Side::Own, Side::Other] {
            for member in &members {
                let sample = sample(&world, method, path, Some(member), side).await.unwrap();
                let attempts: &[bool] = if sample.reason == Reason::Header { &[false, true] } else { &[false] };
                for &justified in attempts {
                    let expected = expectation(&world, access, &sample, &member.grants, justified).await;
                    let reply = send(&world.app, sample.request(method, Some(&member.token), justified)).await;
                    world.unseal_all().await;
                    checked += 1;
                    if ![404, 405].contains(&reply.status.as_u16()) {
                        answered.insert((method.clone(), path.clone()));
                    }
                    let as_expected = match expected {
                        Expect::Allowed => {
                            sample.ok.contains(&reply.status.as_u16())
                                // A page's allowed answer is never the layer's bare sign-in redirect.
                                && !(reply.is_redirect_to_login() && reply.header(header::SET_COOKIE).is_none())
                        }
                        Expect::Refused(code) => refused_as(&reply, code),
                    };
                    if !as_expected {
                        failures.push(format!(
                            "{route} as {} ({side:?} jurisdiction, justification {justified}): expected {expected:?}, got {} {}",
                            member.role,
                            reply.status,
                            reply.body.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
        }
    }
    assert!(missing_samples.is_empty(), "routes without a sample request in this test: {missing_samples:?}");
    assert!(
        failures.is_empty(),
        "{} of {checked} answers differ from the policy:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let unanswered: Vec<_> = routes.difference(&answered).collect();
    assert!(unanswered.is_empty(), "listed routes the router does not serve: {unanswered:?}");
    assert!(checked > routes.len() * 12, "{checked} requests for {} routes", routes.len());
    assert!(started.elapsed() < Duration::from_secs(60), "the matrix took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Read volume: a clerk past the hourly limit.

#[tokio::test]
async fn a_clerk_reading_past_the_hourly_limit_is_suspended_and_the_administrators_are_emailed() {
    let listener = SmtpListener::start();
    let config = format!("{}\n[access.read_limits]\nregistration_clerk = 50\n", mail_config(listener.port()));
    let world = World::new(&config).await;
    world
        .add_staff(
            "county-boss",
            Some("boss@co-own.example.gov"),
            Some((StaffRole::CountyAdministrator, Some(OWN_COUNTY))),
        )
        .await;
    world
        .add_staff(
            "far-boss",
            Some("boss@co-other.example.gov"),
            Some((StaffRole::CountyAdministrator, Some(OTHER_COUNTY))),
        )
        .await;
    let clerk = world.add_staff("clerk", None, Some((StaffRole::RegistrationClerk, Some(OWN_COUNTY)))).await;
    let clerk_token = world.token(&clerk, StaffRole::RegistrationClerk, Some(OWN_COUNTY)).await;
    let secret = world.enrol(&clerk).await;
    let session = Session::open(&world.app, "clerk", &secret.code_at(unix_seconds())).await;

    // 120 voters: three groups of 20 sharing a name, and 60 with names of their own.
    let shared = ["Perpetua", "Leopold", "Samwise"];
    for (group, first_name) in shared.iter().enumerate() {
        for member in 0..20 {
            world.add_voter(OWN_COUNTY, &format!("Q{group}{member:02}"), first_name, "Quixley").await;
        }
    }
    for number in 0..60 {
        world.add_voter(OWN_COUNTY, &format!("U{number:03}"), "Solo", &format!("Unique{number:03}")).await;
    }

    let search = |first_name: &str| {
        format!(
            "/api/jurisdictions/{OWN_COUNTY}/voters?last_name=Quixley&first_name={first_name}&confidential=true&reason=Bulk%20read%20test"
        )
    };
    for (done, first_name) in shared[..2].iter().enumerate() {
        let reply = world.as_token(&clerk_token, Method::GET, &search(first_name), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json().as_array().unwrap().len(), 20, "search {done}");
    }
    let nobody = world.as_token(&clerk_token, Method::GET, &search("Nobody"), None).await;
    assert_eq!(nobody.json().as_array().map(Vec::len), Some(0), "an empty answer counts nothing");
    // 40 read; 20 more would make 60, past 50.
    let crossing = world.as_token(&clerk_token, Method::GET, &search(shared[2]), None).await;
    assert_eq!(
        (crossing.status, crossing.error_code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{}",
        crossing.body
    );
    assert!(!crossing.body.contains("Quixley") && !crossing.body.contains("Samwise"), "{}", crossing.body);

    let account = world.store().staff_account(&clerk).await.unwrap().unwrap();
    assert!(account.suspended, "the clerk is suspended at once");

    let incidents = world.admin(Method::GET, "/api/incidents", None).await.json();
    let incidents = incidents.as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let incident = &incidents[0];
    assert_eq!(incident["kind"], "bulk_read");
    assert_eq!(incident["subject"], "clerk");
    assert_eq!(incident["jurisdiction"], OWN_COUNTY);
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["records_affected"], 40, "the records actually read before the refusal");
    let summary = incident["summary"].as_str().unwrap();
    assert!(summary.contains("60") && summary.contains("limit 50"), "{summary}");
    let incident_text = incident.to_string();
    for name in ["Quixley", "Perpetua", "Leopold", "Samwise", "Unique", "Solo", "Q000", "1980-02-09"] {
        assert!(!incident_text.contains(name), "the incident holds PII ({name}): {incident_text}");
    }
    let incident_id = incident["id"].as_str().unwrap();

    // The own county's administrator is told by email; the other county's is not.
    let mail = wait_for_mail(&listener, 1).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].recipients, ["boss@co-own.example.gov"]);
    assert_eq!(mail[0].from, "canvass@localhost");
    let subject = mail[0].header("Subject").unwrap();
    assert!(subject.contains("clerk") && subject.contains("suspended"), "{subject}");
    assert!(mail[0].body().contains(incident_id), "{}", mail[0].body());
    assert!(!mail[0].data.contains("Quixley"), "the mail holds no voter's name");

    let suspensions = world.ledger("action=staff.suspend&record=staff:clerk").await;
    assert_eq!(suspensions.len(), 1, "{suspensions:?}");
    assert_eq!(
        (suspensions[0]["actor"].as_str(), suspensions[0]["reason"].as_str()),
        (Some("system"), Some("read_volume_limit"))
    );
    let opened = world.ledger(&format!("action=incident.open&record=incident:{incident_id}")).await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(opened[0]["targets"].as_array().unwrap().iter().any(|target| target == "staff:clerk"));
    let clerk_actor = format!("token:{}", support::token_id(&clerk_token));
    let reads = world.ledger(&format!("action=voter.read&actor={clerk_actor}")).await;
    let records: usize = reads.iter().map(|entry| entry["targets"].as_array().unwrap().len()).sum();
    assert_eq!(records, 40, "the refused search read nothing");

    // Every way back in is shut: the token, the open session, a new sign-in.
    let by_token = world.as_token(&clerk_token, Method::GET, "/api/node", None).await;
    assert_eq!(by_token.status, StatusCode::UNAUTHORIZED);
    let by_session = send(&world.app, session.request(Method::GET, "/api/node", None)).await;
    assert_eq!(by_session.status, StatusCode::UNAUTHORIZED);
    let again = support::sign_in(&world.app, "clerk", PASSWORD, &secret.code_at(unix_seconds() + 30)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------------------------
// Two-person requests.

#[tokio::test]
async fn an_export_needs_a_second_administrator_runs_once_and_only_for_its_requester() {
    let world = World::new("[access]\napproval_hours = 1").await;
    world.add_staff("requester", None, None).await;
    let first = world.add_staff("first-admin", None, Some((StaffRole::CountyAdministrator, Some(OWN_COUNTY)))).await;
    let second = world.add_staff("second-admin", None, Some((StaffRole::CountyAdministrator, Some(OWN_COUNTY)))).await;
    let first_token = world.token(&first, StaffRole::CountyAdministrator, Some(OWN_COUNTY)).await;
    let second_token = world.token(&second, StaffRole::CountyAdministrator, Some(OWN_COUNTY)).await;
    let own_numbers = ["E001", "E002", "E003", "E004", "E005"];
    for number in own_numbers {
        world.add_voter(OWN_COUNTY, number, "Export", "Candidate").await;
    }
    world.add_voter(OTHER_COUNTY, "X001", "Not", "Included").await;

    let justification = "List maintenance vendor, ticket 4711";
    let body =
        serde_json::json!({ "kind": "export_voters", "jurisdiction": OWN_COUNTY, "justification": justification });
    let created = world.as_token(&first_token, Method::POST, "/api/requests", Some(&body.to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let request = created.json();
    assert_eq!(request["status"], "pending");
    assert_eq!(request["expires_at"].as_i64().unwrap() - request["created_at"].as_i64().unwrap(), 3_600_000);
    let request_id = request["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/api/requests/{request_id}/{action}");

    let own_approval = world.as_token(&first_token, Method::POST, &path("approve"), None).await;
    assert_eq!((own_approval.status, own_approval.error_code().as_str()), (StatusCode::FORBIDDEN, "refused"));
    let denied = world.ledger(&format!("action=request.approve&record=request:{request_id}&outcome=denied")).await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["actor"], format!("token:{}", support::token_id(&first_token)));
    assert_eq!(denied[0]["reason"], "refused");
    let too_early = world.as_token(&first_token, Method::POST, &path("run"), None).await;
    assert_eq!(too_early.status, StatusCode::CONFLICT, "{}", too_early.body);

    let approved = world.as_token(&second_token, Method::POST, &path("approve"), None).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(
        (approved.json()["status"].as_str(), approved.json()["approver"].as_str()),
        (Some("approved"), Some("second-admin"))
    );
    let not_theirs = world.as_token(&second_token, Method::POST, &path("run"), None).await;
    assert_eq!((not_theirs.status, not_theirs.error_code().as_str()), (StatusCode::FORBIDDEN, "refused"));

    // A sealed county refuses the run and leaves the approval for when it is unsealed again.
    world.test.node.keys().seal(&id(OWN_COUNTY)).unwrap();
    let while_sealed = world.as_token(&first_token, Method::POST, &path("run"), None).await;
    assert_eq!(while_sealed.status, StatusCode::LOCKED, "{}", while_sealed.body);
    world.unseal_all().await;

    let export = world.as_token(&first_token, Method::POST, &path("run"), None).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert!(export.header(header::CONTENT_TYPE).unwrap().starts_with("text/csv"));
    assert_eq!(export.header(header::CACHE_CONTROL), Some("no-store"));
    let lines: Vec<&str> = export.body.lines().collect();
    assert_eq!(lines.len(), 1 + own_numbers.len(), "a header and one row per voter of the county: {}", export.body);
    assert!(lines[0].starts_with("registration_number,"));
    for number in own_numbers {
        assert!(lines.iter().any(|line| line.starts_with(&format!("{number},"))), "{number} missing");
    }
    assert!(!export.body.contains("X001"), "another county's voter was exported");
    let again = world.as_token(&first_token, Method::POST, &path("run"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a request runs once: {}", again.body);

    let actor = format!("token:{}", support::token_id(&first_token));
    let exports = world.ledger(&format!("action=voter.export&actor={actor}")).await;
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert_eq!(exports[0]["jurisdiction"], OWN_COUNTY);
    assert_eq!(exports[0]["justification"], justification);
    assert_eq!(exports[0]["targets"], serde_json::json!(["records:5"]));
    let reads = world.ledger(&format!("action=voter.read&actor={actor}")).await;
    assert!(!reads.is_empty());
    assert!(reads.iter().all(|entry| entry["justification"] == justification), "{reads:?}");
    let read: BTreeSet<String> = reads
        .iter()
        .flat_map(|entry| entry["targets"].as_array().unwrap().clone())
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(read, own_numbers.iter().map(|number| format!("voter:{number}")).collect());

    // Expired: a pending request can no longer be approved, an approved one no longer run.
    let now = now_millis();
    let stale = world.stored_request(&first, OWN_COUNTY, RequestStatus::Pending, now - 1).await;
    let late = world.as_token(&second_token, Method::POST, &format!("/api/requests/{stale}/approve"), None).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert!(late.body.contains("expired"), "{}", late.body);
    assert_eq!(world.store().request(&stale).await.unwrap().unwrap().status, RequestStatus::Pending);
    let lapsed = world.stored_request(&first, OWN_COUNTY, RequestStatus::Approved, now - 1).await;
    let late_run = world.as_token(&first_token, Method::POST, &format!("/api/requests/{lapsed}/run"), None).await;
    assert_eq!(late_run.status, StatusCode::CONFLICT, "{}", late_run.body);
    assert!(late_run.body.contains("expired"), "{}", late_run.body);
    assert_eq!(world.ledger(&format!("action=voter.export&actor={actor}")).await.len(), 1, "nothing more was exported");
}

// ---------------------------------------------------------------------------------------------
// Bad input.

#[tokio::test]
async fn wrong_passwords_get_one_generic_answer_and_the_sixth_failure_is_throttled() {
    let world = World::new("").await;
    world.add_staff("door", None, Some((StaffRole::Observer, None))).await;
    world.add_staff("side-door", None, Some((StaffRole::Observer, None))).await;

    let unknown = support::sign_in(&world.app, "nobody-here", "a wrong but long password", "").await;
    let wrong = support::sign_in(&world.app, "door", "a wrong but long password", "").await;
    assert_eq!((unknown.status, wrong.status), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(unknown.body, wrong.body, "the answer does not say whether the account exists");
    assert!(wrong.body.contains("Sign-in failed"), "{}", wrong.body);
    assert!(wrong.header(header::SET_COOKIE).is_none());
    let attempts = world.ledger("action=auth.login&outcome=denied").await;
    let actors: Vec<&str> = attempts.iter().map(|entry| entry["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["user:door", "anonymous"]);
    assert!(attempts.iter().all(|entry| !entry.to_string().contains("a wrong but long password")));

    for attempt in 2..=5 {
        let reply = support::sign_in(&world.app, "door", "a wrong but long password", "").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // The sixth attempt is refused even with the right password.
    let throttled = support::sign_in(&world.app, "door", PASSWORD, "").await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{}", throttled.body);
    assert!(throttled.header(header::SET_COOKIE).is_none());
    let limited = world.ledger("action=auth.login&outcome=denied&record=staff:door").await;
    assert_eq!(limited[0]["reason"], "too_many_attempts");
    // Another account is not locked out by it.
    let other = support::sign_in(&world.app, "side-door", PASSWORD, "").await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_second_factor_code_signs_in_once() {
    let world = World::new("").await;
    let clerk = world.add_staff("clerk", None, Some((StaffRole::RegistrationClerk, Some(OWN_COUNTY)))).await;
    let secret = world.enrol(&clerk).await;

    let without = support::sign_in(&world.app, "clerk", PASSWORD, "").await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED, "an enrolled factor is required");
    let now = unix_seconds();
    let code = secret.code_at(now);
    let first = support::sign_in(&world.app, "clerk", PASSWORD, &code).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let replayed = support::sign_in(&world.app, "clerk", PASSWORD, &code).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "a code is used once");
    assert!(support::session_cookie(&replayed).is_none());
    let next = support::sign_in(&world.app, "clerk", PASSWORD, &secret.code_at(now + 30)).await;
    assert_eq!(next.status, StatusCode::SEE_OTHER, "the next time step's code works: {}", next.body);

    // The session of a checked code reaches the clerk's work; the ledger saw the replay.
    let cookie = support::session_cookie(&next).unwrap();
    let session = Session { cookie, csrf: String::new() };
    let reads = send(
        &world.app,
        session.request(Method::GET, &format!("/api/jurisdictions/{OWN_COUNTY}/voters?last_name=A&first_name=B"), None),
    )
    .await;
    assert_eq!(reads.status, StatusCode::OK, "{}", reads.body);
    let refused = world.ledger("action=auth.login&outcome=denied&record=staff:clerk").await;
    assert_eq!(refused.len(), 2, "no code, then the replayed code: {refused:?}");
}

#[tokio::test]
async fn expired_forged_and_revoked_tokens_are_refused_and_recorded() {
    let world = World::new("").await;
    let machine = world.add_staff("uploader", None, Some((StaffRole::ResultsReporter, Some(OWN_COUNTY)))).await;
    let now = now_millis();
    let expired_secret = "expired-secret-value";
    let expired = StoredToken {
        id: "0123456789abcdef".to_owned(),
        secret_hash: sha256(&[expired_secret.as_bytes()]).to_vec(),
        label: "expired".to_owned(),
        owner: machine.clone(),
        role: StaffRole::ResultsReporter,
        jurisdiction: Some(id(OWN_COUNTY)),
        created_at: now - 2 * 86_400_000,
        expires_at: now - 1,
        revoked: false,
    };
    world.store().insert_api_token(&expired).await.unwrap();
    let revoked = world.token(&machine, StaffRole::ResultsReporter, Some(OWN_COUNTY)).await;
    assert_eq!(world.as_token(&revoked, Method::GET, "/api/node", None).await.status, StatusCode::OK, "it worked once");
    let revoked_id = support::token_id(&revoked).to_owned();
    let revoke = world.admin(Method::POST, &format!("/api/tokens/{revoked_id}/revoke"), None).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{}", revoke.body);
    let forged = format!("canvass.{}.not-the-secret", support::token_id(&world.test.admin_token));

    let before = world.ledger("action=auth.login&outcome=denied&record=credential:token").await.len();
    for token in [format!("canvass.0123456789abcdef.{expired_secret}"), forged, revoked.clone()] {
        let reply = world.as_token(&token, Method::GET, "/api/node", None).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "{token}");
        assert!(!reply.body.contains("expired") && !reply.body.contains("revoked"), "no detail: {}", reply.body);
    }
    let refusals = world.ledger("action=auth.login&outcome=denied&record=credential:token").await;
    assert_eq!(refusals.len() - before, 3, "{refusals:?}");
    let text = serde_json::to_string(&refusals).unwrap();
    assert!(!text.contains(expired_secret) && !text.contains("not-the-secret"), "no secret in the ledger");
}

#[tokio::test]
async fn a_session_post_without_its_anti_forgery_token_changes_nothing() {
    let world = World::new("").await;
    let boss = world.add_staff("boss", None, Some((StaffRole::CountyAdministrator, Some(OWN_COUNTY)))).await;
    let secret = world.enrol(&boss).await;
    let session = Session::open(&world.app, "boss", &secret.code_at(unix_seconds())).await;
    let fields = |name: &'static str| {
        [("username", name), ("password", PASSWORD), ("role", "observer"), ("jurisdiction", OWN_COUNTY)]
    };

    let missing = send(&world.app, session.form("/users", &fields("sneaky-one"))).await;
    assert_eq!((missing.status, missing.error_code().as_str()), (StatusCode::FORBIDDEN, "csrf"), "{}", missing.body);
    let mut wrong_token = fields("sneaky-two").to_vec();
    wrong_token.push(("csrf", "not-the-token"));
    let wrong = send(&world.app, session.form("/users", &wrong_token)).await;
    assert_eq!((wrong.status, wrong.error_code().as_str()), (StatusCode::FORBIDDEN, "csrf"));
    let api_body = serde_json::json!({ "username": "sneaky-three", "password": PASSWORD, "role": "observer", "jurisdiction": OWN_COUNTY });
    let api = send(&world.app, session.request(Method::POST, "/api/users", Some(&api_body.to_string()))).await;
    assert_eq!((api.status, api.error_code().as_str()), (StatusCode::FORBIDDEN, "csrf"));
    for name in ["sneaky-one", "sneaky-two", "sneaky-three"] {
        assert!(world.store().staff_account(&user(name)).await.unwrap().is_none(), "{name} was added");
    }
    let refusals = world.ledger("action=access.denied&actor=user:boss").await;
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert!(refusals.iter().all(|entry| entry["reason"] == "csrf"));

    // The same posts with the session's token go through.
    let mut with_token = fields("honest-one").to_vec();
    with_token.push(("csrf", session.csrf.as_str()));
    let added = send(&world.app, session.form("/users", &with_token)).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert!(world.store().staff_account(&user("honest-one")).await.unwrap().is_some());
    let api_body = serde_json::json!({ "username": "honest-two", "password": PASSWORD, "role": "observer", "jurisdiction": OWN_COUNTY });
    let api = send(&world.app, session.api(Method::POST, "/api/users", Some(&api_body.to_string()), &[])).await;
    assert_eq!(api.status, StatusCode::CREATED, "{}", api.body);
}

#[tokio::test]
async fn a_county_administrator_cannot_read_another_countys_voters() {
    let world = World::new("").await;
    world.add_voter(OWN_COUNTY, "OWN1", "Grace", "Hopper").await;
    world.add_voter(OTHER_COUNTY, "OTH1", "Grace", "Hopper").await;
    let boss = world.add_staff("boss", None, Some((StaffRole::CountyAdministrator, Some(OWN_COUNTY)))).await;
    let token = world.token(&boss, StaffRole::CountyAdministrator, Some(OWN_COUNTY)).await;
    let search = |county: &str| {
        format!("/api/jurisdictions/{county}/voters?last_name=Hopper&first_name=Grace&confidential=true")
    };
    let ask = |county: &str| {
        let mut request = support::with_token(&token, Method::GET, &search(county), None);
        request.headers_mut().insert(access::JUSTIFICATION_HEADER, "Checking a returned mail piece".parse().unwrap());
        request
    };

    let own = send(&world.app, ask(OWN_COUNTY)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.json()[0]["registration_number"], "OWN1");
    let other = send(&world.app, ask(OTHER_COUNTY)).await;
    assert_eq!((other.status, other.error_code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    assert!(!other.body.contains("OTH1") && !other.body.contains("Hopper"));
    let denied = world.ledger(&format!("action=access.denied&jurisdiction={OTHER_COUNTY}")).await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    // The route's own check (voters.search) refuses before the confidential one is asked.
    assert_eq!(denied[0]["targets"], serde_json::json!(["operation:voters.search"]));
    let reads = world.ledger(&format!("action=voter.read&jurisdiction={OTHER_COUNTY}")).await;
    assert!(reads.is_empty(), "nothing of the other county was read: {reads:?}");
}

#[tokio::test]
async fn break_glass_needs_a_reason_opens_expiring_access_and_tells_that_countys_administrators() {
    let listener = SmtpListener::start();
    let world = World::new(&mail_config(listener.port())).await;
    world.add_voter(OTHER_COUNTY, "OTH7", "Katherine", "Johnson").await;
    let boss = world
        .add_staff("boss", Some("boss@co-own.example.gov"), Some((StaffRole::CountyAdministrator, Some(OWN_COUNTY))))
        .await;
    world
        .add_staff(
            "far-boss",
            Some("far-boss@co-other.example.gov"),
            Some((StaffRole::CountyAdministrator, Some(OTHER_COUNTY))),
        )
        .await;
    world
        .add_staff("peer", Some("peer@co-own.example.gov"), Some((StaffRole::CountyAdministrator, Some(OWN_COUNTY))))
        .await;
    let secret = world.enrol(&boss).await;
    let session = Session::open(&world.app, "boss", &secret.code_at(unix_seconds())).await;
    let why = "Other County's only administrator is in hospital; the canvass deadline is today";
    let read_other = || {
        session.api(
            Method::GET,
            &format!("/api/jurisdictions/{OTHER_COUNTY}/voters?last_name=Johnson&first_name=Katherine"),
            None,
            &[(access::JUSTIFICATION_HEADER, why)],
        )
    };
    assert_eq!(send(&world.app, read_other()).await.status, StatusCode::FORBIDDEN, "no access before");

    for empty in ["", "   "] {
        let body = serde_json::json!({ "jurisdiction": OTHER_COUNTY, "justification": empty, "minutes": 30 });
        let refused =
            send(&world.app, session.api(Method::POST, "/api/break-glass", Some(&body.to_string()), &[])).await;
        assert_eq!(
            (refused.status, refused.error_code().as_str()),
            (StatusCode::FORBIDDEN, "justification_required"),
            "{}",
            refused.body
        );
    }
    assert!(world.store().grants(&boss).await.unwrap().iter().all(|grant| !grant.emergency), "nothing was opened");
    assert_eq!(send(&world.app, read_other()).await.status, StatusCode::FORBIDDEN);

    let body = serde_json::json!({ "jurisdiction": OTHER_COUNTY, "justification": why, "minutes": 30 });
    let before = now_millis();
    let opened = send(&world.app, session.api(Method::POST, "/api/break-glass", Some(&body.to_string()), &[])).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    let grant = opened.json();
    assert_eq!(
        (grant["role"].as_str(), grant["jurisdiction"].as_str()),
        (Some("county_administrator"), Some(OTHER_COUNTY))
    );
    assert_eq!(grant["emergency"], true);
    let expires = grant["expires_at"].as_i64().unwrap();
    assert!((before + 30 * 60_000..=now_millis() + 30 * 60_000).contains(&expires), "{expires}");

    let read = send(&world.app, read_other()).await;
    assert_eq!(read.status, StatusCode::OK, "emergency access works: {}", read.body);
    assert_eq!(read.json()[0]["registration_number"], "OTH7");

    let mail = wait_for_mail_to(&listener, "far-boss@co-other.example.gov").await;
    let to_them: Vec<_> = mail.iter().filter(|mail| mail.recipients == ["far-boss@co-other.example.gov"]).collect();
    assert_eq!(to_them.len(), 1, "that county's administrator is told: {mail:?}");
    assert!(
        mail.iter().all(|mail| !mail.recipients.iter().any(|to| to == "peer@co-own.example.gov")),
        "our county's other administrator is not: {mail:?}"
    );
    assert!(to_them[0].header("Subject").unwrap().contains(&format!("emergency access to {OTHER_COUNTY}")));
    assert!(to_them[0].body().contains("in hospital"), "the reason is in the notice: {}", to_them[0].body());
    let recorded = world.ledger("action=access.break_glass&actor=user:boss").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["justification"], why);
    assert_eq!(recorded[0]["jurisdiction"], OTHER_COUNTY);

    // Once the emergency grant's time is up it stops counting.
    let lapsed = Grant {
        expires_at: Some(now_millis() - 1),
        ..Grant::permanent(StaffRole::CountyAdministrator, Some(id(OTHER_COUNTY)))
    };
    world.store().add_grant(&boss, &Grant { emergency: true, ..lapsed }).await.unwrap();
    let after = send(&world.app, read_other()).await;
    assert_eq!((after.status, after.error_code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", after.body);
    // Its own county is still its own.
    let own = send(
        &world.app,
        session.api(
            Method::GET,
            &format!("/api/jurisdictions/{OWN_COUNTY}/voters?last_name=A&first_name=B"),
            None,
            &[(access::JUSTIFICATION_HEADER, why)],
        ),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

#[tokio::test]
async fn the_dashboard_shows_key_rings_only_to_roles_that_may_see_them() {
    let world = World::new("").await;
    let auditor = world.add_staff("auditor", None, Some((StaffRole::Auditor, Some(OWN_STATE)))).await;
    let observer = world.add_staff("observer", None, Some((StaffRole::Observer, Some(OWN_STATE)))).await;
    let auditor_token = world.token(&auditor, StaffRole::Auditor, Some(OWN_STATE)).await;
    let observer_token = world.token(&observer, StaffRole::Observer, Some(OWN_STATE)).await;

    let seen = world.as_token(&auditor_token, Method::GET, "/", None).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.body.contains("Key rings") && seen.body.contains(OWN_COUNTY), "{}", seen.body);
    assert!(seen.body.contains("not split") && seen.body.contains("unsealed"), "{}", seen.body);
    let hidden = world.as_token(&observer_token, Method::GET, "/", None).await;
    assert_eq!(hidden.status, StatusCode::OK, "every role has a dashboard");
    assert!(!hidden.body.contains("Key rings"), "keys.view is not the observer's: {}", hidden.body);
}
