//! The audit ledger service. Appends go through one group-commit task: callers queue entries,
//! the task writes everything queued in one transaction (one fsync), and only then answers each
//! caller with its index, so an acknowledged entry is durable. An integrator task folds new
//! entries into the Merkle tree, stores the grown tiles and signs a checkpoint, within a second
//! of an append. Commands run outside the server append straight to the store; the running
//! node's integrator picks their entries up. A third task moves the record ids that entries
//! name from the store's append queue into its search index while the ledger is quiet, so a
//! commit writes only at the end of the log (see `Store::index_ledger_targets`).

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use canvass_core::audit::{Action, Actor, AuditEntry, Outcome};
use canvass_crypto::NodeSigningKey;
use canvass_ledger::{Checkpoint, Hash, NoteSigner, TileWrite, TreeBuilder, VerifierKey, leaf_hash, sign_checkpoint};
use canvass_store::{LedgerAppend, LedgerTile, Store, StoreError, StoredCheckpoint};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::ServerError;

/// The most entries one commit writes; more wait for the next.
const MAX_BATCH: usize = 4096;
/// Queued appends beyond this make callers wait: back-pressure instead of unbounded memory.
const QUEUE_DEPTH: usize = 65_536;
/// How often the integrator looks for entries appended by other processes.
const POLL_INTERVAL: Duration = Duration::from_millis(1000);
/// How long the integrator gathers entries before signing: a checkpoint at most this much
/// after an append, and at most a few checkpoints a second however busy the node is.
const INTEGRATE_INTERVAL: Duration = Duration::from_millis(250);
/// Entries read back per store call while integrating.
const READ_PAGE: u32 = 8192;
/// How often the target indexer looks at the ledger; a period without commits counts as quiet.
const INDEX_INTERVAL: Duration = Duration::from_millis(1000);
/// Entries whose targets one indexing transaction moves: large enough to sort well, small
/// enough that an append arriving meanwhile waits well under a second.
pub const INDEX_CHUNK_ENTRIES: u64 = 100_000;
/// Queued targets past which the indexer moves them even while appends keep coming: a search
/// by record reads the whole queue, so the queue must stay bounded.
const QUEUE_CAP: u64 = 1_000_000;
/// How often a quiet node checks the queue for targets other processes appended.
const INDEX_RECHECK: u64 = 60;
/// The most committed entries held for the integrator; past this (the integrator is failing)
/// they are dropped and read back from the store once it recovers.
const MAX_HANDED: usize = 1 << 20;

/// The ledger's public identity: its origin line and the key that signs its checkpoints.
#[derive(Debug, Clone)]
pub struct LogIdentity {
    pub origin: String,
    pub verifier_key: VerifierKey,
    pub witnesses: Vec<VerifierKey>,
}

impl LogIdentity {
    /// The configured origin, or one derived from the node's key.
    pub fn new(origin: Option<&str>, key: &NodeSigningKey, witnesses: &[String]) -> Result<Self, ServerError> {
        let origin = origin.map_or_else(|| default_origin(key), str::to_owned);
        let signer = NoteSigner::new(&origin, key).map_err(|error| ServerError::Invalid(error.to_string()))?;
        let witnesses = witnesses
            .iter()
            .map(|text| {
                let key = VerifierKey::parse(text)
                    .map_err(|error| ServerError::Invalid(format!("ledger.witnesses: {error}")))?;
                if key.is_cosignature_key() {
                    Ok(key)
                } else {
                    Err(ServerError::Invalid(format!(
                        "ledger.witnesses: {} is not a witness cosignature key",
                        key.name
                    )))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { origin, verifier_key: signer.verifier_key(), witnesses })
    }
}

/// `canvass.invalid/node-<first 8 bytes of the key in hex>`: unique per node, and `.invalid`
/// says plainly that it is not a real address until the office sets `ledger.origin`.
pub fn default_origin(key: &NodeSigningKey) -> String {
    format!("canvass.invalid/node-{}", &key.public_key().to_hex()[..16])
}

/// The search columns a store keeps beside the entry's bytes.
pub fn to_append(entry: &AuditEntry) -> LedgerAppend {
    LedgerAppend {
        body: entry.encode(),
        time_millis: entry.unix_millis(),
        actor: entry.actor.to_string(),
        action: entry.action.as_str().to_owned(),
        jurisdiction: entry.jurisdiction.as_ref().map(ToString::to_string),
        outcome: entry.outcome.as_str().to_owned(),
        targets: entry.targets.clone(),
    }
}

struct Pending {
    entry: LedgerAppend,
    reply: oneshot::Sender<Result<u64, ServerError>>,
}

/// Where appends go: the group-commit task in a running node, or the store directly.
#[derive(Clone)]
pub struct Ledger(Arc<Inner>);

enum Inner {
    Service { queue: mpsc::Sender<Pending>, integrator: Arc<Integrator> },
    Direct { store: Arc<dyn Store> },
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self.0.as_ref() {
            Inner::Service { .. } => "Ledger(service)",
            Inner::Direct { .. } => "Ledger(direct)",
        })
    }
}

