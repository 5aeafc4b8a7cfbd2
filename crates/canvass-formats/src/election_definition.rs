//! Election definitions read from files: what an election asks and where
//! ([`canvass_core::results::ElectionDefinition`]), from a NIST SP 1500-100 v2 document (a
//! pre-election report or a results report, whose definition part is taken: [`read_nist_xml`],
//! [`read_nist_json`], [`from_nist`]) or from a simple CSV a county clerk fills in a spreadsheet
//! ([`read_csv`], layout in [`csv_layout`]).
//!
//! The election's jurisdiction (a state, or a county running its own election) is given by the
//! caller in a [`DefinitionScope`]; everything else gets an id here:
//!
//! - a county: the `ocd-id` external identifier of its unit when it has a valid one (which must
//!   lie under the state's id), else
//!   `{state}/county:{slug}` under an OCD-ID state or `{state}-{slug}` under a slug state, the
//!   slug made from the county's name (lowercase letters, digits, `-`, `_`, `.`);
//! - a precinct: its `ocd-id` when valid, else `{county}/precinct:{slug}` (OCD-ID county) or
//!   `{county}-{slug}`;
//! - a contest: its `ObjectId` lowercased, every other character than a letter, digit, `-`,
//!   `_` or `.` made a `-` (CSV: its name so slugged);
//! - the election: the scope's id when given, else `{slug of its name}-{yyyy-mm-dd}`.
//!
//! Names (counties, precincts, contests, choices) are kept exactly as the file gives them:
//! results files are matched to a definition by name. A contest's district is the county when
//! every precinct it covers lies in that one county, else the election's jurisdiction. Every
//! problem is listed with its line or element; none stops the read, and a definition with any is
//! refused whole ([`FormatsError::Problems`]).

pub mod csv_layout;
mod nist;

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, Read},
};

use canvass_core::{
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    results::ElectionDefinition,
};
use time::Date;

use crate::{
    FormatsError,
    nist_results::{self, ElectionReport},
    reported::{Location, Problem},
};

pub use csv_layout::read as read_csv;
pub use nist::from_nist;

/// The formats a definition is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionFormat {
    NistXml,
    NistJson,
    Csv,
}

impl DefinitionFormat {
    pub const ALL: [Self; 3] = [Self::NistXml, Self::NistJson, Self::Csv];

    /// The format named as on the command line and in the API (`nist-xml`, `nist-json`, `csv`).
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|format| format.as_str() == value.trim().to_ascii_lowercase())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NistXml => "nist-xml",
            Self::NistJson => "nist-json",
            Self::Csv => "csv",
        }
    }
}

/// Where the definition belongs: the election's jurisdiction (a state, or a county), and the
/// election's id when the caller chooses it.
#[derive(Debug, Clone)]
pub struct DefinitionScope {
    pub jurisdiction: Jurisdiction,
    pub election_id: Option<ElectionId>,
}

/// Reads a definition in the given format.
pub fn read(
    format: DefinitionFormat,
    bytes: &[u8],
    scope: &DefinitionScope,
) -> Result<ElectionDefinition, FormatsError> {
    match format {
        DefinitionFormat::NistXml => read_nist_xml(bytes, scope),
        DefinitionFormat::NistJson => read_nist_json(bytes, scope),
        DefinitionFormat::Csv => read_csv(bytes, scope),
    }
}

/// Checks that `bytes` are a whole file of the format (well-formed, not truncated, the right
/// root or header) before anything else is looked at: `Refused` when they are not. A NIST
/// document is read whole here, so its element problems come back as `Problems` too.
pub fn check_format(format: DefinitionFormat, bytes: &[u8]) -> Result<(), FormatsError> {
    match format {
        DefinitionFormat::NistXml => nist_results::read_xml(bytes).map(drop),
        DefinitionFormat::NistJson => nist_results::read_json(bytes).map(drop),
        DefinitionFormat::Csv => csv_layout::check_header(bytes),
    }
}

/// Reads the definition part of a NIST SP 1500-100 v2 XML document.
pub fn read_nist_xml(reader: impl BufRead, scope: &DefinitionScope) -> Result<ElectionDefinition, FormatsError> {
    from_nist(&nist_results::read_xml(reader)?, scope)
}

/// Reads the definition part of a NIST SP 1500-100 v2 JSON document.
pub fn read_nist_json(reader: impl Read, scope: &DefinitionScope) -> Result<ElectionDefinition, FormatsError> {
    let report: ElectionReport = nist_results::read_json(reader)?;
    from_nist(&report, scope)
}

