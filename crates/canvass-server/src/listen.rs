//! Binding and serving the two listeners, over TLS when configured. Refuses to start a
//! listener that other machines could reach over plain HTTP.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum_server::{Handle, tls_rustls::RustlsConfig};
use canvass_core::config::{ListenerName, NodeConfig};
use tokio::task::JoinHandle;

use crate::{Node, ServerError, admin_app, hot_path::MakeListenerService, public_app};

/// The two bound listeners, serving until [`Listeners::shutdown`].
#[derive(Debug)]
pub struct Listeners {
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub tls: bool,
    handles: Vec<Handle>,
    tasks: Vec<JoinHandle<Result<(), ServerError>>>,
}

fn tls_config(config: &NodeConfig) -> Result<Option<RustlsConfig>, ServerError> {
    let Some(tls) = &config.tls else { return Ok(None) };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|error| ServerError::Tls(format!("cannot read {}: {error}", path.display())))
    };
    let certificate = read(&tls.certificate)?;
    let private_key = read(&tls.private_key)?;
    let server = canvass_crypto::server_tls_config(&certificate, &private_key).map_err(|error| {
        ServerError::Tls(format!("{} / {}: {error}", tls.certificate.display(), tls.private_key.display()))
    })?;
    Ok(Some(RustlsConfig::from_config(Arc::new(server))))
}

fn bind(address: SocketAddr) -> Result<std::net::TcpListener, ServerError> {
    let listener = std::net::TcpListener::bind(address).map_err(|error| ServerError::Bind {
        address: address.to_string(),
        reason: match error.kind() {
            std::io::ErrorKind::AddrInUse => "the address is in use (is another canvass already running?)".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied (ports below 1024 need privileges)".to_owned(),
            _ => error.to_string(),
        },
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|error| ServerError::Bind { address: address.to_string(), reason: error.to_string() })?;
    Ok(listener)
}

/// Drops clients that take more than 10 s to send their request headers (slowloris).
fn limit_slow_clients(builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>) {
    builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(Duration::from_secs(10));
}

/// Serves one bound listener, over TLS when configured, until its handle shuts it down.
fn serve(
    listener: std::net::TcpListener,
    tls: Option<RustlsConfig>,
    handle: Handle,
    service: MakeListenerService,
) -> JoinHandle<Result<(), ServerError>> {
    match tls {
        Some(tls) => {
            let mut server = axum_server::from_tcp_rustls(listener, tls).handle(handle);
            limit_slow_clients(server.http_builder());
            tokio::spawn(async move {
                server.serve(service).await.map_err(|error| ServerError::Internal(error.to_string()))
            })
        }
        None => {
            let mut server = axum_server::from_tcp(listener).handle(handle);
            limit_slow_clients(server.http_builder());
            tokio::spawn(async move {
                server.serve(service).await.map_err(|error| ServerError::Internal(error.to_string()))
            })
        }
    }
}

/// Binds both listeners (addresses from `public`/`admin`, normally the config's) and starts
/// serving. Returns once both are bound, with the addresses actually bound (port 0 resolved).
pub fn start(node: Node, public: SocketAddr, admin: SocketAddr) -> Result<Listeners, ServerError> {
    let mut checked = node.config().clone();
    checked.public.listen = public;
    checked.admin.listen = admin;
    let problems = checked.exposure_problems();
    if let Some(problem) = problems.first() {
        return Err(ServerError::Exposed(problem.to_string()));
    }
    let tls = tls_config(node.config())?;
    let mut listeners = Listeners { public, admin, tls: tls.is_some(), handles: Vec::new(), tasks: Vec::new() };
    for (name, address) in [(ListenerName::Public, public), (ListenerName::Admin, admin)] {
        let listener = bind(address)?;
        let bound = listener
            .local_addr()
            .map_err(|error| ServerError::Bind { address: address.to_string(), reason: error.to_string() })?;
        let handle = Handle::new();
        let app = match name {
            ListenerName::Public => public_app(node.clone()),
            ListenerName::Admin => admin_app(node.clone()),
        };
        // Published results in memory are answered before the router (`hot_path`).
        let service = MakeListenerService::new(node.clone(), name, app);
        let task = serve(listener, tls.clone(), handle.clone(), service);
        match name {
            ListenerName::Public => listeners.public = bound,
            ListenerName::Admin => listeners.admin = bound,
        }
        listeners.handles.push(handle);
        listeners.tasks.push(task);
    }
    Ok(listeners)
}

impl Listeners {
    /// Waits until a listener stops on its own, which only happens on an error, and returns it.
    /// Cancel-safe: dropping the future leaves both listeners running for [`Self::shutdown`].
    pub async fn wait(&mut self) -> Result<(), ServerError> {
        let [public, admin] = self.tasks.as_mut_slice() else {
            return Ok(());
        };
        let (index, joined) = tokio::select! {
            joined = public => (0, joined),
            joined = admin => (1, joined),
        };
        // A finished task must not be awaited again by shutdown.
        drop(self.tasks.remove(index));
        joined.map_err(|error| ServerError::Internal(error.to_string()))?
    }

    /// Stops accepting and lets requests in flight finish (up to 10 s).
    pub async fn shutdown(self) {
        for handle in &self.handles {
            handle.graceful_shutdown(Some(Duration::from_secs(10)));
        }
        for task in self.tasks {
            let _finished = task.await;
        }
    }
}