fn unavailable(error: impl std::fmt::Display) -> ServerError {
    ServerError::Unavailable(format!("the audit ledger could not record the action: {error}"))
}

impl Ledger {
    /// Appends go straight to the store, one transaction each: for commands run beside or
    /// instead of the server.
    pub fn direct(store: Arc<dyn Store>) -> Self {
        Self(Arc::new(Inner::Direct { store }))
    }

    /// Starts the group-commit and integrator tasks. Refuses to start if the stored tiles do
    /// not reproduce the last signed checkpoint: the ledger was damaged or tampered with.
    pub async fn start(
        store: Arc<dyn Store>,
        key: Arc<NodeSigningKey>,
        identity: LogIdentity,
    ) -> Result<Self, ServerError> {
        let integrator = Arc::new(Integrator::load(store.clone(), key, identity).await?);
        let indexer = Arc::new(TargetIndexer::new(store.clone()));
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(commit_loop(store, receiver, integrator.clone(), indexer.clone()));
        tokio::spawn(integrator.clone().run());
        tokio::spawn(indexer.run());
        Ok(Self(Arc::new(Inner::Service { queue, integrator })))
    }

    /// Appends one entry and returns its index once it is durably stored. An error means the
    /// entry is not in the ledger, and the caller must not carry out the action it describes.
    pub async fn append(&self, entry: &AuditEntry) -> Result<u64, ServerError> {
        match self.0.as_ref() {
            Inner::Direct { store } => store.append_ledger(&[to_append(entry)]).await.map_err(unavailable),
            Inner::Service { queue, .. } => {
                let (reply, answer) = oneshot::channel();
                queue.send(Pending { entry: to_append(entry), reply }).await.map_err(unavailable)?;
                answer.await.map_err(unavailable)?
            }
        }
    }

    /// Records `entry` (outcome allowed), runs the action, and if the action fails records
    /// that too, with the error's code. The action never runs unless its entry is stored.
    pub async fn audited<T>(
        &self,
        entry: AuditEntry,
        action: impl Future<Output = Result<T, ServerError>>,
    ) -> Result<T, ServerError> {
        self.append(&entry).await?;
        let result = action.await;
        if let Err(error) = &result
            && let Err(ledger_error) = self.append(&did_not_happen(entry, error)).await
        {
            tracing::error!(error = %ledger_error, "could not record that an audited action failed");
        }
        result
    }

    /// One integration pass without starting any task: for commands that run while the node
    /// is stopped (`audit publish`). Safe beside a running node: both compute the same tree
    /// and Ed25519 signs deterministically, so they write the same checkpoint.
    pub async fn integrate_once(
        store: Arc<dyn Store>,
        key: Arc<NodeSigningKey>,
        identity: LogIdentity,
    ) -> Result<u64, ServerError> {
        Integrator::load(store, key, identity).await?.integrate().await
    }

