//! The PostgreSQL [`Store`], for deployments that outgrow one machine. Same behaviour as the
//! SQLite store (the conformance suite checks it); its own SQL and migrations.

mod duplicates;
mod election_definitions;
mod incidents;
mod pending_fpca;
mod results;
mod results_snapshots;
mod uocava;
mod voter_uocava;

#[cfg(feature = "test-cluster")]
pub mod test_cluster;

mod ballots;

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use canvass_core::{
    access::{Grant, RequestStatus, StaffRole},
    config::DatabaseUrl,
    credential::{EmailAddress, StaffAccount, Username},
    election::{Contest, Election},
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, Precinct},
};
use canvass_store::{
    DuplicateCandidate, DuplicateDecision, DuplicateQuery, IncidentQuery, IndexLookup, KeyVersionUsage, LedgerAppend,
    LedgerQuery, LedgerRow, LedgerTile, OutboxMessage, PrecinctVoterCount, SealedVoter, Store, StoreError,
    StoredBallot, StoredBallotChange, StoredCheckpoint, StoredCosignature, StoredDataKey, StoredImport, StoredIncident,
    StoredIncidentUpdate, StoredKeyRing, StoredPlacesImport, StoredPollingPlace, StoredRequest, StoredSession,
    StoredSignature, StoredStatusChange, StoredToken, StoredVote, VoteHistoryBatch, VoteHistoryWritten, VoterBatch,
    VoterDigest, VoterRevision, ledger, places, rows,
};
use sqlx::{
    PgPool, Postgres, QueryBuilder, Row,
    error::ErrorKind,
    migrate::{MigrateError, Migrator},
    postgres::{PgPoolOptions, PgRow},
};
use time::Date;

mod voter_copy;
mod voter_indexes;
mod voter_records;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    url: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostgresStore")
            .field("url", &DatabaseUrl::Postgres { url: self.url.clone() })
            .finish_non_exhaustive()
    }
}

/// The newest PostgreSQL client program of that name: /usr/lib/postgresql/*/bin, else PATH.
fn client_program(name: &str) -> std::path::PathBuf {
    let mut found: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let program = entry.path().join("bin").join(name);
            program.exists().then_some((version, program))
        })
        .collect();
    found.sort();
    found.pop().map_or_else(|| std::path::PathBuf::from(name), |(_, program)| program)
}

/// Runs a PostgreSQL client program against `url`, the password passed in its environment.
fn run_client(name: &str, url: &str, arguments: &[&std::ffi::OsStr]) -> Result<(), StoreError> {
    let (bare, password) =
        DatabaseUrl::Postgres { url: url.to_owned() }.split_password().unwrap_or((url.to_owned(), None));
    let mut command = std::process::Command::new(client_program(name));
    command.arg(format!("--dbname={bare}")).args(arguments);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().map_err(|error| {
        StoreError::Unsupported(format!(
            "cannot run {name} ({error}); install the PostgreSQL client (apt-get install postgresql-client)"
        ))
    })?;
    if !output.status.success() {
        return Err(StoreError::Backend(format!("{name} failed: {}", String::from_utf8_lossy(&output.stderr).trim())));
    }
    Ok(())
}

/// Loads a snapshot written by [`Store::snapshot_into`] into `url`, which must be an empty
/// database: restoring never mixes with existing data.
pub async fn restore_snapshot(url: &str, snapshot: &std::path::Path) -> Result<(), StoreError> {
    let location = DatabaseUrl::Postgres { url: url.to_owned() }.redacted();
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .map_err(|error| StoreError::Unavailable { location: location.clone(), reason: error.to_string() })?;
    let existing: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(&mut connection)
        .await
        .map_err(backend)?;
    sqlx::Connection::close(connection).await.map_err(backend)?;
    if existing.is_some() {
        return Err(StoreError::AlreadyExists { what: "canvass schema in the target database", id: location });
    }
    let file = snapshot.as_os_str();
    run_client(
        "psql",
        url,
        &[
            std::ffi::OsStr::new("--quiet"),
            std::ffi::OsStr::new("--single-transaction"),
            std::ffi::OsStr::new("--variable=ON_ERROR_STOP=1"),
            std::ffi::OsStr::new("--file"),
            file,
        ],
    )
}

impl PostgresStore {
    /// Connects to `url` (postgres://...) and applies pending migrations. Errors name the
    /// server with any password replaced by `***`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let location = DatabaseUrl::Postgres { url: url.to_owned() }.redacted();
        // One direct attempt first: the pool retries a refused connection until its acquire
        // timeout, and a wrong address should be reported at once.
        let probe = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .map_err(|error| StoreError::Unavailable { location: location.clone(), reason: error.to_string() })?;
        sqlx::Connection::close(probe).await.map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|error| StoreError::Unavailable { location, reason: error.to_string() })?;
        migrate(&pool).await?;
        // A first load of the roll that was interrupted left the voters' indexes dropped.
        voter_indexes::build(&pool).await?;
        Ok(Self { pool, url: url.to_owned() })
    }
}

async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await.map_err(|error| match error {
        MigrateError::VersionMissing(found) => StoreError::SchemaTooNew { found, supported: supported_version() },
        MigrateError::VersionMismatch(version) => StoreError::SchemaTampered { version },
        other => StoreError::Backend(other.to_string()),
    })
}

fn supported_version() -> i64 {
    MIGRATOR.iter().map(|migration| migration.version).max().unwrap_or(0)
}

fn backend(error: sqlx::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Maps a failed insert to what it means: the row exists already, or a referenced row does not.
fn insert_error(error: sqlx::Error, what: &'static str, id: &str, reference: (&'static str, &str)) -> StoreError {
    match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => StoreError::AlreadyExists { what, id: id.to_owned() },
        Some(ErrorKind::ForeignKeyViolation) => StoreError::Missing { what: reference.0, id: reference.1.to_owned() },
        _ => backend(error),
    }
}

/// A voter statement's failure, naming what it can: a duplicate registration number or a
/// precinct that does not exist (which row of a multi-row statement is not known).
fn voter_error(error: sqlx::Error, voters: &[SealedVoter]) -> StoreError {
    let first = voters.first().map_or("", |voter| voter.registration_number.as_str());
    let precincts = || voters.iter().map(|voter| voter.precinct.as_str()).collect::<std::collections::BTreeSet<_>>();
    match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => StoreError::AlreadyExists {
            what: "voter",
            id: if voters.len() == 1 { first.to_owned() } else { format!("{first} (or another of this batch)") },
        },
        Some(ErrorKind::ForeignKeyViolation) => StoreError::Missing {
            what: "precinct or county",
            id: precincts().into_iter().collect::<Vec<_>>().join(", "),
        },
        _ => backend(error),
    }
}

/// A stored row replaced by a batch: every column from the new values, its revision counted up.
const VOTER_UPSERT: &str = " ON CONFLICT (registration_number) DO UPDATE SET \
     jurisdiction_id = excluded.jurisdiction_id, county_id = excluded.county_id, precinct_id = excluded.precinct_id, \
     party = excluded.party, status = excluded.status, registered_on = excluded.registered_on, \
     key_version = excluded.key_version, first_name = excluded.first_name, last_name = excluded.last_name, \
     birth_date = excluded.birth_date, ssn_last_four = excluded.ssn_last_four, \
     drivers_license = excluded.drivers_license, email = excluded.email, name_index = excluded.name_index, \
     identity_index = excluded.identity_index, drivers_license_index = excluded.drivers_license_index, \
     details = excluded.details, lookup_index = excluded.lookup_index, row_digest = excluded.row_digest, \
     revision = voters.revision + 1, updated_at = excluded.updated_at";

fn text(row: &PgRow, column: &str) -> Result<String, StoreError> {
    row.try_get(column).map_err(backend)
}

fn optional_text(row: &PgRow, column: &str) -> Result<Option<String>, StoreError> {
    row.try_get(column).map_err(backend)
}

fn jurisdiction_row(row: &PgRow) -> Result<Jurisdiction, StoreError> {
    rows::jurisdiction(
        &text(row, "id")?,
        &text(row, "name")?,
        &text(row, "kind")?,
        optional_text(row, "parent_id")?.as_deref(),
    )
}

fn precinct_row(row: &PgRow) -> Result<Precinct, StoreError> {
    rows::precinct(&text(row, "id")?, &text(row, "jurisdiction_id")?, &text(row, "name")?)
}

fn election_row(row: &PgRow) -> Result<Election, StoreError> {
    let date: Date = row.try_get("election_date").map_err(backend)?;
    rows::election(&text(row, "id")?, &text(row, "jurisdiction_id")?, &text(row, "name")?, &text(row, "kind")?, date)
}

const VOTER_COLUMNS: &str = "registration_number, jurisdiction_id, county_id, precinct_id, party, status, registered_on, \
     key_version, first_name, last_name, birth_date, ssn_last_four, drivers_license, email, name_index, identity_index, \
     drivers_license_index, details, lookup_index, row_digest";

/// The columns a revision keeps (the voter's, less the blind indexes: history is not searched).
const REVISION_COLUMNS: &str = "registration_number, jurisdiction_id, county_id, precinct_id, party, status, \
     registered_on, key_version, first_name, last_name, birth_date, ssn_last_four, drivers_license, email, details, \
     row_digest";

/// Rows per multi-row statement: 20 parameters each stays under PostgreSQL's 65,535.
const VOTER_ROWS_PER_STATEMENT: usize = 1_000;

const IMPORT_COLUMNS: &str = "id, jurisdiction_id, format, file_digest, actor, started_at, updated_at, finished_at, \
     position, line, inserted, updated, unchanged, rejected";

fn import_row(row: &PgRow) -> Result<StoredImport, StoreError> {
    let number = |column: &str| -> Result<i64, StoreError> { row.try_get(column).map_err(backend) };
    rows::stored_import(rows::ImportColumns {
        id: text(row, "id")?,
        jurisdiction: text(row, "jurisdiction_id")?,
        format: text(row, "format")?,
        file_digest: text(row, "file_digest")?,
        actor: text(row, "actor")?,
        started_at: number("started_at")?,
        updated_at: number("updated_at")?,
        finished_at: row.try_get("finished_at").map_err(backend)?,
        position: number("position")?,
        line: number("line")?,
        inserted: number("inserted")?,
        updated: number("updated")?,
        unchanged: number("unchanged")?,
        rejected: number("rejected")?,
    })
}

