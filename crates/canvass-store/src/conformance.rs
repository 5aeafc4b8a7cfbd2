//! The one behaviour suite every [`Store`] must pass. Each backend mounts it in a test binary
//! that gives every scenario a fresh, migrated database; the scenarios never know which
//! database they run on, so the backends cannot drift apart.
// This module is test code shipped in the library so both backends can mount it: a panic is a
// failed check, which is what unwrap and assert are for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{future::Future, pin::Pin};

use canvass_core::{
    credential::{StaffAccount, StaffRole, Username},
    demo,
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    voter::VoterStatus,
};
use time::macros::date;

use crate::{
    BlindIndexes, IndexLookup, KeyState, KeyVersionUsage, PrecinctVoterCount, SealedFields, SealedVoter, Store,
    StoreError, StoredDataKey, StoredKeyRing,
};

pub type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One named check of store behaviour.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub run: for<'a> fn(&'a dyn Store) -> ScenarioFuture<'a>,
}

/// Every scenario, in a stable order.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "fresh_store_is_migrated_and_empty", run: fresh_store_is_migrated_and_empty },
        Scenario { name: "jurisdiction_tree_round_trips", run: jurisdiction_tree_round_trips },
        Scenario { name: "duplicate_jurisdiction_is_refused", run: duplicate_jurisdiction_is_refused },
        Scenario { name: "jurisdiction_needs_an_existing_parent", run: jurisdiction_needs_an_existing_parent },
        Scenario {
            name: "precincts_belong_to_existing_jurisdictions",
            run: precincts_belong_to_existing_jurisdictions,
        },
        Scenario { name: "election_and_contests_round_trip_in_ballot_order", run: election_round_trips },
        Scenario { name: "election_insert_is_atomic", run: election_insert_is_atomic },
        Scenario { name: "staff_accounts_upsert", run: staff_accounts_upsert },
        Scenario { name: "unicode_names_round_trip", run: unicode_names_round_trip },
        Scenario { name: "demo_content_loads", run: demo_content_loads },
        Scenario { name: "key_ring_round_trips", run: key_ring_round_trips },
        Scenario { name: "key_rotation_retires_only_unused_versions", run: key_rotation_retires_only_unused_versions },
        Scenario {
            name: "sealed_voters_round_trip_and_index_lookups",
            run: sealed_voters_round_trip_and_index_lookups,
        },
        Scenario {
            name: "reseal_moves_only_rows_on_the_previous_version",
            run: reseal_moves_only_rows_on_the_previous_version,
        },
        Scenario { name: "shredding_removes_the_whole_key_ring", run: shredding_removes_the_whole_key_ring },
    ]
}

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

fn name(value: &str) -> Name {
    Name::parse(value).unwrap()
}

fn state(value: &str) -> Jurisdiction {
    Jurisdiction { id: id(value), name: name("State"), kind: JurisdictionKind::State, parent: None }
}

fn county(value: &str, parent: &str) -> Jurisdiction {
    Jurisdiction { id: id(value), name: name(value), kind: JurisdictionKind::County, parent: Some(id(parent)) }
}

fn precinct(value: &str, jurisdiction: &str) -> Precinct {
    Precinct { id: PrecinctId::parse(value).unwrap(), jurisdiction: id(jurisdiction), name: name(value) }
}

fn voter(number: &str, county: &str, precinct: &str, status: VoterStatus) -> SealedVoter {
    sealed_voter(number, county, county, precinct, status, 1)
}

fn sealed_voter(
    number: &str,
    jurisdiction: &str,
    county: &str,
    precinct: &str,
    status: VoterStatus,
    key_version: u32,
) -> SealedVoter {
    let bytes = |field: &str| format!("sealed {field} of {number} v{key_version}").into_bytes();
    SealedVoter {
        registration_number: number.to_owned(),
        jurisdiction: id(jurisdiction),
        county: id(county),
        precinct: PrecinctId::parse(precinct).unwrap(),
        party: "UNA".into(),
        status,
        registered_on: date!(2020 - 02 - 29),
        key_version,
        fields: SealedFields {
            first_name: bytes("first"),
            last_name: bytes("last"),
            birth_date: Some(bytes("birth")),
            ssn_last_four: None,
            drivers_license: Some(bytes("licence")),
            email: None,
        },
        indexes: BlindIndexes { name: Some(7), identity: None, drivers_license: Some(number.len() as i64) },
    }
}

