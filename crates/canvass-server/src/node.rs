//! The running node's shared state: the store chosen at start-up, the signing key, the
//! configuration and the metrics registry. Cloned into every handler (one `Arc`).

use std::{fmt, sync::Arc};

use canvass_core::{
    audit::{Action, Actor, AuditEntry, Outcome},
    config::NodeConfig,
};
use canvass_crypto::{NodeSigningKey, PublicKey, SecretKey};
use canvass_store::Store;

use crate::{
    ServerError,
    access::LoginThrottle,
    keys::KeyRings,
    ledger::{Ledger, LogIdentity},
    metrics::Metrics,
    monitor::ReadMonitor,
};

#[derive(Clone)]
pub struct Node(Arc<Inner>);

/// A [`Node`] that background tasks hold without keeping it alive.
#[derive(Debug, Clone)]
pub(crate) struct WeakNode(std::sync::Weak<Inner>);

impl WeakNode {
    pub(crate) fn upgrade(weak: &WeakNode) -> Option<Node> {
        weak.0.upgrade().map(Node)
    }
}

struct Inner {
    store: Arc<dyn Store>,
    signing_key: Arc<NodeSigningKey>,
    config: NodeConfig,
    ledger: Ledger,
    log: LogIdentity,
    metrics: Metrics,
    demo: bool,
    keys: KeyRings,
    throttle: LoginThrottle,
    read_monitor: ReadMonitor,
    totp_key: SecretKey,
    outbox_signal: Arc<tokio::sync::Notify>,
    /// The published results snapshots kept in memory for the public listener.
    results: crate::results_routes::HotResults,
    /// Election definitions, ballot styles and sample ballot PDFs, made once (issue 9).
    sample_ballots: crate::sample_ballots::SampleBallots,
}

/// What the node says about itself on `/api/node` and the admin page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub version: &'static str,
    pub database_backend: &'static str,
    pub schema_version: i64,
    pub public_key: String,
}

impl Node {
    /// Starts the node's services (the audit ledger's commit and integrator tasks) on the
    /// store. `demo` marks every page as showing fictional data.
    pub async fn start(
        store: Arc<dyn Store>,
        signing_key: NodeSigningKey,
        config: NodeConfig,
        demo: bool,
    ) -> Result<Self, ServerError> {
        let signing_key = Arc::new(signing_key);
        let log = LogIdentity::new(config.ledger.origin.as_deref(), &signing_key, &config.ledger.witnesses)?;
        let ledger = match Ledger::start(store.clone(), signing_key.clone(), log.clone()).await {
            Ok(ledger) => ledger,
            Err(error) => {
                crate::incident_detectors::node_start_refused(store.clone(), &error).await;
                return Err(error);
            }
        };
        if store.ledger_size().await? == 0 {
            ledger.append(&AuditEntry::new(Actor::System, Action::LedgerStart, Outcome::Allowed)).await?;
        }
        ledger.append(&AuditEntry::new(Actor::System, Action::NodeStart, Outcome::Allowed)).await?;
        let keys = KeyRings::default();
        let totp_key = crate::staff::totp_key(&signing_key)?;
        let outbox_signal = Arc::new(tokio::sync::Notify::new());
        let mailer =
            crate::mail::Mailer::new(&config.mail).map_err(|error| ServerError::Internal(error.to_string()))?;
        if mailer.is_none() {
            tracing::info!("no [mail] smtp_host configured: notifications stay queued in the outbox");
        }
        let node = Self(Arc::new(Inner {
            store,
            signing_key,
            config,
            ledger,
            log,
            metrics: Metrics::new(),
            demo,
            keys,
            throttle: LoginThrottle::default(),
            read_monitor: ReadMonitor::default(),
            totp_key,
            outbox_signal,
            results: crate::results_routes::HotResults::default(),
            sample_ballots: crate::sample_ballots::SampleBallots::default(),
        }));
        if let Some(mailer) = mailer {
            crate::monitor::spawn_outbox(&node, mailer);
        }
        crate::results_publisher::spawn(&node);
        crate::uocava_check::spawn(&node);
        Ok(node)
    }

    /// A handle that does not keep the node alive, for background tasks that should end with it.
    pub(crate) fn downgrade(&self) -> WeakNode {
        WeakNode(Arc::downgrade(&self.0))
    }

    /// Where this node's actions are recorded.
    pub fn ledger(&self) -> &Ledger {
        &self.0.ledger
    }

    /// An audit context for the node acting by itself (start-up, scheduled work).
    pub fn system_audit(&self) -> crate::ledger::Audit {
        crate::ledger::Audit {
            ledger: self.0.ledger.clone(),
            actor: canvass_core::audit::Actor::System,
            request_id: None,
        }
    }

    /// The audit log's origin, signing key and trusted witnesses.
    pub fn log_identity(&self) -> &LogIdentity {
        &self.0.log
    }

    /// The jurisdictions unsealed in this process.
    pub fn keys(&self) -> &KeyRings {
        &self.0.keys
    }

    /// Failed sign-ins per account and address.
    pub fn throttle(&self) -> &LoginThrottle {
        &self.0.throttle
    }

    /// Confidential reads per user in the last hour.
    pub fn read_monitor(&self) -> &ReadMonitor {
        &self.0.read_monitor
    }

    /// The key sealing staff TOTP secrets.
    pub fn totp_key(&self) -> &SecretKey {
        &self.0.totp_key
    }

    /// Wakes the outbox sender when mail is queued.
    pub fn outbox_signal(&self) -> &tokio::sync::Notify {
        &self.0.outbox_signal
    }

    /// The same signal, for the outbox task, which must not keep the node alive.
    pub(crate) fn outbox_signal_handle(&self) -> Arc<tokio::sync::Notify> {
        self.0.outbox_signal.clone()
    }

    pub fn is_demo(&self) -> bool {
        self.0.demo
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// The store itself, for services that take it shared (an import hands it to its tasks).
    pub fn shared_store(&self) -> Arc<dyn Store> {
        self.0.store.clone()
    }

    pub fn config(&self) -> &NodeConfig {
        &self.0.config
    }

    pub fn public_key(&self) -> PublicKey {
        self.0.signing_key.public_key()
    }

    /// The sample ballots served from memory.
    pub fn sample_ballots(&self) -> &crate::sample_ballots::SampleBallots {
        &self.0.sample_ballots
    }

    /// The results snapshots served from memory.
    pub(crate) fn results(&self) -> &crate::results_routes::HotResults {
        &self.0.results
    }

    /// Signs a results snapshot's manifest with the node key.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.signing_key.sign(message)
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub async fn info(&self) -> Result<NodeInfo, ServerError> {
        Ok(NodeInfo {
            version: env!("CARGO_PKG_VERSION"),
            database_backend: self.store().backend(),
            schema_version: self.store().schema_version().await?,
            public_key: self.public_key().to_hex(),
        })
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Node")
            .field("store", &self.0.store.backend())
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}
