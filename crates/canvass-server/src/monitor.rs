//! Insider-threat detection and staff notifications. Every confidential read passes through
//! [`admit_reads`]: a user whose reads in the last hour would pass their role's limit is
//! suspended at once, an incident is opened and the jurisdiction's administrators are told by
//! email through the outbox, which a background task sends over SMTP.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use canvass_core::{
    access::{Grant, Operation, rule},
    audit::{Action, Actor, AuditEntry, now_millis},
    config::AccessConfig,
    credential::Username,
    id::JurisdictionId,
};
use canvass_store::{LedgerQuery, Store, StoredIncident};

use crate::{
    Node, ServerError,
    access::{Principal, lineage},
    ledger::Audit,
    mail::Mailer,
};

const HOUR_MILLIS: i64 = 3_600_000;

/// Confidential records read per user in the last hour, in memory, seeded from the ledger the
/// first time a user is seen so a restart does not reset anyone's count.
#[derive(Debug, Default, Clone)]
pub struct ReadMonitor(Arc<Mutex<HashMap<Username, ReadWindow>>>);

/// (time in Unix milliseconds, records read) for one user, oldest first.
type ReadWindow = VecDeque<(i64, u64)>;

impl ReadMonitor {
    fn total(&self, username: &Username, now: i64) -> Option<u64> {
        let mut windows = self.0.lock().ok()?;
        let window = windows.get_mut(username)?;
        while window.front().is_some_and(|(time, _)| *time < now - HOUR_MILLIS) {
            window.pop_front();
        }
        Some(window.iter().map(|(_, count)| count).sum())
    }

    fn add(&self, username: &Username, now: i64, count: u64) {
        if let Ok(mut windows) = self.0.lock() {
            windows.entry(username.clone()).or_default().push_back((now, count));
        }
    }
}

/// Confidential records read in the last hour according to the ledger, per actor (one actor's
/// or everyone's): the read monitor's seed and the dashboard's read volumes.
pub async fn reads_last_hour(
    store: &dyn Store,
    actor: Option<&Actor>,
    now: i64,
) -> Result<BTreeMap<String, u64>, ServerError> {
    let query = LedgerQuery {
        actor: actor.map(Actor::to_string),
        action: Some(Action::VoterRead.as_str().to_owned()),
        outcome: Some("allowed".to_owned()),
        since_millis: Some(now - HOUR_MILLIS),
        limit: canvass_store::LEDGER_SEARCH_LIMIT,
        ..LedgerQuery::default()
    };
    let mut totals = BTreeMap::new();
    for row in store.search_ledger(&query).await? {
        if let Ok(entry) = AuditEntry::decode(&row.body) {
            *totals.entry(entry.actor.to_string()).or_default() += entry.targets.len() as u64;
        }
    }
    Ok(totals)
}

/// The most a user with these grants may read in an hour: the highest limit among their
/// roles that may read voter records.
pub fn read_limit(access: &AccessConfig, grants: &[Grant]) -> u64 {
    grants
        .iter()
        .filter(|grant| rule(Operation::ReadVoters, grant.role).allowed)
        .filter_map(|grant| access.read_limit(grant.role))
        .map(u64::from)
        .max()
        .unwrap_or(0)
}

/// Admits `count` confidential reads in `jurisdiction`, or, if they would take the user past
/// their limit, suspends the user, opens an incident, notifies the administrators and refuses.
pub async fn admit_reads(
    node: &Node,
    principal: &Principal,
    jurisdiction: &JurisdictionId,
    count: u64,
) -> Result<(), ServerError> {
    let now = now_millis();
    let monitor = node.read_monitor();
    let so_far = match monitor.total(&principal.username, now) {
        Some(total) => total,
        None => {
            let actor = principal.actor();
            let seeded =
                reads_last_hour(node.store(), Some(&actor), now).await?.remove(&actor.to_string()).unwrap_or(0);
            monitor.add(&principal.username, now, seeded);
            seeded
        }
    };
    let limit = read_limit(&node.config().access, &principal.grants);
    if so_far + count <= limit {
        monitor.add(&principal.username, now, count);
        return Ok(());
    }
    tracing::warn!(user = %principal.username, so_far, count, limit, "read-volume limit crossed; suspending");
    let system = node.system_audit();
    crate::staff::suspend(node.store(), &system, &principal.username, "read_volume_limit").await?;
    crate::incident_detectors::bulk_read(node, &principal.username, jurisdiction, so_far, count, limit).await?;
    Err(ServerError::Forbidden)
}

/// Stores an incident, with its ledger entry first.
pub async fn open_incident(node: &Node, audit: &Audit, incident: &StoredIncident) -> Result<(), ServerError> {
    crate::incidents::record_opening(node.store(), audit, incident).await
}

