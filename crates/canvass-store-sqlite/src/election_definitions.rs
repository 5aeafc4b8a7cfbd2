//! Election definitions (issue 7): an election with its contests and choices, the counties and
//! precincts that report, and which precincts vote on each contest, stored in one transaction.

use std::collections::{BTreeMap, BTreeSet};

use canvass_core::{
    election::{Contest, Election},
    id::{ContestId, ElectionId, PrecinctId},
    results::ElectionDefinition,
};
use canvass_store::StoreError;
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::{backend, begin_write, insert_error};

/// The election's row, its contests' and their choices' rows, in the caller's transaction.
pub(crate) async fn insert_election_rows(
    connection: &mut SqliteConnection,
    election: &Election,
    contests: &[Contest],
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO elections (id, jurisdiction_id, name, kind, election_date) VALUES (?, ?, ?, ?, ?)")
        .bind(election.id.as_str())
        .bind(election.jurisdiction.as_str())
        .bind(election.name.as_str())
        .bind(election.kind.as_str())
        .bind(election.date)
        .execute(&mut *connection)
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
        .execute(&mut *connection)
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
            .execute(&mut *connection)
            .await
            .map_err(backend)?;
        }
    }
    Ok(())
}

/// Stores a whole definition: counties and precincts not yet in the tree are added (existing ones
/// are kept as they are), then the election, its contests and their coverage; all or nothing.
pub(crate) async fn insert_election_definition(
    pool: &SqlitePool,
    definition: &ElectionDefinition,
) -> Result<(), StoreError> {
    let mut transaction = begin_write(pool).await?;
    for county in &definition.counties {
        let parent = county.parent.as_ref().map(|parent| parent.as_str());
        sqlx::query(
            "INSERT INTO jurisdictions (id, name, kind, parent_id) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(county.id.as_str())
        .bind(county.name.as_str())
        .bind(county.kind.as_str())
        .bind(parent)
        .execute(&mut *transaction)
        .await
        .map_err(|error| {
            insert_error(error, "jurisdiction", county.id.as_str(), ("parent jurisdiction", parent.unwrap_or("")))
        })?;
    }
    for precinct in &definition.precincts {
        sqlx::query("INSERT INTO precincts (id, jurisdiction_id, name) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(precinct.id.as_str())
            .bind(precinct.jurisdiction.as_str())
            .bind(precinct.name.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(|error| {
                insert_error(error, "precinct", precinct.id.as_str(), ("jurisdiction", precinct.jurisdiction.as_str()))
            })?;
    }
    insert_election_rows(&mut transaction, &definition.election, &definition.contests).await?;
    for (contest, precincts) in &definition.coverage {
        for precinct in precincts {
            sqlx::query("INSERT INTO contest_precincts (election_id, contest_id, precinct_id) VALUES (?, ?, ?)")
                .bind(definition.election.id.as_str())
                .bind(contest.as_str())
                .bind(precinct.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(|error| {
                    insert_error(error, "contest coverage", contest.as_str(), ("precinct", precinct.as_str()))
                })?;
        }
    }
    transaction.commit().await.map_err(backend)
}

/// Which precincts vote on each contest of an election.
pub(crate) async fn contest_coverage(
    pool: &SqlitePool,
    election: &ElectionId,
) -> Result<BTreeMap<ContestId, BTreeSet<PrecinctId>>, StoreError> {
    let rows = sqlx::query(
        "SELECT contest_id, precinct_id FROM contest_precincts WHERE election_id = ? ORDER BY contest_id, precinct_id",
    )
    .bind(election.as_str())
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    let mut coverage: BTreeMap<ContestId, BTreeSet<PrecinctId>> = BTreeMap::new();
    for row in rows {
        let contest: String = row.try_get("contest_id").map_err(backend)?;
        let precinct: String = row.try_get("precinct_id").map_err(backend)?;
        let contest = ContestId::parse(&contest).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let precinct = PrecinctId::parse(&precinct).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        coverage.entry(contest).or_default().insert(precinct);
    }
    Ok(coverage)
}