    /// Integrates and signs now, returning the new checkpoint's size (tests, shutdown).
    pub async fn integrate_now(&self) -> Result<u64, ServerError> {
        match self.0.as_ref() {
            Inner::Service { integrator, .. } => integrator.integrate().await,
            Inner::Direct { store } => Ok(store.latest_checkpoint().await?.map_or(0, |checkpoint| checkpoint.size)),
        }
    }
}

async fn commit_loop(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<Pending>,
    integrator: Arc<Integrator>,
    indexer: Arc<TargetIndexer>,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // The callers the last commit answered are appending again at this moment. Letting
        // them run before committing puts their entries in this batch; otherwise the first
        // few form a small commit of their own and batches alternate small and large.
        while batch.len() < MAX_BATCH {
            tokio::task::yield_now().await;
            let before = batch.len();
            while batch.len() < MAX_BATCH {
                let Ok(pending) = receiver.try_recv() else {
                    break;
                };
                batch.push(pending);
            }
            if batch.len() == before {
                break;
            }
        }
        let (entries, replies): (Vec<LedgerAppend>, Vec<_>) =
            batch.drain(..).map(|pending| (pending.entry, pending.reply)).unzip();
        match store.append_ledger(&entries).await {
            Ok(first) => {
                indexer.committed(entries.iter().map(|entry| entry.targets.len() as u64).sum());
                for (offset, reply) in replies.into_iter().enumerate() {
                    // A caller that gave up waiting has nothing to be told.
                    let _ = reply.send(Ok(first + offset as u64));
                }
                integrator.hand_over(first, entries.into_iter().map(|entry| entry.body).collect());
                integrator.wake.notify_one();
            }
            Err(error) => {
                tracing::error!(%error, entries = entries.len(), "audit ledger append failed; the actions are refused");
                for reply in replies {
                    let _ = reply.send(Err(unavailable(&error)));
                }
            }
        }
    }
}

/// Moves queued targets into the store's target index: while no commit has happened for an
/// interval, and regardless once the queue passes [`QUEUE_CAP`].
struct TargetIndexer {
    store: Arc<dyn Store>,
    /// Targets this process committed and has not moved yet. Other processes' are not
    /// counted; the periodic recheck moves them.
    queued: AtomicU64,
    /// Commits so far: unchanged over an interval means the ledger is quiet.
    commits: AtomicU64,
    failures: FailureLog,
}

impl TargetIndexer {
    fn new(store: Arc<dyn Store>) -> Self {
        Self { store, queued: AtomicU64::new(0), commits: AtomicU64::new(0), failures: FailureLog::default() }
    }

    fn committed(&self, targets: u64) {
        self.queued.fetch_add(targets, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    async fn run(self: Arc<Self>) {
        let mut seen = self.commits.load(Ordering::Relaxed);
        // Starts due, so what an earlier run or another process left queued is moved first.
        let mut idle_intervals = INDEX_RECHECK;
        loop {
            tokio::time::sleep(INDEX_INTERVAL).await;
            let commits = self.commits.load(Ordering::Relaxed);
            let quiet = commits == seen;
            seen = commits;
            idle_intervals = if quiet { idle_intervals.saturating_add(1) } else { 0 };
            let queued = self.queued.load(Ordering::Relaxed);
            let over_cap = queued >= QUEUE_CAP;
            if over_cap || (quiet && (queued > 0 || idle_intervals >= INDEX_RECHECK)) {
                self.drain(over_cap).await;
                idle_intervals = 0;
                seen = self.commits.load(Ordering::Relaxed);
            }
        }
    }

    /// Moves chunks until the queue is empty, or until appends resume (when not over the cap),
    /// or until half the cap is left (when over it): appends keep priority over indexing.
    async fn drain(&self, over_cap: bool) {
        let started = self.commits.load(Ordering::Relaxed);
        loop {
            let moved = match self.store.index_ledger_targets(INDEX_CHUNK_ENTRIES).await {
                Ok(moved) => moved,
                Err(error) => {
                    if self.failures.is_new(&error) {
                        tracing::error!(%error, "audit ledger target indexing failed; searches by record read the queue");
                    }
                    return;
                }
            };
            if moved == 0 {
                self.queued.store(0, Ordering::Relaxed);
                self.failures.clear();
                return;
            }
            // Never below zero: the count is this process's commits only, the queue may hold more.
            let before = self
                .queued
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |queued| Some(queued.saturating_sub(moved)))
                .unwrap_or_default();
            let resumed = self.commits.load(Ordering::Relaxed) != started;
            if (over_cap && before.saturating_sub(moved) < QUEUE_CAP / 2) || (!over_cap && resumed) {
                return;
            }
        }
    }
}

/// The last failure a background task logged, so a broken store is reported once rather than
/// at every interval; a success clears it.
#[derive(Default)]
struct FailureLog(Mutex<Option<String>>);

impl FailureLog {
    /// Whether `error` differs from the failure logged last; it becomes the last either way.
    fn is_new(&self, error: &impl std::fmt::Display) -> bool {
        let message = error.to_string();
        let repeated = self.0.lock().map(|mut last| last.replace(message.clone()) == Some(message));
        !matches!(repeated, Ok(true))
    }

