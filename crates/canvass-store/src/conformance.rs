//! The one behaviour suite every [`Store`] must pass. Each backend mounts it in a test binary
//! that gives every scenario a fresh, migrated database; the scenarios never know which
//! database they run on, so the backends cannot drift apart.
// This module is test code shipped in the library so both backends can mount it: a panic is a
// failed check, which is what unwrap and assert are for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use canvass_core::{
    access::{Grant, RequestKind, RequestStatus, StaffRole},
    credential::{EmailAddress, StaffAccount, Username},
    demo,
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    lifecycle::StatusReason,
    name::Name,
    voter::VoterStatus,
};
use time::macros::date;

use crate::{
    BlindIndexes, ImportCounts, IndexLookup, KeyState, KeyVersionUsage, LEDGER_SEARCH_LIMIT, LedgerAppend, LedgerQuery,
    LedgerTile, PrecinctVoterCount, SealedFields, SealedVoter, Store, StoreError, StoredCheckpoint, StoredCosignature,
    StoredDataKey, StoredImport, StoredIncident, StoredKeyRing, StoredPlacesImport, StoredPollingPlace, StoredRequest,
    StoredSession, StoredStatusChange, StoredToken, VoterBatch,
};

mod duplicates;
mod incidents;
mod pending_fpca;
mod records;
mod results_snapshots;
mod uocava;
mod voter_uocava;

pub type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One named check of store behaviour.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub run: for<'a> fn(&'a dyn Store) -> ScenarioFuture<'a>,
}

mod ballots;
mod definitions;
mod results;

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
        Scenario { name: "staff_suspension_and_totp_steps", run: staff_suspension_and_totp_steps },
        Scenario { name: "grants_add_list_and_remove", run: grants_add_list_and_remove },
        Scenario { name: "sessions_round_trip_and_end", run: sessions_round_trip_and_end },
        Scenario { name: "api_tokens_issue_list_and_revoke", run: api_tokens_issue_list_and_revoke },
        Scenario {
            name: "requests_move_only_from_the_expected_status",
            run: requests_move_only_from_the_expected_status,
        },
        Scenario { name: "incidents_are_listed_newest_first", run: incidents_are_listed_newest_first },
        Scenario { name: "every_request_kind_is_stored_and_moves", run: every_request_kind_is_stored_and_moves },
        Scenario { name: "mail_outbox_queues_sends_and_retries", run: mail_outbox_queues_sends_and_retries },
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
        Scenario { name: "voter_pages_walk_the_roll_in_order", run: voter_pages_walk_the_roll_in_order },
        Scenario {
            name: "voter_batches_insert_replace_and_keep_history",
            run: voter_batches_insert_replace_and_keep_history,
        },
        Scenario { name: "voter_batch_is_all_or_nothing", run: voter_batch_is_all_or_nothing },
        Scenario { name: "voter_imports_record_progress", run: voter_imports_record_progress },
        Scenario { name: "voter_indexes_defer_only_on_an_empty_roll", run: voter_indexes_defer_only_on_an_empty_roll },
        Scenario {
            name: "voter_status_changes_apply_atomically_and_compare_and_set",
            run: voter_status_changes_apply_atomically_and_compare_and_set,
        },
        Scenario {
            name: "polling_places_are_replaced_whole_per_jurisdiction",
            run: polling_places_are_replaced_whole_per_jurisdiction,
        },
        Scenario {
            name: "polling_place_replacement_is_all_or_nothing",
            run: polling_place_replacement_is_all_or_nothing,
        },
        Scenario { name: "shredding_removes_the_whole_key_ring", run: shredding_removes_the_whole_key_ring },
        Scenario { name: "ledger_appends_at_consecutive_indexes", run: ledger_appends_at_consecutive_indexes },
        Scenario { name: "ledger_bodies_round_trip_byte_exact", run: ledger_bodies_round_trip_byte_exact },
        Scenario {
            name: "ledger_concurrent_appends_leave_no_gaps_or_repeats",
            run: ledger_concurrent_appends_leave_no_gaps_or_repeats,
        },
        Scenario { name: "ledger_search_filters_newest_first", run: ledger_search_filters_newest_first },
        Scenario { name: "ledger_search_pages_with_a_cursor", run: ledger_search_pages_with_a_cursor },
        Scenario {
            name: "ledger_targets_are_found_before_and_after_indexing",
            run: ledger_targets_are_found_before_and_after_indexing,
        },
        Scenario { name: "ledger_count_agrees_with_search", run: ledger_count_agrees_with_search },
        Scenario { name: "ledger_tiles_grow_and_checkpoints_stay", run: ledger_tiles_grow_and_checkpoints_stay },
        Scenario { name: "ledger_refused_integration_writes_nothing", run: ledger_refused_integration_writes_nothing },
        Scenario { name: "ledger_cosignatures_upsert_per_witness", run: ledger_cosignatures_upsert_per_witness },
        Scenario {
            name: "duplicate_candidates_pair_within_a_roll_across_the_tree",
            run: duplicates::duplicate_candidates_pair_within_a_roll_across_the_tree,
        },
    ]
    .into_iter()
    .chain(ballots::scenarios())
    .chain(records::scenarios())
    .chain(definitions::scenarios())
    .chain(results::scenarios())
    .chain(results_snapshots::scenarios())
    .chain(incidents::scenarios())
    .chain(uocava::scenarios())
    .chain(voter_uocava::scenarios())
    .chain(pending_fpca::scenarios())
    .collect()
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
            details: Some(bytes("details")),
        },
        indexes: BlindIndexes {
            name: Some(7),
            identity: None,
            drivers_license: Some(number.len() as i64),
            lookup: Some(11),
        },
        row_digest: Some(i64::from(key_version) * 1000 + number.len() as i64),
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
        assert!(store.staff_accounts().await.unwrap().is_empty());
        assert!(store.all_grants().await.unwrap().is_empty());
        assert!(store.api_tokens().await.unwrap().is_empty());
        assert!(store.requests(None, 100).await.unwrap().is_empty());
        assert!(store.incidents(100).await.unwrap().is_empty());
        assert!(store.pending_mail(100).await.unwrap().is_empty());
        assert!(store.recent_mail(100).await.unwrap().is_empty());
        assert_eq!(store.count_ledger(&LedgerQuery::default()).await.unwrap(), 0);
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

fn user(value: &str) -> Username {
    Username::parse(value).unwrap()
}

/// A new account as `canvass` creates it: no second factor yet, not suspended.
fn account(username: &str) -> StaffAccount {
    StaffAccount::new(user(username), format!("$argon2id$hash-of-{username}"), None)
}

fn staff_accounts_upsert(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let first = account("admin");
        store.upsert_staff_account(&first).await.unwrap();
        assert_eq!(store.staff_account(&first.username).await.unwrap(), Some(first.clone()));

        // Every field is replaced, the optional ones included.
        let replaced = StaffAccount {
            username: first.username.clone(),
            password_hash: "$argon2id$second".into(),
            email: Some(EmailAddress::parse("admin@wake.example.gov").unwrap()),
            suspended: true,
            totp_secret: Some(vec![0, 1, 2, 0xff, 0]),
            totp_last_step: 58_000_000,
        };
        store.upsert_staff_account(&replaced).await.unwrap();
        assert_eq!(store.staff_account(&first.username).await.unwrap(), Some(replaced.clone()));
        let cleared = StaffAccount { email: None, totp_secret: None, suspended: false, ..replaced.clone() };
        store.upsert_staff_account(&cleared).await.unwrap();
        assert_eq!(store.staff_account(&first.username).await.unwrap(), Some(cleared.clone()));

        for name in ["zoe", "a.clerk", "b_auditor", "a-clerk"] {
            store.upsert_staff_account(&account(name)).await.unwrap();
        }
        let names: Vec<String> =
            store.staff_accounts().await.unwrap().iter().map(|account| account.username.to_string()).collect();
        assert_eq!(names, ["a-clerk", "a.clerk", "admin", "b_auditor", "zoe"], "by username, byte order");
        assert!(store.staff_account(&user("nobody")).await.unwrap().is_none());
    })
}

fn staff_suspension_and_totp_steps(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let alice = account("alice");
        let bob = account("bob");
        store.upsert_staff_account(&alice).await.unwrap();
        store.upsert_staff_account(&bob).await.unwrap();

        store.set_staff_suspended(&alice.username, true).await.unwrap();
        assert!(store.staff_account(&alice.username).await.unwrap().unwrap().suspended);
        assert!(!store.staff_account(&bob.username).await.unwrap().unwrap().suspended);
        store.set_staff_suspended(&alice.username, true).await.unwrap();
        store.set_staff_suspended(&alice.username, false).await.unwrap();
        assert!(!store.staff_account(&alice.username).await.unwrap().unwrap().suspended);
        let error = store.set_staff_suspended(&user("nobody"), true).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "staff account", .. }), "{error:?}");

        // A step is accepted once, and never one at or below the last accepted.
        assert!(store.claim_totp_step(&alice.username, 100).await.unwrap());
        assert!(!store.claim_totp_step(&alice.username, 100).await.unwrap(), "the same step twice");
        assert!(!store.claim_totp_step(&alice.username, 99).await.unwrap(), "an earlier step");
        assert!(store.claim_totp_step(&alice.username, 102).await.unwrap());
        assert!(!store.claim_totp_step(&alice.username, 101).await.unwrap(), "a step skipped over");
        assert_eq!(store.staff_account(&alice.username).await.unwrap().unwrap().totp_last_step, 102);
        assert_eq!(store.staff_account(&bob.username).await.unwrap().unwrap().totp_last_step, 0, "per account");
        assert!(store.claim_totp_step(&bob.username, 100).await.unwrap());
        assert!(!store.claim_totp_step(&user("nobody"), 100).await.unwrap());

        // Two sign-ins racing with the same code: one wins.
        let accepted = std::sync::Mutex::new(Vec::new());
        let racers: Vec<Option<ScenarioFuture<'_>>> = (0..4)
            .map(|_| {
                let accepted = &accepted;
                let username = &alice.username;
                let future: ScenarioFuture<'_> = Box::pin(async move {
                    let won = store.claim_totp_step(username, 200).await.unwrap();
                    accepted.lock().unwrap().push(won);
                });
                Some(future)
            })
            .collect();
        JoinAll { pending: racers }.await;
        let accepted = accepted.into_inner().unwrap();
        assert_eq!(accepted.iter().filter(|won| **won).count(), 1, "{accepted:?}");
    })
}

