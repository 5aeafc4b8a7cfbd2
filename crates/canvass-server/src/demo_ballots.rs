//! The demo's ballots: three voters of the demo roll with an absentee ballot accepted, an
//! absentee ballot rejected for a missing signature (inside its cure deadline), and a
//! provisional ballot counted, each recorded step by step through `ballots::record`, so "Did
//! my ballot count?" and the voter pages have something to show.

use canvass_core::{
    audit::now,
    ballots::{ProvisionalStatus, RejectionReason},
    election::Election,
};
use canvass_store::Store;
use time::Duration;

use crate::{
    ServerError,
    ballots::{self, BallotRequest, BallotStep},
    demo_roll::DemoLookup,
    ledger::Audit,
};

/// A demo voter with a ballot, and what "Did my ballot count?" tells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoBallot {
    pub voter: DemoLookup,
    /// In a few words: "absentee ballot accepted".
    pub story: &'static str,
}

/// The three stories, each a list of (step, days before today).
fn stories() -> [(&'static str, Vec<(BallotStep, i64)>); 3] {
    use BallotStep::{Accept, Adjudicate, Cast, Reject, Request, Return, Send};
    [
        ("absentee ballot accepted", vec![(Request, 30), (Send, 25), (Return, 10), (Accept, 5)]),
        (
            "absentee ballot rejected, missing signature, curable",
            vec![(Request, 28), (Send, 24), (Return, 6), (Reject(RejectionReason::MissingSignature), 3)],
        ),
        ("provisional ballot counted", vec![(Cast, 2), (Adjudicate(ProvisionalStatus::Counted), 1)]),
    ]
}

/// Records the stories for the first voters given (as many as there are, up to three).
pub async fn load(
    store: &dyn Store,
    audit: &Audit,
    election: &Election,
    voters: &[DemoLookup],
) -> Result<Vec<DemoBallot>, ServerError> {
    let today = now().date();
    let mut loaded = Vec::new();
    for (voter, (story, steps)) in voters.iter().zip(stories()) {
        for (step, days_ago) in steps {
            let request = BallotRequest {
                jurisdiction: voter.county.id.clone(),
                registration_number: voter.registration_number.clone(),
                election: election.id.clone(),
                step,
                on: Some(today - Duration::days(days_ago)),
            };
            ballots::record(store, audit, &request).await?;
        }
        loaded.push(DemoBallot { voter: voter.clone(), story });
    }
    Ok(loaded)
}
