//! The demo's imported roll and polling places, loaded through the same paths a county's files
//! take: a small seeded North Carolina layout roll (every person made up) moved into the demo's
//! first county and imported with `roll_import` (then a seeded voter history for it, through the
//! history import), a tiny VIP 5 feed for the demo's precincts imported with `places_import`,
//! and four records on the state's roll making two duplicate pairs (see
//! [`import_state_twins`]). All are written in code, so the demo needs no data files.

use std::{io::Write, path::Path, sync::Arc};

use canvass_core::{
    demo::DemoContent,
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
};
use canvass_formats::ncvoter;
use canvass_store::{ImportCounts, Store};

use crate::{
    ServerError,
    keys::KeyRings,
    ledger::Audit,
    places_import::{self, PlacesSettings},
    roll_import::{self, ImportProgress, ImportSettings},
};

/// Voters in the demo's imported roll: enough to search and look up, few enough to import in a
/// fraction of a second.
const DEMO_ROLL_ROWS: u64 = 300;

/// Rows of the demo's voter history: one to four elections for each of the roll's first voters.
const DEMO_HISTORY_ROWS: u64 = 400;

/// A voter of the imported roll a newcomer can type into "Am I registered?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLookup {
    pub first_name: String,
    pub last_name: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    pub county: Jurisdiction,
    pub precinct: String,
    pub registration_number: String,
}

/// What the demo's imports gave.
#[derive(Debug, Clone)]
pub struct DemoRoll {
    pub counts: ImportCounts,
    pub places: u64,
    pub example: Option<DemoLookup>,
    /// Voters with a demo ballot, for "Did my ballot count?".
    pub ballots: Vec<crate::demo_ballots::DemoBallot>,
}

/// Imports the demo roll into the demo's first county and polling places for every demo
/// precinct (into the state), each through its real import. `directory` holds the generated files.
pub async fn load(
    store: &Arc<dyn Store>,
    audit: &Audit,
    rings: &KeyRings,
    content: &DemoContent,
    seed: u64,
    directory: &Path,
) -> Result<DemoRoll, ServerError> {
    let county = content
        .jurisdictions
        .iter()
        .find(|jurisdiction| jurisdiction.kind == JurisdictionKind::County)
        .ok_or_else(|| ServerError::Internal("the demo has no county".into()))?;
    let state = content
        .jurisdictions
        .iter()
        .find(|jurisdiction| jurisdiction.kind == JurisdictionKind::State)
        .ok_or_else(|| ServerError::Internal("the demo has no state".into()))?;
    let precincts: Vec<&Precinct> = content.precincts.iter().filter(|p| p.jurisdiction == county.id).collect();
    let (file, examples) = roll_file(seed, county, &precincts)?;
    let roll_path = directory.join("demo-roll.ncvoter.tsv");
    write_file(&roll_path, &file)?;
    let ring = rings.current(store.as_ref(), &county.id).await?;
    let settings = ImportSettings {
        jurisdiction: county.id.clone(),
        add_places: true,
        batch_rows: roll_import::DEFAULT_BATCH_ROWS,
        actor: "demo".to_owned(),
    };
    let summary =
        roll_import::import_ncvoter(store, audit, &ring, &roll_path, &settings, &mut std::io::sink(), &mut NoProgress)
            .await?;
    // The voters' history (a few elections each) through the history import.
    let history_path = directory.join("demo-history.ncvhis.tsv");
    let mut history = Vec::new();
    canvass_formats::ncvhis::generate(seed, DEMO_HISTORY_ROWS, &mut history)
        .map_err(|error| ServerError::Internal(format!("the demo history generator failed: {error}")))?;
    write_file(&history_path, &history)?;
    crate::vote_history::import_ncvhis(store, audit, &history_path, &settings, &mut std::io::sink(), &mut NoProgress)
        .await?;
    import_state_twins(store, audit, rings, content, state, seed, directory).await?;
    let feed_path = directory.join("demo-places.vip5.xml");
    write_file(&feed_path, feed(content).as_bytes())?;
    let places_settings = PlacesSettings { jurisdiction: state.id.clone(), actor: "demo".to_owned() };
    let places = places_import::import_vip5(store.as_ref(), audit, &feed_path, &places_settings).await?;
    let ballots =
        crate::demo_ballots::load(store.as_ref(), audit, &content.election, examples.get(1..).unwrap_or_default())
            .await?;
    Ok(DemoRoll {
        counts: summary.import.counts,
        places: places.import.places,
        example: examples.into_iter().next(),
        ballots,
    })
}

