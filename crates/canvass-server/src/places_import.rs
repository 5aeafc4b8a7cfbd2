//! Importing polling places from a Voting Information Project 5 feed: the feed's precincts are
//! matched to the jurisdiction's own (the feed's ids are not Canvass's, so by number and name,
//! inside the feed's locality when it names one of the jurisdiction's counties), and the places
//! serving the matched precincts replace the jurisdiction's earlier ones in one transaction,
//! after the import's ledger entry.
//!
//! A feed precinct that matches nothing (a county-wide early-voting "precinct", a mail-only one,
//! a precinct the node does not have) is reported, not fatal; a file that is not a VIP 5 feed, a
//! feed without precincts, or one none of whose precincts is the jurisdiction's is refused, and
//! then nothing changes. Polling places are public data: nothing here is sealed, and the summary
//! may name places and precincts freely.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    io::{BufReader, Seek},
    path::Path,
};

use canvass_core::{
    audit::{Action, now_millis},
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, Precinct},
};
use canvass_formats::vip5::{self, Hours, PollingLocation, Schedule, Vip5Feed};
use canvass_store::{Store, StoredPlacesImport, StoredPollingPlace};

use crate::{
    ServerError,
    ledger::{Audit, target},
    roll::county_key,
    service,
};

/// The format name recorded for VIP 5 feeds.
pub const VIP5: &str = "vip5";

#[derive(Debug, Clone)]
pub struct PlacesSettings {
    /// Whose polling places the feed replaces: a county, or a state (for its counties' precincts).
    pub jurisdiction: JurisdictionId,
    /// Who runs it (a username), recorded with the import.
    pub actor: String,
}

/// A feed precinct that matched none, or more than one, of the jurisdiction's precincts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedPrecinct {
    /// The feed's id (`Precinct id`).
    pub feed_id: String,
    /// The feed's name for it, or its number, or "".
    pub name: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct PlacesSummary {
    pub import: StoredPlacesImport,
    /// The jurisdiction's precincts some feed precinct matched, by id.
    pub matched: Vec<PrecinctId>,
    /// Feed precincts left out, in the feed's id order.
    pub unmatched: Vec<UnmatchedPrecinct>,
    /// The jurisdiction's precincts that have no polling place now, by id.
    pub without_place: Vec<PrecinctId>,
    /// The feed's polling locations that serve none of the jurisdiction's precincts (left out).
    pub skipped_places: u64,
    /// How many polling places the jurisdiction had before this import replaced them.
    pub replaced: u64,
}

/// A feed read whole, checked to have precincts, with its file's SHA-256 for provenance.
#[derive(Debug, Clone)]
pub struct FeedFile {
    pub feed: Vip5Feed,
    pub digest: String,
}

/// Reads a VIP 5 feed and imports its polling places for a jurisdiction, replacing its earlier
/// ones.
pub async fn import_vip5(
    store: &dyn Store,
    audit: &Audit,
    path: &Path,
    settings: &PlacesSettings,
) -> Result<PlacesSummary, ServerError> {
    service::require_jurisdiction(store, &settings.jurisdiction).await?;
    let file = read_vip5(path).await?;
    import_feed(store, audit, &file, settings).await
}

/// Reads and parses a whole feed on a blocking thread (a statewide feed is hundreds of
/// megabytes); refuses a file that is not a VIP 5 feed or has no precincts. Needs no store, so
/// a command can refuse a bad file before anyone signs in.
pub async fn read_vip5(path: &Path) -> Result<FeedFile, ServerError> {
    let path = path.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        let cannot = |error: std::io::Error| ServerError::Invalid(format!("cannot read {}: {error}", path.display()));
        let mut file = std::fs::File::open(&path).map_err(cannot)?;
        let digest = canvass_crypto::sha256_hex(&mut file).map_err(cannot)?;
        file.rewind().map_err(cannot)?;
        let feed = vip5::read_feed(BufReader::with_capacity(1 << 20, file)).map_err(|error| {
            ServerError::Invalid(format!("{} is not a VIP 5 feed Canvass can import: {error}", path.display()))
        })?;
        if feed.precincts.is_empty() {
            return Err(ServerError::Invalid(format!(
                "{} is a VIP 5 feed without precincts: nothing in it says whom its polling places serve",
                path.display()
            )));
        }
        Ok(FeedFile { feed, digest })
    });
    read.await.map_err(|error| ServerError::Internal(format!("the feed reader stopped: {error}")))?
}

