//! What the public lookup needs besides the voter's own rows, kept in memory: a county, the
//! unsealed key rings of its lineage (each with a sealed decoy row), its precincts' names and
//! the polling places serving it. These change only by an import, a places import, a new
//! jurisdiction or precinct, or a key operation, so a lookup can be one blind-index query.
//!
//! Freshness: every change made in this process through the server's services calls
//! [`note_change`] after it has committed, which moves a process-wide revision on; a view
//! loaded under an older revision is loaded again before use. A view loaded while a change was
//! committing carries the revision read before loading, so it is reloaded too. Changes made
//! by another process on the same database (a CLI import next to a running `serve`) are picked
//! up by a reload in the background once a view is [`STALE_AFTER`] old.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use canvass_core::{
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind},
    voter::VoterStatus,
};
use canvass_formats::ncvoter::PUBLIC_COLUMNS;
use canvass_store::{SealedVoter, StoredPollingPlace};

use crate::{Node, ServerError, access, keys::UnsealedRing, roll};

/// Moves on after every committed change a lookup view depends on.
static REVISION: AtomicU64 = AtomicU64::new(0);

/// How long a view is trusted without a change noted in this process: the bound on how late a
/// change made by another process shows in lookups.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(1);

/// Counties held at most; a node hosts a state's counties (North Carolina has 100).
const MAX_COUNTIES: usize = 1_000;

/// Says that jurisdictions, precincts, polling places or key rings changed. Call it after the
/// change is committed (see the module comment for why not before).
pub(crate) fn note_change() {
    REVISION.fetch_add(1, Ordering::AcqRel);
}

fn revision() -> u64 {
    REVISION.load(Ordering::Acquire)
}

/// One unsealed ring of the county's lineage, and a row sealed under it that matches no one:
/// a lookup opens it in place of candidates the index did not return.
pub(crate) struct ReadableRing {
    pub jurisdiction: JurisdictionId,
    pub ring: Arc<UnsealedRing>,
    pub decoy: SealedVoter,
}

/// A county as the lookup sees it.
pub(crate) struct CountyView {
    revision: u64,
    loaded: Instant,
    pub county: Jurisdiction,
    /// Empty when no ring of the lineage is unsealed: the roll cannot be read.
    pub rings: Vec<ReadableRing>,
    /// Precinct id to name.
    pub precinct_names: HashMap<String, String>,
    pub places: Vec<StoredPollingPlace>,
    /// Set once a reload after [`STALE_AFTER`] is under way, so only one runs.
    refreshing: AtomicBool,
}

impl CountyView {
    /// No change noted in this process since it was loaded.
    fn is_current(&self) -> bool {
        self.revision == revision()
    }

    /// Old enough that another process's change may be missing from it.
    fn is_old(&self) -> bool {
        self.loaded.elapsed() >= STALE_AFTER
    }
}

/// The views, one per county looked up (shared by the routers of one node's listener).
#[derive(Clone, Default)]
pub(crate) struct LookupCache {
    counties: Arc<RwLock<HashMap<JurisdictionId, Arc<CountyView>>>>,
}

impl LookupCache {
    /// The county's view; `None` when `id` is not a county of this node. A view behind a change
    /// noted in this process is loaded again before it is used; a view merely old is used while
    /// one background task reloads it, so that no lookup waits for the periodic reload (the
    /// bound on how late another process's change shows stays about [`STALE_AFTER`]).
    pub(crate) async fn county(
        &self,
        node: &Node,
        id: &JurisdictionId,
    ) -> Result<Option<Arc<CountyView>>, ServerError> {
        if let Some(view) = self.cached(id).filter(|view| view.is_current()) {
            if view.is_old() && !view.refreshing.swap(true, Ordering::AcqRel) {
                self.refresh_later(node, id);
            }
            return Ok(Some(view));
        }
        self.reload(node, id).await
    }

    fn refresh_later(&self, node: &Node, id: &JurisdictionId) {
        let (cache, node, id) = (self.clone(), node.clone(), id.clone());
        tokio::spawn(async move {
            if let Err(error) = cache.reload(&node, &id).await {
                // The old view stays, marked for another try by the next lookup.
                tracing::warn!(county = %id, %error, "the lookup's view of a county could not be reloaded");
                if let Some(view) = cache.cached(&id) {
                    view.refreshing.store(false, Ordering::Release);
                }
            }
        });
    }