fn emergency(role: StaffRole, jurisdiction: Option<&str>, expires_at: i64) -> Grant {
    Grant { role, jurisdiction: jurisdiction.map(id), expires_at: Some(expires_at), emergency: true }
}

fn permanent(role: StaffRole, jurisdiction: Option<&str>) -> Grant {
    Grant::permanent(role, jurisdiction.map(id))
}

fn grants_add_list_and_remove(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        let alice = user("alice");
        let bob = user("bob");
        store.upsert_staff_account(&account("alice")).await.unwrap();
        store.upsert_staff_account(&account("bob")).await.unwrap();
        assert!(store.grants(&alice).await.unwrap().is_empty());

        let clerk_wake = permanent(StaffRole::RegistrationClerk, Some("wake"));
        let clerk_nc = permanent(StaffRole::RegistrationClerk, Some("nc"));
        let auditor_node = permanent(StaffRole::Auditor, None);
        let state_node = permanent(StaffRole::StateAdministrator, None);
        for grant in [&clerk_wake, &auditor_node, &clerk_nc, &state_node] {
            store.add_grant(&alice, grant).await.unwrap();
        }
        let observer = permanent(StaffRole::Observer, Some("wake"));
        store.add_grant(&bob, &observer).await.unwrap();
        assert_eq!(
            store.grants(&alice).await.unwrap(),
            vec![state_node.clone(), clerk_nc.clone(), clerk_wake.clone(), auditor_node.clone()],
            "by role (in policy order), then scope with the node first"
        );

        // The same permanent grant twice, on a jurisdiction or on the whole node.
        for grant in [&clerk_wake, &auditor_node] {
            let error = store.add_grant(&alice, grant).await.unwrap_err();
            assert!(matches!(error, StoreError::AlreadyExists { what: "grant", .. }), "{error:?}");
        }
        // A permanent grant that differs only by expiry is still the same grant.
        let expiring = Grant { expires_at: Some(1), ..auditor_node.clone() };
        let error = store.add_grant(&alice, &expiring).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "grant", .. }), "{error:?}");

        // Break-glass access beside a permanent grant, and opened again later.
        let glass = emergency(StaffRole::StateAdministrator, None, 1_000);
        store.add_grant(&alice, &glass).await.unwrap();
        let county_glass = emergency(StaffRole::CountyAdministrator, Some("wake"), 2_000);
        store.add_grant(&bob, &county_glass).await.unwrap();
        let reopened = emergency(StaffRole::CountyAdministrator, Some("wake"), 9_000);
        store.add_grant(&bob, &reopened).await.unwrap();
        assert_eq!(
            store.grants(&bob).await.unwrap(),
            vec![reopened.clone(), observer.clone()],
            "opened again, the emergency grant keeps the new expiry"
        );
        assert_eq!(
            store.grants(&alice).await.unwrap(),
            vec![state_node.clone(), glass.clone(), clerk_nc.clone(), clerk_wake.clone(), auditor_node.clone()],
            "the permanent grant before the emergency one"
        );

        // Grants name an existing account and jurisdiction.
        let error = store.add_grant(&user("nobody"), &clerk_wake).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "staff account", .. }), "{error:?}");
        let error = store.add_grant(&user("nobody"), &glass).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "staff account", .. }), "{error:?}");
        let error = store.add_grant(&bob, &permanent(StaffRole::Auditor, Some("durham"))).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "jurisdiction", .. }), "{error:?}");

        assert_eq!(
            store.all_grants().await.unwrap(),
            vec![
                (alice.clone(), state_node.clone()),
                (alice.clone(), glass.clone()),
                (alice.clone(), clerk_nc.clone()),
                (alice.clone(), clerk_wake.clone()),
                (alice.clone(), auditor_node.clone()),
                (bob.clone(), reopened.clone()),
                (bob.clone(), observer.clone()),
            ]
        );

        // Removing takes the permanent grant only; an emergency grant runs out by itself.
        store.remove_grant(&alice, StaffRole::StateAdministrator, None).await.unwrap();
        let error = store.remove_grant(&alice, StaffRole::StateAdministrator, None).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "grant", .. }), "{error:?}");
        let error = store.remove_grant(&bob, StaffRole::CountyAdministrator, Some(&id("wake"))).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "grant", .. }), "{error:?}");
        store.remove_grant(&alice, StaffRole::RegistrationClerk, Some(&id("wake"))).await.unwrap();
        let error = store.remove_grant(&alice, StaffRole::Auditor, Some(&id("wake"))).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "grant", .. }), "{error:?}");
        assert_eq!(store.grants(&alice).await.unwrap(), vec![glass, clerk_nc, auditor_node]);
        assert_eq!(store.grants(&bob).await.unwrap(), vec![reopened, observer]);

        // Removed, a permanent grant can be given again.
        store.add_grant(&alice, &state_node).await.unwrap();
        assert!(store.grants(&alice).await.unwrap().contains(&state_node));
        assert!(store.grants(&user("nobody")).await.unwrap().is_empty());
    })
}

fn session(id_hash: &[u8], username: &str, at: i64) -> StoredSession {
    StoredSession {
        id_hash: id_hash.to_vec(),
        username: user(username),
        csrf_token: format!("csrf-{username}-{at}"),
        created_at: at,
        last_seen_at: at,
        second_factor: false,
    }
}

fn sessions_round_trip_and_end(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        store.upsert_staff_account(&account("alice")).await.unwrap();
        store.upsert_staff_account(&account("bob")).await.unwrap();
        // Hashes are raw bytes, zeros and all.
        let first = session(&[0, 0xff, 0, 1], "alice", 1_000);
        let second = session(&[0xff; 32], "alice", 2_000);
        let other = session(&[7; 32], "bob", 3_000);
        for stored in [&first, &second, &other] {
            store.insert_session(stored).await.unwrap();
        }
        assert_eq!(store.session(&first.id_hash).await.unwrap(), Some(first.clone()));
        assert!(store.session(&[0, 0xff, 0]).await.unwrap().is_none(), "the whole hash must match");

        let error = store.insert_session(&session(&first.id_hash, "bob", 5)).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "session", .. }), "{error:?}");
        let error = store.insert_session(&session(&[9; 32], "nobody", 5)).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "staff account", .. }), "{error:?}");

        store.touch_session(&first.id_hash, 1_500, true).await.unwrap();
        let touched = StoredSession { last_seen_at: 1_500, second_factor: true, ..first.clone() };
        assert_eq!(store.session(&first.id_hash).await.unwrap(), Some(touched));
        assert_eq!(store.session(&second.id_hash).await.unwrap(), Some(second.clone()), "one session touched");

        store.delete_session(&first.id_hash).await.unwrap();
        assert!(store.session(&first.id_hash).await.unwrap().is_none());
        store.delete_session(&first.id_hash).await.unwrap();
        store.touch_session(&first.id_hash, 1_600, true).await.unwrap();
        assert!(store.session(&first.id_hash).await.unwrap().is_none(), "touching does not bring it back");

        store.insert_session(&first).await.unwrap();
        store.delete_sessions_of(&user("alice")).await.unwrap();
        assert!(store.session(&first.id_hash).await.unwrap().is_none());
        assert!(store.session(&second.id_hash).await.unwrap().is_none());
        assert_eq!(store.session(&other.id_hash).await.unwrap(), Some(other), "other accounts keep theirs");
        store.delete_sessions_of(&user("nobody")).await.unwrap();
    })
}

fn token(token_id: &str, owner: &str, jurisdiction: Option<&str>, created_at: i64) -> StoredToken {
    StoredToken {
        id: token_id.to_owned(),
        secret_hash: format!("hash of {token_id}").into_bytes(),
        label: format!("Results upload {token_id}"),
        owner: user(owner),
        role: StaffRole::ResultsReporter,
        jurisdiction: jurisdiction.map(id),
        created_at,
        expires_at: created_at + 86_400_000,
        revoked: false,
    }
}