/// Imports a feed already read: matches its precincts, then replaces the jurisdiction's polling
/// places with those serving the matched ones, after the ledger entry.
pub async fn import_feed(
    store: &dyn Store,
    audit: &Audit,
    file: &FeedFile,
    settings: &PlacesSettings,
) -> Result<PlacesSummary, ServerError> {
    let jurisdiction = service::require_jurisdiction(store, &settings.jurisdiction).await?;
    let (feed, file_digest) = (&file.feed, file.digest.clone());
    let scope = Scope::load(store, &jurisdiction).await?;
    let matching = scope.match_feed(feed);
    if matching.by_feed_precinct.is_empty() {
        let example = matching.unmatched.first().map(|unmatched| unmatched.reason.as_str()).unwrap_or_default();
        return Err(ServerError::Invalid(format!(
            "none of the feed's {} precincts is a precinct of {} (e.g. {example}): is the feed for another \
             jurisdiction, or are its precincts not added yet (canvass precinct add)?",
            feed.precincts.len(),
            jurisdiction.id
        )));
    }
    let (places, skipped_places) = places_for(feed, &matching.by_feed_precinct, &jurisdiction.id);
    let replaced = store.polling_places(&jurisdiction.id).await?.len() as u64;
    let matched: BTreeSet<PrecinctId> = matching.by_feed_precinct.values().cloned().collect();
    let import = StoredPlacesImport {
        id: format!("places-{}", canvass_crypto::random_hex(8)?),
        jurisdiction: jurisdiction.id.clone(),
        format: VIP5.to_owned(),
        file_digest,
        actor: settings.actor.clone(),
        imported_at: now_millis(),
        places: places.len() as u64,
        precincts_matched: matched.len() as u64,
        precincts_unmatched: matching.unmatched.len() as u64,
    };
    let entry = audit.entry(Action::PlacesImport).with_jurisdiction(&jurisdiction.id);
    let entry = target(entry, format!("import:{}", import.id))?;
    let entry = target(entry, format!("format:{VIP5}"))?;
    let entry = target(entry, format!("sha256:{}", import.file_digest))?;
    let entry = target(entry, format!("places:{}", import.places))?;
    let entry = target(entry, format!("precincts_matched:{}", import.precincts_matched))?;
    audit.run(entry, async { Ok(store.replace_polling_places(&import, &places).await?) }).await?;
    crate::lookup_cache::note_change();
    let served: HashSet<&PrecinctId> = places.iter().flat_map(|place| &place.precincts).collect();
    let without_place =
        scope.precincts.iter().map(|candidate| &candidate.id).filter(|id| !served.contains(id)).cloned().collect();
    Ok(PlacesSummary {
        import,
        matched: matched.into_iter().collect(),
        unmatched: matching.unmatched,
        without_place,
        skipped_places,
        replaced,
    })
}

/// One of the jurisdiction's precincts with the keys a feed may name it by.
#[derive(Debug)]
struct Candidate {
    id: PrecinctId,
    jurisdiction: JurisdictionId,
    codes: Vec<String>,
    names: Vec<String>,
}

impl Candidate {
    fn of(precinct: &Precinct) -> Self {
        let id = precinct.id.as_str();
        // NC-style ids end in `precinct:<abbreviation>`; others in their last segment.
        let abbreviation = id.rsplit_once("precinct:").map_or_else(|| id.rsplit('/').next(), |(_, code)| Some(code));
        let (name_code, rest) = split_code(precinct.name.as_str());
        Self {
            id: precinct.id.clone(),
            jurisdiction: precinct.jurisdiction.clone(),
            codes: abbreviation.into_iter().chain(name_code).map(code_key).filter(|key| !key.is_empty()).collect(),
            names: [Some(precinct.name.as_str()), rest]
                .into_iter()
                .flatten()
                .map(name_key)
                .filter(|key| !key.is_empty())
                .collect(),
        }
    }
}