    async fn reload(&self, node: &Node, id: &JurisdictionId) -> Result<Option<Arc<CountyView>>, ServerError> {
        let Some(view) = load(node, id).await? else {
            self.counties.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
            return Ok(None);
        };
        let view = Arc::new(view);
        // A poisoned lock only means a lookup panicked while swapping a view in; the map is
        // still whole.
        let mut counties = self.counties.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counties.len() >= MAX_COUNTIES && !counties.contains_key(id) {
            counties.clear();
        }
        counties.insert(id.clone(), view.clone());
        Ok(Some(view))
    }

    fn cached(&self, id: &JurisdictionId) -> Option<Arc<CountyView>> {
        self.counties.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id).cloned()
    }
}

/// Reads the county, its lineage's rings, precincts and polling places from the store.
async fn load(node: &Node, id: &JurisdictionId) -> Result<Option<CountyView>, ServerError> {
    // Read before the data: a change committed while loading leaves this view behind.
    let revision = revision();
    let store = node.store();
    let county = match store.jurisdiction(id).await? {
        Some(county) if county.kind == JurisdictionKind::County => county,
        _ => return Ok(None),
    };
    let lineage = access::lineage(store, id).await?;
    let mut rings = Vec::new();
    // A county's voters are sealed under the ring of whoever imported them: the county itself
    // or a jurisdiction above it (a statewide file).
    for jurisdiction in lineage {
        if !node.keys().is_unsealed(&jurisdiction) {
            continue;
        }
        let ring = match node.keys().current(store, &jurisdiction).await {
            Ok(ring) => ring,
            Err(ServerError::Sealed(_) | ServerError::NoKeyRing(_)) => continue,
            Err(other) => return Err(other),
        };
        let decoy = decoy(&ring, &county.id)?;
        rings.push(ReadableRing { jurisdiction, ring, decoy });
    }
    let precinct_names = store
        .precincts(Some(id))
        .await?
        .into_iter()
        .map(|precinct| (precinct.id.to_string(), precinct.name.to_string()))
        .collect();
    let places = store.polling_places_serving(id).await?;
    Ok(Some(CountyView {
        revision,
        loaded: Instant::now(),
        county,
        rings,
        precinct_names,
        places,
        refreshing: AtomicBool::new(false),
    }))
}

/// A row sealed under `ring` with every field a lookup opens, of an ordinary row's size. It is
/// never compared with what was typed (the lookup skips it by position), so it matches no one
/// whatever its values.
fn decoy(ring: &UnsealedRing, county: &JurisdictionId) -> Result<SealedVoter, ServerError> {
    let details = PUBLIC_COLUMNS
        .iter()
        .map(|column| if *column == "confidential_ind" { "N".to_owned() } else { "X".repeat(8) })
        .collect();
    let row = roll::RollRow {
        line: 0,
        registration_number: "lookup-decoy".to_owned(),
        county: county.clone(),
        precinct: PrecinctId::parse("lookup-decoy")?,
        party: "UNA".to_owned(),
        status: VoterStatus::Active,
        registered_on: time::macros::date!(2000 - 01 - 01),
        first_name: "X".repeat(8),
        last_name: "X".repeat(10),
        birth_date: Some(time::macros::date!(1970 - 01 - 01)),
        ssn_last_four: None,
        drivers_license: None,
        email: None,
        details,
    };
    roll::seal_row(ring, &row, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(loaded: Instant) -> CountyView {
        CountyView {
            revision: revision(),
            loaded,
            county: Jurisdiction {
                id: JurisdictionId::parse("ocd-division/country:us/state:zz/county:alder").unwrap(),
                name: canvass_core::name::Name::parse("Alder County").unwrap(),
                kind: JurisdictionKind::County,
                parent: None,
            },
            rings: Vec::new(),
            precinct_names: HashMap::new(),
            places: Vec::new(),
            refreshing: AtomicBool::new(false),
        }
    }

    #[test]
    fn a_noted_change_makes_every_earlier_view_stale_at_once() {
        // Only what holds whatever other tests note meanwhile: the revision never goes back.
        let fresh = view(Instant::now());
        assert!(!fresh.is_old());
        note_change();
        assert!(!fresh.is_current(), "a change noted after loading must reload the view");
    }

    #[test]
    fn a_view_loaded_a_while_ago_is_old_but_still_usable() {
        let Some(earlier) = Instant::now().checked_sub(STALE_AFTER) else { return };
        let old = view(earlier);
        assert!(old.is_old());
    }
}