    fn clear(&self) {
        if let Ok(mut last) = self.0.lock() {
            *last = None;
        }
    }
}

/// Entries this node has just committed, from `first` on, handed to the integrator so it can
/// hash them without reading them back from the store.
struct Committed {
    first: u64,
    bodies: Vec<Vec<u8>>,
}

/// The committed chunks not yet integrated, oldest first, and how many entries they hold.
#[derive(Default)]
struct Handed {
    chunks: VecDeque<Committed>,
    entries: usize,
}

/// Folds appended entries into the tree and signs checkpoints.
struct Integrator {
    store: Arc<dyn Store>,
    key: Arc<NodeSigningKey>,
    identity: LogIdentity,
    tree: tokio::sync::Mutex<TreeBuilder>,
    wake: Notify,
    /// Entries committed by this process and not yet integrated, oldest first. Entries other
    /// processes append, and any not found here, are read from the store instead.
    committed: Mutex<Handed>,
    failures: FailureLog,
}

impl Integrator {
    async fn load(store: Arc<dyn Store>, key: Arc<NodeSigningKey>, identity: LogIdentity) -> Result<Self, ServerError> {
        let tree = match store.latest_checkpoint().await? {
            None => TreeBuilder::new(),
            Some(stored) => rebuild(store.as_ref(), &stored, &identity).await?,
        };
        Ok(Self {
            store,
            key,
            identity,
            tree: tokio::sync::Mutex::new(tree),
            wake: Notify::new(),
            committed: Mutex::new(Handed::default()),
            failures: FailureLog::default(),
        })
    }

    async fn run(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(POLL_INTERVAL, self.wake.notified()).await;
            tokio::time::sleep(INTEGRATE_INTERVAL).await;
            match self.integrate().await {
                Ok(_) => self.failures.clear(),
                Err(error) => {
                    if self.failures.is_new(&error) {
                        tracing::error!(%error, "audit ledger integration failed; checkpoints are not advancing");
                    }
                }
            }
        }
    }

    /// Keeps the bodies of entries this process just committed at `first..` for the next
    /// integration.
    fn hand_over(&self, first: u64, bodies: Vec<Vec<u8>>) {
        let Ok(mut handed) = self.committed.lock() else {
            return;
        };
        if handed.entries + bodies.len() > MAX_HANDED {
            *handed = Handed::default();
        }
        handed.entries += bodies.len();
        handed.chunks.push_back(Committed { first, bodies });
    }

