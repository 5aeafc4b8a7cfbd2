//! The incident register's timeline: an update moves the incident to the update's values in one
//! step, only from the revision it was written against; updates are listed in order; incidents
//! are found by id, jurisdiction, status and detector key; a detector key has at most one
//! unfinished incident.

use canvass_core::{credential::Username, id::JurisdictionId};

use super::{Scenario, ScenarioFuture};
use crate::{IncidentQuery, Store, StoreError, StoredIncident, StoredIncidentUpdate};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "incident_updates_apply_in_order_and_compare_and_set",
            run: incident_updates_apply_in_order_and_compare_and_set,
        },
        Scenario {
            name: "incidents_are_found_by_jurisdiction_status_and_detector",
            run: incidents_are_found_by_jurisdiction_status_and_detector,
        },
    ]
}

fn jurisdiction(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

fn incident(id: &str, county: &str, opened_at: i64, detector_key: Option<&str>) -> StoredIncident {
    StoredIncident {
        id: id.to_owned(),
        jurisdiction: Some(jurisdiction(county)),
        opened_at,
        kind: "failed_sign_in".into(),
        severity: "medium".into(),
        summary: format!("{id}: repeated failed sign-ins"),
        subject: Some(Username::parse("alice").unwrap()),
        records_affected: 0,
        status: "open".into(),
        detected_at: opened_at - 5,
        data_classes: vec!["credentials".into()],
        actions_taken: String::new(),
        detector_key: detector_key.map(str::to_owned),
        revision: 0,
    }
}

fn update(incident_id: &str, sequence: u32, status: &str, severity: &str) -> StoredIncidentUpdate {
    StoredIncidentUpdate {
        incident_id: incident_id.to_owned(),
        sequence,
        at: 10_000 + i64::from(sequence),
        author: "carol".into(),
        status: status.into(),
        severity: severity.into(),
        records_affected: u64::from(sequence) * 10,
        data_classes: vec!["voter_public".into(), "credentials".into()],
        actions_taken: format!("step {sequence}"),
        public_text: format!("public {sequence}"),
        internal_text: format!("internal {sequence}"),
    }
}

fn incident_updates_apply_in_order_and_compare_and_set(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let opened = incident("inc-a", "wake", 1_000, None);
        store.insert_incident(&opened).await.unwrap();
        assert_eq!(store.incident("inc-a").await.unwrap(), Some(opened.clone()));
        assert_eq!(store.incident("inc-none").await.unwrap(), None);
        assert!(store.incident_updates("inc-a").await.unwrap().is_empty());

        let first = update("inc-a", 1, "investigating", "high");
        assert!(store.add_incident_update(&first).await.unwrap());
        // Written against revision 0 again: someone else's update came first; nothing written.
        assert!(!store.add_incident_update(&update("inc-a", 1, "closed", "low")).await.unwrap());
        assert!(!store.add_incident_update(&update("inc-a", 3, "closed", "low")).await.unwrap());
        let second = update("inc-a", 2, "contained", "high");
        assert!(store.add_incident_update(&second).await.unwrap());

        let now = store.incident("inc-a").await.unwrap().unwrap();
        let expected = StoredIncident {
            status: "contained".into(),
            severity: "high".into(),
            records_affected: 20,
            // Sorted by the store, whatever order they came in.
            data_classes: vec!["credentials".into(), "voter_public".into()],
            actions_taken: "step 2".into(),
            revision: 2,
            ..opened.clone()
        };
        assert_eq!(now, expected);
        let timeline = store.incident_updates("inc-a").await.unwrap();
        let sorted = |entry: &StoredIncidentUpdate| StoredIncidentUpdate {
            data_classes: vec!["credentials".into(), "voter_public".into()],
            ..entry.clone()
        };
        assert_eq!(timeline, vec![sorted(&first), sorted(&second)]);

        let error = store.add_incident_update(&update("inc-none", 1, "closed", "low")).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "incident", .. }), "{error:?}");
        // A value the schema does not know is refused whole: no update row, no change.
        assert!(store.add_incident_update(&update("inc-a", 3, "resolved", "low")).await.is_err());
        assert_eq!(store.incident("inc-a").await.unwrap(), Some(expected));
        assert_eq!(store.incident_updates("inc-a").await.unwrap().len(), 2);
    })
}

fn incidents_are_found_by_jurisdiction_status_and_detector(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let key = "failed_sign_in:account:alice";
        let wake = incident("inc-1", "wake", 1_000, Some(key));
        let durham = incident("inc-2", "durham", 2_000, None);
        store.insert_incident(&wake).await.unwrap();
        store.insert_incident(&durham).await.unwrap();
        // One unfinished incident per detector key.
        let error = store.insert_incident(&incident("inc-3", "wake", 3_000, Some(key))).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { .. }), "{error:?}");

        let query = |county: Option<&str>, statuses: &[&str], detector: Option<&str>| IncidentQuery {
            jurisdiction: county.map(jurisdiction),
            statuses: statuses.iter().map(|status| (*status).to_owned()).collect(),
            detector_key: detector.map(str::to_owned),
            limit: 10,
        };
        let ids = |found: Vec<StoredIncident>| found.into_iter().map(|incident| incident.id).collect::<Vec<_>>();
        assert_eq!(ids(store.incidents_matching(&query(None, &[], None)).await.unwrap()), ["inc-2", "inc-1"]);
        assert_eq!(ids(store.incidents_matching(&query(Some("wake"), &[], None)).await.unwrap()), ["inc-1"]);
        assert_eq!(ids(store.incidents_matching(&query(None, &[], Some(key))).await.unwrap()), ["inc-1"]);
        assert_eq!(
            ids(store.incidents_matching(&query(None, &["investigating", "open"], None)).await.unwrap()),
            ["inc-2", "inc-1"]
        );
        assert!(store.incidents_matching(&query(None, &["closed"], None)).await.unwrap().is_empty());
        assert!(
            store.incidents_matching(&IncidentQuery { limit: 0, ..query(None, &[], None) }).await.unwrap().is_empty()
        );

        // Closed, the key is free for a new incident; reopening the old one would give the key
        // two unfinished incidents and is refused.
        assert!(store.add_incident_update(&update("inc-1", 1, "closed", "medium")).await.unwrap());
        assert_eq!(ids(store.incidents_matching(&query(None, &["closed"], None)).await.unwrap()), ["inc-1"]);
        store.insert_incident(&incident("inc-3", "wake", 3_000, Some(key))).await.unwrap();
        let error = store.add_incident_update(&update("inc-1", 2, "investigating", "medium")).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { .. }), "{error:?}");
        assert_eq!(store.incident("inc-1").await.unwrap().unwrap().status, "closed");
        assert_eq!(store.incident_updates("inc-1").await.unwrap().len(), 1);
    })
}
