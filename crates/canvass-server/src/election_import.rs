//! Importing an election's definition (issue 7): a NIST SP 1500-100 v2 document or the simple
//! CSV layout ([`canvass_formats::election_definition`]) read for a state or county, checked
//! against the jurisdiction tree, recorded in the ledger (`election.define`) and stored in one
//! transaction (`Store::insert_election_definition`).
//!
//! Order of refusals: a file that is not the declared format (or is truncated) first, then an
//! unknown jurisdiction, then every problem of the file, then precincts the node already has in
//! another county; each changes nothing. Importing the identical definition again is a no-op
//! that says so; a different definition under an existing election id is refused (a new id is
//! needed: results may already have been accepted against the old one). Callers authorize
//! `elections.define` on the jurisdiction first. Definitions are public: messages may name
//! contests and precincts.

use std::collections::{BTreeSet, HashMap};

use canvass_core::{
    audit::Action,
    id::{ElectionId, JurisdictionId},
    jurisdiction::JurisdictionKind,
    results::ElectionDefinition,
};
use canvass_formats::{
    FormatsError,
    election_definition::{self, DefinitionFormat, DefinitionScope},
};
use canvass_store::Store;

use crate::{
    ServerError,
    ledger::{Audit, target},
    service,
};

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportedDefinition {
    /// The definition as stored (the one already there when `unchanged`).
    pub definition: ElectionDefinition,
    /// The identical definition was already stored: nothing was written.
    pub unchanged: bool,
}

/// Refuses bytes that are not a whole file of `format` (needs no store, so the CLI checks a
/// file before anyone signs in).
pub fn check_format(format: DefinitionFormat, bytes: &[u8]) -> Result<(), ServerError> {
    match election_definition::check_format(format, bytes) {
        Err(FormatsError::Refused(reason)) => {
            Err(ServerError::Invalid(format!("the file is not a {} election definition: {reason}", format.as_str())))
        }
        Err(error @ FormatsError::Read(_)) => Err(ServerError::Invalid(error.to_string())),
        // Element problems are listed with the rest once the jurisdiction is known.
        _ => Ok(()),
    }
}

/// Reads a definition for `jurisdiction` and lists every problem, storing nothing (the CLI
/// refuses a bad file before anyone signs in).
pub async fn read_definition(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    format: DefinitionFormat,
    bytes: &[u8],
    election_id: Option<ElectionId>,
) -> Result<ElectionDefinition, ServerError> {
    check_format(format, bytes)?;
    let jurisdiction = service::require_jurisdiction(store, jurisdiction).await?;
    if jurisdiction.kind == JurisdictionKind::Municipality {
        return Err(ServerError::Invalid(format!(
            "{} is a municipality: an election is defined for a state or a county",
            jurisdiction.id
        )));
    }
    let scope = DefinitionScope { jurisdiction, election_id };
    election_definition::read(format, bytes, &scope).map_err(|error| match error {
        FormatsError::Problems(_) => ServerError::Invalid(format!("the definition is refused: {error}")),
        other => ServerError::Invalid(format!("the file is not a {} election definition: {other}", format.as_str())),
    })
}

/// Reads, checks, records and stores a definition for `jurisdiction`.
pub async fn import_definition(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    format: DefinitionFormat,
    bytes: &[u8],
    election_id: Option<ElectionId>,
) -> Result<ImportedDefinition, ServerError> {
    let definition = read_definition(store, jurisdiction, format, bytes, election_id).await?;
    check_precinct_homes(store, &definition).await?;
    if let Some(stored) = store.election_definition(&definition.election.id).await? {
        return if same_definition(&stored, &definition) {
            Ok(ImportedDefinition { definition: stored, unchanged: true })
        } else {
            Err(ServerError::Conflict(format!(
                "election {} is already defined, differently: import this definition under a new election id",
                definition.election.id
            )))
        };
    }
    let digest = canvass_crypto::sha256_hex(&mut &bytes[..])
        .map_err(|error| ServerError::Internal(format!("hashing the file: {error}")))?;
    let entry = audit.entry(Action::ElectionDefine).with_jurisdiction(jurisdiction);
    let entry = target(entry, format!("election:{}", definition.election.id))?;
    let entry = target(entry, format!("format:{}", format.as_str()))?;
    let entry = target(entry, format!("sha256:{digest}"))?;
    let entry = target(entry, format!("contests:{}", definition.contests.len()))?;
    let entry = target(entry, format!("precincts:{}", definition.precincts.len()))?;
    audit.run(entry, async { Ok(store.insert_election_definition(&definition).await?) }).await?;
    crate::lookup_cache::note_change();
    Ok(ImportedDefinition { definition, unchanged: false })
}

/// Refuses precincts the node already has in another jurisdiction than the file puts them in
/// (the store keeps existing precincts as they are, so the definition would be wrong).
async fn check_precinct_homes(store: &dyn Store, definition: &ElectionDefinition) -> Result<(), ServerError> {
    let existing: HashMap<_, _> =
        store.precincts(None).await?.into_iter().map(|precinct| (precinct.id, precinct.jurisdiction)).collect();
    let misplaced: Vec<String> = definition
        .precincts
        .iter()
        .filter_map(|precinct| {
            let home = existing.get(&precinct.id)?;
            (home != &precinct.jurisdiction).then(|| {
                format!("precinct {} is in {home} on this node, not in {}", precinct.id, precinct.jurisdiction)
            })
        })
        .collect();
    if misplaced.is_empty() {
        Ok(())
    } else {
        Err(ServerError::Invalid(format!("the definition is refused: {}", misplaced.join("; "))))
    }
}

/// Whether two definitions say the same: the election, contests and coverage, and the same
/// precincts and counties by id (names on the node are kept as they were first stored).
fn same_definition(stored: &ElectionDefinition, imported: &ElectionDefinition) -> bool {
    let precincts = |definition: &ElectionDefinition| -> BTreeSet<_> {
        definition.precincts.iter().map(|precinct| (precinct.id.clone(), precinct.jurisdiction.clone())).collect()
    };
    let counties = |definition: &ElectionDefinition| -> BTreeSet<_> {
        definition.counties.iter().map(|county| county.id.clone()).collect()
    };
    stored.election == imported.election
        && stored.contests == imported.contests
        && stored.coverage == imported.coverage
        && precincts(stored) == precincts(imported)
        && counties(stored) == counties(imported)
}
