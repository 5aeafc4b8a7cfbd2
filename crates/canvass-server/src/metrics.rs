//! Prometheus metrics, served at `/metrics` on the admin listener only. Requests are labelled
//! by route template (never the raw path, which could carry an id) and status.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub listener: String,
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DurationLabels {
    pub listener: String,
    pub route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

type HistogramFamily = Family<DurationLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15))
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily,
    lookup_queries: Counter,
    lookup_openings: Counter,
    /// The series of the results routes answered from memory ([`crate::hot_path`]), resolved on
    /// first use: on election night a hot answer costs an increment and an observation, not a
    /// label lookup with its allocations.
    hot: [std::sync::OnceLock<(Counter, Histogram)>; HOT_SERIES],
}

/// The public results routes the hot path answers, by the route template the router matches,
/// so their series are the same whichever way a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotRoute {
    Landing,
    Pointer,
    SnapshotRoot,
    SnapshotFile,
}

impl HotRoute {
    pub const ALL: [HotRoute; 4] = [Self::Landing, Self::Pointer, Self::SnapshotRoot, Self::SnapshotFile];

    pub fn template(self) -> &'static str {
        match self {
            Self::Landing => "/results/{election}/",
            Self::Pointer => "/results/{election}/current.json",
            Self::SnapshotRoot => "/results/{election}/s/{sequence}/",
            Self::SnapshotFile => "/results/{election}/s/{sequence}/{*path}",
        }
    }
}

/// Four routes, GET or HEAD, 200 or 304.
const HOT_SERIES: usize = 16;

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("canvass");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: HistogramFamily = Family::new_with_constructor(duration_histogram);
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").to_owned() }).set(1);
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer HTTP requests", durations.clone());
        registry.register("build_info", "The running canvass version", build);
        // The public lookup's work, the same for a match and a miss by construction: an
        // operator sees the index's false positives, never who was found.
        let lookup_queries = Counter::default();
        let lookup_openings = Counter::default();
        registry.register(
            "public_lookup_store_queries",
            "Store queries made by public lookups",
            lookup_queries.clone(),
        );
        registry.register("public_lookup_openings", "Rows (or decoys) public lookups opened", lookup_openings.clone());
        Self { registry, requests, durations, lookup_queries, lookup_openings, hot: Default::default() }
    }

    /// [`Self::record`] for an answer of the hot path: a GET or HEAD answered 200 or 304.
    pub fn record_hot(&self, route: HotRoute, head: bool, not_modified: bool, seconds: f64) {
        let position = HotRoute::ALL.iter().position(|known| *known == route).unwrap_or_default();
        let index = position * 4 + usize::from(head) * 2 + usize::from(not_modified);
        let Some(slot) = self.hot.get(index) else { return };
        let (counter, histogram) = slot.get_or_init(|| {
            let labels = RequestLabels {
                listener: canvass_core::config::ListenerName::Public.as_str().to_owned(),
                method: if head { "HEAD" } else { "GET" }.to_owned(),
                route: route.template().to_owned(),
                status: if not_modified { 304 } else { 200 },
            };
            let durations = DurationLabels { listener: labels.listener.clone(), route: labels.route.clone() };
            (self.requests.get_or_create(&labels).clone(), self.durations.get_or_create(&durations).clone())
        });
        counter.inc();
        histogram.observe(seconds);
    }

    pub fn record(&self, labels: RequestLabels, seconds: f64) {
        self.durations
            .get_or_create(&DurationLabels { listener: labels.listener.clone(), route: labels.route.clone() })
            .observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }

    /// Counts one public lookup's store queries and row openings.
    pub fn record_lookup(&self, queries: u64, openings: u64) {
        self.lookup_queries.inc_by(queries);
        self.lookup_openings.inc_by(openings);
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
