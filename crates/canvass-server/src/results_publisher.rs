//! Every accepted results change yields a snapshot: uploads through the API and the admin page
//! publish at once, and a background task publishes what other processes accepted (`canvass
//! results import` and `results certify` on the same database) within a few seconds. A snapshot
//! is made only when the results differ from those the latest snapshot was made from (the
//! manifest's `results_sha256`), so the two paths never publish one change twice.

use std::{collections::HashMap, sync::LazyLock, time::Duration};

use canvass_core::id::ElectionId;

use crate::{
    ServerError,
    node::{Node, WeakNode},
    results_intake,
    results_publish::{self, Manifest, SnapshotInfo},
};

/// How often the background task looks for changes accepted by other processes.
const POLL: Duration = Duration::from_secs(2);

/// Publications take turns: the next sequence is read from the store, so two at once would
/// race for it.
static PUBLISHING: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(Default::default);

/// Publishes the election's accepted results as its next snapshot, unless the latest snapshot
/// was made from exactly these results; `None` when nothing was published.
pub async fn publish_if_changed(node: &Node, election: &ElectionId) -> Result<Option<SnapshotInfo>, ServerError> {
    let _turn = PUBLISHING.lock().await;
    let results = results_intake::load_results(node.store(), election).await?;
    if results.changes.is_empty() {
        return Ok(None);
    }
    let digest = results_publish::results_sha256(&results)?;
    if latest_digest(node, election).await?.as_deref() == Some(digest.as_str()) {
        return Ok(None);
    }
    let audit = node.system_audit();
    results_publish::publish(node, &audit, &results, &crate::results_site::pages).await.map(Some)
}

/// What an upload handler calls once a change is accepted: the upload stands whatever happens,
/// so a failed publication is logged and left to the background task.
pub async fn publish_after_upload(node: &Node, election: &ElectionId) {
    if let Err(error) = publish_if_changed(node, election).await {
        tracing::error!(election = %election, %error, "publishing the accepted results failed; retrying in the background");
    }
}

async fn latest_digest(node: &Node, election: &ElectionId) -> Result<Option<String>, ServerError> {
    let Some(latest) = node.store().results_snapshots(election).await?.pop() else {
        return Ok(None);
    };
    let Some(snapshot) = node.store().results_snapshot(election, latest.sequence).await? else {
        return Ok(None);
    };
    let manifest: Manifest = serde_json::from_slice(&snapshot.manifest)
        .map_err(|error| ServerError::Internal(format!("stored manifest of {election}: {error}")))?;
    Ok(Some(manifest.results_sha256))
}

/// Starts the background publisher; it stops once the node is dropped.
pub fn spawn(node: &Node) {
    let weak = node.downgrade();
    tokio::spawn(async move {
        // The last change sequence looked at per election, published or failed: a failure is
        // logged once, not every poll, and retried when another change arrives.
        let mut seen: HashMap<ElectionId, u64> = HashMap::new();
        loop {
            tokio::time::sleep(POLL).await;
            let Some(node) = WeakNode::upgrade(&weak) else { return };
            if let Err(error) = poll_once(&node, &mut seen).await {
                tracing::warn!(%error, "looking for results to publish failed");
            }
        }
    });
}

async fn poll_once(node: &Node, seen: &mut HashMap<ElectionId, u64>) -> Result<(), ServerError> {
    for election in node.store().elections(None).await? {
        let Some(latest) = node.store().results_changes(&election.id).await?.last().map(|change| change.sequence)
        else {
            continue;
        };
        if seen.get(&election.id) == Some(&latest) {
            continue;
        }
        seen.insert(election.id.clone(), latest);
        if results_publish::check_election_id(&election.id).is_err() {
            continue;
        }
        match publish_if_changed(node, &election.id).await {
            Ok(Some(info)) => tracing::info!(election = %election.id, sequence = info.sequence, "published results"),
            Ok(None) => {}
            Err(error) => tracing::error!(election = %election.id, %error, "publishing results failed"),
        }
    }
    Ok(())
}