/// The precincts an import may match: the jurisdiction's and those of every jurisdiction below
/// it, with the keys a feed's locality may name those jurisdictions by.
#[derive(Debug)]
struct Scope {
    jurisdiction: JurisdictionId,
    /// (key, jurisdiction): names and id segments, as `county_key` writes them.
    areas: Vec<(String, JurisdictionId)>,
    precincts: Vec<Candidate>,
}

/// How the feed's precincts matched.
#[derive(Debug, Default)]
struct Matching {
    /// Feed precinct id -> the jurisdiction's precinct.
    by_feed_precinct: BTreeMap<String, PrecinctId>,
    unmatched: Vec<UnmatchedPrecinct>,
}

impl Scope {
    async fn load(store: &dyn Store, root: &Jurisdiction) -> Result<Self, ServerError> {
        let all = store.jurisdictions().await?;
        let mut inside: Vec<&Jurisdiction> = vec![root];
        // The tree is at most three deep; each pass adds one level.
        for _ in 0..4 {
            let next: Vec<&Jurisdiction> = all
                .iter()
                .filter(|candidate| !inside.iter().any(|known| known.id == candidate.id))
                .filter(|candidate| {
                    candidate.parent.as_ref().is_some_and(|parent| inside.iter().any(|known| &known.id == parent))
                })
                .collect();
            if next.is_empty() {
                break;
            }
            inside.extend(next);
        }
        let mut areas = Vec::new();
        let mut precincts = Vec::new();
        for area in &inside {
            areas.push((county_key(area.name.as_str()), area.id.clone()));
            if let Some(segment) = area.id.as_str().rsplit('/').next() {
                let segment = segment.rsplit(':').next().unwrap_or(segment);
                areas.push((county_key(segment), area.id.clone()));
            }
            precincts.extend(store.precincts(Some(&area.id)).await?.iter().map(Candidate::of));
        }
        Ok(Self { jurisdiction: root.id.clone(), areas, precincts })
    }

    fn match_feed(&self, feed: &Vip5Feed) -> Matching {
        let mut matching = Matching::default();
        for precinct in feed.precincts.values() {
            match self.match_precinct(feed, precinct) {
                Ok(id) => {
                    matching.by_feed_precinct.insert(precinct.id.clone(), id);
                }
                Err(reason) => matching.unmatched.push(UnmatchedPrecinct {
                    feed_id: precinct.id.clone(),
                    name: precinct.name.clone().or_else(|| precinct.number.clone()).unwrap_or_default(),
                    reason,
                }),
            }
        }
        matching
    }

    /// The feed's locality, when it names one of the scope's jurisdictions.
    fn area_of(&self, feed: &Vip5Feed, precinct: &vip5::Precinct) -> Option<&JurisdictionId> {
        let locality = feed.localities.get(&precinct.locality_id)?;
        let ocd = locality.ocd_id();
        let keys: Vec<String> = [locality.name.as_deref(), ocd.and_then(|id| id.rsplit(':').next())]
            .into_iter()
            .flatten()
            .map(county_key)
            .collect();
        if let Some(ocd) = ocd
            && let Some((_, id)) = self.areas.iter().find(|(_, id)| id.as_str() == ocd)
        {
            return Some(id);
        }
        self.areas.iter().find(|(key, _)| keys.contains(key)).map(|(_, id)| id)
    }

