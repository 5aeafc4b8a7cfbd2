//! A voter batch written with `COPY` instead of multi-row `INSERT`s: the rows are streamed
//! into a session-local staging table in COPY's text format (no statement to parse, no
//! 21,000 parameters to bind per thousand rows), then moved into `voters` by the same
//! history copy and upsert the row-by-row path uses, so the semantics are the same: the
//! replaced revision goes to the history, the revision counts up, constraint errors surface
//! from the final insert.

use std::fmt::Write as _;

use canvass_store::{SealedVoter, StoreError};
use sqlx::PgConnection;

use crate::{REVISION_COLUMNS, VOTER_COLUMNS, VOTER_UPSERT, backend, voter_error};

/// Created once per connection; emptied by every commit (and by a rollback, with the rows).
const STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS voter_batch_staging (LIKE voters INCLUDING DEFAULTS) \
     ON COMMIT DELETE ROWS";

fn text(line: &mut String, value: &str) {
    for character in value.chars() {
        match character {
            '\\' => line.push_str("\\\\"),
            '\t' => line.push_str("\\t"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            other => line.push(other),
        }
    }
}

/// A bytea in hex form; COPY's own backslash doubled.
fn bytes(line: &mut String, value: Option<&[u8]>) {
    match value {
        None => line.push_str("\\N"),
        Some(value) => {
            line.push_str("\\\\x");
            for byte in value {
                let _ = write!(line, "{byte:02x}");
            }
        }
    }
}

fn number(line: &mut String, value: Option<i64>) {
    match value {
        None => line.push_str("\\N"),
        Some(value) => {
            let _ = write!(line, "{value}");
        }
    }
}

/// The rows in [`VOTER_COLUMNS`] order, then `updated_at`, as COPY text.
fn copy_text(voters: &[SealedVoter], at: i64) -> String {
    let mut data = String::with_capacity(voters.len() * 1024);
    for voter in voters {
        for value in [
            voter.registration_number.as_str(),
            voter.jurisdiction.as_str(),
            voter.county.as_str(),
            voter.precinct.as_str(),
            voter.party.as_str(),
            voter.status.as_str(),
        ] {
            text(&mut data, value);
            data.push('\t');
        }
        let _ = write!(data, "{}\t{}\t", voter.registered_on, voter.key_version);
        let fields = &voter.fields;
        for value in [
            Some(fields.first_name.as_slice()),
            Some(fields.last_name.as_slice()),
            fields.birth_date.as_deref(),
            fields.ssn_last_four.as_deref(),
            fields.drivers_license.as_deref(),
            fields.email.as_deref(),
        ] {
            bytes(&mut data, value);
            data.push('\t');
        }
        for value in [voter.indexes.name, voter.indexes.identity, voter.indexes.drivers_license] {
            number(&mut data, value);
            data.push('\t');
        }
        bytes(&mut data, fields.details.as_deref());
        data.push('\t');
        number(&mut data, voter.indexes.lookup);
        data.push('\t');
        number(&mut data, voter.row_digest);
        data.push('\t');
        number(&mut data, Some(at));
        data.push('\n');
    }
    data
}

/// Writes `voters` inside the caller's transaction: staged by COPY, the stored revisions of
/// those that exist copied to the history, then inserted or replaced.
pub(crate) async fn write_voters(
    connection: &mut PgConnection,
    voters: &[SealedVoter],
    at: i64,
    import_id: &str,
) -> Result<(), StoreError> {
    if voters.is_empty() {
        return Ok(());
    }
    sqlx::query(STAGING).execute(&mut *connection).await.map_err(backend)?;
    let mut copy = connection
        .copy_in_raw(&format!("COPY voter_batch_staging ({VOTER_COLUMNS}, updated_at) FROM STDIN"))
        .await
        .map_err(backend)?;
    if let Err(error) = copy.send(copy_text(voters, at).into_bytes()).await {
        let _ = copy.abort("the batch could not be sent").await;
        return Err(voter_error(error, voters));
    }
    copy.finish().await.map_err(|error| voter_error(error, voters))?;
    sqlx::query(&format!(
        "INSERT INTO voter_history ({REVISION_COLUMNS}, revision, replaced_at, import_id) \
         SELECT {REVISION_COLUMNS}, revision, $1, $2 FROM voters \
         WHERE registration_number IN (SELECT registration_number FROM voter_batch_staging)"
    ))
    .bind(at)
    .bind(import_id)
    .execute(&mut *connection)
    .await
    .map_err(backend)?;
    sqlx::query(&format!(
        "INSERT INTO voters ({VOTER_COLUMNS}, updated_at) SELECT {VOTER_COLUMNS}, updated_at \
         FROM voter_batch_staging{VOTER_UPSERT}"
    ))
    .execute(&mut *connection)
    .await
    .map_err(|error| voter_error(error, voters))?;
    Ok(())
}