/// A slug of a name: lowercase ASCII letters and digits, `_` and `.` kept, every other run of
/// characters made one `-`, none at either end. Empty when the name has no letter or digit.
pub fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for character in name.chars().flat_map(char::to_lowercase) {
        if character.is_ascii_alphanumeric() || matches!(character, '_' | '.') {
            slug.push(character);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches(|character: char| !character.is_ascii_alphanumeric()).to_owned()
}

/// The id of a county named `name` under `state`.
fn county_id(state: &JurisdictionId, name: &str) -> Option<JurisdictionId> {
    child_id(state.as_str(), state.is_ocd_id(), "county", name).and_then(|id| JurisdictionId::parse(&id).ok())
}

/// The id of a precinct named `name` in `county`.
fn precinct_id(county: &JurisdictionId, name: &str) -> Option<PrecinctId> {
    child_id(county.as_str(), county.is_ocd_id(), "precinct", name).and_then(|id| PrecinctId::parse(&id).ok())
}

fn child_id(parent: &str, ocd: bool, kind: &str, name: &str) -> Option<String> {
    let slug = slug(name);
    if slug.is_empty() {
        return None;
    }
    Some(if ocd { format!("{parent}/{kind}:{slug}") } else { format!("{parent}-{slug}") })
}

/// What both readers gather: counties and precincts by id (in the order first met), contests
/// with their coverage, and problems.
struct Builder<'a> {
    scope: &'a DefinitionScope,
    counties: Vec<Jurisdiction>,
    precincts: Vec<Precinct>,
    contests: Vec<Contest>,
    coverage: BTreeMap<ContestId, BTreeSet<PrecinctId>>,
    problems: Vec<Problem>,
}