fn api_tokens_issue_list_and_revoke(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.upsert_staff_account(&account("alice")).await.unwrap();
        let older = token("cvt_a1", "alice", Some("wake"), 1_000);
        let newer = StoredToken { role: StaffRole::Observer, ..token("cvt_b2", "alice", None, 2_000) };
        let newest = token("cvt_0z", "alice", Some("nc"), 3_000);
        for stored in [&older, &newest, &newer] {
            store.insert_api_token(stored).await.unwrap();
        }
        assert_eq!(store.api_token("cvt_a1").await.unwrap(), Some(older.clone()));
        assert_eq!(store.api_token("cvt_b2").await.unwrap(), Some(newer.clone()));
        assert!(store.api_token("cvt_zz").await.unwrap().is_none());
        assert_eq!(
            store.api_tokens().await.unwrap(),
            vec![newest.clone(), newer.clone(), older.clone()],
            "newest first"
        );

        let error = store.insert_api_token(&token("cvt_a1", "alice", None, 9)).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "api token", .. }), "{error:?}");
        let error = store.insert_api_token(&token("cvt_c3", "nobody", None, 9)).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "staff account", .. }), "{error:?}");
        let error = store.insert_api_token(&token("cvt_c3", "alice", Some("durham"), 9)).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "jurisdiction", .. }), "{error:?}");
        assert_eq!(store.api_tokens().await.unwrap().len(), 3);

        store.revoke_api_token("cvt_a1").await.unwrap();
        assert_eq!(store.api_token("cvt_a1").await.unwrap(), Some(StoredToken { revoked: true, ..older }));
        assert!(!store.api_token("cvt_b2").await.unwrap().unwrap().revoked);
        store.revoke_api_token("cvt_a1").await.unwrap();
        let error = store.revoke_api_token("cvt_zz").await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "api token", .. }), "{error:?}");
    })
}

fn request(request_id: &str, kind: RequestKind, created_at: i64) -> StoredRequest {
    StoredRequest {
        id: request_id.to_owned(),
        kind,
        requester: user("alice"),
        jurisdiction: id("wake"),
        subject: String::new(),
        justification: format!("why {request_id}"),
        created_at,
        expires_at: created_at + 3_600_000,
        status: RequestStatus::Pending,
        approver: None,
        decided_at: None,
    }
}

/// Every kind the core names (an incident's affected-voter export included, migration 0017)
/// is accepted by the table and read back as itself.
fn every_request_kind_is_stored_and_moves(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.upsert_staff_account(&account("alice")).await.unwrap();
        store.upsert_staff_account(&account("bob")).await.unwrap();
        for (number, kind) in RequestKind::ALL.into_iter().enumerate() {
            let stored = StoredRequest {
                subject: format!("inc-{number}"),
                ..request(&format!("req-kind-{number}"), kind, 1_000 + number as i64)
            };
            store.insert_request(&stored).await.unwrap();
            assert_eq!(store.request(&stored.id).await.unwrap(), Some(stored.clone()));
            let moved = store
                .transition_request(
                    &stored.id,
                    RequestStatus::Pending,
                    RequestStatus::Approved,
                    Some(&user("bob")),
                    2_000,
                )
                .await
                .unwrap();
            assert!(moved, "{kind:?}");
        }
        assert_eq!(store.requests(None, 100).await.unwrap().len(), RequestKind::ALL.len());
    })
}

fn requests_move_only_from_the_expected_status(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.upsert_staff_account(&account("alice")).await.unwrap();
        store.upsert_staff_account(&account("bob")).await.unwrap();
        let bob = user("bob");
        let export = request("req-1", RequestKind::ExportVoters, 1_000);
        let grant = StoredRequest {
            subject: "carol:county_administrator".into(),
            ..request("req-2", RequestKind::GrantAdministrator, 2_000)
        };
        let shred = request("req-3", RequestKind::ShredKeys, 3_000);
        for stored in [&grant, &export, &shred] {
            store.insert_request(stored).await.unwrap();
        }
        assert_eq!(store.request("req-2").await.unwrap(), Some(grant.clone()));
        assert!(store.request("req-9").await.unwrap().is_none());
        assert_eq!(store.requests(None, 10).await.unwrap(), vec![shred.clone(), grant.clone(), export.clone()]);
        assert_eq!(store.requests(None, 2).await.unwrap(), vec![shred.clone(), grant.clone()], "at most the limit");

        let error = store.insert_request(&export).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "request", .. }), "{error:?}");
        let orphan = StoredRequest { requester: user("nobody"), ..request("req-4", RequestKind::RotateKeys, 4) };
        let error = store.insert_request(&orphan).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "staff account", .. }), "{error:?}");
        let elsewhere = StoredRequest { jurisdiction: id("durham"), ..request("req-4", RequestKind::RotateKeys, 4) };
        let error = store.insert_request(&elsewhere).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "jurisdiction", .. }), "{error:?}");

        // Approved once: the second approval finds it no longer pending.
        assert!(
            store
                .transition_request("req-1", RequestStatus::Pending, RequestStatus::Approved, Some(&bob), 1_500)
                .await
                .unwrap()
        );
        assert!(
            !store
                .transition_request("req-1", RequestStatus::Pending, RequestStatus::Approved, Some(&bob), 1_600)
                .await
                .unwrap()
        );
        assert!(
            !store
                .transition_request("req-1", RequestStatus::Pending, RequestStatus::Rejected, None, 1_600)
                .await
                .unwrap()
        );
        let approved = StoredRequest {
            status: RequestStatus::Approved,
            approver: Some(bob.clone()),
            decided_at: Some(1_500),
            ..export
        };
        assert_eq!(store.request("req-1").await.unwrap(), Some(approved.clone()));

        // Run once: execution keeps who approved it and when.
        assert!(
            store
                .transition_request("req-1", RequestStatus::Approved, RequestStatus::Executed, None, 1_700)
                .await
                .unwrap()
        );
        assert!(
            !store
                .transition_request("req-1", RequestStatus::Approved, RequestStatus::Executed, None, 1_800)
                .await
                .unwrap()
        );
        let executed = StoredRequest { status: RequestStatus::Executed, ..approved };
        assert_eq!(store.request("req-1").await.unwrap(), Some(executed.clone()));

        // Rejected without an approver (expired): the decision time is recorded.
        assert!(
            store
                .transition_request("req-3", RequestStatus::Pending, RequestStatus::Rejected, None, 3_500)
                .await
                .unwrap()
        );
        let rejected = StoredRequest { status: RequestStatus::Rejected, decided_at: Some(3_500), ..shred };
        assert_eq!(store.request("req-3").await.unwrap(), Some(rejected.clone()));
        assert!(
            !store
                .transition_request("req-9", RequestStatus::Pending, RequestStatus::Approved, Some(&bob), 1)
                .await
                .unwrap(),
            "no such request"
        );

        assert_eq!(store.requests(Some(RequestStatus::Pending), 10).await.unwrap(), vec![grant.clone()]);
        assert_eq!(store.requests(Some(RequestStatus::Executed), 10).await.unwrap(), vec![executed]);
        assert_eq!(store.requests(Some(RequestStatus::Rejected), 10).await.unwrap(), vec![rejected]);
        assert!(store.requests(Some(RequestStatus::Approved), 10).await.unwrap().is_empty());
        assert!(store.requests(Some(RequestStatus::Pending), 0).await.unwrap().is_empty());

        // An approver that is no account is refused, and the request stays where it was.
        let error = store
            .transition_request("req-2", RequestStatus::Pending, RequestStatus::Approved, Some(&user("nobody")), 5)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "staff account", .. }), "{error:?}");
        assert_eq!(store.request("req-2").await.unwrap(), Some(grant.clone()));

        // Two approvers at once: one moves it.
        let moved = std::sync::Mutex::new(Vec::new());
        let racers: Vec<Option<ScenarioFuture<'_>>> = (0..4)
            .map(|racer| {
                let moved = &moved;
                let bob = &bob;
                let future: ScenarioFuture<'_> = Box::pin(async move {
                    let won = store
                        .transition_request("req-2", RequestStatus::Pending, RequestStatus::Approved, Some(bob), racer)
                        .await
                        .unwrap();
                    moved.lock().unwrap().push(won);
                });
                Some(future)
            })
            .collect();
        JoinAll { pending: racers }.await;
        let moved = moved.into_inner().unwrap();
        assert_eq!(moved.iter().filter(|won| **won).count(), 1, "{moved:?}");
        assert_eq!(store.request("req-2").await.unwrap().unwrap().status, RequestStatus::Approved);
    })
}

fn incident(incident_id: &str, opened_at: i64) -> StoredIncident {
    StoredIncident {
        id: incident_id.to_owned(),
        jurisdiction: Some(id("wake")),
        opened_at,
        kind: "bulk_read".into(),
        severity: "high".into(),
        summary: format!("{incident_id}: 5000 voter records read in ten minutes"),
        subject: Some(user("alice")),
        records_affected: 5_000,
        status: "open".into(),
        detected_at: opened_at,
        data_classes: vec!["voter_confidential".into()],
        ..StoredIncident::default()
    }
}

fn incidents_are_listed_newest_first(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let first = incident("inc-1", 1_000);
        // No jurisdiction, no account: an incident records what was seen, whatever exists.
        let manual = StoredIncident {
            jurisdiction: None,
            kind: "manual".into(),
            severity: "critical".into(),
            subject: None,
            records_affected: u64::from(u32::MAX) * 4,
            status: "closed".into(),
            ..incident("inc-2", 2_000)
        };
        let last = incident("inc-3", 3_000);
        for stored in [&first, &last, &manual] {
            store.insert_incident(stored).await.unwrap();
        }
        assert_eq!(store.incidents(10).await.unwrap(), vec![last.clone(), manual.clone(), first.clone()]);
        assert_eq!(store.incidents(1).await.unwrap(), vec![last]);
        assert!(store.incidents(0).await.unwrap().is_empty());
        let error = store.insert_incident(&incident("inc-1", 4_000)).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "incident", .. }), "{error:?}");
        assert_eq!(store.incidents(10).await.unwrap().len(), 3);
    })
}