    /// The one precinct of the scope the feed's precinct is: by its OCD id, else by number,
    /// else by name; or why none.
    fn match_precinct(&self, feed: &Vip5Feed, precinct: &vip5::Precinct) -> Result<PrecinctId, String> {
        if let Some(ocd) = precinct.ocd_id()
            && let Some(found) = self.precincts.iter().find(|candidate| candidate.id.as_str() == ocd)
        {
            return Ok(found.id.clone());
        }
        let area = self.area_of(feed, precinct);
        // In a feed of several localities (a statewide one), a precinct of a locality outside
        // the jurisdiction is another county's, however alike its number; a feed of one locality
        // is taken to be the jurisdiction's whatever it calls itself.
        if area.is_none() && feed.localities.len() > 1 {
            let locality = feed.localities.get(&precinct.locality_id).and_then(|locality| locality.name.as_deref());
            return Err(format!(
                "its locality `{}` is not {} or inside it",
                locality.unwrap_or(&precinct.locality_id),
                self.jurisdiction
            ));
        }
        let (name_code, rest) = precinct.name.as_deref().map(split_code).unwrap_or_default();
        let codes: Vec<String> = precinct
            .number
            .as_deref()
            .into_iter()
            .chain(name_code)
            .map(code_key)
            .filter(|key| !key.is_empty())
            .collect();
        let names: Vec<String> = [precinct.name.as_deref(), rest]
            .into_iter()
            .flatten()
            .map(name_key)
            .filter(|key| !key.is_empty())
            .collect();
        if let Some(found) = self.unique(area, |candidate| candidate.codes.iter().any(|key| codes.contains(key)))? {
            return Ok(found);
        }
        if let Some(found) = self.unique(area, |candidate| candidate.names.iter().any(|key| names.contains(key)))? {
            return Ok(found);
        }
        let label = precinct.number.as_deref().or(precinct.name.as_deref()).unwrap_or(&precinct.id);
        Err(format!("no precinct of {} has the number or name `{label}`", area.unwrap_or(&self.jurisdiction)))
    }

    /// The one precinct of the scope (inside `area`, when the feed's locality named one) that
    /// `matches`; none; or, when several do, why the feed's precinct cannot be placed.
    fn unique(
        &self,
        area: Option<&JurisdictionId>,
        matches: impl Fn(&Candidate) -> bool,
    ) -> Result<Option<PrecinctId>, String> {
        let found: Vec<&Candidate> = self
            .precincts
            .iter()
            .filter(|candidate| area.is_none_or(|area| &candidate.jurisdiction == area))
            .filter(|candidate| matches(candidate))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.id.clone())),
            several => {
                let ids: Vec<&str> = several.iter().map(|candidate| candidate.id.as_str()).collect();
                Err(format!("matches several precincts of {} ({})", self.jurisdiction, ids.join(", ")))
            }
        }
    }
}

/// A precinct code as compared: letters and digits only, upper case, and a number without its
/// leading zeros ("0203", "203" and "203 " are one precinct).
fn code_key(text: &str) -> String {
    let key: String = text.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    if !key.is_empty() && key.bytes().all(|byte| byte.is_ascii_digit()) {
        let trimmed = key.trim_start_matches('0');
        return if trimmed.is_empty() { "0".to_owned() } else { trimmed.to_owned() };
    }
    key
}

