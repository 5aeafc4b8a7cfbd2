//! The built-in demo content `canvass serve --demo` loads: the fictional State of Examplia with
//! three counties, a few precincts each, the next general election with its contests, and a
//! small, seeded, obviously fake voter roll (public-record fields only).

use time::Date;

use crate::{
    CoreError,
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor, next_general_election_day},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    voter::{VoterRecord, VoterStatus},
};

const STATE_ID: &str = "ocd-division/country:us/state:zz";
const COUNTIES: [(&str, &str, [&str; 4]); 3] = [
    ("alder", "Alder County", ["Riverside", "Old Mill", "North Alder", "Harbor"]),
    ("birch", "Birch County", ["Birch Hill", "Lakeview", "Quarry Road", "Fairgrounds"]),
    ("cedar", "Cedar County", ["Cedar Falls", "West End", "Prairie", "Depot Street"]),
];
const FIRST_NAMES: [&str; 16] = [
    "Ada", "Ben", "Cleo", "Dev", "Edie", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kit", "Lou", "Mae", "Nico", "Oona",
    "Pip",
];
/// Last names no real voter has, so nobody mistakes the demo roll for real people.
const LAST_NAMES: [&str; 12] = [
    "Fakename",
    "Notareal",
    "Samplesworth",
    "Testington",
    "Placeholder",
    "Mockridge",
    "Dummerly",
    "Exampleton",
    "Fictionby",
    "Demoworth",
    "Pretendsen",
    "Imaginary",
];
const PARTIES: [(&str, u64); 5] = [("DEM", 34), ("REP", 33), ("UNA", 28), ("LIB", 3), ("GRE", 2)];
/// Precincts hold between these many voters, so the demo's charts show differences.
const FEWEST_VOTERS_PER_PRECINCT: u64 = 20;
const MOST_VOTERS_PER_PRECINCT: u64 = 70;

/// Everything the demo loads, in the order it must be stored (parents first).
#[derive(Debug, Clone)]
pub struct DemoContent {
    pub jurisdictions: Vec<Jurisdiction>,
    pub precincts: Vec<Precinct>,
    pub election: Election,
    pub contests: Vec<Contest>,
    pub voters: Vec<VoterRecord>,
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator, so the same seed gives the
/// same demo roll on every machine and in every version.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (bound > 0); the tiny modulo bias does not matter for fixtures.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// Builds the demo for an office whose calendar says `today`, with the roll drawn from `seed`.
pub fn content(today: Date, seed: u64) -> Result<DemoContent, CoreError> {
    let state = JurisdictionId::parse(STATE_ID)?;
    let mut jurisdictions = vec![Jurisdiction {
        id: state.clone(),
        name: Name::parse("State of Examplia (demo)")?,
        kind: JurisdictionKind::State,
        parent: None,
    }];
    let mut precincts = Vec::new();
    for (slug, county_name, precinct_names) in COUNTIES {
        let county = JurisdictionId::parse(&format!("{STATE_ID}/county:{slug}"))?;
        jurisdictions.push(Jurisdiction {
            id: county.clone(),
            name: Name::parse(county_name)?,
            kind: JurisdictionKind::County,
            parent: Some(state.clone()),
        });
        for (number, precinct_name) in precinct_names.iter().enumerate() {
            precincts.push(Precinct {
                id: PrecinctId::parse(&format!("{STATE_ID}/county:{slug}/precinct:{:02}", number + 1))?,
                jurisdiction: county.clone(),
                name: Name::parse(&format!("{:02} {precinct_name}", number + 1))?,
            });
        }
    }
    let election_day = next_general_election_day(today)
        .ok_or_else(|| CoreError::InvalidValue { what: "date", reason: "no general election day follows it".into() })?;
    let election = Election {
        id: ElectionId::parse(&format!("zz-general-{}", election_day.year()))?,
        jurisdiction: state.clone(),
        name: Name::parse(&format!("{} General Election", election_day.year()))?,
        kind: ElectionKind::General,
        date: election_day,
    };
    let contests = contests(&election, &jurisdictions)?;
    let voters = voters(&precincts, today, seed)?;
    Ok(DemoContent { jurisdictions, precincts, election, contests, voters })
}

fn choice(name: &str, party: Option<&str>) -> Result<Choice, CoreError> {
    Ok(Choice { name: Name::parse(name)?, party: party.map(str::to_owned) })
}

fn contests(election: &Election, jurisdictions: &[Jurisdiction]) -> Result<Vec<Contest>, CoreError> {
    let contest =
        |id: &str, district: &JurisdictionId, name: &str, kind, vote_for, choices| -> Result<Contest, CoreError> {
            Ok(Contest {
                id: ContestId::parse(id)?,
                election: election.id.clone(),
                district: district.clone(),
                name: Name::parse(name)?,
                kind,
                vote_for,
                choices,
            })
        };
    let yes_no = || -> Result<Vec<Choice>, CoreError> { Ok(vec![choice("Yes", None)?, choice("No", None)?]) };
    let state = &election.jurisdiction;
    let mut all = vec![
        contest(
            "governor",
            state,
            "Governor",
            ContestKind::Candidate,
            VoteFor::ONE,
            vec![
                choice("Rowan Examplewood", Some("DEM"))?,
                choice("Morgan Testcase", Some("REP"))?,
                choice("Sam Placeholder", Some("LIB"))?,
            ],
        )?,
        contest(
            "question-1",
            state,
            "State Question 1: Parks and Libraries Bond",
            ContestKind::BallotMeasure,
            VoteFor::ONE,
            yes_no()?,
        )?,
        contest(
            "retain-justice-fictitious",
            state,
            "Retain Justice Ima Fictitious on the Supreme Court?",
            ContestKind::Retention,
            VoteFor::ONE,
            yes_no()?,
        )?,
    ];
    for county in jurisdictions.iter().filter(|j| j.kind == JurisdictionKind::County) {
        let slug = county.id.as_str().rsplit(':').next().unwrap_or_default();
        all.push(contest(
            &format!("{slug}-commissioners"),
            &county.id,
            &format!("{} Board of Commissioners", county.name),
            ContestKind::Candidate,
            VoteFor::parse(2)?,
            vec![
                choice("Alex Demoson", Some("DEM"))?,
                choice("Jordan Mockley", Some("REP"))?,
                choice("Casey Notreal", Some("DEM"))?,
                choice("Riley Samplefield", Some("REP"))?,
            ],
        )?);
    }
    Ok(all)
}

fn pick_party(random: &mut SplitMix64) -> &'static str {
    let total: u64 = PARTIES.iter().map(|(_, weight)| weight).sum();
    let mut roll = random.below(total);
    for (party, weight) in PARTIES {
        if roll < weight {
            return party;
        }
        roll -= weight;
    }
    "UNA"
}