fn mail_outbox_queues_sends_and_retries(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let first =
            store.enqueue_mail("a@wake.example.gov", "Break-glass access opened", "Body 1", 1_000).await.unwrap();
        let second =
            store.enqueue_mail("b@wake.example.gov", "Incident opened", "Body 2\nline 2", 2_000).await.unwrap();
        let third = store.enqueue_mail("c@wake.example.gov", "Añasco — résumé", "Body 3", 3_000).await.unwrap();
        assert!(first < second && second < third, "ids increase: {first} {second} {third}");

        let pending = store.pending_mail(10).await.unwrap();
        assert_eq!(
            pending.iter().map(|message| message.id).collect::<Vec<_>>(),
            [first, second, third],
            "oldest first"
        );
        let message = &pending[1];
        assert_eq!(
            (message.recipient.as_str(), message.subject.as_str(), message.body.as_str(), message.created_at),
            ("b@wake.example.gov", "Incident opened", "Body 2\nline 2", 2_000)
        );
        assert_eq!((message.sent_at, message.attempts, message.last_error.as_deref()), (None, 0, None));
        assert_eq!(pending[2].subject, "Añasco — résumé");
        assert_eq!(store.pending_mail(1).await.unwrap().len(), 1);

        store.mark_mail_sent(second, 2_500).await.unwrap();
        store.mark_mail_failed(first, "connection refused").await.unwrap();
        store.mark_mail_failed(first, "550 mailbox unavailable").await.unwrap();
        let pending = store.pending_mail(10).await.unwrap();
        assert_eq!(pending.iter().map(|message| message.id).collect::<Vec<_>>(), [first, third]);
        assert_eq!(pending[0].attempts, 2);
        assert_eq!(pending[0].last_error.as_deref(), Some("550 mailbox unavailable"), "the latest error");

        let recent = store.recent_mail(10).await.unwrap();
        assert_eq!(recent.iter().map(|message| message.id).collect::<Vec<_>>(), [third, second, first], "newest first");
        assert_eq!(recent[1].sent_at, Some(2_500));
        assert_eq!(recent[1].attempts, 0);
        assert_eq!(store.recent_mail(2).await.unwrap().len(), 2);

        let error = store.mark_mail_sent(third + 100, 1).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
        let error = store.mark_mail_failed(third + 100, "x").await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
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

/// An entry with a recognisable body; the search fields are set by the caller where they matter.
fn entry(body: &str) -> LedgerAppend {
    LedgerAppend {
        body: body.as_bytes().to_vec(),
        time_millis: 1_700_000_000_000,
        actor: "system".into(),
        action: "node.start".into(),
        jurisdiction: None,
        outcome: "allowed".into(),
        targets: Vec::new(),
    }
}

fn bodies(rows: &[crate::LedgerRow]) -> Vec<String> {
    rows.iter().map(|row| String::from_utf8_lossy(&row.body).into_owned()).collect()
}

fn indexes(rows: &[crate::LedgerRow]) -> Vec<u64> {
    rows.iter().map(|row| row.index).collect()
}

/// Runs futures concurrently on the current task, like `futures::future::join_all`; written
/// here so canvass-store needs no executor crate for one scenario.
struct JoinAll<'a> {
    pending: Vec<Option<ScenarioFuture<'a>>>,
}

impl Future for JoinAll<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let mut done = true;
        for slot in &mut self.pending {
            if let Some(future) = slot {
                if future.as_mut().poll(context).is_ready() {
                    *slot = None;
                } else {
                    done = false;
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    }
}

fn ledger_appends_at_consecutive_indexes(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        assert_eq!(store.ledger_size().await.unwrap(), 0);
        assert_eq!(store.append_ledger(&[]).await.unwrap(), 0, "an empty append on an empty log returns 0");
        assert_eq!(store.ledger_size().await.unwrap(), 0, "and writes nothing");
        assert_eq!(store.append_ledger(&[entry("a"), entry("b"), entry("c")]).await.unwrap(), 0);
        assert_eq!(store.append_ledger(&[entry("d")]).await.unwrap(), 3);
        assert_eq!(store.append_ledger(&[]).await.unwrap(), 4, "an empty append returns the next index");
        let batch: Vec<LedgerAppend> = ["e", "f", "g", "h", "i"].map(entry).to_vec();
        assert_eq!(store.append_ledger(&batch).await.unwrap(), 4);
        assert_eq!(store.ledger_size().await.unwrap(), 9);

        let all = store.ledger_entries(0, 100).await.unwrap();
        assert_eq!(indexes(&all), (0..9).collect::<Vec<_>>());
        assert_eq!(bodies(&all), ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
        assert_eq!(bodies(&store.ledger_entries(3, 2).await.unwrap()), ["d", "e"]);
        assert_eq!(indexes(&store.ledger_entries(7, 100).await.unwrap()), [7, 8], "fewer only at the end");
        assert!(store.ledger_entries(9, 10).await.unwrap().is_empty());
        assert!(store.ledger_entries(u64::MAX, 10).await.unwrap().is_empty());
        assert!(store.ledger_entries(0, 0).await.unwrap().is_empty());
    })
}

fn ledger_bodies_round_trip_byte_exact(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let not_utf8 = vec![0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x00, b'{', 0xf5];
        // The largest leaf tlog-tiles can carry, with every byte value in it.
        let largest: Vec<u8> = (0..65_535u32).map(|n| (n * 7 % 256) as u8).collect();
        let json = "{\"actor\":\"user:añasco\",\"targets\":[\"voter:NC1\"]}".as_bytes().to_vec();
        let mut batch: Vec<LedgerAppend> = [not_utf8, largest, json, Vec::new(), vec![0]]
            .into_iter()
            .map(|body| LedgerAppend { body, ..entry("") })
            .collect();
        batch[2].actor = "user:añasco".into();
        batch[2].jurisdiction = Some("ocd-division/country:us/territory:pr/municipio:añasco".into());
        store.append_ledger(&batch).await.unwrap();

        let stored = store.ledger_entries(0, 10).await.unwrap();
        assert_eq!(stored.len(), batch.len());
        for (row, sent) in stored.iter().zip(&batch) {
            assert_eq!(row.body, sent.body, "entry {} comes back byte for byte", row.index);
        }
        let query = LedgerQuery {
            actor: Some("user:añasco".into()),
            jurisdiction: Some("ocd-division/country:us/territory:pr/municipio:añasco".into()),
            limit: 10,
            ..LedgerQuery::default()
        };
        let found = store.search_ledger(&query).await.unwrap();
        assert_eq!(indexes(&found), [2]);
        assert_eq!(found[0].body, batch[2].body);
    })
}

fn ledger_concurrent_appends_leave_no_gaps_or_repeats(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        const TASKS: usize = 8;
        const CALLS: usize = 50;
        // Each call records where its batch landed, to check batches stay contiguous.
        let placed = std::sync::Mutex::new(Vec::new());
        let tasks: Vec<Option<ScenarioFuture<'_>>> = (0..TASKS)
            .map(|task| {
                let placed = &placed;
                let future: ScenarioFuture<'_> = Box::pin(async move {
                    for call in 0..CALLS {
                        let size = (task + call) % 4 + 1;
                        let batch: Vec<LedgerAppend> =
                            (0..size).map(|item| entry(&format!("task {task} call {call} item {item}"))).collect();
                        let first = store.append_ledger(&batch).await.unwrap();
                        placed.lock().unwrap().push((first, batch));
                    }
                });
                Some(future)
            })
            .collect();
        JoinAll { pending: tasks }.await;

        let placed = placed.into_inner().unwrap();
        let total: usize = placed.iter().map(|(_, batch)| batch.len()).sum();
        assert_eq!(store.ledger_size().await.unwrap(), total as u64);
        let stored = store.ledger_entries(0, total as u32 + 10).await.unwrap();
        assert_eq!(indexes(&stored), (0..total as u64).collect::<Vec<_>>(), "every index once, no gaps");
        for (first, batch) in &placed {
            let start = *first as usize;
            let landed: Vec<&[u8]> = stored[start..start + batch.len()].iter().map(|row| row.body.as_slice()).collect();
            let sent: Vec<&[u8]> = batch.iter().map(|entry| entry.body.as_slice()).collect();
            assert_eq!(landed, sent, "a batch lands whole and in order at the index it was given");
        }
    })
}

/// (actor, action, jurisdiction, outcome, time, targets) of one search fixture entry.
type SearchRow = (&'static str, &'static str, Option<&'static str>, &'static str, i64, &'static [&'static str]);

/// Eight entries over two days, two actors, three actions and a few targets.
async fn search_fixture(store: &dyn Store) {
    let day = 86_400_000;
    let base = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let spec: [SearchRow; 8] = [
        ("user:alice", "voter.read", Some("wake"), "allowed", base, &["voter:NC1"]),
        ("user:bob", "voter.read", Some("wake"), "denied", base + 1, &["voter:NC2"]),
        ("user:alice", "voter.export", Some("durham"), "allowed", base + 2, &["voter:NC1", "voter:NC3"]),
        ("system", "node.start", None, "allowed", base + day - 1, &[]),
        ("user:alice", "voter.read", Some("wake"), "allowed", base + day, &["voter:NC3", "voter:NC3"]),
        ("user:bob", "voter.export", Some("wake"), "allowed", base + day, &["voter:NC1"]),
        ("user:bob", "voter.read", Some("durham"), "failed", base + day + 5, &["voter:NC2"]),
        ("user:alice", "voter.read", Some("wake"), "allowed", base + 2 * day, &[]),
    ];
    let batch: Vec<LedgerAppend> = spec
        .iter()
        .enumerate()
        .map(|(number, (actor, action, jurisdiction, outcome, time, targets))| LedgerAppend {
            body: format!("entry {number}").into_bytes(),
            time_millis: *time,
            actor: (*actor).into(),
            action: (*action).into(),
            jurisdiction: jurisdiction.map(str::to_owned),
            outcome: (*outcome).into(),
            targets: targets.iter().map(|target| (*target).to_owned()).collect(),
        })
        .collect();
    // Two calls, so search does not depend on entries sharing one insert.
    store.append_ledger(&batch[..3]).await.unwrap();
    store.append_ledger(&batch[3..]).await.unwrap();
}