/// A few records on the state's own roll so the duplicates page has something to show: one
/// person registered in two counties (same name and date of birth), and one driver's licence
/// number on two people. Imported under the state's key ring, whose blind indexes span its
/// counties (each county's own roll has its own keys, so it is compared only within itself).
async fn import_state_twins(
    store: &Arc<dyn Store>,
    audit: &Audit,
    rings: &KeyRings,
    content: &DemoContent,
    state: &Jurisdiction,
    seed: u64,
    directory: &Path,
) -> Result<(), ServerError> {
    let counties: Vec<&Jurisdiction> =
        content.jurisdictions.iter().filter(|jurisdiction| jurisdiction.kind == JurisdictionKind::County).collect();
    let (Some(left), Some(right)) = (counties.first(), counties.get(1)) else {
        return Err(ServerError::Internal("the demo needs two counties".into()));
    };
    let precinct_of =
        |county: &Jurisdiction| content.precincts.iter().find(|precinct| precinct.jurisdiction == county.id);
    let (Some(left_precinct), Some(right_precinct)) = (precinct_of(left), precinct_of(right)) else {
        return Err(ServerError::Internal("the demo's counties need precincts".into()));
    };
    let mut generated = Vec::new();
    ncvoter::generate(seed.wrapping_add(1), 3, true, &mut generated)
        .map_err(|error| ServerError::Internal(format!("the demo roll generator failed: {error}")))?;
    let generated = String::from_utf8(generated)
        .map_err(|error| ServerError::Internal(format!("the demo roll is not UTF-8: {error}")))?;
    let columns: Vec<&str> = ncvoter::all_columns().collect();
    let at = |name: &str| {
        columns
            .iter()
            .position(|column| *column == name)
            .ok_or_else(|| ServerError::Internal(format!("the NC layout has no {name} column")))
    };
    let mut lines = generated.lines();
    let header = lines.next().unwrap_or_default();
    let rows: Vec<Vec<String>> = lines.map(|line| line.split('\t').map(str::to_owned).collect()).collect();
    if rows.len() != 3 || rows.iter().any(|row| row.len() != columns.len()) {
        return Err(ServerError::Internal("the demo roll generator wrote an unexpected row".into()));
    }
    // (row copied, its new number, county, licence of another row or none)
    let plan: [(usize, &str, &Jurisdiction, &Precinct, Option<usize>); 4] = [
        (0, "EXDUP0001", left, left_precinct, None),
        (0, "EXDUP0002", right, right_precinct, Some(1)),
        (1, "EXDUP0003", left, left_precinct, None),
        (2, "EXDUP0004", right, right_precinct, Some(1)),
    ];
    let mut output = format!("{header}\n");
    for (source, number, county, precinct, licence_of) in plan {
        let mut values = rows[source].clone();
        let code = precinct.id.as_str().rsplit("precinct:").next().unwrap_or_default();
        values[at("ncid")?] = number.to_owned();
        values[at("voter_reg_num")?] = number.trim_start_matches("EXDUP").to_owned();
        values[at("county_desc")?] = county.name.as_str().trim_end_matches(" County").to_ascii_uppercase();
        values[at("precinct_abbrv")?] = code.to_owned();
        values[at("precinct_desc")?] = precinct.name.as_str().to_ascii_uppercase();
        values[at("status_cd")?] = "A".to_owned();
        values[at("voter_status_desc")?] = "ACTIVE".to_owned();
        let licence = at("drivers_lic_num")?;
        values[licence] = match licence_of {
            Some(other) => rows[other][licence].clone(),
            None => format!("EX{number}"),
        };
        output.push_str(&values.join("\t"));
        output.push('\n');
    }
    let path = directory.join("demo-state-twins.ncvoter.tsv");
    write_file(&path, output.as_bytes())?;
    let ring = rings.current(store.as_ref(), &state.id).await?;
    let settings = ImportSettings {
        jurisdiction: state.id.clone(),
        add_places: false,
        batch_rows: roll_import::DEFAULT_BATCH_ROWS,
        actor: "demo".to_owned(),
    };
    roll_import::import_ncvoter(store, audit, &ring, &path, &settings, &mut std::io::sink(), &mut NoProgress).await?;
    Ok(())
}