impl<'a> Builder<'a> {
    fn new(scope: &'a DefinitionScope) -> Self {
        Self {
            scope,
            counties: Vec::new(),
            precincts: Vec::new(),
            contests: Vec::new(),
            coverage: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, location: Location, message: impl Into<String>) {
        self.problems.push(Problem { location, message: message.into() });
    }

    fn name(&mut self, location: &Location, what: &str, text: &str) -> Option<Name> {
        match Name::parse(text) {
            Ok(name) => Some(name),
            Err(error) => {
                self.problem(location.clone(), format!("the {what}'s name is not usable: {error}"));
                None
            }
        }
    }

    /// The county a precinct belongs in: the scope's jurisdiction itself when it is a county,
    /// else the county named (added once), with `ocd_id` as its id when valid.
    fn county(&mut self, location: &Location, name: &str, ocd_id: Option<&str>) -> Option<JurisdictionId> {
        let jurisdiction = &self.scope.jurisdiction;
        if jurisdiction.kind != JurisdictionKind::State {
            if !self.counties.iter().any(|county| county.id == jurisdiction.id) {
                self.counties.push(jurisdiction.clone());
            }
            return Some(jurisdiction.id.clone());
        }
        let given = ocd_id.and_then(|id| JurisdictionId::parse(id).ok());
        if let Some(given) = &given
            && !given.as_str().starts_with(&format!("{}/", jurisdiction.id))
        {
            let message = format!("the county's ocd-id {given} is not under {}", jurisdiction.id);
            self.problem(location.clone(), message);
            return None;
        }
        let Some(id) = given.or_else(|| county_id(&jurisdiction.id, name)) else {
            self.problem(location.clone(), "the county's name has no letter or digit to make its id from");
            return None;
        };
        if let Some(county) = self.counties.iter().find(|county| county.id == id) {
            if !county.name.as_str().eq_ignore_ascii_case(name.trim()) {
                let message = format!("the counties {} and {name} would get the same id {id}", county.name.as_str());
                self.problem(location.clone(), message);
            }
            return Some(id);
        }
        let name = self.name(location, "county", name)?;
        let parent = Some(jurisdiction.id.clone());
        self.counties.push(Jurisdiction { id: id.clone(), name, kind: JurisdictionKind::County, parent });
        Some(id)
    }

    /// Adds a precinct (once); `None` with a problem when no id can be made or two precincts
    /// would share one.
    fn precinct(
        &mut self,
        location: &Location,
        county: &JurisdictionId,
        name: &str,
        ocd_id: Option<&str>,
    ) -> Option<PrecinctId> {
        let id = ocd_id.and_then(|id| PrecinctId::parse(id).ok()).or_else(|| precinct_id(county, name));
        let Some(id) = id else {
            self.problem(location.clone(), "the precinct's name has no letter or digit to make its id from");
            return None;
        };
        if let Some(precinct) = self.precincts.iter().find(|precinct| precinct.id == id) {
            if precinct.jurisdiction != *county || !precinct.name.as_str().eq_ignore_ascii_case(name.trim()) {
                let message = format!("the precincts {} and {name} would get the same id {id}", precinct.name.as_str());
                self.problem(location.clone(), message);
            }
            return Some(id);
        }
        let name = self.name(location, "precinct", name)?;
        self.precincts.push(Precinct { id: id.clone(), jurisdiction: county.clone(), name });
        Some(id)
    }

    /// The district a contest covering `precincts` is decided in.
    fn district(&self, precincts: &BTreeSet<PrecinctId>) -> JurisdictionId {
        let counties: BTreeSet<&JurisdictionId> = precincts
            .iter()
            .filter_map(|id| self.precincts.iter().find(|precinct| &precinct.id == id))
            .map(|precinct| &precinct.jurisdiction)
            .collect();
        match counties.into_iter().collect::<Vec<_>>().as_slice() {
            [county] => (*county).clone(),
            _ => self.scope.jurisdiction.id.clone(),
        }
    }

    /// Adds a contest with its choices and coverage; problems for a taken id or no choices.
    #[allow(clippy::too_many_arguments)]
    fn contest(
        &mut self,
        location: &Location,
        election: &ElectionId,
        id: &str,
        name: &str,
        kind: ContestKind,
        vote_for: VoteFor,
        choices: Vec<Choice>,
        precincts: BTreeSet<PrecinctId>,
    ) {
        let Ok(contest_id) = ContestId::parse(&slug(id)) else {
            self.problem(location.clone(), "the contest has no letter or digit to make its id from");
            return;
        };
        if self.contests.iter().any(|contest| contest.id == contest_id) {
            self.problem(location.clone(), format!("two contests would get the same id {contest_id}"));
            return;
        }
        if choices.is_empty() {
            self.problem(location.clone(), "the contest has no choices");
        }
        if precincts.is_empty() {
            self.problem(location.clone(), "no precinct votes on the contest");
        }
        let Some(name) = self.name(location, "contest", name) else { return };
        let district = self.district(&precincts);
        self.coverage.insert(contest_id.clone(), precincts);
        self.contests.push(Contest {
            id: contest_id,
            election: election.clone(),
            district,
            name,
            kind,
            vote_for,
            choices,
        });
    }

    /// Drops the precincts no contest covers, and the counties left without precincts.
    fn keep_covered(&mut self) {
        let covered: BTreeSet<&PrecinctId> = self.coverage.values().flatten().collect();
        self.precincts.retain(|precinct| covered.contains(&precinct.id));
        let precincts = &self.precincts;
        self.counties.retain(|county| precincts.iter().any(|precinct| precinct.jurisdiction == county.id));
    }

    /// The election's id: the scope's, else made from its name and date.
    fn election_id(&mut self, location: &Location, name: &str, date: Date) -> Option<ElectionId> {
        if let Some(id) = &self.scope.election_id {
            return Some(id.clone());
        }
        let made = format!("{}-{date}", slug(name));
        match ElectionId::parse(made.trim_start_matches('-')) {
            Ok(id) => Some(id),
            Err(error) => {
                self.problem(location.clone(), format!("no election id can be made from its name: {error}"));
                None
            }
        }
    }

    fn finish(self, election: Option<Election>) -> Result<ElectionDefinition, FormatsError> {
        match election {
            Some(election) if self.problems.is_empty() => Ok(ElectionDefinition {
                election,
                contests: self.contests,
                counties: self.counties,
                precincts: self.precincts,
                coverage: self.coverage,
            }),
            _ => Err(FormatsError::Problems(self.problems)),
        }
    }
}

/// An election kind from the words files use; `None` for others.
fn election_kind(text: &str) -> Option<ElectionKind> {
    ElectionKind::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_digits_and_join_the_rest() {
        assert_eq!(slug("Precinct 2a"), "precinct-2a");
        assert_eq!(slug("  St. Mary's  Ward (North) "), "st.-mary-s-ward-north");
        assert_eq!(slug("Proposal 1 - Road improvements"), "proposal-1-road-improvements");
        assert_eq!(slug("Éire"), "ire");
        assert_eq!(slug("***"), "");
    }

    #[test]
    fn formats_are_named_as_on_the_command_line() {
        for format in DefinitionFormat::ALL {
            assert_eq!(DefinitionFormat::parse(format.as_str()), Some(format));
        }
        assert_eq!(DefinitionFormat::parse("xml"), None);
    }
}
