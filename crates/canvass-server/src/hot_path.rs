//! The public listener's first stop. On election night nearly every request is a GET of a
//! published results file already in memory; answering it through the router and every layer
//! of [`crate::layers`] (a request id, a tracing span and a log line, a timeout timer, metrics
//! labels built per request) would cost several times the answer itself. Such a request is
//! answered here with the same bytes and headers its handler gives (the security headers, the
//! peer check, ETag and encoding negotiation) and counted in the same metrics series, but not
//! logged one by one: the series are the record. Anything else, and a results file not in
//! memory, goes on to the full stack unchanged.

use std::{
    convert::Infallible,
    future::{Ready, ready},
    net::{IpAddr, SocketAddr},
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, Response, StatusCode},
    routing::future::RouteFuture,
};
use canvass_core::config::ListenerName;
use futures_util::future::Either;
use tower::Service;

use crate::{Node, layers, results_routes};

/// Makes one [`ListenerService`] per connection, as `into_make_service_with_connect_info`
/// would; only the public listener's has the hot path.
#[derive(Clone)]
pub struct MakeListenerService {
    node: Node,
    router: Router,
    hot_path: bool,
    proxy: Option<IpAddr>,
    strict_transport: bool,
}

impl MakeListenerService {
    pub fn new(node: Node, listener: ListenerName, router: Router) -> Self {
        let config = node.config();
        let proxy = match listener {
            ListenerName::Public => config.public.behind_proxy,
            ListenerName::Admin => config.admin.behind_proxy,
        };
        let strict_transport = layers::strict_transport(config, listener);
        Self { node, router, hot_path: listener == ListenerName::Public, proxy, strict_transport }
    }
}

impl Service<SocketAddr> for MakeListenerService {
    type Response = ListenerService;
    type Error = Infallible;
    type Future = Ready<Result<ListenerService, Infallible>>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, peer: SocketAddr) -> Self::Future {
        // The peer check is made once per connection: only the hot path needs its answer.
        let hot = self.hot_path && layers::peer_allowed(self.proxy, peer.ip());
        ready(Ok(ListenerService {
            node: self.node.clone(),
            router: self.router.clone(),
            peer,
            hot,
            strict_transport: self.strict_transport,
        }))
    }
}

/// One connection's service: the hot path, else the router with the peer's address.
#[derive(Clone)]
pub struct ListenerService {
    node: Node,
    router: Router,
    peer: SocketAddr,
    /// Whether the hot path may answer: on the public listener, for a peer the listener
    /// admits (a refused peer always takes the full stack, which refuses it and logs why).
    hot: bool,
    strict_transport: bool,
}

impl<B> Service<Request<B>> for ListenerService
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response<Body>, Infallible>>, RouteFuture<Infallible>>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if self.hot
            && let Some(response) = self.answer_from_memory(&request)
        {
            return Either::Left(ready(Ok(response)));
        }
        request.extensions_mut().insert(ConnectInfo(self.peer));
        Either::Right(self.router.call(request))
    }
}

impl ListenerService {
    fn answer_from_memory<B>(&self, request: &Request<B>) -> Option<Response<Body>> {
        let started = Instant::now();
        let (route, mut response) =
            results_routes::answer_from_memory(&self.node, request.method(), request.uri().path(), request.headers())?;
        layers::add_security_headers(response.headers_mut(), self.strict_transport);
        let head = request.method() == axum::http::Method::HEAD;
        let not_modified = response.status() == StatusCode::NOT_MODIFIED;
        self.node.metrics().record_hot(route, head, not_modified, started.elapsed().as_secs_f64());
        Some(response)
    }
}