    /// The committed bodies from index `start` on, if this process committed them: stale
    /// chunks (already in the tree) are dropped; a gap before the next chunk (entries another
    /// process appended) is left for the store to fill.
    fn take_committed(&self, start: u64) -> Option<Vec<Vec<u8>>> {
        let mut handed = self.committed.lock().ok()?;
        while let Some(chunk) = handed.chunks.front() {
            let end = chunk.first + chunk.bodies.len() as u64;
            if chunk.first > start {
                return None;
            }
            let mut chunk = handed.chunks.pop_front()?;
            handed.entries -= chunk.bodies.len();
            if end > start {
                let skip = (start - chunk.first) as usize;
                return Some(chunk.bodies.split_off(skip));
            }
        }
        None
    }

    /// Hashes the entries past the tree's size (those this process committed as the commit
    /// loop handed them over, any others read from the store), grows the tree, stores tiles and
    /// a signed checkpoint. Returns the tree size now signed.
    async fn integrate(&self) -> Result<u64, ServerError> {
        let mut tree = self.tree.lock().await;
        let stored_size = self.store.ledger_size().await?;
        if stored_size == tree.size() && tree.size() > 0 {
            return Ok(tree.size());
        }
        let mut grown = tree.clone();
        let mut tiles: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
        while grown.size() < stored_size {
            let mut completed = Vec::new();
            if let Some(bodies) = self.take_committed(grown.size()) {
                for body in &bodies {
                    grown.append(leaf_hash(body), &mut completed);
                }
            } else {
                let rows = self.store.ledger_entries(grown.size(), READ_PAGE).await?;
                if rows.is_empty() {
                    break;
                }
                for row in rows {
                    if row.index != grown.size() {
                        return Err(ServerError::Internal(format!(
                            "ledger entry {} follows entry {}: the store has a gap",
                            row.index,
                            grown.size()
                        )));
                    }
                    grown.append(leaf_hash(&row.body), &mut completed);
                }
            }
            for tile in completed {
                tiles.insert((tile.level, tile.index), tile.hashes);
            }
        }
        if grown.size() == tree.size() && self.store.checkpoint(grown.size()).await?.is_some() {
            return Ok(tree.size());
        }
        for tile in grown.partial_tiles() {
            tiles.insert((tile.level, tile.index), tile.hashes);
        }
        let checkpoint = Checkpoint {
            origin: self.identity.origin.clone(),
            size: grown.size(),
            root: grown.root(),
            extensions: Vec::new(),
        };
        let signer = NoteSigner::new(&self.identity.origin, &self.key)
            .map_err(|error| ServerError::Internal(error.to_string()))?;
        let note = sign_checkpoint(&checkpoint, &signer);
        let stored = StoredCheckpoint {
            size: checkpoint.size,
            note: note.to_text(),
            time_millis: canvass_core::audit::unix_millis(time::OffsetDateTime::now_utc()),
        };
        let tiles: Vec<LedgerTile> = tiles
            .into_iter()
            .map(|((level, index), hashes)| LedgerTile {
                level,
                index,
                hashes: TileWrite { level, index, hashes }.bytes(),
            })
            .collect();
        match self.store.integrate_ledger(&tiles, &stored).await {
            Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        *tree = grown;
        Ok(tree.size())
    }
}

/// How a start-up refusal over a damaged tree reads; the ledger incident detector matches it.
pub(crate) const DAMAGED_TREE: &str = "stored tree does not match its last signed checkpoint";

/// The tree of the last checkpoint, from stored tiles, checked against the signed root.
async fn rebuild(
    store: &dyn Store,
    stored: &StoredCheckpoint,
    identity: &LogIdentity,
) -> Result<TreeBuilder, ServerError> {
    let damaged = |reason: String| {
        ServerError::Internal(format!(
            "the audit ledger's {DAMAGED_TREE} ({reason}); \
             run `canvass audit publish --to DIR` then `canvass audit verify --log DIR` to find the altered entry"
        ))
    };
    let note = canvass_ledger::Note::parse(stored.note.as_bytes()).map_err(|error| damaged(error.to_string()))?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|error| damaged(error.to_string()))?;
    if checkpoint.origin != identity.origin {
        return Err(ServerError::Invalid(format!(
            "the ledger's origin is `{}` but the configuration says `{}`: the origin cannot change once entries exist",
            checkpoint.origin, identity.origin
        )));
    }
    let mut tiles = HashMap::new();
    for (level, index) in TreeBuilder::edge_tiles(checkpoint.size) {
        if let Some(bytes) = store.ledger_tile(level, index).await? {
            let hashes = bytes.chunks_exact(32).map(Hash::from_slice).collect::<Result<Vec<_>, _>>();
            tiles.insert((level, index), hashes.map_err(|error| damaged(error.to_string()))?);
        }
    }
    let tree = TreeBuilder::from_tiles(checkpoint.size, |level, index| Ok(tiles.get(&(level, index)).cloned()))
        .map_err(|error| damaged(error.to_string()))?;
    if tree.root() != checkpoint.root {
        return Err(damaged(format!("the tiles give root {} for size {}", tree.root(), checkpoint.size)));
    }
    Ok(tree)
}