/// For each of the fixture's targets: the indexes a search by it finds, and its count, alone
/// and combined with an actor filter.
async fn target_answers(store: &dyn Store) -> Vec<(Vec<u64>, u64, Vec<u64>)> {
    let mut answers = Vec::new();
    for target in ["voter:NC1", "voter:NC2", "voter:NC3", "voter:NC9"] {
        let alone = LedgerQuery { target: Some(target.to_owned()), limit: 100, ..LedgerQuery::default() };
        let with_actor = LedgerQuery { actor: Some("user:alice".to_owned()), ..alone.clone() };
        answers.push((
            indexes(&store.search_ledger(&alone).await.unwrap()),
            store.count_ledger(&alone).await.unwrap(),
            indexes(&store.search_ledger(&with_actor).await.unwrap()),
        ));
    }
    answers
}

fn ledger_targets_are_found_before_and_after_indexing(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        assert_eq!(store.index_ledger_targets(100).await.unwrap(), 0, "an empty queue moves nothing");
        search_fixture(store).await;
        let queued = target_answers(store).await;
        assert_eq!(queued[0], (vec![5, 2, 0], 3, vec![2, 0]), "found while only queued");
        assert_eq!(queued[2].0, vec![4, 2], "a target named twice in one entry is queued once");
        assert_eq!(store.index_ledger_targets(2).await.unwrap(), 2, "entries 0 and 1 name one target each");
        assert_eq!(target_answers(store).await, queued, "half moved, the answers are the same");
        assert_eq!(store.index_ledger_targets(u64::MAX).await.unwrap(), 5, "the rest, each pair once");
        assert_eq!(store.index_ledger_targets(u64::MAX).await.unwrap(), 0, "nothing is left to move");
        assert_eq!(target_answers(store).await, queued, "all moved, the answers are the same");
        let mut later = entry("later");
        later.targets = vec!["voter:NC1".into()];
        store.append_ledger(&[later]).await.unwrap();
        let found = LedgerQuery { target: Some("voter:NC1".into()), limit: 100, ..LedgerQuery::default() };
        assert_eq!(indexes(&store.search_ledger(&found).await.unwrap()), [8, 5, 2, 0], "new and indexed together");
        assert_eq!(store.index_ledger_targets(u64::MAX).await.unwrap(), 1);
        assert_eq!(indexes(&store.search_ledger(&found).await.unwrap()), [8, 5, 2, 0]);
    })
}

fn ledger_search_filters_newest_first(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        search_fixture(store).await;
        let day = 86_400_000;
        let base = 1_767_225_600_000;
        let query = || LedgerQuery { limit: 100, ..LedgerQuery::default() };
        let text = |value: &str| Some(value.to_owned());
        let cases: Vec<(&str, LedgerQuery, Vec<u64>)> = vec![
            ("no filter", query(), vec![7, 6, 5, 4, 3, 2, 1, 0]),
            ("actor", LedgerQuery { actor: text("user:bob"), ..query() }, vec![6, 5, 1]),
            ("action", LedgerQuery { action: text("voter.export"), ..query() }, vec![5, 2]),
            ("jurisdiction", LedgerQuery { jurisdiction: text("durham"), ..query() }, vec![6, 2]),
            ("outcome", LedgerQuery { outcome: text("denied"), ..query() }, vec![1]),
            ("target", LedgerQuery { target: text("voter:NC1"), ..query() }, vec![5, 2, 0]),
            (
                "target named twice in one entry is found once",
                LedgerQuery { target: text("voter:NC3"), ..query() },
                vec![4, 2],
            ),
            ("since is inclusive", LedgerQuery { since_millis: Some(base + day), ..query() }, vec![7, 6, 5, 4]),
            ("until is exclusive", LedgerQuery { until_millis: Some(base + day), ..query() }, vec![3, 2, 1, 0]),
            (
                "time range",
                LedgerQuery { since_millis: Some(base + 1), until_millis: Some(base + day + 5), ..query() },
                vec![5, 4, 3, 2, 1],
            ),
            (
                "actor and action",
                LedgerQuery { actor: text("user:alice"), action: text("voter.read"), ..query() },
                vec![7, 4, 0],
            ),
            (
                "actor, action, jurisdiction and outcome",
                LedgerQuery {
                    actor: text("user:bob"),
                    action: text("voter.read"),
                    jurisdiction: text("durham"),
                    outcome: text("failed"),
                    ..query()
                },
                vec![6],
            ),
            (
                "target and actor",
                LedgerQuery { target: text("voter:NC1"), actor: text("user:alice"), ..query() },
                vec![2, 0],
            ),
            (
                "target, action and time",
                LedgerQuery {
                    target: text("voter:NC1"),
                    action: text("voter.export"),
                    since_millis: Some(base + day),
                    ..query()
                },
                vec![5],
            ),
            ("before_index", LedgerQuery { before_index: Some(5), ..query() }, vec![4, 3, 2, 1, 0]),
            (
                "before_index with a filter",
                LedgerQuery { before_index: Some(5), actor: text("user:bob"), ..query() },
                vec![1],
            ),
            (
                "before_index beyond the log",
                LedgerQuery { before_index: Some(u64::MAX), limit: 2, ..query() },
                vec![7, 6],
            ),
            ("before_index 0", LedgerQuery { before_index: Some(0), ..query() }, vec![]),
            ("limit", LedgerQuery { actor: text("user:alice"), limit: 2, ..query() }, vec![7, 4]),
            ("limit 0 finds nothing", LedgerQuery { limit: 0, ..query() }, vec![]),
            ("no match", LedgerQuery { actor: text("user:carol"), ..query() }, vec![]),
            ("unknown target", LedgerQuery { target: text("voter:NC9"), ..query() }, vec![]),
            ("filters are exact, not prefixes", LedgerQuery { action: text("voter"), ..query() }, vec![]),
            (
                "empty range",
                LedgerQuery { since_millis: Some(base + 5), until_millis: Some(base + 5), ..query() },
                vec![],
            ),
        ];
        for (case, query, expected) in cases {
            let found = store.search_ledger(&query).await.unwrap();
            assert_eq!(indexes(&found), expected, "{case}");
            for row in &found {
                assert_eq!(row.body, format!("entry {}", row.index).into_bytes(), "{case}: the body of {}", row.index);
            }
        }
    })
}

fn ledger_search_pages_with_a_cursor(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let total = u64::from(LEDGER_SEARCH_LIMIT) + 25;
        let batch: Vec<LedgerAppend> = (0..total)
            .map(|number| LedgerAppend {
                actor: if number % 3 == 0 { "user:alice".into() } else { "user:bob".into() },
                ..entry(&format!("entry {number}"))
            })
            .collect();
        store.append_ledger(&batch).await.unwrap();

        let everything = LedgerQuery { limit: u32::MAX, ..LedgerQuery::default() };
        let found = store.search_ledger(&everything).await.unwrap();
        assert_eq!(found.len(), LEDGER_SEARCH_LIMIT as usize, "the limit is capped");
        assert_eq!(found[0].index, total - 1);

        // Walk alice's entries a page at a time, as the admin search does.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = LedgerQuery {
                actor: Some("user:alice".into()),
                before_index: cursor,
                limit: 100,
                ..everything.clone()
            };
            let found = store.search_ledger(&page).await.unwrap();
            if found.is_empty() {
                break;
            }
            assert!(found.len() <= 100);
            cursor = found.last().map(|row| row.index);
            seen.extend(indexes(&found));
        }
        let expected: Vec<u64> = (0..total).rev().filter(|number| number % 3 == 0).collect();
        assert_eq!(seen, expected, "pages join up with no entry missed or repeated");
    })
}

fn ledger_count_agrees_with_search(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        search_fixture(store).await;
        let day = 86_400_000;
        let base = 1_767_225_600_000;
        let query = || LedgerQuery { limit: 100, ..LedgerQuery::default() };
        let text = |value: &str| Some(value.to_owned());
        let cases: Vec<(&str, LedgerQuery, u64)> = vec![
            ("no filter", query(), 8),
            ("actor", LedgerQuery { actor: text("user:bob"), ..query() }, 3),
            ("target", LedgerQuery { target: text("voter:NC1"), ..query() }, 3),
            ("target named twice in one entry counts once", LedgerQuery { target: text("voter:NC3"), ..query() }, 2),
            (
                "target, action and time",
                LedgerQuery {
                    target: text("voter:NC1"),
                    action: text("voter.export"),
                    since_millis: Some(base + day),
                    ..query()
                },
                1,
            ),
            (
                "jurisdiction, outcome and time range",
                LedgerQuery {
                    jurisdiction: text("wake"),
                    outcome: text("allowed"),
                    since_millis: Some(base),
                    until_millis: Some(base + 2 * day),
                    ..query()
                },
                3,
            ),
            ("before_index", LedgerQuery { before_index: Some(5), actor: text("user:alice"), ..query() }, 3),
            ("before_index beyond the log", LedgerQuery { before_index: Some(u64::MAX), ..query() }, 8),
            ("no match", LedgerQuery { actor: text("user:carol"), ..query() }, 0),
        ];
        for (case, query, expected) in cases {
            let found = store.search_ledger(&query).await.unwrap();
            assert_eq!(store.count_ledger(&query).await.unwrap(), expected, "{case}");
            assert_eq!(found.len() as u64, expected, "{case}: search finds as many");
        }

        // The limit does not bound a count, not even the search cap.
        let alice = LedgerQuery { actor: text("user:alice"), limit: 2, ..query() };
        assert_eq!(store.count_ledger(&alice).await.unwrap(), 4);
        assert_eq!(store.count_ledger(&LedgerQuery { limit: 0, ..alice }).await.unwrap(), 4);
        let more: Vec<LedgerAppend> = (0..LEDGER_SEARCH_LIMIT).map(|number| entry(&format!("more {number}"))).collect();
        store.append_ledger(&more).await.unwrap();
        let everything = LedgerQuery { limit: 0, ..LedgerQuery::default() };
        assert_eq!(store.count_ledger(&everything).await.unwrap(), u64::from(LEDGER_SEARCH_LIMIT) + 8);
        let started = LedgerQuery { action: text("node.start"), limit: 0, ..LedgerQuery::default() };
        assert_eq!(store.count_ledger(&started).await.unwrap(), u64::from(LEDGER_SEARCH_LIMIT) + 1);
    })
}

