//! Assembles the two listeners' routers and the middleware every request passes through:
//! request ids, security headers, the reverse-proxy peer check, timeouts, structured request
//! logs (method, route template, status, time: never bodies or query strings), metrics and
//! body limits.

use std::{net::IpAddr, time::Instant};

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, header},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::get,
};
use canvass_core::config::{ListenerName, NodeConfig};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{Node, ServerError, access, admin_pages, api, log_routes, lookup, metrics::RequestLabels, pages};

/// The public listener: pages now, published results and the audit log later.
pub fn public_app(node: Node) -> Router {
    let routes = Router::new()
        .route("/", get(pages::home))
        .route("/jurisdictions/{id}", get(pages::jurisdiction))
        .route("/elections/{id}", get(pages::election))
        .route("/assets/canvass.css", get(pages::stylesheet))
        .route("/audit", get(pages::audit))
        .route("/log/checkpoint", get(log_routes::checkpoint))
        .route("/log/key", get(log_routes::key))
        .route("/log/tile/{*path}", get(log_routes::tile))
        .route("/log/cosignature", axum::routing::post(log_routes::add_cosignature))
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .merge(lookup::router())
        .merge(crate::uocava_pages::router())
        .merge(crate::results_routes::router())
        .merge(crate::results_ledger::router())
        .merge(crate::sample_ballots::router())
        .merge(crate::transparency::router())
        .merge(crate::witness_refusals::router())
        .fallback(pages::not_found);
    finish(routes, node, ListenerName::Public)
}

/// The admin listener: the admin API, its OpenAPI document, the admin pages, metrics. Every
/// matched route passes the access layer ([`access::authenticate`]), which refuses any route
/// missing from [`access::ADMIN_ROUTES`].
pub fn admin_app(node: Node) -> Router {
    let (api, _) = api::router().split_for_parts();
    let (open, _) = api::open_router().split_for_parts();
    // Serialised once: the document only changes with the binary.
    let document = api::openapi_document().to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    let routes = Router::new()
        .merge(api)
        .merge(open)
        .merge(admin_pages::router())
        .route("/assets/canvass.css", get(pages::stylesheet))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
        )
        .route_layer(from_fn_with_state(node.clone(), access::authenticate))
        .fallback(|| async { ServerError::NotFound("no such route; see /api/openapi.json".into()) });
    finish(routes, node, ListenerName::Admin)
}

fn finish(routes: Router<Node>, node: Node, listener: ListenerName) -> Router {
    let config = node.config().clone();
    let strict_transport = strict_transport(&config, listener);
    let listener_config = match listener {
        ListenerName::Public => config.public,
        ListenerName::Admin => config.admin,
    };
    let trace = TraceLayer::new_for_http()
        .make_span_with(move |request: &Request<Body>| {
            let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
            let request_id = request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", listener = listener.as_str(), method = %request.method(), route, request_id)
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    routes
        .layer(DefaultBodyLimit::max(config.limits.max_body_bytes))
        .layer(from_fn_with_state((node.clone(), listener), record_metrics))
        .layer(trace)
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, config.limits.request_timeout))
        .layer(from_fn_with_state(listener_config.behind_proxy, restrict_peer))
        .layer(from_fn_with_state(strict_transport, security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(node)
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Whether browsers may be told to insist on HTTPS: with TLS here or at the named proxy.
pub(crate) fn strict_transport(config: &NodeConfig, listener: ListenerName) -> bool {
    let listener_config = match listener {
        ListenerName::Public => &config.public,
        ListenerName::Admin => &config.admin,
    };
    config.tls.is_some() || listener_config.behind_proxy.is_some()
}

async fn security_headers(State(strict_transport): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    add_security_headers(response.headers_mut(), strict_transport);
    response
}

/// The headers every response of both listeners carries; a policy a handler set is kept.
pub(crate) fn add_security_headers(headers: &mut HeaderMap, strict_transport: bool) {
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()");
    if strict_transport {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
}

/// With `behind_proxy` set, only the proxy (and local health probes on 127.0.0.1 or ::1) may
/// connect: traffic that skipped the TLS proxy is refused.
async fn restrict_peer(State(proxy): State<Option<IpAddr>>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
    if let Some(peer) = peer
        && !peer_allowed(proxy, peer)
    {
        tracing::warn!(%peer, "refused a connection that did not come through the reverse proxy");
        return ServerError::ForbiddenPeer.into_response();
    }
    next.run(request).await
}

/// With a proxy named, only it and local health probes may connect.
pub(crate) fn peer_allowed(proxy: Option<IpAddr>, peer: IpAddr) -> bool {
    let local_probe = peer == IpAddr::from([127, 0, 0, 1]) || peer == IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
    proxy.is_none_or(|proxy| peer == proxy || local_probe)
}

/// Methods are labelled from a fixed set so odd requests cannot grow the metric without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

async fn record_metrics(
    State((node, listener)): State<(Node, ListenerName)>,
    request: Request,
    next: Next,
) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = method_label(request.method()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels =
        RequestLabels { listener: listener.as_str().to_owned(), method, route, status: response.status().as_u16() };
    node.metrics().record(labels, started.elapsed().as_secs_f64());
    response
}

async fn metrics(State(node): State<Node>) -> Result<Response, ServerError> {
    let text = node.metrics().encode().map_err(|error| ServerError::Internal(error.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response())
}