fn key(purpose: &str, version: u32, state: KeyState) -> StoredDataKey {
    StoredDataKey {
        purpose: purpose.to_owned(),
        version,
        wrapped: format!("wrapped {purpose} {version}").into_bytes(),
        index_bits: purpose.starts_with("index:").then_some(18),
        state,
    }
}

fn ring(jurisdiction: &str) -> StoredKeyRing {
    StoredKeyRing {
        jurisdiction: id(jurisdiction),
        root_check: b"check".to_vec(),
        shares: None,
        projected_rows: 1_000_000,
        seals: vec![("passphrase".into(), b"sealed root".to_vec())],
        keys: vec![key("field", 1, KeyState::Active), key("index:name", 1, KeyState::Active)],
    }
}

/// A state, a county and two precincts, for the voter scenarios.
async fn places(store: &dyn Store) {
    store.insert_jurisdiction(&state("nc")).await.unwrap();
    store.insert_jurisdiction(&county("wake", "nc")).await.unwrap();
    store.insert_precinct(&precinct("wake-01", "wake")).await.unwrap();
    store.insert_precinct(&precinct("wake-02", "wake")).await.unwrap();
}

fn sample_election(jurisdiction: &str) -> (Election, Vec<Contest>) {
    let election = Election {
        id: ElectionId::parse("general-2027").unwrap(),
        jurisdiction: id(jurisdiction),
        name: name("2027 General Election"),
        kind: ElectionKind::General,
        date: date!(2027 - 11 - 02),
    };
    let contest = |contest_id: &str, kind, vote_for: u32, choices: &[(&str, Option<&str>)]| Contest {
        id: ContestId::parse(contest_id).unwrap(),
        election: election.id.clone(),
        district: id(jurisdiction),
        name: name(contest_id),
        kind,
        vote_for: VoteFor::parse(vote_for).unwrap(),
        choices: choices
            .iter()
            .map(|(choice, party)| Choice { name: name(choice), party: party.map(str::to_owned) })
            .collect(),
    };
    let contests = vec![
        // Deliberately not in id order: ballot order is insertion order.
        contest(
            "zeta-governor",
            ContestKind::Candidate,
            1,
            &[("Zed", Some("REP")), ("Amy", Some("DEM")), ("Moe", None)],
        ),
        contest("alpha-board", ContestKind::Candidate, 2, &[("B", None), ("A", None), ("C", None)]),
        contest("measure-1", ContestKind::BallotMeasure, 1, &[("Yes", None), ("No", None)]),
    ];
    (election, contests)
}

fn fresh_store_is_migrated_and_empty(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        store.ping().await.unwrap();
        assert!(store.schema_version().await.unwrap() >= 1);
        assert!(store.jurisdictions().await.unwrap().is_empty());
        assert!(store.precincts(None).await.unwrap().is_empty());
        assert!(store.elections(None).await.unwrap().is_empty());
        assert!(store.administrators().await.unwrap().is_empty());
        assert!(store.registered_voter_counts().await.unwrap().is_empty());
        assert!(store.jurisdiction(&id("nowhere")).await.unwrap().is_none());
    })
}

fn jurisdiction_tree_round_trips(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let nc = state("ocd-division/country:us/state:nc");
        let wake = county("ocd-division/country:us/state:nc/county:wake", nc.id.as_str());
        let durham = county("ocd-division/country:us/state:nc/county:durham", nc.id.as_str());
        for jurisdiction in [&nc, &wake, &durham] {
            store.insert_jurisdiction(jurisdiction).await.unwrap();
        }
        assert_eq!(store.jurisdiction(&wake.id).await.unwrap(), Some(wake.clone()));
        assert_eq!(store.jurisdictions().await.unwrap(), vec![nc, durham, wake], "ordered by id");
    })
}