/// A birth date making the voter 18 to 95 years old.
fn birth_date(random: &mut SplitMix64, today: Date) -> Date {
    let days = 18 * 365 + i64::try_from(random.below(77 * 365)).unwrap_or(0);
    today.saturating_sub(time::Duration::days(days))
}

fn voters(precincts: &[Precinct], today: Date, seed: u64) -> Result<Vec<VoterRecord>, CoreError> {
    let mut random = SplitMix64::new(seed);
    let mut voters = Vec::new();
    for precinct in precincts {
        let size = FEWEST_VOTERS_PER_PRECINCT + random.below(MOST_VOTERS_PER_PRECINCT - FEWEST_VOTERS_PER_PRECINCT + 1);
        for _ in 0..size {
            let first = FIRST_NAMES[random.below(FIRST_NAMES.len() as u64) as usize];
            let last = LAST_NAMES[random.below(LAST_NAMES.len() as u64) as usize];
            let status = if random.below(10) == 0 { VoterStatus::Inactive } else { VoterStatus::Active };
            let days_ago = i64::try_from(random.below(20 * 365)).unwrap_or(0);
            voters.push(VoterRecord {
                registration_number: format!("ZZ{:06}", voters.len() + 1),
                county: precinct.jurisdiction.clone(),
                precinct: precinct.id.clone(),
                first_name: Name::parse(first)?,
                last_name: Name::parse(last)?,
                party: pick_party(&mut random).to_owned(),
                status,
                registered_on: today.saturating_sub(time::Duration::days(days_ago + 30)),
                birth_date: Some(birth_date(&mut random, today)),
                ssn_last_four: Some(format!("{:04}", random.below(10_000))),
                drivers_license: Some(format!("ZZDL{:08}", random.below(100_000_000))),
                email: Some(format!(
                    "{}.{}.{}@example.invalid",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    voters.len() + 1
                )),
            });
        }
    }
    Ok(voters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jurisdiction::tree_order;
    use time::macros::date;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs for seed 0 from the reference C implementation (Vigna, prng.di.unimi.it).
        let mut random = SplitMix64::new(0);
        assert_eq!(random.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(random.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn the_demo_has_the_promised_shape() {
        let demo = content(date!(2026 - 11 - 21), 7).unwrap();
        let counties = demo.jurisdictions.iter().filter(|j| j.kind == JurisdictionKind::County).count();
        assert_eq!(counties, 3);
        assert_eq!(demo.precincts.len(), 12);
        assert_eq!(demo.election.date, date!(2027 - 11 - 02));
        assert!(demo.contests.len() >= 4);
        let lower = 12 * FEWEST_VOTERS_PER_PRECINCT as usize;
        let upper = 12 * MOST_VOTERS_PER_PRECINCT as usize;
        assert!((lower..=upper).contains(&demo.voters.len()), "{}", demo.voters.len());
        // Parents come first so a store can insert in order.
        assert_eq!(tree_order(&demo.jurisdictions).len(), demo.jurisdictions.len());
        for precinct in &demo.precincts {
            assert!(demo.jurisdictions.iter().any(|j| j.id == precinct.jurisdiction));
        }
        for voter in &demo.voters {
            assert!(LAST_NAMES.contains(&voter.last_name.as_str()));
            assert!(voter.registered_on < date!(2026 - 11 - 21));
        }
    }

    #[test]
    fn the_roll_is_reproducible_from_its_seed() {
        let first = content(date!(2026 - 11 - 21), 42).unwrap().voters;
        let again = content(date!(2026 - 11 - 21), 42).unwrap().voters;
        let other = content(date!(2026 - 11 - 21), 43).unwrap().voters;
        assert_eq!(first, again);
        assert_ne!(first, other);
    }
}