/// Who is acting, in which request, and where their actions are recorded: every service that
/// changes state takes one, so a change is recorded whichever way it arrives (API or CLI).
#[derive(Debug, Clone)]
pub struct Audit {
    pub ledger: Ledger,
    pub actor: Actor,
    pub request_id: Option<String>,
}

impl Audit {
    /// Someone at the node's shell, running `canvass` against the store directly.
    pub fn operator(store: Arc<dyn Store>) -> Self {
        Self { ledger: Ledger::direct(store), actor: Actor::Operator, request_id: None }
    }

    /// An entry for `action` by this actor in this request, outcome allowed.
    pub fn entry(&self, action: Action) -> AuditEntry {
        let entry = AuditEntry::new(self.actor.clone(), action, Outcome::Allowed);
        match self.request_id.as_deref().map(|id| entry.clone().with_request_id(id)) {
            Some(Ok(with_id)) => with_id,
            _ => entry,
        }
    }

    /// Records the entry, then runs the action (see [`Ledger::audited`]).
    pub async fn run<T>(
        &self,
        entry: AuditEntry,
        action: impl Future<Output = Result<T, ServerError>>,
    ) -> Result<T, ServerError> {
        self.ledger.audited(entry, action).await
    }

    /// Records an entry whose outcome is already known (a refused secret, say).
    pub async fn record(&self, entry: &AuditEntry) -> Result<u64, ServerError> {
        self.ledger.append(entry).await
    }

    /// Records that `entry`'s action did not go ahead because of `error` (see
    /// [`did_not_happen`]) and returns the error to send. Nothing is refused silently: if the
    /// refusal cannot be recorded, the ledger's error is returned instead.
    pub async fn refuse(&self, entry: AuditEntry, error: ServerError) -> ServerError {
        match self.record(&did_not_happen(entry, &error)).await {
            Ok(_) => error,
            Err(ledger_error) => ledger_error,
        }
    }
}

/// The entry saying `entry`'s action did not go ahead, now, because of `error`: denied when it
/// was a refusal (not authorised, wrong secret), failed otherwise, with the error's code.
pub fn did_not_happen(entry: AuditEntry, error: &ServerError) -> AuditEntry {
    let outcome = if error.is_refusal() { Outcome::Denied } else { Outcome::Failed };
    AuditEntry { time: canvass_core::audit::now(), outcome, reason: Some(error.code().to_owned()), ..entry }
}

/// Adds a target, turning a limit breach into a server error (targets are ids we made).
pub fn target(entry: AuditEntry, target: impl Into<String>) -> Result<AuditEntry, ServerError> {
    entry.with_target(target).map_err(|error| ServerError::Internal(error.to_string()))
}

impl axum::extract::FromRequestParts<crate::Node> for Audit {
    type Rejection = std::convert::Infallible;

