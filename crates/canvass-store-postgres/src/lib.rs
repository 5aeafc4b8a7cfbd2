//! The PostgreSQL [`Store`], for deployments that outgrow one machine. Same behaviour as the
//! SQLite store (the conformance suite checks it); its own SQL and migrations.

#[cfg(feature = "test-cluster")]
pub mod test_cluster;

use std::time::Duration;

use async_trait::async_trait;
use canvass_core::{
    config::DatabaseUrl,
    credential::{StaffAccount, Username},
    election::{Contest, Election},
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, Precinct},
    voter::VoterRecord,
};
use canvass_store::{PrecinctVoterCount, Store, StoreError, rows};
use sqlx::{
    PgPool, Row,
    error::ErrorKind,
    migrate::{MigrateError, Migrator},
    postgres::{PgPoolOptions, PgRow},
};
use time::Date;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
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
        Ok(Self { pool })
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

fn staff_row(row: &PgRow) -> Result<StaffAccount, StoreError> {
    rows::staff_account(&text(row, "username")?, &text(row, "password_hash")?, &text(row, "role")?)
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

    async fn insert_precinct(&self, precinct: &Precinct) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO precincts (id, jurisdiction_id, name) VALUES ($1, $2, $3)")
            .bind(precinct.id.as_str())
            .bind(precinct.jurisdiction.as_str())
            .bind(precinct.name.as_str())
            .execute(&self.pool)
            .await
            .map_err(|error| {
                insert_error(error, "precinct", precinct.id.as_str(), ("jurisdiction", precinct.jurisdiction.as_str()))
            })?;
        Ok(())
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

    async fn insert_election(&self, election: &Election, contests: &[Contest]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO elections (id, jurisdiction_id, name, kind, election_date) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(election.id.as_str())
        .bind(election.jurisdiction.as_str())
        .bind(election.name.as_str())
        .bind(election.kind.as_str())
        .bind(election.date)
        .execute(&mut *transaction)
        .await
        .map_err(|error| {
            insert_error(error, "election", election.id.as_str(), ("jurisdiction", election.jurisdiction.as_str()))
        })?;
        for (position, contest) in contests.iter().enumerate() {
            sqlx::query(
                "INSERT INTO contests (election_id, id, ballot_position, district_id, name, kind, vote_for) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(election.id.as_str())
            .bind(contest.id.as_str())
            .bind(position as i32)
            .bind(contest.district.as_str())
            .bind(contest.name.as_str())
            .bind(contest.kind.as_str())
            .bind(i32::try_from(contest.vote_for.get()).unwrap_or(i32::MAX))
            .execute(&mut *transaction)
            .await
            .map_err(|error| {
                insert_error(error, "contest", contest.id.as_str(), ("district", contest.district.as_str()))
            })?;
            for (choice_position, choice) in contest.choices.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO contest_choices (election_id, contest_id, ballot_position, name, party) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(election.id.as_str())
                .bind(contest.id.as_str())
                .bind(choice_position as i32)
                .bind(choice.name.as_str())
                .bind(choice.party.as_deref())
                .execute(&mut *transaction)
                .await
                .map_err(backend)?;
            }
        }
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

    async fn insert_voters(&self, voters: &[VoterRecord]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        for voter in voters {
            sqlx::query(
                "INSERT INTO voters (registration_number, county_id, precinct_id, first_name, last_name, party, \
                 status, registered_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&voter.registration_number)
            .bind(voter.county.as_str())
            .bind(voter.precinct.as_str())
            .bind(voter.first_name.as_str())
            .bind(voter.last_name.as_str())
            .bind(&voter.party)
            .bind(voter.status.as_str())
            .bind(voter.registered_on)
            .execute(&mut *transaction)
            .await
            .map_err(|error| {
                insert_error(error, "voter", &voter.registration_number, ("precinct", voter.precinct.as_str()))
            })?;
        }
        transaction.commit().await.map_err(backend)
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

    async fn upsert_staff_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO staff_accounts (username, password_hash, role) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
        )
        .bind(account.username.as_str())
        .bind(&account.password_hash)
        .bind(account.role.as_str())
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(backend)
    }

    async fn staff_account(&self, username: &Username) -> Result<Option<StaffAccount>, StoreError> {
        let row = sqlx::query("SELECT username, password_hash, role FROM staff_accounts WHERE username = $1")
            .bind(username.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(staff_row).transpose()
    }

    async fn administrators(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let rows = sqlx::query(
            "SELECT username, password_hash, role FROM staff_accounts WHERE role = 'administrator' ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(staff_row).collect()
    }
}
