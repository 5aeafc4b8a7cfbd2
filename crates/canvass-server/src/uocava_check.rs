//! The node's daily UOCAVA check: once a day, for every election not yet held, the requests
//! whose ballot was not sent by the 45-day deadline; when there are any, the jurisdiction's
//! administrators are notified through the outbox (counts and the dashboard's address only,
//! never a voter) and a warning is logged. `canvass uocava deadlines` runs the same report.

use std::time::Duration;

use canvass_core::audit::now;

use crate::{
    ServerError, monitor,
    node::{Node, WeakNode},
    uocava,
};

/// The first check runs a while after start (not during a restart's busy minutes), then daily.
const FIRST_CHECK: Duration = Duration::from_secs(10 * 60);
const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Starts the daily check; it stops once the node is dropped.
pub fn spawn(node: &Node) {
    let weak = node.downgrade();
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_CHECK).await;
        loop {
            let Some(node) = WeakNode::upgrade(&weak) else { return };
            if let Err(error) = check_once(&node).await {
                tracing::warn!(%error, "the daily UOCAVA deadline check failed");
            }
            drop(node);
            tokio::time::sleep(EVERY).await;
        }
    });
}

/// Checks every election from today on; returns how many requests were late or unsent.
pub async fn check_once(node: &Node) -> Result<usize, ServerError> {
    let today = now().date();
    let mut total = 0;
    for election in node.store().elections(None).await?.into_iter().filter(|election| election.date >= today) {
        let report = uocava::deadline_report(node.store(), &election.id, today).await?;
        let late = report.needing_action().count();
        if late == 0 {
            continue;
        }
        total += late;
        tracing::warn!(election = %election.id, deadline = %report.deadline, requests = late, "UOCAVA ballots not sent by the 45-day deadline");
        let subject = format!("UOCAVA: {late} ballot(s) not sent by the deadline for {}", election.id);
        let body = format!(
            "{late} overseas or military voter request(s) for {} ({}) have no ballot sent by the 45-day deadline, {}.\n\
             See /elections/{}/uocava on the admin site, or run `canvass uocava deadlines --election {}`.\n",
            election.name, election.date, report.deadline, election.id, election.id
        );
        monitor::notify_administrators(node, &election.jurisdiction, &subject, &body).await?;
    }
    Ok(total)
}