    /// The signed-in staff member (put there by the authentication layer) or anonymous, and
    /// the request id every response carries.
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        node: &crate::Node,
    ) -> Result<Self, Self::Rejection> {
        let actor = parts
            .extensions
            .get::<crate::access::Principal>()
            .map_or(Actor::Anonymous, crate::access::Principal::actor);
        let request_id = parts.headers.get("x-request-id").and_then(|value| value.to_str().ok()).map(str::to_owned);
        Ok(Self { ledger: node.ledger().clone(), actor, request_id })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use canvass_ledger::{MemoryLog, Note};
    use canvass_store::LedgerQuery;
    use canvass_store_sqlite::{OpenMode, SqliteStore};

    use super::*;

    /// The node's integrator hashes what its commit loop hands over and reads the rest back:
    /// entries another process appends in between must land in the tree at their own index.
    #[tokio::test]
    async fn the_tree_holds_entries_from_this_process_and_others_in_store_order() {
        let directory = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&directory.path().join("ledger.db"), OpenMode::Create).await.unwrap());
        let key = Arc::new(NodeSigningKey::generate().unwrap());
        let identity = LogIdentity::new(None, &key, &[]).unwrap();
        let service = Ledger::start(store.clone(), key, identity.clone()).await.unwrap();
        let other_process = Ledger::direct(store.clone());
        let entry = |action| AuditEntry::new(Actor::System, action, Outcome::Allowed);
        for round in 0..4 {
            let appends: Vec<_> = (0..300)
                .map(|_| {
                    let service = service.clone();
                    tokio::spawn(async move { service.append(&entry(Action::VoterRead)).await.unwrap() })
                })
                .collect();
            other_process.append(&entry(Action::KeysSeal)).await.unwrap();
            for append in appends {
                append.await.unwrap();
            }
            other_process.append(&entry(Action::KeysUnseal)).await.unwrap();
            if round % 2 == 1 {
                service.integrate_now().await.unwrap();
            }
        }
        let size = service.integrate_now().await.unwrap();
        assert_eq!(size, 4 * 302);

        let mut expected = MemoryLog::new(&identity.origin);
        for row in store.ledger_entries(0, 10_000).await.unwrap() {
            expected.append(&row.body);
        }
        let stored = store.latest_checkpoint().await.unwrap().unwrap();
        let signed = Checkpoint::parse(&Note::parse(stored.note.as_bytes()).unwrap().text).unwrap();
        assert_eq!((signed.size, signed.root), (expected.size(), expected.root()));
    }
    /// Targets are queued at commit and moved into the store's index once the ledger has been
    /// quiet for an interval, both this process's and another's; searches find them throughout.
    #[tokio::test]
    async fn queued_targets_are_indexed_once_the_ledger_is_quiet() {
        let directory = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&directory.path().join("ledger.db"), OpenMode::Create).await.unwrap());
        // Another process's entry, queued before the node starts.
        let other_process = Ledger::direct(store.clone());
        let read = |voter: &str| {
            AuditEntry::new(Actor::System, Action::VoterRead, Outcome::Allowed)
                .with_target(format!("voter:{voter}"))
                .unwrap()
        };
        other_process.append(&read("NC0")).await.unwrap();
        let key = Arc::new(NodeSigningKey::generate().unwrap());
        let identity = LogIdentity::new(None, &key, &[]).unwrap();
        let service = Ledger::start(store.clone(), key, identity).await.unwrap();
        for voter in 1..=50 {
            service.append(&read(&format!("NC{voter}"))).await.unwrap();
        }
        let found =
            |voter: &str| LedgerQuery { target: Some(format!("voter:{voter}")), limit: 10, ..LedgerQuery::default() };
        assert_eq!(store.search_ledger(&found("NC7")).await.unwrap().len(), 1, "found while queued");
        // Two indexer intervals without commits: the first sees the last commit, the second
        // sees none and moves everything.
        tokio::time::sleep(INDEX_INTERVAL * 3).await;
        assert_eq!(store.index_ledger_targets(u64::MAX).await.unwrap(), 0, "the node moved every queued target");
        for voter in ["NC0", "NC7", "NC50"] {
            assert_eq!(store.search_ledger(&found(voter)).await.unwrap().len(), 1, "{voter} found once indexed");
        }
    }
}