fn duplicate_jurisdiction_is_refused(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let original = state("nc");
        store.insert_jurisdiction(&original).await.unwrap();
        let mut renamed = original.clone();
        renamed.name = name("Another name");
        let error = store.insert_jurisdiction(&renamed).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "jurisdiction", .. }), "{error:?}");
        assert_eq!(store.jurisdiction(&original.id).await.unwrap(), Some(original));
    })
}

fn jurisdiction_needs_an_existing_parent(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let orphan = county("wake", "nc");
        let error = store.insert_jurisdiction(&orphan).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
        assert!(store.jurisdictions().await.unwrap().is_empty());
    })
}

fn precincts_belong_to_existing_jurisdictions(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        store.insert_jurisdiction(&state("nc")).await.unwrap();
        store.insert_jurisdiction(&county("wake", "nc")).await.unwrap();
        store.insert_jurisdiction(&county("durham", "nc")).await.unwrap();
        let first = precinct("wake-02", "wake");
        let second = precinct("wake-01", "wake");
        let third = precinct("durham-01", "durham");
        for precinct in [&first, &second, &third] {
            store.insert_precinct(precinct).await.unwrap();
        }
        let wake = store.precincts(Some(&id("wake"))).await.unwrap();
        assert_eq!(wake, vec![second.clone(), first.clone()]);
        assert_eq!(store.precincts(None).await.unwrap().len(), 3);

        let error = store.insert_precinct(&first).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "precinct", .. }), "{error:?}");
        let error = store.insert_precinct(&precinct("x-01", "nowhere")).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
        assert_eq!(store.precincts(None).await.unwrap().len(), 3);
    })
}

fn election_round_trips(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        store.insert_jurisdiction(&state("nc")).await.unwrap();
        let (election, contests) = sample_election("nc");
        store.insert_election(&election, &contests).await.unwrap();
        assert_eq!(store.election(&election.id).await.unwrap(), Some(election.clone()));
        assert_eq!(store.elections(Some(&id("nc"))).await.unwrap(), vec![election.clone()]);
        assert_eq!(store.contests(&election.id).await.unwrap(), contests);
        let error = store.insert_election(&election, &[]).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "election", .. }), "{error:?}");
    })
}

fn election_insert_is_atomic(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        store.insert_jurisdiction(&state("nc")).await.unwrap();
        let (election, mut contests) = sample_election("nc");
        contests[2].district = id("no-such-district");
        let error = store.insert_election(&election, &contests).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
        assert!(store.election(&election.id).await.unwrap().is_none());
        assert!(store.contests(&election.id).await.unwrap().is_empty());
    })
}

fn staff_accounts_upsert(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let username = Username::parse("admin").unwrap();
        let account = StaffAccount {
            username: username.clone(),
            password_hash: "$argon2id$first".into(),
            role: StaffRole::Administrator,
        };
        store.upsert_staff_account(&account).await.unwrap();
        assert_eq!(store.staff_account(&username).await.unwrap(), Some(account.clone()));
        let replaced = StaffAccount { password_hash: "$argon2id$second".into(), ..account };
        store.upsert_staff_account(&replaced).await.unwrap();
        assert_eq!(store.administrators().await.unwrap(), vec![replaced]);
        assert!(store.staff_account(&Username::parse("nobody").unwrap()).await.unwrap().is_none());
    })
}

fn unicode_names_round_trip(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let mut pr = state("ocd-division/country:us/territory:pr");
        pr.name = name("Puerto Rico — Comisión Estatal de Elecciones");
        store.insert_jurisdiction(&pr).await.unwrap();
        let mut municipio = Jurisdiction {
            id: id("ocd-division/country:us/territory:pr/municipio:anasco"),
            name: name("Añasco"),
            kind: JurisdictionKind::Municipality,
            parent: Some(pr.id.clone()),
        };
        store.insert_jurisdiction(&municipio).await.unwrap();
        assert_eq!(store.jurisdiction(&municipio.id).await.unwrap(), Some(municipio.clone()));
        municipio.name = name("Anasco");
        assert_ne!(store.jurisdiction(&municipio.id).await.unwrap(), Some(municipio));
    })
}