/// Queues a message to every active administrator whose grants cover the jurisdiction (its
/// county's, its state's, the node's), and wakes the sender.
pub async fn notify_administrators(
    node: &Node,
    jurisdiction: &JurisdictionId,
    subject: &str,
    body: &str,
) -> Result<usize, ServerError> {
    let store = node.store();
    let lineage = lineage(store, jurisdiction).await?;
    let queued = queue_for_administrators(store, &lineage, subject, body).await?;
    node.outbox_signal().notify_one();
    Ok(queued)
}

/// Queues a message to every active administrator whose grants cover the lineage (a
/// jurisdiction followed by its parents; empty: the whole node, so only node-wide
/// administrators). The caller wakes the sender, if it runs in this process.
pub async fn queue_for_administrators(
    store: &dyn Store,
    lineage: &[JurisdictionId],
    subject: &str,
    body: &str,
) -> Result<usize, ServerError> {
    let now = now_millis();
    let mut recipients = Vec::new();
    for (username, grant) in store.all_grants().await? {
        if !grant.role.is_administrator() || !grant.is_current(now) || !grant.covers(lineage) {
            continue;
        }
        let Some(account) = store.staff_account(&username).await? else { continue };
        if let (false, Some(email)) = (account.suspended, account.email)
            && !recipients.contains(&email)
        {
            recipients.push(email);
        }
    }
    for recipient in &recipients {
        store.enqueue_mail(recipient.as_str(), subject, body, now).await?;
    }
    if recipients.is_empty() {
        tracing::warn!(jurisdiction = ?lineage.first(), "no administrator with an email address to notify");
    }
    Ok(recipients.len())
}

/// Sends queued mail until the node stops: woken when mail is queued, and every 30 seconds to
/// retry failures (at most 10 attempts a message).
pub fn spawn_outbox(node: &Node, mailer: Mailer) {
    let weak = node.downgrade();
    let signal = node.outbox_signal_handle();
    tokio::spawn(async move {
        loop {
            // The task ends with the node.
            let Some(node) = crate::node::WeakNode::upgrade(&weak) else { return };
            if let Err(error) = send_pending(&node, &mailer).await {
                tracing::warn!(%error, "the outbox could not read its queue");
            }
            drop(node);
            let _ = tokio::time::timeout(Duration::from_secs(30), signal.notified()).await;
        }
    });
}

async fn send_pending(node: &Node, mailer: &Mailer) -> Result<(), ServerError> {
    let store = node.store();
    for message in store.pending_mail(50).await? {
        if message.attempts >= 10 {
            continue;
        }
        let sent = match recipient_address(node, &message.recipient, &message.body).await {
            Ok((address, body)) => {
                mailer.send(&address, &message.subject, &body).await.map_err(|error| error.to_string())
            }
            Err(error) => Err(error.to_string()),
        };
        match sent {
            Ok(()) => store.mark_mail_sent(message.id, now_millis()).await?,
            Err(error) => {
                tracing::warn!(%error, message = message.id, "sending a notification failed; it stays queued");
                store.mark_mail_failed(message.id, &error).await?;
            }
        }
    }
    Ok(())
}

/// Where a queued message goes. A message to a voter is queued as `voter:NUMBER` so that the
/// outbox never holds a voter's address: the address is opened here, when the message is sent,
/// from the sealed roll with the voter's jurisdiction's ring (which must be unsealed), and the
/// opening is a `voter.read` entry like any other confidential read. Staff addresses are plain.
/// A voter's message body is sealed under the same ring (`outbox_seal`) and opened here too.
async fn recipient_address(node: &Node, recipient: &str, body: &str) -> Result<(String, String), ServerError> {
    let Some(number) = recipient.strip_prefix("voter:") else { return Ok((recipient.to_owned(), body.to_owned())) };
    let voter = node
        .store()
        .voter(number)
        .await?
        .ok_or_else(|| ServerError::NotFound("the voter a queued message is for is not on the roll".into()))?;
    let ring = node.keys().current(node.store(), &voter.jurisdiction).await?;
    let audit = node.system_audit();
    crate::voters::record_reads(&audit, &voter.jurisdiction, Some(VOTER_MESSAGE_READ), std::iter::once(number)).await?;
    let body = crate::outbox_seal::open_body(&ring, recipient, body)?;
    let record = crate::voters::open_voter(&ring, &voter)?;
    let address = record
        .email
        .ok_or_else(|| ServerError::Invalid("the voter a queued message is for has no email address".into()))?;
    Ok((address, body))
}

/// Why the outbox opens a voter's record.
const VOTER_MESSAGE_READ: &str = "Sending the voter a message they asked for (their email address)";