fn revision_row(row: &PgRow) -> Result<VoterRevision, StoreError> {
    Ok(VoterRevision {
        revision: rows::revision(row.try_get("revision").map_err(backend)?)?,
        replaced_at: row.try_get("replaced_at").map_err(backend)?,
        import_id: optional_text(row, "import_id")?,
        voter: voter_row(row)?,
    })
}

/// The INSERT of every voter column, values to follow.
fn voter_insert<'a>() -> QueryBuilder<'a, Postgres> {
    QueryBuilder::new(format!("INSERT INTO voters ({VOTER_COLUMNS}, updated_at) "))
}

/// Binds every voter column of `voters`, in [`VOTER_COLUMNS`] order, then `updated_at`.
fn push_voter_values<'a>(builder: &mut QueryBuilder<'a, Postgres>, voters: &'a [SealedVoter], at: i64) {
    builder.push_values(voters, |mut values, voter| {
        values
            .push_bind(&voter.registration_number)
            .push_bind(voter.jurisdiction.as_str())
            .push_bind(voter.county.as_str())
            .push_bind(voter.precinct.as_str())
            .push_bind(&voter.party)
            .push_bind(voter.status.as_str())
            .push_bind(voter.registered_on)
            .push_bind(i64::from(voter.key_version))
            .push_bind(&voter.fields.first_name)
            .push_bind(&voter.fields.last_name)
            .push_bind(&voter.fields.birth_date)
            .push_bind(&voter.fields.ssn_last_four)
            .push_bind(&voter.fields.drivers_license)
            .push_bind(&voter.fields.email)
            .push_bind(voter.indexes.name)
            .push_bind(voter.indexes.identity)
            .push_bind(voter.indexes.drivers_license)
            .push_bind(&voter.fields.details)
            .push_bind(voter.indexes.lookup)
            .push_bind(voter.row_digest)
            .push_bind(at);
    });
}

fn voter_row(row: &PgRow) -> Result<SealedVoter, StoreError> {
    let blob = |column: &str| -> Result<Option<Vec<u8>>, StoreError> { row.try_get(column).map_err(backend) };
    let number = |column: &str| -> Result<Option<i64>, StoreError> { row.try_get(column).map_err(backend) };
    rows::sealed_voter(rows::VoterColumns {
        registration_number: text(row, "registration_number")?,
        jurisdiction: text(row, "jurisdiction_id")?,
        county: text(row, "county_id")?,
        precinct: text(row, "precinct_id")?,
        party: text(row, "party")?,
        status: text(row, "status")?,
        registered_on: row.try_get("registered_on").map_err(backend)?,
        key_version: row.try_get("key_version").map_err(backend)?,
        first_name: row.try_get("first_name").map_err(backend)?,
        last_name: row.try_get("last_name").map_err(backend)?,
        birth_date: blob("birth_date")?,
        ssn_last_four: blob("ssn_last_four")?,
        drivers_license: blob("drivers_license")?,
        email: blob("email")?,
        name_index: number("name_index")?,
        identity_index: number("identity_index")?,
        drivers_license_index: number("drivers_license_index")?,
        details: blob("details")?,
        lookup_index: number("lookup_index")?,
        row_digest: number("row_digest")?,
    })
}

async fn insert_data_key(
    transaction: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    jurisdiction: &str,
    key: &StoredDataKey,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO data_keys (jurisdiction_id, purpose, version, wrapped, index_bits, state) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(jurisdiction)
        .bind(&key.purpose)
        .bind(i64::from(key.version))
        .bind(&key.wrapped)
        .bind(key.index_bits.map(i64::from))
        .bind(key.state.as_str())
        .execute(&mut **transaction)
        .await
        .map_err(|error| {
            insert_error(error, "data key", &format!("{} version {}", key.purpose, key.version), ("key ring", jurisdiction))
        })?;
    Ok(())
}

fn missing_unless_changed(changed: u64, jurisdiction: &JurisdictionId) -> Result<(), StoreError> {
    if changed == 0 { Err(StoreError::Missing { what: "key ring", id: jurisdiction.to_string() }) } else { Ok(()) }
}

fn missing_unless(changed: u64, what: &'static str, id: &str) -> Result<(), StoreError> {
    if changed == 0 { Err(StoreError::Missing { what, id: id.to_owned() }) } else { Ok(()) }
}

/// A polling place's columns, then the precinct it serves (NULL for none), from `polling_places
/// AS p LEFT JOIN polling_place_precincts AS pp`.
const PLACE_COLUMNS: &str = "p.jurisdiction_id, p.id, p.name, p.address, p.hours, p.directions, p.early_voting, \
     p.drop_box, pp.precinct_id";
const PLACE_JOIN: &str = "polling_places AS p LEFT JOIN polling_place_precincts AS pp \
     ON pp.jurisdiction_id = p.jurisdiction_id AND pp.place_id = p.id";
const PLACES_IMPORT_COLUMNS: &str = "id, jurisdiction_id, format, file_digest, actor, imported_at, places, \
     precincts_matched, precincts_unmatched";
/// Rows per multi-row statement: 9 parameters a place, 3 a place's precinct.
const PLACE_ROWS_PER_STATEMENT: usize = 500;
const PLACE_PRECINCT_ROWS_PER_STATEMENT: usize = 2_000;

fn place_row(row: &PgRow) -> Result<places::PlaceRow, StoreError> {
    Ok(places::PlaceRow {
        jurisdiction: text(row, "jurisdiction_id")?,
        id: text(row, "id")?,
        name: optional_text(row, "name")?,
        address: text(row, "address")?,
        hours: optional_text(row, "hours")?,
        directions: optional_text(row, "directions")?,
        early_voting: row.try_get("early_voting").map_err(backend)?,
        drop_box: row.try_get("drop_box").map_err(backend)?,
        precinct: optional_text(row, "precinct_id")?,
    })
}

fn places_import_row(row: &PgRow) -> Result<StoredPlacesImport, StoreError> {
    let number = |column: &str| -> Result<i64, StoreError> { row.try_get(column).map_err(backend) };
    places::places_import(places::PlacesImportColumns {
        id: text(row, "id")?,
        jurisdiction: text(row, "jurisdiction_id")?,
        format: text(row, "format")?,
        file_digest: text(row, "file_digest")?,
        actor: text(row, "actor")?,
        imported_at: number("imported_at")?,
        places: number("places")?,
        precincts_matched: number("precincts_matched")?,
        precincts_unmatched: number("precincts_unmatched")?,
    })
}

/// A failed polling-place statement: a place id twice, or a precinct or jurisdiction that does
/// not exist (which one of a multi-row statement is not known).
fn place_error(error: sqlx::Error, jurisdiction: &JurisdictionId) -> StoreError {
    match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => {
            StoreError::AlreadyExists { what: "polling place (an id given twice)", id: jurisdiction.to_string() }
        }
        Some(ErrorKind::ForeignKeyViolation) => {
            StoreError::Missing { what: "jurisdiction or precinct", id: jurisdiction.to_string() }
        }
        _ => backend(error),
    }
}

const STAFF_COLUMNS: &str = "username, password_hash, email, suspended, totp_secret, totp_last_step";
const GRANT_COLUMNS: &str = "role, jurisdiction_id, expires_at, emergency";
const SESSION_COLUMNS: &str = "id_hash, username, csrf_token, created_at, last_seen_at, second_factor";
const TOKEN_COLUMNS: &str = "id, secret_hash, label, owner, role, jurisdiction_id, created_at, expires_at, revoked";
const REQUEST_COLUMNS: &str = "id, kind, requester, jurisdiction_id, subject, justification, created_at, expires_at, \
     status, approver, decided_at";
const OUTBOX_COLUMNS: &str = "id, recipient, subject, body, created_at, sent_at, attempts, last_error";

fn staff_row(row: &PgRow) -> Result<StaffAccount, StoreError> {
    rows::staff_account(
        &text(row, "username")?,
        &text(row, "password_hash")?,
        optional_text(row, "email")?.as_deref(),
        row.try_get("suspended").map_err(backend)?,
        row.try_get("totp_secret").map_err(backend)?,
        row.try_get("totp_last_step").map_err(backend)?,
    )
}

fn grant_row(row: &PgRow) -> Result<Grant, StoreError> {
    rows::grant(
        &text(row, "role")?,
        optional_text(row, "jurisdiction_id")?.as_deref(),
        row.try_get("expires_at").map_err(backend)?,
        row.try_get("emergency").map_err(backend)?,
    )
}

fn session_row(row: &PgRow) -> Result<StoredSession, StoreError> {
    rows::session(
        row.try_get("id_hash").map_err(backend)?,
        &text(row, "username")?,
        text(row, "csrf_token")?,
        row.try_get("created_at").map_err(backend)?,
        row.try_get("last_seen_at").map_err(backend)?,
        row.try_get("second_factor").map_err(backend)?,
    )
}

fn token_row(row: &PgRow) -> Result<StoredToken, StoreError> {
    rows::token(rows::TokenColumns {
        id: text(row, "id")?,
        secret_hash: row.try_get("secret_hash").map_err(backend)?,
        label: text(row, "label")?,
        owner: text(row, "owner")?,
        role: text(row, "role")?,
        jurisdiction: optional_text(row, "jurisdiction_id")?,
        created_at: row.try_get("created_at").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
        revoked: row.try_get("revoked").map_err(backend)?,
    })
}

fn request_row(row: &PgRow) -> Result<StoredRequest, StoreError> {
    rows::request(rows::RequestColumns {
        id: text(row, "id")?,
        kind: text(row, "kind")?,
        requester: text(row, "requester")?,
        jurisdiction: text(row, "jurisdiction_id")?,
        subject: text(row, "subject")?,
        justification: text(row, "justification")?,
        created_at: row.try_get("created_at").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
        status: text(row, "status")?,
        approver: optional_text(row, "approver")?,
        decided_at: row.try_get("decided_at").map_err(backend)?,
    })
}