/// A precinct name as compared: letters and digits only, upper case.
fn name_key(text: &str) -> String {
    text.chars().filter(|character| character.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

/// A name that starts with its code ("203 - GEORGETOWN", "01 Riverside"): the code (a first word
/// with a digit in it) and the rest; else no code and no rest.
fn split_code(name: &str) -> (Option<&str>, Option<&str>) {
    let trimmed = name.trim();
    let Some((first, rest)) = trimmed.split_once(char::is_whitespace) else {
        return (None, None);
    };
    let rest = rest.trim_start().trim_start_matches(['-', '–', ':']).trim();
    if first.chars().any(|character| character.is_ascii_digit()) && !rest.is_empty() {
        (Some(first), Some(rest))
    } else {
        (None, None)
    }
}

/// The feed's polling locations that serve matched precincts (the precinct's own, then those its
/// locality and state offer to all), each with the precincts it serves; and how many of the
/// feed's locations serve none of them.
fn places_for(
    feed: &Vip5Feed,
    matched: &BTreeMap<String, PrecinctId>,
    jurisdiction: &JurisdictionId,
) -> (Vec<StoredPollingPlace>, u64) {
    let mut served: BTreeMap<&str, (&PollingLocation, BTreeSet<PrecinctId>)> = BTreeMap::new();
    for (feed_precinct, precinct) in matched {
        for location in feed.polling_places_for(feed_precinct) {
            served
                .entry(location.id.as_str())
                .or_insert_with(|| (location, BTreeSet::new()))
                .1
                .insert(precinct.clone());
        }
    }
    let skipped = feed.polling_locations.len().saturating_sub(served.len()) as u64;
    let places = served
        .into_values()
        .map(|(location, precincts)| StoredPollingPlace {
            jurisdiction: jurisdiction.clone(),
            id: location.id.clone(),
            name: location.name.clone(),
            address: location.address_text(),
            hours: hours_text(feed, location),
            directions: location.directions.as_ref().and_then(|text| text.text()).map(str::to_owned),
            early_voting: location.is_early_voting,
            drop_box: location.is_drop_box,
            precincts: precincts.into_iter().collect(),
        })
        .collect();
    (places, skipped)
}

/// Opening hours for people: the structured hours when the feed gives them ("2013-11-05
/// 06:00-19:00"; schedules joined by "; "), else its free text.
fn hours_text(feed: &Vip5Feed, location: &PollingLocation) -> Option<String> {
    if let Some(open) = feed.hours_for(location) {
        let schedules: Vec<String> = open.schedules.iter().filter_map(schedule_text).collect();
        if !schedules.is_empty() {
            return Some(schedules.join("; "));
        }
    }
    location.hours.as_ref().and_then(|text| text.text()).map(str::to_owned)
}

fn schedule_text(schedule: &Schedule) -> Option<String> {
    let clock = |hours: &Hours| {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            hours.start.hour(),
            hours.start.minute(),
            hours.end.hour(),
            hours.end.minute()
        )
    };
    let times: Vec<String> = schedule.hours.iter().map(clock).collect();
    let days = match (schedule.start_date, schedule.end_date) {
        (Some(start), Some(end)) if start == end => Some(start.to_string()),
        (Some(start), Some(end)) => Some(format!("{start} to {end}")),
        (Some(start), None) => Some(format!("from {start}")),
        (None, Some(end)) => Some(format!("until {end}")),
        (None, None) => None,
    };
    let appointment = if schedule.is_only_by_appointment {
        Some("by appointment only")
    } else if schedule.is_or_by_appointment {
        Some("or by appointment")
    } else {
        None
    };
    let parts: Vec<String> = days
        .into_iter()
        .chain((!times.is_empty()).then(|| times.join(", ")))
        .chain(appointment.map(str::to_owned))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Where a precinct's voters vote on election day: among the places serving it, an
/// election-day place, else an early-voting site (a drop box alone is not a place to vote);
/// the first in the store's order among equals.
pub fn polling_place_for<'a>(places: &'a [StoredPollingPlace], precinct: &str) -> Option<&'a StoredPollingPlace> {
    let serving = || places.iter().filter(|place| place.precincts.iter().any(|id| id.as_str() == precinct));
    serving().find(|place| place.is_election_day()).or_else(|| serving().find(|place| !place.drop_box))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_compare_without_leading_zeros_or_punctuation() {
        assert_eq!(code_key("0203"), code_key("203"));
        assert_eq!(code_key("01-07"), "107", "digits only, so a number");
        assert_eq!(code_key("p01"), "P01");
        assert_eq!(code_key("0000"), "0");
        assert_ne!(code_key("0101"), code_key("01"));
    }

    #[test]
    fn names_that_start_with_their_code_are_split() {
        assert_eq!(split_code("203 - GEORGETOWN"), (Some("203"), Some("GEORGETOWN")));
        assert_eq!(split_code("01 Riverside"), (Some("01"), Some("Riverside")));
        assert_eq!(split_code("PRECINCT P01"), (None, None));
        assert_eq!(split_code("GEORGETOWN"), (None, None));
        assert_eq!(name_key("Old  Mill"), name_key("OLD MILL"));
    }

    #[test]
    fn the_election_day_place_is_chosen_over_early_voting_and_drop_boxes() {
        let place = |id: &str, early_voting: bool, drop_box: bool| StoredPollingPlace {
            jurisdiction: JurisdictionId::parse("ocd-division/country:us/state:va").unwrap(),
            id: id.to_owned(),
            name: None,
            address: String::new(),
            hours: None,
            directions: None,
            early_voting,
            drop_box,
            precincts: vec![PrecinctId::parse("va-1").unwrap()],
        };
        let places = [place("box", true, true), place("early", true, false), place("school", false, false)];
        assert_eq!(polling_place_for(&places, "va-1").map(|p| p.id.as_str()), Some("school"));
        assert_eq!(polling_place_for(&places[..2], "va-1").map(|p| p.id.as_str()), Some("early"));
        assert_eq!(polling_place_for(&places[..1], "va-1"), None);
        assert_eq!(polling_place_for(&places, "va-2"), None);
    }
}