/// `count` fake 32-byte hashes, the nth made of the byte `start + n`.
fn hashes(start: u8, count: u8) -> Vec<u8> {
    (0..count).flat_map(|n| [start.wrapping_add(n); 32]).collect()
}

fn tile(level: u8, index: u64, hashes: Vec<u8>) -> LedgerTile {
    LedgerTile { level, index, hashes }
}

fn checkpoint(size: u64) -> StoredCheckpoint {
    StoredCheckpoint {
        size,
        note: format!("canvass.example/log\n{size}\nROOT{size}=\n\n— canvass.example/log sig{size}\n"),
        time_millis: 1_767_225_600_000 + size as i64,
    }
}

async fn append_entries(store: &dyn Store, count: usize) {
    let batch: Vec<LedgerAppend> = (0..count).map(|number| entry(&format!("entry {number}"))).collect();
    store.append_ledger(&batch).await.unwrap();
}

fn ledger_tiles_grow_and_checkpoints_stay(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        assert!(store.latest_checkpoint().await.unwrap().is_none());
        assert!(store.ledger_tile(0, 0).await.unwrap().is_none());
        assert!(store.checkpoint(0).await.unwrap().is_none());

        // The empty tree has a checkpoint too.
        store.integrate_ledger(&[], &checkpoint(0)).await.unwrap();
        assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint(0)));

        append_entries(store, 3).await;
        store.integrate_ledger(&[tile(0, 0, hashes(1, 3))], &checkpoint(3)).await.unwrap();
        assert_eq!(store.ledger_tile(0, 0).await.unwrap(), Some(hashes(1, 3)));
        assert_eq!(store.checkpoint(3).await.unwrap(), Some(checkpoint(3)));
        assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint(3)));

        // The tile grows: its longer hashes replace the stored ones; new tiles appear.
        append_entries(store, 2).await;
        let grown = [tile(0, 0, hashes(1, 5)), tile(1, 0, hashes(200, 1)), tile(0, 7, hashes(9, 2))];
        store.integrate_ledger(&grown, &checkpoint(5)).await.unwrap();
        assert_eq!(store.ledger_tile(0, 0).await.unwrap(), Some(hashes(1, 5)));
        assert_eq!(store.ledger_tile(1, 0).await.unwrap(), Some(hashes(200, 1)));
        assert_eq!(store.ledger_tile(0, 7).await.unwrap(), Some(hashes(9, 2)));
        assert!(store.ledger_tile(1, 7).await.unwrap().is_none(), "tiles are keyed by level and index");
        assert!(store.ledger_tile(2, 0).await.unwrap().is_none());
        assert!(store.ledger_tile(0, u64::MAX).await.unwrap().is_none());

        // A late writer's shorter view of a tile leaves the longer one in place.
        store.integrate_ledger(&[tile(0, 0, hashes(1, 4))], &checkpoint(4)).await.unwrap();
        assert_eq!(store.ledger_tile(0, 0).await.unwrap(), Some(hashes(1, 5)));
        assert_eq!(
            store.latest_checkpoint().await.unwrap(),
            Some(checkpoint(5)),
            "the largest size, not the last written"
        );
        assert_eq!(store.checkpoint(4).await.unwrap(), Some(checkpoint(4)));
        assert!(store.checkpoint(2).await.unwrap().is_none());
        assert!(store.checkpoint(u64::MAX).await.unwrap().is_none());

        // A call naming one tile twice keeps the longer.
        append_entries(store, 2).await;
        let twice = [tile(0, 0, hashes(1, 7)), tile(0, 0, hashes(1, 6))];
        store.integrate_ledger(&twice, &checkpoint(7)).await.unwrap();
        assert_eq!(store.ledger_tile(0, 0).await.unwrap(), Some(hashes(1, 7)));

        // A full tile of 256 hashes, as the ledger writes them.
        let full: Vec<u8> = (0..=255u8).flat_map(|n| [n; 32]).collect();
        store.integrate_ledger(&[tile(0, 1, full.clone())], &checkpoint(6)).await.unwrap();
        assert_eq!(store.ledger_tile(0, 1).await.unwrap(), Some(full));
    })
}

fn ledger_refused_integration_writes_nothing(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        append_entries(store, 5).await;
        store.integrate_ledger(&[tile(0, 0, hashes(1, 3))], &checkpoint(3)).await.unwrap();

        // A second checkpoint of a stored size is refused, with its tiles.
        let mut other = checkpoint(3);
        other.note = "a different note".into();
        let error =
            store.integrate_ledger(&[tile(0, 0, hashes(1, 5)), tile(1, 0, hashes(9, 1))], &other).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { what: "checkpoint", .. }), "{error:?}");
        assert_eq!(store.checkpoint(3).await.unwrap(), Some(checkpoint(3)), "the first checkpoint stays");
        assert_eq!(store.ledger_tile(0, 0).await.unwrap(), Some(hashes(1, 3)), "the tile did not grow");
        assert!(store.ledger_tile(1, 0).await.unwrap().is_none(), "no new tile was written");

        // Hashes that rewrite a stored tile instead of extending it contradict the entries: not
        // AlreadyExists, which a caller may read as "integrated by someone else".
        for rewrite in [hashes(2, 5), hashes(2, 3), hashes(2, 1)] {
            let error = store
                .integrate_ledger(&[tile(1, 0, hashes(9, 1)), tile(0, 0, rewrite)], &checkpoint(5))
                .await
                .unwrap_err();
            assert!(matches!(error, StoreError::Corrupt(_)), "{error:?}");
        }
        let conflicting = [tile(0, 1, hashes(1, 2)), tile(0, 1, hashes(2, 2))];
        let error = store.integrate_ledger(&conflicting, &checkpoint(5)).await.unwrap_err();
        assert!(!matches!(error, StoreError::AlreadyExists { .. }), "{error:?}");

        // A checkpoint beyond the entries stored.
        let error = store.integrate_ledger(&[tile(1, 0, hashes(9, 1))], &checkpoint(6)).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");

        assert!(store.checkpoint(5).await.unwrap().is_none());
        assert!(store.checkpoint(6).await.unwrap().is_none());
        assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint(3)));
        assert_eq!(store.ledger_tile(0, 0).await.unwrap(), Some(hashes(1, 3)));
        assert!(store.ledger_tile(1, 0).await.unwrap().is_none());
        assert!(store.ledger_tile(0, 1).await.unwrap().is_none());

        // The refusals left the store usable.
        store.integrate_ledger(&[tile(0, 0, hashes(1, 5))], &checkpoint(5)).await.unwrap();
        assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint(5)));
    })
}

fn ledger_cosignatures_upsert_per_witness(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let cosignature = |size: u64, witness: &str, line: &str| StoredCosignature {
            size,
            witness: witness.into(),
            line: format!("— {witness} {line}"),
            time_millis: 1_767_225_600_000 + line.len() as i64,
        };
        let error = store.add_cosignature(&cosignature(1, "witness.example/a", "AAAA")).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "checkpoint", .. }), "{error:?}");

        append_entries(store, 2).await;
        store.integrate_ledger(&[], &checkpoint(1)).await.unwrap();
        store.integrate_ledger(&[], &checkpoint(2)).await.unwrap();
        assert!(store.cosignatures(1).await.unwrap().is_empty());

        let b = cosignature(1, "witness.example/b", "BBBB");
        let a = cosignature(1, "witness.example/a", "AAAA");
        let upper = cosignature(1, "Witness.example/z", "ZZZZ");
        for stored in [&b, &a, &upper] {
            store.add_cosignature(stored).await.unwrap();
        }
        assert_eq!(store.cosignatures(1).await.unwrap(), vec![upper.clone(), a.clone(), b], "by witness, byte order");

        let replaced = cosignature(1, "witness.example/b", "BBBB-again");
        store.add_cosignature(&replaced).await.unwrap();
        assert_eq!(store.cosignatures(1).await.unwrap(), vec![upper, a, replaced], "one per witness, the latest");
        assert!(store.cosignatures(2).await.unwrap().is_empty(), "cosignatures belong to one checkpoint");
        assert!(store.cosignatures(3).await.unwrap().is_empty());
        assert!(store.cosignatures(u64::MAX).await.unwrap().is_empty());
    })
}