fn outbox_row(row: &PgRow) -> Result<OutboxMessage, StoreError> {
    rows::outbox_message(rows::OutboxColumns {
        id: row.try_get("id").map_err(backend)?,
        recipient: text(row, "recipient")?,
        subject: text(row, "subject")?,
        body: text(row, "body")?,
        created_at: row.try_get("created_at").map_err(backend)?,
        sent_at: row.try_get("sent_at").map_err(backend)?,
        attempts: row.try_get("attempts").map_err(backend)?,
        last_error: optional_text(row, "last_error")?,
    })
}

/// What a refused insert of an access-layer row means. The foreign-key error is not parsed for
/// which reference failed (the SQLite store cannot), so the accounts and jurisdiction the row names are looked up:
/// accounts are never deleted, so the one found missing now was missing then.
async fn refused(
    pool: &PgPool,
    error: sqlx::Error,
    what: &'static str,
    id: &str,
    accounts: &[&Username],
    jurisdiction: Option<&JurisdictionId>,
) -> StoreError {
    match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => StoreError::AlreadyExists { what, id: id.to_owned() },
        Some(ErrorKind::ForeignKeyViolation) => {
            for account in accounts {
                match sqlx::query("SELECT 1 FROM staff_accounts WHERE username = $1")
                    .bind(account.as_str())
                    .fetch_optional(pool)
                    .await
                {
                    Ok(Some(_)) => {}
                    Ok(None) => return StoreError::Missing { what: "staff account", id: account.to_string() },
                    Err(lookup) => return backend(lookup),
                }
            }
            match jurisdiction {
                Some(jurisdiction) => StoreError::Missing { what: "jurisdiction", id: jurisdiction.to_string() },
                None => backend(error),
            }
        }
        _ => backend(error),
    }
}

/// Entries per INSERT: the columns go as arrays (one parameter each, unnested by the server),
/// so the statement text never changes; the chunk only bounds one message's size.
const ENTRY_ROWS_PER_STATEMENT: usize = 1024;

/// Indexes are dense from 0 and never deleted, so the next index is one past the largest:
/// a single index descent, where COUNT(*) would read the whole table.
const LEDGER_SIZE: &str = "SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries";

fn ledger_row(row: &PgRow) -> Result<LedgerRow, StoreError> {
    rows::ledger_row(row.try_get("idx").map_err(backend)?, row.try_get("body").map_err(backend)?)
}

fn checkpoint_row(row: &PgRow) -> Result<StoredCheckpoint, StoreError> {
    rows::checkpoint(
        row.try_get("size").map_err(backend)?,
        text(row, "note")?,
        row.try_get("time_millis").map_err(backend)?,
    )
}

fn cosignature_row(row: &PgRow) -> Result<StoredCosignature, StoreError> {
    rows::cosignature(
        row.try_get("size").map_err(backend)?,
        text(row, "witness")?,
        text(row, "line")?,
        row.try_get("time_millis").map_err(backend)?,
    )
}

/// `columns` of the ledger entries matching every filter of the query: the FROM and WHERE
/// shared by search and count. Only fixed SQL text is pushed; every value is bound.
fn ledger_matches<'a>(columns: &str, query: &'a LedgerQuery) -> QueryBuilder<'a, Postgres> {
    let mut select = QueryBuilder::<Postgres>::new(columns);
    select.push(" FROM ledger_entries e");
    if let Some(target) = &query.target {
        // Targets not yet moved out of the append queue are found there (see
        // `index_ledger_targets`); a pair is in exactly one of the two tables.
        select
            .push(" JOIN (SELECT idx FROM ledger_targets WHERE target = ")
            .push_bind(target.as_str())
            .push(" UNION ALL SELECT idx FROM ledger_target_queue WHERE target = ")
            .push_bind(target.as_str())
            .push(") t ON t.idx = e.idx");
    }
    select.push(" WHERE TRUE");
    let text_filters = [
        ("e.actor", &query.actor),
        ("e.action", &query.action),
        ("e.jurisdiction", &query.jurisdiction),
        ("e.outcome", &query.outcome),
    ];
    for (column, value) in text_filters {
        if let Some(value) = value {
            select.push(format_args!(" AND {column} = ")).push_bind(value.as_str());
        }
    }
    if let Some(since) = query.since_millis {
        select.push(" AND e.time_millis >= ").push_bind(since);
    }
    if let Some(until) = query.until_millis {
        select.push(" AND e.time_millis < ").push_bind(until);
    }
    if let Some(before) = query.before_index {
        // Every stored index fits in i64, so a larger cursor excludes nothing.
        select.push(" AND e.idx < ").push_bind(i64::try_from(before).unwrap_or(i64::MAX));
    }
    select
}

