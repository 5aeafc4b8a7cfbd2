//! How long reading a county-size NIST 1500-100 results document takes, and how much memory:
//! `cargo build --release -p canvass-formats --example nist_results_size` then, from
//! crates/canvass-formats, `/usr/bin/time -f "peak %M KB" TARGET/release/examples/nist_results_size
//! PRECINCTS CONTESTS CANDIDATES` (`MODE=json` reads the JSON encoding instead). Every
//! candidate gets a total and four vote-type counts in every precinct.
// A measurement, not a product: a failed unwrap is a failed run.
#![allow(clippy::unwrap_used)]
use canvass_formats::nist_results::*;
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let (precincts, contests, selections) = (args[0], args[1], args[2]);
    let base = read_xml(
        std::fs::read("../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/err-gen-01.xml")
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    let mut report = base.clone();
    report.gp_units = (0..precincts)
        .map(|p| GpUnit {
            object_id: format!("p{p}"),
            kind: ReportingUnitType::Precinct,
            other_type: None,
            name: Some(InternationalizedText::new("en", format!("Precinct {p}"))),
            composing_gp_unit_ids: vec![],
            external_identifiers: vec![],
            voters_registered: Some(1000),
        })
        .collect();
    report.gp_units.push(GpUnit {
        object_id: "county".into(),
        kind: ReportingUnitType::County,
        other_type: None,
        name: Some(InternationalizedText::new("en", "County")),
        composing_gp_unit_ids: (0..precincts).map(|p| format!("p{p}")).collect(),
        external_identifiers: vec![],
        voters_registered: None,
    });
    let election = &mut report.elections[0];
    election.election_scope_id = "county".into();
    election.candidates = (0..contests * selections)
        .map(|c| Candidate {
            object_id: format!("c{c}"),
            ballot_name: InternationalizedText::new("en", format!("Candidate {c}")),
            party_id: None,
        })
        .collect();
    let kinds = [
        CountItemType::Total,
        CountItemType::ElectionDay,
        CountItemType::Early,
        CountItemType::AbsenteeMail,
        CountItemType::Provisional,
    ];
    election.contests = (0..contests)
        .map(|k| Contest {
            object_id: format!("k{k}"),
            name: format!("Contest {k}"),
            election_district_id: "county".into(),
            kind: ContestKind::Candidate { votes_allowed: 1, primary_party_ids: vec![] },
            selections: (0..selections)
                .map(|s| ContestSelection {
                    object_id: format!("k{k}s{s}"),
                    choice: Choice::Candidates {
                        candidate_ids: vec![format!("c{}", k * selections + s)],
                        is_write_in: None,
                    },
                    vote_counts: (0..precincts)
                        .flat_map(|p| {
                            kinds.iter().map(move |kind| VoteCounts {
                                gp_unit_id: format!("p{p}"),
                                kind: *kind,
                                other_type: None,
                                count: if *kind == CountItemType::Total { 40 } else { 10 },
                            })
                        })
                        .collect(),
                })
                .collect(),
            other_counts: vec![],
        })
        .collect();
    let mut xml = Vec::new();
    write_xml(&report, &mut xml).unwrap();
    let mut json = Vec::new();
    write_json(&report, &mut json).unwrap();
    eprintln!("xml {} MB, json {} MB", xml.len() / 1_000_000, json.len() / 1_000_000);
    let mode = std::env::var("MODE").unwrap_or_default();
    let start = Instant::now();
    let read = if mode == "json" { read_json(json.as_slice()).unwrap() } else { read_xml(xml.as_slice()).unwrap() };
    let read_time = start.elapsed();
    let start = Instant::now();
    let by_level = read.reported();
    eprintln!(
        "{mode} read {:?}, reported {:?} ({} counts, {} problems)",
        read_time,
        start.elapsed(),
        by_level.precincts.counts.len(),
        by_level.precincts.problems.len()
    );
}