fn import(id_text: &str, jurisdiction: &str) -> StoredImport {
    StoredImport {
        id: id_text.to_owned(),
        jurisdiction: id(jurisdiction),
        format: "ncvoter".into(),
        file_digest: "ab".repeat(32),
        actor: "clerk".into(),
        started_at: 1_000,
        updated_at: 1_000,
        finished_at: None,
        position: 0,
        line: 0,
        counts: ImportCounts::default(),
    }
}

fn voter_pages_walk_the_roll_in_order(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.insert_jurisdiction(&county("durham", "nc")).await.unwrap();
        store.insert_precinct(&precinct("durham-01", "durham")).await.unwrap();
        let rows: Vec<SealedVoter> =
            ["B", "A", "D", "C", "E"].iter().map(|n| voter(n, "wake", "wake-01", VoterStatus::Active)).collect();
        store.insert_voters(&rows).await.unwrap();
        store.insert_voters(&[voter("AA", "durham", "durham-01", VoterStatus::Active)]).await.unwrap();
        let first = store.voters_after(&id("wake"), None, 2).await.unwrap();
        assert_eq!(first.iter().map(|v| v.registration_number.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        let second = store.voters_after(&id("wake"), Some("B"), 2).await.unwrap();
        assert_eq!(second.iter().map(|v| v.registration_number.as_str()).collect::<Vec<_>>(), ["C", "D"]);
        let last = store.voters_after(&id("wake"), Some("D"), 2).await.unwrap();
        assert_eq!(last.iter().map(|v| v.registration_number.as_str()).collect::<Vec<_>>(), ["E"]);
        assert!(store.voters_after(&id("wake"), Some("E"), 2).await.unwrap().is_empty());
        assert_eq!(store.voter("C").await.unwrap(), Some(rows[3].clone()), "whole row, sealed fields included");
        assert_eq!(store.voter("missing").await.unwrap(), None);
        let by_lookup = store.voters_by_index(&id("durham"), IndexLookup::Lookup(11)).await.unwrap();
        assert_eq!(by_lookup.iter().map(|v| v.registration_number.as_str()).collect::<Vec<_>>(), ["AA"]);
    })
}

fn voter_batches_insert_replace_and_keep_history(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.insert_voter_import(&import("import-1", "wake")).await.unwrap();
        let first = [
            voter("NC1", "wake", "wake-01", VoterStatus::Active),
            voter("NC2", "wake", "wake-01", VoterStatus::Active),
        ];
        let counts = ImportCounts { inserted: 2, ..ImportCounts::default() };
        let batch = VoterBatch { import_id: "import-1", voters: &first, position: 100, line: 3, counts, at: 2_000 };
        store.write_voter_batch(&batch).await.unwrap();
        assert!(store.voter_history("NC1").await.unwrap().is_empty());

        let digests = store.voter_digests(&["NC1".into(), "NC2".into(), "NC9".into()]).await.unwrap();
        assert_eq!(digests.len(), 2, "numbers not stored are left out");
        let nc1 = digests.iter().find(|d| d.registration_number == "NC1").unwrap();
        assert_eq!((nc1.jurisdiction.as_str(), nc1.row_digest), ("wake", first[0].row_digest));

        // NC1 changed precinct and status: the stored revision goes to the history.
        let changed = SealedVoter {
            precinct: PrecinctId::parse("wake-02").unwrap(),
            status: VoterStatus::Inactive,
            row_digest: Some(99),
            ..first[0].clone()
        };
        let counts = ImportCounts { inserted: 2, updated: 1, unchanged: 1, rejected: 0 };
        let batch = VoterBatch {
            import_id: "import-1",
            voters: std::slice::from_ref(&changed),
            position: 200,
            line: 5,
            counts,
            at: 3_000,
        };
        store.write_voter_batch(&batch).await.unwrap();
        assert_eq!(store.voter("NC1").await.unwrap(), Some(changed.clone()));
        let history = store.voter_history("NC1").await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].revision, 1);
        assert_eq!(history[0].replaced_at, 3_000);
        assert_eq!(history[0].import_id.as_deref(), Some("import-1"));
        // History keeps the sealed row, not its blind indexes: revisions are not searched.
        let unindexed = |voter: &SealedVoter| SealedVoter { indexes: BlindIndexes::default(), ..voter.clone() };
        assert_eq!(history[0].voter, unindexed(&first[0]), "the replaced revision, whole");

        let again = SealedVoter { row_digest: Some(100), ..changed.clone() };
        let batch = VoterBatch {
            import_id: "import-1",
            voters: std::slice::from_ref(&again),
            position: 300,
            line: 6,
            counts,
            at: 4_000,
        };
        store.write_voter_batch(&batch).await.unwrap();
        let history = store.voter_history("NC1").await.unwrap();
        assert_eq!(history.iter().map(|r| r.revision).collect::<Vec<_>>(), [2, 1], "newest first");
        assert_eq!(history[0].voter, unindexed(&changed));
        let stored = store.voter_import("import-1").await.unwrap().unwrap();
        assert_eq!((stored.position, stored.line, stored.counts, stored.updated_at), (300, 6, counts, 4_000));
    })
}

fn voter_batch_is_all_or_nothing(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.insert_voter_import(&import("import-1", "wake")).await.unwrap();
        let rows = [
            voter("NC1", "wake", "wake-01", VoterStatus::Active),
            voter("NC2", "wake", "no-such-precinct", VoterStatus::Active),
        ];
        let counts = ImportCounts { inserted: 2, ..ImportCounts::default() };
        let batch = VoterBatch { import_id: "import-1", voters: &rows, position: 100, line: 3, counts, at: 2_000 };
        assert!(store.write_voter_batch(&batch).await.is_err());
        assert_eq!(store.voter("NC1").await.unwrap(), None, "no part of a failed batch is written");
        let stored = store.voter_import("import-1").await.unwrap().unwrap();
        assert_eq!((stored.position, stored.counts), (0, ImportCounts::default()), "progress unchanged");

        let good = [rows[0].clone()];
        let batch = VoterBatch { import_id: "no-such-import", voters: &good, position: 1, line: 1, counts, at: 1 };
        assert!(matches!(store.write_voter_batch(&batch).await, Err(StoreError::Missing { .. })));
        assert_eq!(store.voter("NC1").await.unwrap(), None);
    })
}

fn voter_imports_record_progress(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.insert_voter_import(&import("import-1", "wake")).await.unwrap();
        assert!(matches!(
            store.insert_voter_import(&import("import-1", "wake")).await,
            Err(StoreError::AlreadyExists { .. })
        ));
        store.insert_voter_import(&StoredImport { started_at: 5_000, ..import("import-2", "nc") }).await.unwrap();
        let all = store.voter_imports(None, 10).await.unwrap();
        assert_eq!(all.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["import-2", "import-1"], "newest first");
        let wake = store.voter_imports(Some(&id("wake")), 10).await.unwrap();
        assert_eq!(wake, vec![import("import-1", "wake")]);
        store.finish_voter_import("import-1", 9_000).await.unwrap();
        assert_eq!(store.voter_import("import-1").await.unwrap().unwrap().finished_at, Some(9_000));
        assert!(matches!(store.finish_voter_import("import-1", 9_500).await, Err(StoreError::Missing { .. })));
        let rows = [voter("NC1", "wake", "wake-01", VoterStatus::Active)];
        let counts = ImportCounts { inserted: 1, ..ImportCounts::default() };
        let batch = VoterBatch { import_id: "import-1", voters: &rows, position: 1, line: 1, counts, at: 1 };
        assert!(
            matches!(store.write_voter_batch(&batch).await, Err(StoreError::Missing { .. })),
            "a finished import takes no more rows"
        );
        assert!(store.voter_import("nothing").await.unwrap().is_none());
    })
}

/// Every query a voter index serves, answered the same with the indexes deferred and built.
async fn voter_queries_answer(store: &dyn Store, numbers: &[&str]) {
    let names = |voters: Vec<SealedVoter>| voters.into_iter().map(|v| v.registration_number).collect::<Vec<_>>();
    for lookup in [IndexLookup::Name(7), IndexLookup::Lookup(11), IndexLookup::DriversLicense(3)] {
        let mut found = names(store.voters_by_index(&id("wake"), lookup).await.unwrap());
        found.sort();
        assert_eq!(found, numbers, "{lookup:?}");
    }
    assert_eq!(names(store.voters_sealed_with(&id("wake"), 1, 10).await.unwrap()), numbers);
    let counts = store.registered_voter_counts().await.unwrap();
    assert_eq!(counts.iter().map(|count| count.registered).sum::<u64>(), numbers.len() as u64);
}

fn voter_indexes_defer_only_on_an_empty_roll(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.build_voter_indexes().await.unwrap();
        assert!(store.defer_voter_indexes().await.unwrap(), "no voter stored: the indexes wait");
        assert!(store.defer_voter_indexes().await.unwrap(), "asking again is harmless");
        store.insert_voter_import(&import("import-1", "wake")).await.unwrap();
        let rows = [
            voter("NC1", "wake", "wake-01", VoterStatus::Active),
            voter("NC2", "wake", "wake-02", VoterStatus::Inactive),
        ];
        let counts = ImportCounts { inserted: 2, ..ImportCounts::default() };
        let batch = VoterBatch { import_id: "import-1", voters: &rows, position: 100, line: 3, counts, at: 2_000 };
        store.write_voter_batch(&batch).await.unwrap();
        voter_queries_answer(store, &["NC1", "NC2"]).await;
        assert!(
            matches!(store.insert_voters(&[rows[0].clone()]).await, Err(StoreError::AlreadyExists { .. })),
            "the registration number stays unique while the others wait"
        );
        store.build_voter_indexes().await.unwrap();
        store.build_voter_indexes().await.unwrap();
        voter_queries_answer(store, &["NC1", "NC2"]).await;
        assert!(!store.defer_voter_indexes().await.unwrap(), "a roll is stored: nothing changes");
        voter_queries_answer(store, &["NC1", "NC2"]).await;
    })
}