fn demo_content_loads(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let demo = demo::content(date!(2026 - 11 - 21), 1).unwrap();
        for jurisdiction in &demo.jurisdictions {
            store.insert_jurisdiction(jurisdiction).await.unwrap();
        }
        for precinct in &demo.precincts {
            store.insert_precinct(precinct).await.unwrap();
        }
        store.insert_election(&demo.election, &demo.contests).await.unwrap();
        assert_eq!(store.jurisdictions().await.unwrap().len(), demo.jurisdictions.len());
        assert_eq!(store.contests(&demo.election.id).await.unwrap(), demo.contests);
    })
}

fn key_ring_round_trips(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        store.insert_jurisdiction(&state("nc")).await.unwrap();
        let stored = ring("nc");
        store.create_key_ring(&stored).await.unwrap();
        assert_eq!(store.key_ring(&id("nc")).await.unwrap(), Some(stored.clone()));
        assert_eq!(store.key_ring_jurisdictions().await.unwrap(), vec![id("nc")]);
        let error = store.create_key_ring(&stored).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "key ring", .. }), "{error:?}");

        store.put_root_seal(&id("nc"), "passphrase", b"resealed").await.unwrap();
        store.put_root_seal(&id("nc"), "kms", b"kms blob").await.unwrap();
        store.set_share_policy(&id("nc"), 2, 3).await.unwrap();
        let updated = store.key_ring(&id("nc")).await.unwrap().unwrap();
        assert_eq!(updated.shares, Some((2, 3)));
        assert_eq!(
            updated.seals,
            vec![("kms".to_owned(), b"kms blob".to_vec()), ("passphrase".to_owned(), b"resealed".to_vec())]
        );
        assert!(store.key_ring(&id("elsewhere")).await.unwrap().is_none());
        let error = store.create_key_ring(&ring("no-such-jurisdiction")).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
    })
}

fn key_rotation_retires_only_unused_versions(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.create_key_ring(&ring("wake")).await.unwrap();
        store.insert_voters(&[sealed_voter("W1", "wake", "wake", "wake-01", VoterStatus::Active, 1)]).await.unwrap();
        store.add_data_key(&id("wake"), &key("field", 2, KeyState::Active)).await.unwrap();
        let keys = store.key_ring(&id("wake")).await.unwrap().unwrap().keys;
        let field_states: Vec<(u32, KeyState)> =
            keys.iter().filter(|k| k.purpose == "field").map(|k| (k.version, k.state)).collect();
        assert_eq!(field_states, vec![(1, KeyState::Previous), (2, KeyState::Active)]);
        let index_state = keys.iter().find(|k| k.purpose == "index:name").map(|k| k.state);
        assert_eq!(index_state, Some(KeyState::Active), "other purposes are untouched");

        let error = store.retire_data_key(&id("wake"), "field", 1).await.unwrap_err();
        assert!(matches!(error, StoreError::InUse { rows: 1, .. }), "{error:?}");
        let error = store.retire_data_key(&id("wake"), "field", 2).await.unwrap_err();
        assert!(matches!(error, StoreError::InUse { .. }), "the active version is never retired: {error:?}");

        let mut moved = sealed_voter("W1", "wake", "wake", "wake-01", VoterStatus::Active, 2);
        moved.indexes = BlindIndexes::default();
        assert_eq!(store.reseal_voters(&[moved], 1).await.unwrap(), 1);
        store.retire_data_key(&id("wake"), "field", 1).await.unwrap();
        let keys = store.key_ring(&id("wake")).await.unwrap().unwrap().keys;
        assert_eq!(
            keys.iter().find(|k| k.purpose == "field" && k.version == 1).map(|k| k.state),
            Some(KeyState::Retired)
        );
        let error = store.add_data_key(&id("wake"), &key("field", 2, KeyState::Active)).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { .. }), "{error:?}");
    })
}