/// The demo import needs no progress bar.
struct NoProgress;

impl ImportProgress for NoProgress {
    fn started(&mut self, _file_bytes: u64, _position: u64, _counts: &ImportCounts) {}
    fn advanced(&mut self, _position: u64, _counts: &ImportCounts) {}
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    std::fs::write(path, bytes)
        .map_err(|error| ServerError::Internal(format!("cannot write the demo file {}: {error}", path.display())))
}

/// The generator's roll (with the confidential columns) moved into `county` and spread over its
/// precincts; and the first active, not address-confidential voters whose name and birth date
/// no one else in the file shares (up to four), for the lookups.
fn roll_file(
    seed: u64,
    county: &Jurisdiction,
    precincts: &[&Precinct],
) -> Result<(Vec<u8>, Vec<DemoLookup>), ServerError> {
    let mut generated = Vec::new();
    ncvoter::generate(seed, DEMO_ROLL_ROWS, true, &mut generated)
        .map_err(|error| ServerError::Internal(format!("the demo roll generator failed: {error}")))?;
    let generated = String::from_utf8(generated)
        .map_err(|error| ServerError::Internal(format!("the demo roll is not UTF-8: {error}")))?;
    let columns: Vec<&str> = ncvoter::all_columns().collect();
    let at = |name: &str| {
        columns
            .iter()
            .position(|column| *column == name)
            .ok_or_else(|| ServerError::Internal(format!("the NC layout has no {name} column")))
    };
    let (county_desc, precinct_abbrv, precinct_desc) =
        (at("county_desc")?, at("precinct_abbrv")?, at("precinct_desc")?);
    let (first, last, birth, status, confidential) =
        (at("first_name")?, at("last_name")?, at("birth_date")?, at("status_cd")?, at("confidential_ind")?);
    let county_name = county.name.as_str().trim_end_matches(" County").to_ascii_uppercase();
    let mut output = Vec::with_capacity(generated.len());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (number, line) in generated.lines().enumerate() {
        if number == 0 {
            writeln!(output, "{line}").map_err(write_error)?;
            continue;
        }
        let mut values: Vec<String> = line.split('\t').map(str::to_owned).collect();
        if values.len() != columns.len() || precincts.is_empty() {
            return Err(ServerError::Internal("the demo roll generator wrote an unexpected row".into()));
        }
        let precinct = precincts[number % precincts.len()];
        let code = precinct.id.as_str().rsplit("precinct:").next().unwrap_or_default();
        values[county_desc] = county_name.clone();
        values[precinct_abbrv] = code.to_owned();
        values[precinct_desc] = precinct.name.as_str().to_ascii_uppercase();
        writeln!(output, "{}", values.join("\t")).map_err(write_error)?;
        rows.push(values);
    }
    let identity = |values: &Vec<String>| (values[first].clone(), values[last].clone(), values[birth].clone());
    let ncid = at("ncid")?;
    let examples = rows
        .iter()
        .filter(|values| values[status] == "A" && !values[confidential].eq_ignore_ascii_case("y"))
        .filter(|values| rows.iter().filter(|other| identity(other) == identity(values)).count() == 1)
        .take(4)
        .map(|values| DemoLookup {
            first_name: values[first].clone(),
            last_name: values[last].clone(),
            birth_date: values[birth].clone(),
            county: county.clone(),
            precinct: values[precinct_desc].clone(),
            registration_number: values[ncid].clone(),
        })
        .collect();
    Ok((output, examples))
}

fn write_error(error: std::io::Error) -> ServerError {
    ServerError::Internal(format!("cannot build the demo roll: {error}"))
}