async fn insert_ledger_entries(
    transaction: &mut sqlx::Transaction<'static, Postgres>,
    first: i64,
    entries: &[LedgerAppend],
) -> Result<(), StoreError> {
    let mut next = first;
    for chunk in entries.chunks(ENTRY_ROWS_PER_STATEMENT) {
        let indexes: Vec<i64> = (next..).take(chunk.len()).collect();
        next += indexes.len() as i64;
        sqlx::query(
            "INSERT INTO ledger_entries (idx, body, time_millis, actor, action, jurisdiction, outcome) \
             SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[])",
        )
        .bind(&indexes)
        .bind(chunk.iter().map(|entry| entry.body.as_slice()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|entry| entry.time_millis).collect::<Vec<_>>())
        .bind(chunk.iter().map(|entry| entry.actor.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|entry| entry.action.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|entry| entry.jurisdiction.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|entry| entry.outcome.as_str()).collect::<Vec<_>>())
        .execute(&mut **transaction)
        .await
        .map_err(backend)?;
        let mut target_indexes = Vec::new();
        let mut targets = Vec::new();
        for (entry, index) in chunk.iter().zip(indexes) {
            for target in entry.distinct_targets() {
                target_indexes.push(index);
                targets.push(target);
            }
        }
        if !targets.is_empty() {
            sqlx::query("INSERT INTO ledger_target_queue (idx, target) SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[])")
                .bind(&target_indexes)
                .bind(&targets)
                .execute(&mut **transaction)
                .await
                .map_err(backend)?;
        }
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(backend)
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn insert_jurisdiction(&self, jurisdiction: &Jurisdiction) -> Result<(), StoreError> {
        let parent = jurisdiction.parent.as_ref().map(|parent| parent.as_str());
        sqlx::query("INSERT INTO jurisdictions (id, name, kind, parent_id) VALUES ($1, $2, $3, $4)")
            .bind(jurisdiction.id.as_str())
            .bind(jurisdiction.name.as_str())
            .bind(jurisdiction.kind.as_str())
            .bind(parent)
            .execute(&self.pool)
            .await
            .map_err(|error| {
                insert_error(
                    error,
                    "jurisdiction",
                    jurisdiction.id.as_str(),
                    ("parent jurisdiction", parent.unwrap_or("")),
                )
            })?;
        Ok(())
    }

    async fn jurisdiction(&self, id: &JurisdictionId) -> Result<Option<Jurisdiction>, StoreError> {
        let row = sqlx::query("SELECT id, name, kind, parent_id FROM jurisdictions WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(jurisdiction_row).transpose()
    }

    async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>, StoreError> {
        let rows = sqlx::query("SELECT id, name, kind, parent_id FROM jurisdictions ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(jurisdiction_row).collect()
    }

    async fn insert_precincts(&self, precincts: &[Precinct]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        for precinct in precincts {
            sqlx::query("INSERT INTO precincts (id, jurisdiction_id, name) VALUES ($1, $2, $3)")
                .bind(precinct.id.as_str())
                .bind(precinct.jurisdiction.as_str())
                .bind(precinct.name.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(|error| {
                    insert_error(
                        error,
                        "precinct",
                        precinct.id.as_str(),
                        ("jurisdiction", precinct.jurisdiction.as_str()),
                    )
                })?;
        }
        transaction.commit().await.map_err(backend)
    }

    async fn precincts(&self, jurisdiction: Option<&JurisdictionId>) -> Result<Vec<Precinct>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, jurisdiction_id, name FROM precincts WHERE ($1::text IS NULL OR jurisdiction_id = $1) ORDER BY id",
        )
        .bind(jurisdiction.map(JurisdictionId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(precinct_row).collect()
    }

    async fn replace_polling_places(
        &self,
        import: &StoredPlacesImport,
        places: &[StoredPollingPlace],
    ) -> Result<(), StoreError> {
        let jurisdiction = &import.jurisdiction;
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        // Two imports for one jurisdiction at once take turns here, so the second replaces the
        // first instead of colliding with its rows.
        let exists = sqlx::query("SELECT 1 FROM jurisdictions WHERE id = $1 FOR UPDATE")
            .bind(jurisdiction.as_str())
            .fetch_optional(&mut *transaction)
            .await
            .map_err(backend)?;
        if exists.is_none() {
            return Err(StoreError::Missing { what: "jurisdiction", id: jurisdiction.to_string() });
        }
        for table in ["polling_place_precincts", "polling_places"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE jurisdiction_id = $1"))
                .bind(jurisdiction.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(backend)?;
        }
        sqlx::query(&format!(
            "INSERT INTO polling_place_imports ({PLACES_IMPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&import.id)
        .bind(jurisdiction.as_str())
        .bind(&import.format)
        .bind(&import.file_digest)
        .bind(&import.actor)
        .bind(import.imported_at)
        .bind(rows::integer(import.places, "place count")?)
        .bind(rows::integer(import.precincts_matched, "precinct count")?)
        .bind(rows::integer(import.precincts_unmatched, "precinct count")?)
        .execute(&mut *transaction)
        .await
        .map_err(|error| {
            insert_error(error, "polling-place import", &import.id, ("jurisdiction", jurisdiction.as_str()))
        })?;
        for chunk in places.chunks(PLACE_ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO polling_places (jurisdiction_id, id, import_id, name, address, hours, directions, \
                 early_voting, drop_box) ",
            );
            insert.push_values(chunk, |mut values, place| {
                values
                    .push_bind(jurisdiction.as_str())
                    .push_bind(&place.id)
                    .push_bind(&import.id)
                    .push_bind(&place.name)
                    .push_bind(&place.address)
                    .push_bind(&place.hours)
                    .push_bind(&place.directions)
                    .push_bind(place.early_voting)
                    .push_bind(place.drop_box);
            });
            insert.build().execute(&mut *transaction).await.map_err(|error| place_error(error, jurisdiction))?;
        }
        let served: Vec<(&str, &str)> = places
            .iter()
            .flat_map(|place| place.precincts.iter().map(move |precinct| (place.id.as_str(), precinct.as_str())))
            .collect();
        for chunk in served.chunks(PLACE_PRECINCT_ROWS_PER_STATEMENT) {
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO polling_place_precincts (jurisdiction_id, place_id, precinct_id) ",
            );
            insert.push_values(chunk, |mut values, (place, precinct)| {
                values.push_bind(jurisdiction.as_str()).push_bind(*place).push_bind(*precinct);
            });
            insert.build().execute(&mut *transaction).await.map_err(|error| place_error(error, jurisdiction))?;
        }
        transaction.commit().await.map_err(backend)
    }

    async fn polling_places(&self, jurisdiction: &JurisdictionId) -> Result<Vec<StoredPollingPlace>, StoreError> {
        // Byte order, as SQLite sorts, whatever the database's locale.
        let rows = sqlx::query(&format!(
            "SELECT {PLACE_COLUMNS} FROM {PLACE_JOIN} WHERE p.jurisdiction_id = $1 \
             ORDER BY p.id COLLATE \"C\", pp.precinct_id COLLATE \"C\""
        ))
        .bind(jurisdiction.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        places::collect_places(rows.iter().map(place_row).collect::<Result<Vec<_>, _>>()?)
    }

    async fn polling_places_serving(
        &self,
        jurisdiction: &JurisdictionId,
    ) -> Result<Vec<StoredPollingPlace>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PLACE_COLUMNS} FROM {PLACE_JOIN} WHERE EXISTS (SELECT 1 FROM polling_place_precincts AS served \
             JOIN precincts ON precincts.id = served.precinct_id WHERE served.jurisdiction_id = p.jurisdiction_id \
             AND served.place_id = p.id AND precincts.jurisdiction_id = $1) \
             ORDER BY p.jurisdiction_id COLLATE \"C\", p.id COLLATE \"C\", pp.precinct_id COLLATE \"C\""
        ))
        .bind(jurisdiction.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        places::collect_places(rows.iter().map(place_row).collect::<Result<Vec<_>, _>>()?)
    }

    async fn polling_place_imports(
        &self,
        jurisdiction: Option<&JurisdictionId>,
        limit: u32,
    ) -> Result<Vec<StoredPlacesImport>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PLACES_IMPORT_COLUMNS} FROM polling_place_imports \
             WHERE ($1::TEXT IS NULL OR jurisdiction_id = $1) ORDER BY imported_at DESC, id COLLATE \"C\" DESC LIMIT $2"
        ))
        .bind(jurisdiction.map(JurisdictionId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(places_import_row).collect()
    }

    async fn insert_election(&self, election: &Election, contests: &[Contest]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        election_definitions::insert_election_rows(&mut transaction, election, contests).await?;
        transaction.commit().await.map_err(backend)
    }

    async fn election(&self, id: &ElectionId) -> Result<Option<Election>, StoreError> {
        let row = sqlx::query("SELECT id, jurisdiction_id, name, kind, election_date FROM elections WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(election_row).transpose()
    }

    async fn elections(&self, jurisdiction: Option<&JurisdictionId>) -> Result<Vec<Election>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, jurisdiction_id, name, kind, election_date FROM elections \
             WHERE ($1::text IS NULL OR jurisdiction_id = $1) ORDER BY election_date, id",
        )
        .bind(jurisdiction.map(JurisdictionId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(election_row).collect()
    }

    async fn contests(&self, election: &ElectionId) -> Result<Vec<Contest>, StoreError> {
        let contest_rows = sqlx::query(
            "SELECT election_id, id, district_id, name, kind, vote_for FROM contests \
             WHERE election_id = $1 ORDER BY ballot_position",
        )
        .bind(election.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut contests = contest_rows
            .iter()
            .map(|row| {
                let vote_for: i32 = row.try_get("vote_for").map_err(backend)?;
                rows::contest(
                    &text(row, "election_id")?,
                    &text(row, "id")?,
                    &text(row, "district_id")?,
                    &text(row, "name")?,
                    &text(row, "kind")?,
                    i64::from(vote_for),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let choice_rows = sqlx::query(
            "SELECT contest_id, name, party FROM contest_choices WHERE election_id = $1 \
             ORDER BY contest_id, ballot_position",
        )
        .bind(election.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let choices = choice_rows
            .iter()
            .map(|row| {
                Ok((
                    text(row, "contest_id")?,
                    rows::choice(&text(row, "name")?, optional_text(row, "party")?.as_deref())?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        rows::attach_choices(&mut contests, choices);
        Ok(contests)
    }

    async fn insert_voters(&self, voters: &[SealedVoter]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        for chunk in voters.chunks(VOTER_ROWS_PER_STATEMENT) {
            let mut insert = voter_insert();
            push_voter_values(&mut insert, chunk, 0);
            insert.build().execute(&mut *transaction).await.map_err(|error| voter_error(error, chunk))?;
        }
        transaction.commit().await.map_err(backend)
    }

    async fn voters_by_index(
        &self,
        jurisdiction: &JurisdictionId,
        lookup: IndexLookup,
    ) -> Result<Vec<SealedVoter>, StoreError> {
        // The column name comes from a closed enum, never from input.
        let query = format!(
            "SELECT {VOTER_COLUMNS} FROM voters WHERE jurisdiction_id = $1 AND {} = $2 ORDER BY registration_number",
            lookup.column()
        );
        let rows = sqlx::query(&query)
            .bind(jurisdiction.as_str())
            .bind(lookup.value())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(voter_row).collect()
    }

    async fn voters_sealed_with(
        &self,
        jurisdiction: &JurisdictionId,
        key_version: u32,
        limit: u32,
    ) -> Result<Vec<SealedVoter>, StoreError> {
        let query = format!(
            "SELECT {VOTER_COLUMNS} FROM voters WHERE jurisdiction_id = $1 AND key_version = $2 ORDER BY registration_number LIMIT $3"
        );
        let rows = sqlx::query(&query)
            .bind(jurisdiction.as_str())
            .bind(i64::from(key_version))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(voter_row).collect()
    }

    async fn reseal_voters(&self, voters: &[SealedVoter], previous_version: u32) -> Result<u64, StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        let mut replaced = 0;
        for voter in voters {
            let result = sqlx::query(
                "UPDATE voters SET key_version = $1, first_name = $2, last_name = $3, birth_date = $4, ssn_last_four = $5, \
                 drivers_license = $6, email = $7, details = $8 \
                 WHERE registration_number = $9 AND jurisdiction_id = $10 AND key_version = $11",
            )
            .bind(i64::from(voter.key_version))
            .bind(&voter.fields.first_name)
            .bind(&voter.fields.last_name)
            .bind(&voter.fields.birth_date)
            .bind(&voter.fields.ssn_last_four)
            .bind(&voter.fields.drivers_license)
            .bind(&voter.fields.email)
            .bind(&voter.fields.details)
            .bind(&voter.registration_number)
            .bind(voter.jurisdiction.as_str())
            .bind(i64::from(previous_version))
            .execute(&mut *transaction)
            .await
            .map_err(backend)?;
            replaced += result.rows_affected();
        }
        transaction.commit().await.map_err(backend)?;
        Ok(replaced)
    }

    async fn key_version_usage(&self, jurisdiction: &JurisdictionId) -> Result<Vec<KeyVersionUsage>, StoreError> {
        let rows = sqlx::query(
            "SELECT key_version, COUNT(*) AS rows FROM (SELECT key_version FROM voters WHERE jurisdiction_id = $1 \
             UNION ALL SELECT key_version FROM voter_signatures WHERE jurisdiction_id = $1) AS sealed \
             GROUP BY key_version ORDER BY key_version",
        )
        .bind(jurisdiction.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let version: i64 = row.try_get("key_version").map_err(backend)?;
                let count: i64 = row.try_get("rows").map_err(backend)?;
                rows::key_version_usage(version, count)
            })
            .collect()
    }

    async fn voter(&self, registration_number: &str) -> Result<Option<SealedVoter>, StoreError> {
        let row = sqlx::query(&format!("SELECT {VOTER_COLUMNS} FROM voters WHERE registration_number = $1"))
            .bind(registration_number)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(voter_row).transpose()
    }

    async fn voters_after(
        &self,
        jurisdiction: &JurisdictionId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SealedVoter>, StoreError> {
        let query = format!(
            "SELECT {VOTER_COLUMNS} FROM voters WHERE jurisdiction_id = $1 AND registration_number > $2 \
             ORDER BY registration_number LIMIT $3"
        );
        let rows = sqlx::query(&query)
            .bind(jurisdiction.as_str())
            // Every registration number sorts after the empty string.
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(voter_row).collect()
    }

    async fn voter_history(&self, registration_number: &str) -> Result<Vec<VoterRevision>, StoreError> {
        let query = format!(
            "SELECT {REVISION_COLUMNS}, revision, replaced_at, import_id, NULL::BIGINT AS name_index, NULL::BIGINT AS identity_index, \
             NULL::BIGINT AS drivers_license_index, NULL::BIGINT AS lookup_index \
             FROM voter_history WHERE registration_number = $1 ORDER BY revision DESC"
        );
        let rows = sqlx::query(&query).bind(registration_number).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(revision_row).collect()
    }

    async fn voter_digests(&self, registration_numbers: &[String]) -> Result<Vec<VoterDigest>, StoreError> {
        let mut found = Vec::with_capacity(registration_numbers.len());
        for chunk in registration_numbers.chunks(VOTER_ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Postgres>::new(
                "SELECT registration_number, jurisdiction_id, row_digest FROM voters WHERE registration_number IN (",
            );
            let mut numbers = query.separated(", ");
            for number in chunk {
                numbers.push_bind(number);
            }
            query.push(")");
            for row in query.build().fetch_all(&self.pool).await.map_err(backend)? {
                found.push(VoterDigest {
                    registration_number: text(&row, "registration_number")?,
                    jurisdiction: JurisdictionId::parse(&text(&row, "jurisdiction_id")?)
                        .map_err(|error| StoreError::Corrupt(error.to_string()))?,
                    row_digest: row.try_get("row_digest").map_err(backend)?,
                });
            }
        }
        Ok(found)
    }

    async fn insert_voter_import(&self, import: &StoredImport) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO voter_imports ({IMPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&import.id)
        .bind(import.jurisdiction.as_str())
        .bind(&import.format)
        .bind(&import.file_digest)
        .bind(&import.actor)
        .bind(import.started_at)
        .bind(import.updated_at)
        .bind(import.finished_at)
        .bind(rows::integer(import.position, "import position")?)
        .bind(rows::integer(import.line, "import line")?)
        .bind(rows::integer(import.counts.inserted, "import count")?)
        .bind(rows::integer(import.counts.updated, "import count")?)
        .bind(rows::integer(import.counts.unchanged, "import count")?)
        .bind(rows::integer(import.counts.rejected, "import count")?)
        .execute(&self.pool)
        .await
        .map_err(|error| insert_error(error, "import", &import.id, ("jurisdiction", import.jurisdiction.as_str())))?;
        Ok(())
    }

    async fn voter_import(&self, id: &str) -> Result<Option<StoredImport>, StoreError> {
        let row = sqlx::query(&format!("SELECT {IMPORT_COLUMNS} FROM voter_imports WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(import_row).transpose()
    }

    async fn voter_imports(
        &self,
        jurisdiction: Option<&JurisdictionId>,
        limit: u32,
    ) -> Result<Vec<StoredImport>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {IMPORT_COLUMNS} FROM voter_imports WHERE ($1::TEXT IS NULL OR jurisdiction_id = $1) \
             ORDER BY started_at DESC, id DESC LIMIT $2"
        ))
        .bind(jurisdiction.map(JurisdictionId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(import_row).collect()
    }

    async fn write_voter_batch(&self, batch: &VoterBatch<'_>) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        let moved = sqlx::query(
            "UPDATE voter_imports SET position = $1, line = $2, inserted = $3, updated = $4, unchanged = $5, rejected = $6, \
             updated_at = $7 WHERE id = $8 AND finished_at IS NULL",
        )
        .bind(rows::integer(batch.position, "import position")?)
        .bind(rows::integer(batch.line, "import line")?)
        .bind(rows::integer(batch.counts.inserted, "import count")?)
        .bind(rows::integer(batch.counts.updated, "import count")?)
        .bind(rows::integer(batch.counts.unchanged, "import count")?)
        .bind(rows::integer(batch.counts.rejected, "import count")?)
        .bind(batch.at)
        .bind(batch.import_id)
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Missing { what: "unfinished import", id: batch.import_id.to_owned() });
        }
        voter_copy::write_voters(&mut transaction, batch.voters, batch.at, batch.import_id).await?;
        transaction.commit().await.map_err(backend)
    }

    async fn finish_voter_import(&self, id: &str, at: i64) -> Result<(), StoreError> {
        let moved = sqlx::query(
            "UPDATE voter_imports SET finished_at = $1, updated_at = $2 WHERE id = $3 AND finished_at IS NULL",
        )
        .bind(at)
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if moved.rows_affected() == 0 {
            return Err(StoreError::Missing { what: "unfinished import", id: id.to_owned() });
        }
        Ok(())
    }

    async fn registered_voter_counts(&self) -> Result<Vec<PrecinctVoterCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT precinct_id, COUNT(*) AS registered FROM voters \
             WHERE status IN ('active', 'inactive', 'temporary') GROUP BY precinct_id ORDER BY precinct_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let registered: i64 = row.try_get("registered").map_err(backend)?;
                rows::precinct_count(&text(row, "precinct_id")?, registered)
            })
            .collect()
    }

    async fn change_voter_status(&self, change: &StoredStatusChange) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        let moved = sqlx::query(
            "UPDATE voters SET status = $1, updated_at = $2 \
             WHERE registration_number = $3 AND jurisdiction_id = $4 AND status = $5",
        )
        .bind(change.to.as_str())
        .bind(change.recorded_at)
        .bind(&change.registration_number)
        .bind(change.jurisdiction.as_str())
        .bind(change.from.as_str())
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
        if moved.rows_affected() == 0 {
            let exists =
                sqlx::query("SELECT 1 AS found FROM voters WHERE registration_number = $1 AND jurisdiction_id = $2")
                    .bind(&change.registration_number)
                    .bind(change.jurisdiction.as_str())
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(backend)?;
            return match exists {
                Some(_) => Ok(false),
                None => Err(StoreError::Missing { what: "voter", id: change.registration_number.clone() }),
            };
        }
        sqlx::query(
            "INSERT INTO voter_status_changes (registration_number, jurisdiction_id, from_status, to_status, reason, \
             effective_on, confirmation_notice_sent, last_contact, actor, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&change.registration_number)
        .bind(change.jurisdiction.as_str())
        .bind(change.from.as_str())
        .bind(change.to.as_str())
        .bind(change.reason.as_str())
        .bind(change.effective_on)
        .bind(change.confirmation_notice_sent)
        .bind(change.last_contact)
        .bind(&change.actor)
        .bind(change.recorded_at)
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
        transaction.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn voter_status_changes(&self, registration_number: &str) -> Result<Vec<StoredStatusChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, registration_number, jurisdiction_id, from_status, to_status, reason, effective_on, \
             confirmation_notice_sent, last_contact, actor, recorded_at \
             FROM voter_status_changes WHERE registration_number = $1 ORDER BY id",
        )
        .bind(registration_number)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                rows::status_change(rows::StatusChangeColumns {
                    id: row.try_get("id").map_err(backend)?,
                    registration_number: text(row, "registration_number")?,
                    jurisdiction: text(row, "jurisdiction_id")?,
                    from: text(row, "from_status")?,
                    to: text(row, "to_status")?,
                    reason: text(row, "reason")?,
                    effective_on: row.try_get("effective_on").map_err(backend)?,
                    confirmation_notice_sent: row.try_get("confirmation_notice_sent").map_err(backend)?,
                    last_contact: row.try_get("last_contact").map_err(backend)?,
                    actor: text(row, "actor")?,
                    recorded_at: row.try_get("recorded_at").map_err(backend)?,
                })
            })
            .collect()
    }

    async fn create_key_ring(&self, ring: &StoredKeyRing) -> Result<(), StoreError> {
        let jurisdiction = ring.jurisdiction.as_str();
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO key_rings (jurisdiction_id, root_check, share_threshold, share_count, projected_rows) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(jurisdiction)
        .bind(&ring.root_check)
        .bind(ring.shares.map(|(threshold, _)| i64::from(threshold)))
        .bind(ring.shares.map(|(_, count)| i64::from(count)))
        .bind(i64::try_from(ring.projected_rows).unwrap_or(i64::MAX))
        .execute(&mut *transaction)
        .await
        .map_err(|error| insert_error(error, "key ring", jurisdiction, ("jurisdiction", jurisdiction)))?;
        for (method, sealed) in &ring.seals {
            sqlx::query("INSERT INTO root_seals (jurisdiction_id, method, sealed) VALUES ($1, $2, $3)")
                .bind(jurisdiction)
                .bind(method)
                .bind(sealed)
                .execute(&mut *transaction)
                .await
                .map_err(backend)?;
        }
        for key in &ring.keys {
            insert_data_key(&mut transaction, jurisdiction, key).await?;
        }
        transaction.commit().await.map_err(backend)
    }

    async fn key_ring(&self, jurisdiction: &JurisdictionId) -> Result<Option<StoredKeyRing>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT root_check, share_threshold, share_count, projected_rows FROM key_rings WHERE jurisdiction_id = $1",
        )
        .bind(jurisdiction.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        else {
            return Ok(None);
        };
        let seals = sqlx::query("SELECT method, sealed FROM root_seals WHERE jurisdiction_id = $1 ORDER BY method")
            .bind(jurisdiction.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(|seal| Ok((text(seal, "method")?, seal.try_get::<Vec<u8>, _>("sealed").map_err(backend)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let keys = sqlx::query(
            "SELECT purpose, version, wrapped, index_bits, state FROM data_keys WHERE jurisdiction_id = $1 ORDER BY purpose, version",
        )
        .bind(jurisdiction.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(|key| {
            rows::data_key(
                &text(key, "purpose")?,
                key.try_get("version").map_err(backend)?,
                key.try_get("wrapped").map_err(backend)?,
                key.try_get("index_bits").map_err(backend)?,
                &text(key, "state")?,
            )
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        rows::key_ring(
            jurisdiction,
            row.try_get("root_check").map_err(backend)?,
            row.try_get("share_threshold").map_err(backend)?,
            row.try_get("share_count").map_err(backend)?,
            row.try_get("projected_rows").map_err(backend)?,
            seals,
            keys,
        )
    }

    async fn key_ring_jurisdictions(&self) -> Result<Vec<JurisdictionId>, StoreError> {
        let rows = sqlx::query("SELECT jurisdiction_id FROM key_rings ORDER BY jurisdiction_id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(|row| rows::jurisdiction_id(&text(row, "jurisdiction_id")?)).collect()
    }

    async fn put_root_seal(
        &self,
        jurisdiction: &JurisdictionId,
        method: &str,
        sealed: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO root_seals (jurisdiction_id, method, sealed) VALUES ($1, $2, $3) \
             ON CONFLICT (jurisdiction_id, method) DO UPDATE SET sealed = excluded.sealed",
        )
        .bind(jurisdiction.as_str())
        .bind(method)
        .bind(sealed)
        .execute(&self.pool)
        .await
        .map_err(|error| insert_error(error, "root seal", method, ("key ring", jurisdiction.as_str())))?;
        Ok(())
    }

    async fn set_share_policy(
        &self,
        jurisdiction: &JurisdictionId,
        threshold: u8,
        count: u8,
    ) -> Result<(), StoreError> {
        let result =
            sqlx::query("UPDATE key_rings SET share_threshold = $1, share_count = $2 WHERE jurisdiction_id = $3")
                .bind(i64::from(threshold))
                .bind(i64::from(count))
                .bind(jurisdiction.as_str())
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        missing_unless_changed(result.rows_affected(), jurisdiction)
    }

    async fn add_data_key(&self, jurisdiction: &JurisdictionId, key: &StoredDataKey) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        sqlx::query(
            "UPDATE data_keys SET state = 'previous' WHERE jurisdiction_id = $1 AND purpose = $2 AND state = 'active'",
        )
        .bind(jurisdiction.as_str())
        .bind(&key.purpose)
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
        insert_data_key(&mut transaction, jurisdiction.as_str(), key).await?;
        transaction.commit().await.map_err(backend)
    }

    async fn retire_data_key(
        &self,
        jurisdiction: &JurisdictionId,
        purpose: &str,
        version: u32,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        let what = format!("key version {version} of {purpose}");
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state FROM data_keys WHERE jurisdiction_id = $1 AND purpose = $2 AND version = $3",
        )
        .bind(jurisdiction.as_str())
        .bind(purpose)
        .bind(i64::from(version))
        .fetch_optional(&mut *transaction)
        .await
        .map_err(backend)?;
        match state.as_deref() {
            None => return Err(StoreError::Missing { what: "data key", id: what }),
            Some("active") => return Err(StoreError::InUse { what: format!("{what} (the active version)"), rows: 0 }),
            _ => {}
        }
        // Only the field key seals voter rows and signatures; index keys have no per-row version.
        if purpose == "field" {
            let rows: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM voters WHERE jurisdiction_id = $1 AND key_version = $2) \
                 + (SELECT COUNT(*) FROM voter_signatures WHERE jurisdiction_id = $1 AND key_version = $2)",
            )
            .bind(jurisdiction.as_str())
            .bind(i64::from(version))
            .fetch_one(&mut *transaction)
            .await
            .map_err(backend)?;
            if rows > 0 {
                return Err(StoreError::InUse { what, rows: rows::count(rows)? });
            }
        }
        sqlx::query(
            "UPDATE data_keys SET state = 'retired' WHERE jurisdiction_id = $1 AND purpose = $2 AND version = $3",
        )
        .bind(jurisdiction.as_str())
        .bind(purpose)
        .bind(i64::from(version))
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
        transaction.commit().await.map_err(backend)
    }

    async fn shred_key_ring(&self, jurisdiction: &JurisdictionId) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        for table in ["data_keys", "root_seals", "key_rings"] {
            let deleted = sqlx::query(&format!("DELETE FROM {table} WHERE jurisdiction_id = $1"))
                .bind(jurisdiction.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(backend)?;
            if table == "key_rings" {
                missing_unless_changed(deleted.rows_affected(), jurisdiction)?;
            }
        }
        transaction.commit().await.map_err(backend)
    }

    async fn snapshot_into(&self, destination: &std::path::Path) -> Result<(), StoreError> {
        // pg_dump reads one consistent snapshot (a repeatable-read transaction) while writers go on.
        let file = format!("--file={}", destination.display());
        run_client(
            "pg_dump",
            &self.url,
            &[std::ffi::OsStr::new("--no-owner"), std::ffi::OsStr::new("--no-privileges"), std::ffi::OsStr::new(&file)],
        )
    }

    async fn upsert_staff_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO staff_accounts (username, password_hash, email, suspended, totp_secret, totp_last_step) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, email = excluded.email, \
             suspended = excluded.suspended, totp_secret = excluded.totp_secret, \
             totp_last_step = excluded.totp_last_step",
        )
        .bind(account.username.as_str())
        .bind(&account.password_hash)
        .bind(account.email.as_ref().map(EmailAddress::as_str))
        .bind(account.suspended)
        .bind(account.totp_secret.as_deref())
        .bind(account.totp_last_step)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(backend)
    }

    async fn staff_account(&self, username: &Username) -> Result<Option<StaffAccount>, StoreError> {
        let row = sqlx::query(&format!("SELECT {STAFF_COLUMNS} FROM staff_accounts WHERE username = $1"))
            .bind(username.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(staff_row).transpose()
    }

    async fn staff_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {STAFF_COLUMNS} FROM staff_accounts ORDER BY username COLLATE \"C\""))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(staff_row).collect()
    }

    async fn set_staff_suspended(&self, username: &Username, suspended: bool) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE staff_accounts SET suspended = $1 WHERE username = $2")
            .bind(suspended)
            .bind(username.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        missing_unless(result.rows_affected(), "staff account", username.as_str())
    }

    async fn claim_totp_step(&self, username: &Username, step: i64) -> Result<bool, StoreError> {
        // One statement compares and sets, so two requests with the same code cannot both win.
        let result =
            sqlx::query("UPDATE staff_accounts SET totp_last_step = $1 WHERE username = $2 AND totp_last_step < $3")
                .bind(step)
                .bind(username.as_str())
                .bind(step)
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        Ok(result.rows_affected() == 1)
    }

    async fn add_grant(&self, username: &Username, grant: &Grant) -> Result<(), StoreError> {
        // A permanent grant is inserted once; an emergency one opened again replaces its expiry.
        let conflict = if grant.emergency {
            " ON CONFLICT (username, role, scope, emergency) DO UPDATE SET expires_at = excluded.expires_at"
        } else {
            ""
        };
        let result = sqlx::query(&format!(
            "INSERT INTO staff_grants (username, role, jurisdiction_id, expires_at, emergency) \
             VALUES ($1, $2, $3, $4, $5){conflict}"
        ))
        .bind(username.as_str())
        .bind(grant.role.as_str())
        .bind(grant.jurisdiction.as_ref().map(JurisdictionId::as_str))
        .bind(grant.expires_at)
        .bind(grant.emergency)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let name = rows::grant_name(username, grant.role, grant.jurisdiction.as_ref());
                Err(refused(&self.pool, error, "grant", &name, &[username], grant.jurisdiction.as_ref()).await)
            }
        }
    }

    async fn remove_grant(
        &self,
        username: &Username,
        role: StaffRole,
        jurisdiction: Option<&JurisdictionId>,
    ) -> Result<(), StoreError> {
        let result =
            sqlx::query("DELETE FROM staff_grants WHERE username = $1 AND role = $2 AND scope = $3 AND NOT emergency")
                .bind(username.as_str())
                .bind(role.as_str())
                .bind(jurisdiction.map_or("", JurisdictionId::as_str))
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        missing_unless(result.rows_affected(), "grant", &rows::grant_name(username, role, jurisdiction))
    }

    async fn grants(&self, username: &Username) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {GRANT_COLUMNS} FROM staff_grants WHERE username = $1"))
            .bind(username.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut grants = rows.iter().map(grant_row).collect::<Result<Vec<_>, _>>()?;
        rows::sort_grants(&mut grants);
        Ok(grants)
    }

    async fn all_grants(&self) -> Result<Vec<(Username, Grant)>, StoreError> {
        let rows = sqlx::query(&format!("SELECT username, {GRANT_COLUMNS} FROM staff_grants"))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut grants = rows
            .iter()
            .map(|row| Ok((rows::username(&text(row, "username")?)?, grant_row(row)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        rows::sort_user_grants(&mut grants);
        Ok(grants)
    }

    async fn insert_session(&self, session: &StoredSession) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO staff_sessions (id_hash, username, csrf_token, created_at, last_seen_at, second_factor) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id_hash.as_slice())
        .bind(session.username.as_str())
        .bind(&session.csrf_token)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.second_factor)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            // The id is a secret's hash: the error names the account, never the id.
            Err(error) => {
                Err(refused(&self.pool, error, "session", session.username.as_str(), &[&session.username], None).await)
            }
        }
    }

    async fn session(&self, id_hash: &[u8]) -> Result<Option<StoredSession>, StoreError> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM staff_sessions WHERE id_hash = $1"))
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(session_row).transpose()
    }

    async fn touch_session(&self, id_hash: &[u8], last_seen_at: i64, second_factor: bool) -> Result<(), StoreError> {
        // A session ended meanwhile (sign-out in another tab) stays ended: nothing to record.
        sqlx::query("UPDATE staff_sessions SET last_seen_at = $1, second_factor = $2 WHERE id_hash = $3")
            .bind(last_seen_at)
            .bind(second_factor)
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn delete_sessions_of(&self, username: &Username) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM staff_sessions WHERE username = $1")
            .bind(username.as_str())
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn insert_api_token(&self, token: &StoredToken) -> Result<(), StoreError> {
        let result = sqlx::query(&format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&token.id)
        .bind(token.secret_hash.as_slice())
        .bind(&token.label)
        .bind(token.owner.as_str())
        .bind(token.role.as_str())
        .bind(token.jurisdiction.as_ref().map(JurisdictionId::as_str))
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.revoked)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                Err(refused(&self.pool, error, "api token", &token.id, &[&token.owner], token.jurisdiction.as_ref())
                    .await)
            }
        }
    }

    async fn api_token(&self, id: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(token_row).transpose()
    }

    async fn api_tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id COLLATE \"C\" DESC"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(token_row).collect()
    }

    async fn revoke_api_token(&self, id: &str) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE api_tokens SET revoked = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        missing_unless(result.rows_affected(), "api token", id)
    }

    async fn insert_request(&self, request: &StoredRequest) -> Result<(), StoreError> {
        let result = sqlx::query(&format!(
            "INSERT INTO access_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&request.id)
        .bind(request.kind.as_str())
        .bind(request.requester.as_str())
        .bind(request.jurisdiction.as_str())
        .bind(&request.subject)
        .bind(&request.justification)
        .bind(request.created_at)
        .bind(request.expires_at)
        .bind(request.status.as_str())
        .bind(request.approver.as_ref().map(Username::as_str))
        .bind(request.decided_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let accounts: Vec<&Username> =
                    std::iter::once(&request.requester).chain(request.approver.as_ref()).collect();
                Err(refused(&self.pool, error, "request", &request.id, &accounts, Some(&request.jurisdiction)).await)
            }
        }
    }

    async fn request(&self, id: &str) -> Result<Option<StoredRequest>, StoreError> {
        let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(request_row).transpose()
    }

    async fn requests(&self, status: Option<RequestStatus>, limit: u32) -> Result<Vec<StoredRequest>, StoreError> {
        // Two statements rather than `($1 IS NULL OR status = $1)`, so the filtered one can use
        // the (status, created_at) index.
        let order = "ORDER BY created_at DESC, id COLLATE \"C\" DESC";
        let rows = match status {
            Some(status) => {
                sqlx::query(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM access_requests WHERE status = $1 {order} LIMIT $2"
                ))
                .bind(status.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM access_requests {order} LIMIT $1"))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(backend)?;
        rows.iter().map(request_row).collect()
    }

    async fn transition_request(
        &self,
        id: &str,
        from: RequestStatus,
        to: RequestStatus,
        approver: Option<&Username>,
        at: i64,
    ) -> Result<bool, StoreError> {
        // The status test is in the UPDATE itself: of two racing approvals one changes the row.
        // Without an approver (execution, expiry) the decision time is kept if already set.
        let result = sqlx::query(
            "UPDATE access_requests SET status = $1, approver = COALESCE($2, approver), \
             decided_at = CASE WHEN $2 IS NULL THEN COALESCE(decided_at, $3) ELSE $3 END \
             WHERE id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(approver.map(Username::as_str))
        .bind(at)
        .bind(id)
        .bind(from.as_str())
        .execute(&self.pool)
        .await
        .map_err(|error| match error.as_database_error().map(|database| database.kind()) {
            Some(ErrorKind::ForeignKeyViolation) => StoreError::Missing {
                what: "staff account",
                id: approver.map(Username::as_str).unwrap_or_default().to_owned(),
            },
            _ => backend(error),
        })?;
        Ok(result.rows_affected() == 1)
    }

    async fn insert_incident(&self, incident: &StoredIncident) -> Result<(), StoreError> {
        incidents::insert(&self.pool, incident).await
    }

    async fn incidents(&self, limit: u32) -> Result<Vec<StoredIncident>, StoreError> {
        incidents::matching(&self.pool, &IncidentQuery { limit, ..IncidentQuery::default() }).await
    }

    async fn enqueue_mail(&self, recipient: &str, subject: &str, body: &str, at: i64) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO mail_outbox (recipient, subject, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)
    }

    async fn pending_mail(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM mail_outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(outbox_row).collect()
    }

    async fn recent_mail(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {OUTBOX_COLUMNS} FROM mail_outbox ORDER BY id DESC LIMIT $1"))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(outbox_row).collect()
    }

    async fn mark_mail_sent(&self, id: i64, at: i64) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE mail_outbox SET sent_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        missing_unless(result.rows_affected(), "mail message", &id.to_string())
    }

    async fn mark_mail_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let result = sqlx::query("UPDATE mail_outbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        missing_unless(result.rows_affected(), "mail message", &id.to_string())
    }

    async fn append_ledger(&self, entries: &[LedgerAppend]) -> Result<u64, StoreError> {
        if entries.is_empty() {
            return self.ledger_size().await;
        }
        let count = i64::try_from(entries.len()).map_err(|_| StoreError::Backend("too many entries".into()))?;
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        // Appenders queue on this lock until the holder commits, so the size read next cannot
        // change before this transaction's own commit: indexes never repeat or leave gaps.
        // Readers (ACCESS SHARE) are not blocked.
        sqlx::query("LOCK TABLE ledger_entries IN EXCLUSIVE MODE").execute(&mut *transaction).await.map_err(backend)?;
        let first: i64 = sqlx::query_scalar(LEDGER_SIZE).fetch_one(&mut *transaction).await.map_err(backend)?;
        if first.checked_add(count).is_none() {
            return Err(StoreError::Backend("the ledger is full".into()));
        }
        insert_ledger_entries(&mut transaction, first, entries).await?;
        transaction.commit().await.map_err(backend)?;
        rows::count(first)
    }

    async fn ledger_size(&self) -> Result<u64, StoreError> {
        let size: i64 = sqlx::query_scalar(LEDGER_SIZE).fetch_one(&self.pool).await.map_err(backend)?;
        rows::count(size)
    }

    async fn ledger_entries(&self, start: u64, limit: u32) -> Result<Vec<LedgerRow>, StoreError> {
        let Ok(start) = i64::try_from(start) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query("SELECT idx, body FROM ledger_entries WHERE idx >= $1 ORDER BY idx LIMIT $2")
            .bind(start)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(ledger_row).collect()
    }

    async fn search_ledger(&self, query: &LedgerQuery) -> Result<Vec<LedgerRow>, StoreError> {
        let limit = query.capped_limit();
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut select = ledger_matches("SELECT e.idx, e.body", query);
        // With a target, ordering by the matched targets' index keeps the planner driving the
        // join from that target's few matches rather than walking every entry.
        let order = if query.target.is_some() { "t.idx" } else { "e.idx" };
        select.push(format_args!(" ORDER BY {order} DESC LIMIT ")).push_bind(i64::from(limit));
        let rows = select.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(ledger_row).collect()
    }

    async fn count_ledger(&self, query: &LedgerQuery) -> Result<u64, StoreError> {
        // A target appears once per entry, so the join counts each matching entry once.
        let mut select = ledger_matches("SELECT COUNT(*)", query);
        let count: i64 = select.build_query_scalar().fetch_one(&self.pool).await.map_err(backend)?;
        rows::count(count)
    }

    async fn index_ledger_targets(&self, max_entries: u64) -> Result<u64, StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        let oldest: Option<i64> = sqlx::query_scalar("SELECT MIN(idx) FROM ledger_target_queue")
            .fetch_one(&mut *transaction)
            .await
            .map_err(backend)?;
        let Some(oldest) = oldest else {
            return Ok(0);
        };
        let end = oldest.saturating_add(i64::try_from(max_entries).unwrap_or(i64::MAX));
        // DELETE ... RETURNING takes exactly the rows it moves, so a second indexer running at
        // the same time (another node process) cannot copy them twice: it waits on their locks
        // and then finds them gone. Sorted by the index's key, the batch fills each leaf page
        // of ledger_targets in one pass.
        let moved = sqlx::query(
            "WITH moved AS (DELETE FROM ledger_target_queue WHERE idx < $1 RETURNING target, idx) \
             INSERT INTO ledger_targets (target, idx) SELECT target, idx FROM moved ORDER BY target, idx",
        )
        .bind(end)
        .execute(&mut *transaction)
        .await
        .map_err(backend)?
        .rows_affected();
        transaction.commit().await.map_err(backend)?;
        Ok(moved)
    }

    async fn integrate_ledger(&self, tiles: &[LedgerTile], checkpoint: &StoredCheckpoint) -> Result<(), StoreError> {
        let size = rows::integer(checkpoint.size, "checkpoint size")?;
        let tiles = ledger::distinct_tiles(tiles)?;
        let levels: Vec<i64> = tiles.iter().map(|tile| i64::from(tile.level)).collect();
        let indexes =
            tiles.iter().map(|tile| rows::integer(tile.index, "tile index")).collect::<Result<Vec<i64>, _>>()?;
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        // Integrations take turns, so each compares its tiles with the latest stored ones.
        sqlx::query("LOCK TABLE ledger_tiles IN EXCLUSIVE MODE").execute(&mut *transaction).await.map_err(backend)?;
        let ledger_size: i64 = sqlx::query_scalar(LEDGER_SIZE).fetch_one(&mut *transaction).await.map_err(backend)?;
        if size > ledger_size {
            return Err(StoreError::Missing { what: "ledger entry", id: (size - 1).to_string() });
        }
        sqlx::query("INSERT INTO ledger_checkpoints (size, note, time_millis) VALUES ($1, $2, $3)")
            .bind(size)
            .bind(&checkpoint.note)
            .bind(checkpoint.time_millis)
            .execute(&mut *transaction)
            .await
            .map_err(|error| insert_error(error, "checkpoint", &size.to_string(), ("checkpoint", "")))?;
        let mut stored = HashMap::new();
        let rows = sqlx::query(
            "SELECT level, idx, hashes FROM ledger_tiles \
             WHERE (level, idx) IN (SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[]))",
        )
        .bind(&levels)
        .bind(&indexes)
        .fetch_all(&mut *transaction)
        .await
        .map_err(backend)?;
        for row in rows {
            let key = rows::tile_key(row.try_get("level").map_err(backend)?, row.try_get("idx").map_err(backend)?)?;
            stored.insert(key, row.try_get::<Vec<u8>, _>("hashes").map_err(backend)?);
        }
        let writes = ledger::tiles_to_write(&tiles, &stored)?;
        if !writes.is_empty() {
            let levels: Vec<i64> = writes.iter().map(|tile| i64::from(tile.level)).collect();
            let indexes =
                writes.iter().map(|tile| rows::integer(tile.index, "tile index")).collect::<Result<Vec<i64>, _>>()?;
            let hashes: Vec<&[u8]> = writes.iter().map(|tile| tile.hashes.as_slice()).collect();
            sqlx::query(
                "INSERT INTO ledger_tiles (level, idx, hashes) \
                 SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BYTEA[]) \
                 ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
            )
            .bind(&levels)
            .bind(&indexes)
            .bind(&hashes)
            .execute(&mut *transaction)
            .await
            .map_err(backend)?;
        }
        transaction.commit().await.map_err(backend)
    }

    async fn ledger_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Ok(index) = i64::try_from(index) else {
            return Ok(None);
        };
        sqlx::query_scalar("SELECT hashes FROM ledger_tiles WHERE level = $1 AND idx = $2")
            .bind(i64::from(level))
            .bind(index)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query("SELECT size, note, time_millis FROM ledger_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(checkpoint_row).transpose()
    }

    async fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError> {
        let Ok(size) = i64::try_from(size) else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT size, note, time_millis FROM ledger_checkpoints WHERE size = $1")
            .bind(size)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(checkpoint_row).transpose()
    }

    async fn add_cosignature(&self, cosignature: &StoredCosignature) -> Result<(), StoreError> {
        let size = rows::integer(cosignature.size, "checkpoint size")?;
        sqlx::query(
            "INSERT INTO ledger_cosignatures (size, witness, line, time_millis) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line, time_millis = excluded.time_millis",
        )
        .bind(size)
        .bind(&cosignature.witness)
        .bind(&cosignature.line)
        .bind(cosignature.time_millis)
        .execute(&self.pool)
        .await
        .map_err(|error| insert_error(error, "cosignature", &cosignature.witness, ("checkpoint", &size.to_string())))?;
        Ok(())
    }

    async fn cosignatures(&self, size: u64) -> Result<Vec<StoredCosignature>, StoreError> {
        // Byte order, as SQLite sorts, whatever the database's locale.
        let Ok(size) = i64::try_from(size) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT size, witness, line, time_millis FROM ledger_cosignatures WHERE size = $1 \
             ORDER BY witness COLLATE \"C\"",
        )
        .bind(size)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(cosignature_row).collect()
    }

    async fn insert_ballot(&self, ballot: &StoredBallot, actor: &str) -> Result<i64, StoreError> {
        ballots::insert_ballot(&self.pool, ballot, actor).await
    }

    async fn change_ballot_status(&self, change: &StoredBallotChange) -> Result<bool, StoreError> {
        ballots::change_ballot_status(&self.pool, change).await
    }

    async fn voter_ballots(&self, registration_number: &str) -> Result<Vec<StoredBallot>, StoreError> {
        ballots::voter_ballots(&self.pool, registration_number).await
    }

    async fn voter_ballot_changes(&self, registration_number: &str) -> Result<Vec<StoredBallotChange>, StoreError> {
        ballots::voter_ballot_changes(&self.pool, registration_number).await
    }

    async fn write_vote_history_batch(&self, batch: &VoteHistoryBatch<'_>) -> Result<VoteHistoryWritten, StoreError> {
        voter_records::write_vote_history_batch(&self.pool, batch).await
    }

    async fn vote_history(&self, registration_number: &str) -> Result<Vec<StoredVote>, StoreError> {
        voter_records::vote_history(&self.pool, registration_number).await
    }

    async fn put_voter_signature(&self, signature: &StoredSignature) -> Result<(), StoreError> {
        voter_records::put_voter_signature(&self.pool, signature).await
    }

    async fn voter_signature(
        &self,
        jurisdiction: &JurisdictionId,
        registration_number: &str,
    ) -> Result<Option<StoredSignature>, StoreError> {
        voter_records::voter_signature(&self.pool, jurisdiction, registration_number).await
    }

    async fn signatures_sealed_with(
        &self,
        jurisdiction: &JurisdictionId,
        key_version: u32,
        limit: u32,
    ) -> Result<Vec<StoredSignature>, StoreError> {
        voter_records::signatures_sealed_with(&self.pool, jurisdiction, key_version, limit).await
    }

    async fn reseal_signatures(
        &self,
        signatures: &[StoredSignature],
        previous_version: u32,
    ) -> Result<u64, StoreError> {
        voter_records::reseal_signatures(&self.pool, signatures, previous_version).await
    }

    async fn defer_voter_indexes(&self) -> Result<bool, StoreError> {
        voter_indexes::defer(&self.pool).await
    }

    async fn build_voter_indexes(&self) -> Result<(), StoreError> {
        voter_indexes::build(&self.pool).await
    }

    async fn duplicate_candidates(&self, query: &DuplicateQuery<'_>) -> Result<Vec<DuplicateCandidate>, StoreError> {
        duplicates::candidates(&self.pool, query).await
    }

    async fn record_duplicate_decision(&self, decision: &DuplicateDecision) -> Result<i64, StoreError> {
        duplicates::record(&self.pool, decision).await
    }

    async fn duplicate_decisions(&self, registration_number: &str) -> Result<Vec<DuplicateDecision>, StoreError> {
        duplicates::decisions(&self.pool, registration_number).await
    }

    async fn insert_election_definition(
        &self,
        definition: &canvass_core::results::ElectionDefinition,
    ) -> Result<(), StoreError> {
        election_definitions::insert_election_definition(&self.pool, definition).await
    }

    async fn contest_coverage(
        &self,
        election: &ElectionId,
    ) -> Result<
        std::collections::BTreeMap<
            canvass_core::id::ContestId,
            std::collections::BTreeSet<canvass_core::id::PrecinctId>,
        >,
        StoreError,
    > {
        election_definitions::contest_coverage(&self.pool, election).await
    }

    async fn accept_results_change(
        &self,
        change: &canvass_store::StoredResultsChange,
        returns: &[canvass_core::results::PrecinctReturn],
    ) -> Result<canvass_store::ResultsWrite, StoreError> {
        results::accept_change(&self.pool, change, returns).await
    }

    async fn results_changes(
        &self,
        election: &ElectionId,
    ) -> Result<Vec<canvass_store::StoredResultsChange>, StoreError> {
        results::changes(&self.pool, election).await
    }

    async fn precinct_returns(
        &self,
        election: &ElectionId,
    ) -> Result<Vec<canvass_store::StoredPrecinctReturn>, StoreError> {
        results::returns(&self.pool, election).await
    }

    async fn put_results_snapshot(
        &self,
        snapshot: &canvass_store::StoredSnapshot,
        bodies: &[canvass_store::StoredBody],
    ) -> Result<(), StoreError> {
        results_snapshots::put(&self.pool, snapshot, bodies).await
    }

    async fn known_results_bodies(&self, hashes: &[String]) -> Result<Vec<String>, StoreError> {
        results_snapshots::known_bodies(&self.pool, hashes).await
    }

    async fn results_body(&self, sha256: &str) -> Result<Option<canvass_store::StoredBody>, StoreError> {
        results_snapshots::body(&self.pool, sha256).await
    }

    async fn results_snapshot(
        &self,
        election: &ElectionId,
        sequence: u64,
    ) -> Result<Option<canvass_store::StoredSnapshot>, StoreError> {
        results_snapshots::snapshot(&self.pool, election, sequence).await
    }

    async fn results_snapshots(&self, election: &ElectionId) -> Result<Vec<canvass_store::SnapshotHeader>, StoreError> {
        results_snapshots::snapshots(&self.pool, election).await
    }

    async fn latest_results_snapshots(&self) -> Result<Vec<canvass_store::SnapshotHeader>, StoreError> {
        results_snapshots::latest(&self.pool).await
    }

    async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, StoreError> {
        incidents::one(&self.pool, id).await
    }

    async fn incidents_matching(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>, StoreError> {
        incidents::matching(&self.pool, query).await
    }

    async fn add_incident_update(&self, update: &StoredIncidentUpdate) -> Result<bool, StoreError> {
        incidents::add_update(&self.pool, update).await
    }

    async fn incident_updates(&self, id: &str) -> Result<Vec<StoredIncidentUpdate>, StoreError> {
        incidents::updates(&self.pool, id).await
    }

    async fn insert_uocava_request(&self, request: &canvass_store::StoredUocavaRequest) -> Result<i64, StoreError> {
        uocava::insert_request(&self.pool, request).await
    }

    async fn uocava_requests(&self, year: i32) -> Result<Vec<canvass_store::StoredUocavaRequest>, StoreError> {
        uocava::requests(&self.pool, year).await
    }

    async fn insert_uocava_delivery(&self, delivery: &canvass_store::StoredUocavaDelivery) -> Result<i64, StoreError> {
        uocava::insert_delivery(&self.pool, delivery).await
    }

    async fn uocava_deliveries(
        &self,
        election: &ElectionId,
    ) -> Result<Vec<canvass_store::StoredUocavaDelivery>, StoreError> {
        uocava::deliveries(&self.pool, election).await
    }

    async fn uocava_delivery_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<canvass_store::StoredUocavaDelivery>, StoreError> {
        uocava::delivery_by_token(&self.pool, token_hash).await
    }

    async fn use_uocava_link(&self, id: i64, at: i64) -> Result<bool, StoreError> {
        uocava::use_link(&self.pool, id, at).await
    }

    async fn insert_uocava_fwab(&self, fwab: &canvass_store::StoredFwab) -> Result<i64, StoreError> {
        uocava::insert_fwab(&self.pool, fwab).await
    }

    async fn uocava_fwabs(&self, election: &ElectionId) -> Result<Vec<canvass_store::StoredFwab>, StoreError> {
        uocava::fwabs(&self.pool, election).await
    }

    async fn voter_uocava_requests(
        &self,
        registration_number: &str,
    ) -> Result<Vec<canvass_store::StoredUocavaRequest>, StoreError> {
        voter_uocava::requests(&self.pool, registration_number).await
    }

    async fn voter_uocava_deliveries(
        &self,
        registration_number: &str,
    ) -> Result<Vec<canvass_store::StoredUocavaDelivery>, StoreError> {
        voter_uocava::deliveries(&self.pool, registration_number).await
    }

    async fn insert_pending_fpca(&self, pending: &canvass_store::StoredPendingFpca) -> Result<(), StoreError> {
        pending_fpca::insert(&self.pool, pending).await
    }

    async fn pending_fpcas(&self, undecided_only: bool) -> Result<Vec<canvass_store::StoredPendingFpca>, StoreError> {
        pending_fpca::list(&self.pool, undecided_only).await
    }

    async fn pending_fpca(&self, id: &str) -> Result<Option<canvass_store::StoredPendingFpca>, StoreError> {
        pending_fpca::one(&self.pool, id).await
    }

    async fn decide_pending_fpca(&self, id: &str, decision: &canvass_store::FpcaDecision) -> Result<bool, StoreError> {
        pending_fpca::decide(&self.pool, id, decision).await
    }
}