fn status_change(number: &str, from: VoterStatus, to: VoterStatus, reason: StatusReason) -> StoredStatusChange {
    StoredStatusChange {
        id: 0,
        registration_number: number.to_owned(),
        jurisdiction: id("wake"),
        from,
        to,
        reason,
        effective_on: date!(2025 - 06 - 02),
        confirmation_notice_sent: Some(date!(2025 - 04 - 01)),
        last_contact: None,
        actor: "user:clerk".into(),
        recorded_at: 1_750_000_000_000,
    }
}

fn voter_status_changes_apply_atomically_and_compare_and_set(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        use VoterStatus::{Active, Inactive, Removed};
        places(store).await;
        store.insert_voters(&[voter("A1", "wake", "wake-01", Active)]).await.unwrap();
        assert!(store.voter_status_changes("A1").await.unwrap().is_empty());

        let inactivate = status_change("A1", Active, Inactive, StatusReason::InactiveAfterConfirmationNotice);
        assert!(store.change_voter_status(&inactivate).await.unwrap());
        assert_eq!(store.voter("A1").await.unwrap().unwrap().status, Inactive);

        // Stale: the record is no longer active, so nothing is written.
        let stale = status_change("A1", Active, Removed, StatusReason::Death);
        assert!(!store.change_voter_status(&stale).await.unwrap());
        assert_eq!(store.voter("A1").await.unwrap().unwrap().status, Inactive);

        let reactivate = StoredStatusChange {
            effective_on: date!(2025 - 07 - 01),
            confirmation_notice_sent: None,
            last_contact: Some(date!(2025 - 06 - 20)),
            recorded_at: 1_750_000_000_001,
            ..status_change("A1", Inactive, Active, StatusReason::ReactivatedByContact)
        };
        assert!(store.change_voter_status(&reactivate).await.unwrap());

        let history = store.voter_status_changes("A1").await.unwrap();
        assert_eq!(history.len(), 2, "the refused change left no row");
        assert!(history[0].id < history[1].id, "oldest first");
        assert_eq!(StoredStatusChange { id: 0, ..history[0].clone() }, inactivate);
        assert_eq!(StoredStatusChange { id: 0, ..history[1].clone() }, reactivate);
        assert_eq!(store.voter("A1").await.unwrap().unwrap().status, Active);

        // A voter that does not exist, or exists in another jurisdiction, is Missing.
        let missing = store.change_voter_status(&status_change("nobody", Active, Removed, StatusReason::Death)).await;
        assert!(matches!(missing, Err(StoreError::Missing { .. })), "{missing:?}");
        store.insert_jurisdiction(&county("durham", "nc")).await.unwrap();
        let elsewhere = StoredStatusChange {
            jurisdiction: id("durham"),
            ..status_change("A1", Active, Removed, StatusReason::Death)
        };
        let refused = store.change_voter_status(&elsewhere).await;
        assert!(matches!(refused, Err(StoreError::Missing { .. })), "{refused:?}");
        assert_eq!(store.voter("A1").await.unwrap().unwrap().status, Active);
        assert_eq!(store.voter_status_changes("A1").await.unwrap().len(), 2);
        assert!(store.voter_status_changes("nobody").await.unwrap().is_empty());
    })
}

fn places_import(import_id: &str, jurisdiction: &str, at: i64, places: u64) -> StoredPlacesImport {
    StoredPlacesImport {
        id: import_id.to_owned(),
        jurisdiction: id(jurisdiction),
        format: "vip5".to_owned(),
        file_digest: format!("digest of {import_id}"),
        actor: "clerk".to_owned(),
        imported_at: at,
        places,
        precincts_matched: 2,
        precincts_unmatched: 1,
    }
}

fn polling_place(jurisdiction: &str, place_id: &str, precincts: &[&str]) -> StoredPollingPlace {
    StoredPollingPlace {
        jurisdiction: id(jurisdiction),
        id: place_id.to_owned(),
        name: Some(format!("Place {place_id} — Ünïcode Hall")),
        address: format!("{} Main St, Raleigh, NC 27601", place_id.len()),
        hours: None,
        directions: None,
        early_voting: false,
        drop_box: false,
        precincts: precincts.iter().map(|precinct| PrecinctId::parse(precinct).unwrap()).collect(),
    }
}

fn polling_places_are_replaced_whole_per_jurisdiction(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        assert!(store.polling_places(&id("wake")).await.unwrap().is_empty());
        assert!(store.polling_places_serving(&id("wake")).await.unwrap().is_empty());
        assert!(store.polling_place_imports(None, 10).await.unwrap().is_empty());

        let early = StoredPollingPlace {
            hours: Some("07:00-19:00 (2027-10-20 to 2027-10-30)".into()),
            directions: Some("North lobby".into()),
            early_voting: true,
            drop_box: true,
            ..polling_place("wake", "pl-early", &["wake-02", "wake-01"])
        };
        let nameless = StoredPollingPlace { name: None, ..polling_place("wake", "pl-unused", &[]) };
        let first = vec![polling_place("wake", "pl-school", &["wake-01"]), early.clone(), nameless.clone()];
        store.replace_polling_places(&places_import("places-1", "wake", 1_000, 3), &first).await.unwrap();
        let sorted = |place: &StoredPollingPlace| {
            let mut place = place.clone();
            place.precincts.sort();
            place
        };
        let stored = store.polling_places(&id("wake")).await.unwrap();
        assert_eq!(stored, vec![sorted(&early), first[0].clone(), nameless], "by id, precincts by id");
        let serving = store.polling_places_serving(&id("wake")).await.unwrap();
        assert_eq!(serving, vec![sorted(&early), first[0].clone()], "a place serving no precinct serves no county");

        // A second import replaces the first whole; nothing of the first is left.
        let second = vec![StoredPollingPlace {
            address: "9 Oak Ave, Cary, NC 27511".into(),
            ..polling_place("wake", "pl-school", &["wake-02"])
        }];
        store.replace_polling_places(&places_import("places-2", "wake", 2_000, 1), &second).await.unwrap();
        assert_eq!(store.polling_places(&id("wake")).await.unwrap(), second);

        // A statewide import keeps its own places; the county's stay, and the lookup sees both.
        let statewide = vec![polling_place("nc", "pl-school", &["wake-01"])];
        store.replace_polling_places(&places_import("places-3", "nc", 3_000, 1), &statewide).await.unwrap();
        assert_eq!(store.polling_places(&id("wake")).await.unwrap(), second);
        assert_eq!(store.polling_places(&id("nc")).await.unwrap(), statewide);
        let serving = store.polling_places_serving(&id("wake")).await.unwrap();
        assert_eq!(serving, vec![statewide[0].clone(), second[0].clone()], "by importing jurisdiction, then id");
        assert!(store.polling_places_serving(&id("nc")).await.unwrap().is_empty(), "nc itself has no precincts");

        let imports = store.polling_place_imports(None, 10).await.unwrap();
        assert_eq!(imports.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["places-3", "places-2", "places-1"]);
        assert_eq!(imports[1], places_import("places-2", "wake", 2_000, 1), "provenance round-trips");
        let wake = store.polling_place_imports(Some(&id("wake")), 1).await.unwrap();
        assert_eq!(wake, vec![places_import("places-2", "wake", 2_000, 1)]);

        // Replacing with nothing empties the jurisdiction's places and is still recorded.
        store.replace_polling_places(&places_import("places-4", "wake", 4_000, 0), &[]).await.unwrap();
        assert!(store.polling_places(&id("wake")).await.unwrap().is_empty());
        assert_eq!(store.polling_place_imports(Some(&id("wake")), 10).await.unwrap().len(), 3);
    })
}

fn polling_place_replacement_is_all_or_nothing(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        let kept = vec![polling_place("wake", "pl-1", &["wake-01", "wake-02"])];
        store.replace_polling_places(&places_import("places-1", "wake", 1_000, 1), &kept).await.unwrap();
        let refused = [
            (
                places_import("places-2", "wake", 2_000, 2),
                vec![polling_place("wake", "pl-2", &["wake-01"]), polling_place("wake", "pl-3", &["no-such-precinct"])],
            ),
            (
                places_import("places-3", "wake", 3_000, 2),
                vec![polling_place("wake", "pl-2", &["wake-01"]), polling_place("wake", "pl-2", &["wake-02"])],
            ),
            (places_import("places-1", "wake", 4_000, 1), vec![polling_place("wake", "pl-4", &["wake-01"])]),
        ];
        for (import, places) in &refused {
            assert!(store.replace_polling_places(import, places).await.is_err(), "{}", import.id);
            assert_eq!(store.polling_places(&id("wake")).await.unwrap(), kept, "{} changed nothing", import.id);
        }
        let nowhere = places_import("places-5", "nowhere", 5_000, 0);
        assert!(matches!(store.replace_polling_places(&nowhere, &[]).await, Err(StoreError::Missing { .. })));
        let imports = store.polling_place_imports(None, 10).await.unwrap();
        assert_eq!(imports, vec![places_import("places-1", "wake", 1_000, 1)], "refused imports are not recorded");
    })
}
