//! The embedded SQLite [`Store`]: one file in the data dir, opened in WAL mode with
//! `synchronous=FULL` (a committed transaction survives power loss) and foreign keys enforced.

use std::{os::unix::fs::OpenOptionsExt, path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use canvass_core::{
    credential::{StaffAccount, Username},
    election::{Contest, Election},
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, Precinct},
    voter::VoterRecord,
};
use canvass_store::{PrecinctVoterCount, Store, StoreError, rows};
use sqlx::{
    Row, SqlitePool,
    error::ErrorKind,
    migrate::{MigrateError, Migrator},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous},
};
use time::Date;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Whether opening may create the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `canvass init`: make the file.
    Create,
    /// Every other command: the file must already be there, so a deleted or misplaced
    /// database is reported instead of silently replaced by an empty one.
    Existing,
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path, mode: OpenMode) -> Result<Self, StoreError> {
        let unavailable = |reason: String| StoreError::Unavailable { location: path.display().to_string(), reason };
        match mode {
            OpenMode::Existing if !path.exists() => {
                return Err(unavailable(
                    "the file does not exist (was the data dir created with `canvass init`?)".into(),
                ));
            }
            // Created here, owner-only, before SQLite opens it: SQLite gives its WAL and
            // shared-memory files the same mode as the database file.
            OpenMode::Create if !path.exists() => {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|error| unavailable(error.to_string()))?;
            }
            _ => {}
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|error| unavailable(error.to_string()))?
            .filename(path)
            .create_if_missing(mode == OpenMode::Create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|error| unavailable(error.to_string()))?;
        migrate(&pool).await?;
        Ok(Self { pool })
    }

    /// A PRAGMA's current value, for tests that check the durability settings.
    pub async fn pragma(&self, name: &str) -> Result<String, StoreError> {
        let allowed = ["journal_mode", "synchronous", "foreign_keys"];
        if !allowed.contains(&name) {
            return Err(StoreError::Backend(format!("pragma {name} is not inspectable")));
        }
        let row = sqlx::query(&format!("PRAGMA {name}")).fetch_one(&self.pool).await.map_err(backend)?;
        let value: Result<String, _> = row.try_get(0);
        match value {
            Ok(text) => Ok(text),
            Err(_) => row.try_get::<i64, _>(0).map(|number| number.to_string()).map_err(backend),
        }
    }
}

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
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

fn text(row: &SqliteRow, column: &str) -> Result<String, StoreError> {
    row.try_get(column).map_err(backend)
}

fn optional_text(row: &SqliteRow, column: &str) -> Result<Option<String>, StoreError> {
    row.try_get(column).map_err(backend)
}

fn jurisdiction_row(row: &SqliteRow) -> Result<Jurisdiction, StoreError> {
    rows::jurisdiction(
        &text(row, "id")?,
        &text(row, "name")?,
        &text(row, "kind")?,
        optional_text(row, "parent_id")?.as_deref(),
    )
}

fn precinct_row(row: &SqliteRow) -> Result<Precinct, StoreError> {
    rows::precinct(&text(row, "id")?, &text(row, "jurisdiction_id")?, &text(row, "name")?)
}

fn election_row(row: &SqliteRow) -> Result<Election, StoreError> {
    let date: Date = row.try_get("election_date").map_err(backend)?;
    rows::election(&text(row, "id")?, &text(row, "jurisdiction_id")?, &text(row, "name")?, &text(row, "kind")?, date)
}

fn staff_row(row: &SqliteRow) -> Result<StaffAccount, StoreError> {
    rows::staff_account(&text(row, "username")?, &text(row, "password_hash")?, &text(row, "role")?)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
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
        sqlx::query("INSERT INTO jurisdictions (id, name, kind, parent_id) VALUES (?, ?, ?, ?)")
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
        let row = sqlx::query("SELECT id, name, kind, parent_id FROM jurisdictions WHERE id = ?")
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
        sqlx::query("INSERT INTO precincts (id, jurisdiction_id, name) VALUES (?, ?, ?)")
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
            "SELECT id, jurisdiction_id, name FROM precincts WHERE (?1 IS NULL OR jurisdiction_id = ?1) ORDER BY id",
        )
        .bind(jurisdiction.map(JurisdictionId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(precinct_row).collect()
    }

    async fn insert_election(&self, election: &Election, contests: &[Contest]) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(backend)?;
        sqlx::query("INSERT INTO elections (id, jurisdiction_id, name, kind, election_date) VALUES (?, ?, ?, ?, ?)")
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
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(election.id.as_str())
            .bind(contest.id.as_str())
            .bind(position as i64)
            .bind(contest.district.as_str())
            .bind(contest.name.as_str())
            .bind(contest.kind.as_str())
            .bind(i64::from(contest.vote_for.get()))
            .execute(&mut *transaction)
            .await
            .map_err(|error| {
                insert_error(error, "contest", contest.id.as_str(), ("district", contest.district.as_str()))
            })?;
            for (choice_position, choice) in contest.choices.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO contest_choices (election_id, contest_id, ballot_position, name, party) \
                     VALUES (?, ?, ?, ?, ?)",
                )
                .bind(election.id.as_str())
                .bind(contest.id.as_str())
                .bind(choice_position as i64)
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
        let row = sqlx::query("SELECT id, jurisdiction_id, name, kind, election_date FROM elections WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(election_row).transpose()
    }

    async fn elections(&self, jurisdiction: Option<&JurisdictionId>) -> Result<Vec<Election>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, jurisdiction_id, name, kind, election_date FROM elections \
             WHERE (?1 IS NULL OR jurisdiction_id = ?1) ORDER BY election_date, id",
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
             WHERE election_id = ? ORDER BY ballot_position",
        )
        .bind(election.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut contests = contest_rows
            .iter()
            .map(|row| {
                let vote_for: i64 = row.try_get("vote_for").map_err(backend)?;
                rows::contest(
                    &text(row, "election_id")?,
                    &text(row, "id")?,
                    &text(row, "district_id")?,
                    &text(row, "name")?,
                    &text(row, "kind")?,
                    vote_for,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let choice_rows = sqlx::query(
            "SELECT contest_id, name, party FROM contest_choices WHERE election_id = ? \
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
                 status, registered_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            "INSERT INTO staff_accounts (username, password_hash, role) VALUES (?, ?, ?) \
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
        let row = sqlx::query("SELECT username, password_hash, role FROM staff_accounts WHERE username = ?")
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