/// Text for XML character data and attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A VIP 5 feed for the demo: one locality per county, its precincts (numbered as the demo
/// numbers them), a school per precinct open on election day, and one early-voting site per
/// county open the two weeks before.
fn feed(content: &DemoContent) -> String {
    let election = content.election.date;
    let early_start = election - time::Duration::days(17);
    let early_end = election - time::Duration::days(3);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VipObject schemaVersion=\"5.2\">\n");
    xml.push_str("  <State id=\"st1\"><Name>Examplia</Name></State>\n");
    xml.push_str(&format!(
        "  <HoursOpen id=\"hours-election\"><Schedule><Hours><StartTime>06:30:00-05:00</StartTime>\
         <EndTime>19:30:00-05:00</EndTime></Hours><StartDate>{election}</StartDate><EndDate>{election}</EndDate>\
         </Schedule></HoursOpen>\n"
    ));
    xml.push_str(&format!(
        "  <HoursOpen id=\"hours-early\"><Schedule><Hours><StartTime>08:00:00-05:00</StartTime>\
         <EndTime>19:00:00-05:00</EndTime></Hours><StartDate>{early_start}</StartDate><EndDate>{early_end}</EndDate>\
         </Schedule></HoursOpen>\n"
    ));
    let counties = content.jurisdictions.iter().filter(|jurisdiction| jurisdiction.kind == JurisdictionKind::County);
    for (county_number, county) in counties.enumerate() {
        let town = escape(county.name.as_str().trim_end_matches(" County"));
        let locality = format!("loc{county_number}");
        let early = format!("pl{county_number}-early");
        xml.push_str(&format!(
            "  <Locality id=\"{locality}\"><Name>{}</Name><PollingLocationIds>{early}</PollingLocationIds>\
             <StateId>st1</StateId><Type>county</Type></Locality>\n",
            escape(county.name.as_str())
        ));
        xml.push_str(&format!(
            "  <PollingLocation id=\"{early}\"><AddressLine>1 Courthouse Sq</AddressLine>\
             <AddressLine>{town}, ZZ 9990{county_number}</AddressLine><HoursOpenId>hours-early</HoursOpenId>\
             <IsEarlyVoting>true</IsEarlyVoting><Name>{town} Board of Elections (early voting)</Name></PollingLocation>\n"
        ));
        let precincts = content.precincts.iter().filter(|precinct| precinct.jurisdiction == county.id);
        for (number, precinct) in precincts.enumerate() {
            let code = precinct.id.as_str().rsplit("precinct:").next().unwrap_or_default();
            let (_, rest) = precinct.name.as_str().split_once(' ').unwrap_or(("", precinct.name.as_str()));
            let place = format!("pl{county_number}-{code}");
            xml.push_str(&format!(
                "  <PollingLocation id=\"{place}\"><AddressLine>{} {} Rd</AddressLine>\
                 <AddressLine>{town}, ZZ 9990{county_number}</AddressLine><HoursOpenId>hours-election</HoursOpenId>\
                 <Name>{} Elementary School</Name></PollingLocation>\n",
                100 + 10 * number,
                escape(rest),
                escape(rest)
            ));
            xml.push_str(&format!(
                "  <Precinct id=\"pre{county_number}-{code}\"><LocalityId>{locality}</LocalityId><Name>{}</Name>\
                 <Number>{code}</Number><PollingLocationIds>{place}</PollingLocationIds></Precinct>\n",
                escape(rest)
            ));
        }
    }
    xml.push_str("</VipObject>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_feed_is_a_vip5_feed_with_a_place_for_every_demo_precinct() {
        let content = canvass_core::demo::content(time::macros::date!(2026 - 11 - 21), 7).unwrap();
        let feed = canvass_formats::vip5::read_feed(feed(&content).as_bytes()).unwrap();
        assert!(feed.unresolved_references().is_empty(), "{:?}", feed.unresolved_references());
        assert_eq!(feed.precincts.len(), content.precincts.len());
        for precinct in feed.precincts.values() {
            let places = feed.polling_places_for(&precinct.id);
            assert_eq!(places.len(), 2, "its school and its county's early-voting site");
            assert!(places.iter().all(|place| !place.address_text().is_empty()));
        }
    }
}