fn sealed_voters_round_trip_and_index_lookups(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.create_key_ring(&ring("wake")).await.unwrap();
        let batch = vec![
            voter("NC1", "wake", "wake-01", VoterStatus::Active),
            voter("NC2", "wake", "wake-01", VoterStatus::Inactive),
            voter("NC3", "wake", "wake-01", VoterStatus::Removed),
            voter("NC44", "wake", "wake-02", VoterStatus::Temporary),
        ];
        store.insert_voters(&batch).await.unwrap();
        let expected = vec![
            PrecinctVoterCount { precinct: PrecinctId::parse("wake-01").unwrap(), registered: 2 },
            PrecinctVoterCount { precinct: PrecinctId::parse("wake-02").unwrap(), registered: 1 },
        ];
        assert_eq!(store.registered_voter_counts().await.unwrap(), expected);

        let by_name = store.voters_by_index(&id("wake"), IndexLookup::Name(7)).await.unwrap();
        assert_eq!(by_name, batch, "every row, in registration-number order, whole");
        let by_licence = store.voters_by_index(&id("wake"), IndexLookup::DriversLicense(4)).await.unwrap();
        assert_eq!(by_licence.iter().map(|v| v.registration_number.as_str()).collect::<Vec<_>>(), ["NC44"]);
        assert!(store.voters_by_index(&id("wake"), IndexLookup::Identity(7)).await.unwrap().is_empty());
        assert!(
            store.voters_by_index(&id("nc"), IndexLookup::Name(7)).await.unwrap().is_empty(),
            "scoped to the jurisdiction"
        );
        assert_eq!(store.key_version_usage(&id("wake")).await.unwrap(), vec![KeyVersionUsage { version: 1, rows: 4 }]);

        let bad_batch = vec![
            voter("NC5", "wake", "wake-02", VoterStatus::Active),
            voter("NC1", "wake", "wake-02", VoterStatus::Active),
        ];
        let error = store.insert_voters(&bad_batch).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "voter", .. }), "{error:?}");
        assert_eq!(store.registered_voter_counts().await.unwrap(), expected, "nothing from a failed batch is kept");
    })
}

fn reseal_moves_only_rows_on_the_previous_version(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.create_key_ring(&ring("wake")).await.unwrap();
        let rows: Vec<SealedVoter> =
            (0..5).map(|n| sealed_voter(&format!("R{n}"), "wake", "wake", "wake-01", VoterStatus::Active, 1)).collect();
        store.insert_voters(&rows).await.unwrap();
        let batch = store.voters_sealed_with(&id("wake"), 1, 3).await.unwrap();
        assert_eq!(batch.len(), 3);
        let forward: Vec<SealedVoter> = batch
            .iter()
            .map(|v| SealedVoter {
                key_version: 2,
                fields: sealed_voter(&v.registration_number, "wake", "wake", "wake-01", v.status, 2).fields,
                ..v.clone()
            })
            .collect();
        assert_eq!(store.reseal_voters(&forward, 1).await.unwrap(), 3);
        // A second pass with the same rows finds them already moved and changes nothing.
        assert_eq!(store.reseal_voters(&forward, 1).await.unwrap(), 0);
        assert_eq!(
            store.key_version_usage(&id("wake")).await.unwrap(),
            vec![KeyVersionUsage { version: 1, rows: 2 }, KeyVersionUsage { version: 2, rows: 3 }]
        );
        let moved = store.voters_by_index(&id("wake"), IndexLookup::Name(7)).await.unwrap();
        let first = moved.iter().find(|v| v.registration_number == forward[0].registration_number).unwrap();
        assert_eq!(first, &forward[0]);
    })
}

fn shredding_removes_the_whole_key_ring(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.create_key_ring(&ring("wake")).await.unwrap();
        store.create_key_ring(&ring("nc")).await.unwrap();
        store.insert_voters(&[voter("W1", "wake", "wake-01", VoterStatus::Active)]).await.unwrap();
        store.shred_key_ring(&id("wake")).await.unwrap();
        assert!(store.key_ring(&id("wake")).await.unwrap().is_none());
        assert_eq!(store.key_ring_jurisdictions().await.unwrap(), vec![id("nc")], "other rings are untouched");
        // The sealed rows stay, unreadable; shredding is about the keys.
        assert_eq!(store.key_version_usage(&id("wake")).await.unwrap(), vec![KeyVersionUsage { version: 1, rows: 1 }]);
        let error = store.shred_key_ring(&id("wake")).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
    })
}
