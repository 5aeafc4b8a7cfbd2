//! `canvass serve`: runs a node from a data dir, or with `--demo` a throwaway node in a
//! temporary data dir loaded with the built-in demo content.

use std::{
    net::SocketAddr,
    os::unix::fs::DirBuilderExt,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::Context;
use canvass_core::audit::Actor;
use canvass_core::{
    access::{Grant, StaffRole},
    config::{LogFormat, NodeConfig},
    credential::Username,
    id::JurisdictionId,
};
use canvass_crypto::ExposeSecret;
use canvass_server::ledger::Audit;
use canvass_server::{Node, listen, service};
use canvass_store::Store;
use time::OffsetDateTime;

use crate::{data_dir, init};

#[derive(Debug, clap::Args)]
pub struct ServeArguments {
    /// Run a throwaway demo node (fictional state, counties, election and voter roll) in a
    /// temporary data dir that is deleted on exit. --data is ignored.
    #[arg(long)]
    pub demo: bool,
    /// Override the public listener's address from the config (port 0 picks a free port).
    #[arg(long, value_name = "IP:PORT")]
    pub public_listen: Option<SocketAddr>,
    /// Override the admin listener's address from the config.
    #[arg(long, value_name = "IP:PORT")]
    pub admin_listen: Option<SocketAddr>,
    /// Log format: text for people, json for collectors (default: the config's).
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Seed of the demo voter roll (the same seed gives the same roll).
    #[arg(long, default_value_t = 2026, value_name = "NUMBER")]
    pub demo_seed: u64,
}

pub async fn run(data: &Path, arguments: ServeArguments) -> anyhow::Result<ExitCode> {
    if arguments.demo {
        return run_demo(arguments).await;
    }
    let config = data_dir::load_config(data)?;
    start_logging(&arguments, &config);
    data_dir::require_private(data)?;
    let signing_key = data_dir::load_signing_key(data)?;
    let store = data_dir::open_store(data, &config.database, canvass_store_sqlite::OpenMode::Existing).await?;
    let node = Node::start(store.clone(), signing_key, config, false).await?;
    serve_until_stopped(node, store, &arguments, None).await
}

async fn run_demo(arguments: ServeArguments) -> anyhow::Result<ExitCode> {
    let temporary =
        tempfile::Builder::new().prefix("canvass-demo-").tempdir().context("cannot create a temporary data dir")?;
    let data = temporary.path().join("data");
    let username = Username::parse("admin")?;
    let initialised = init::create(&data, &username, None, None).await?;
    let config = data_dir::load_config(&data)?;
    start_logging(&arguments, &config);
    let store = data_dir::open_store(&data, &config.database, canvass_store_sqlite::OpenMode::Existing).await?;
    // A witness for the demo's own log, so its checkpoints show cosignatures: the same code
    // as `canvass witness`, run against the public listener once it is up.
    let witness_key = canvass_crypto::NodeSigningKey::generate()?;
    let witness_name = "demo-witness.examplia.invalid";
    let witness_signer = canvass_ledger::NoteSigner::new(witness_name, &witness_key)?;
    let mut config = config;
    config.ledger.witnesses.push(witness_signer.cosignature_key().0.to_string());
    let witness_file = temporary.path().join("demo-witness.pem");
    data_dir::write_private_file(&witness_file, witness_key.to_pem()?.as_bytes())?;
    let node = Node::start(store.clone(), data_dir::load_signing_key(&data)?, config, true).await?;
    let today = OffsetDateTime::now_utc().date();
    let audit = Audit { ledger: node.ledger().clone(), actor: Actor::System, request_id: None };
    let loaded = service::load_demo(store.as_ref(), &audit, node.keys(), today, arguments.demo_seed).await?;
    // An incident with a timeline, so the register shows from the first page.
    canvass_server::demo_incidents::load(&canvass_server::incidents::Register::of_node(&node), &audit, &loaded.content)
        .await?;
    // The demo's reported counties are on the public results site from the first request.
    canvass_server::results_publisher::publish_if_changed(&node, &loaded.content.election.id).await?;
    tracing::info!(
        jurisdictions = loaded.content.jurisdictions.len(),
        precincts = loaded.content.precincts.len(),
        voters = loaded.content.voters.len(),
        "demo content loaded, voters sealed under their county's key ring"
    );
    let roll = canvass_server::demo_roll::load(
        &store,
        &audit,
        node.keys(),
        &loaded.content,
        arguments.demo_seed,
        temporary.path(),
    )
    .await?;
    // An over-reading clerk, suspended, and the incident it opened: on the transparency page.
    canvass_server::demo_incident::load(&node, &loaded.content).await?;
    tracing::info!(
        voters = roll.counts.inserted,
        polling_places = roll.places,
        "demo voter file and polling places imported through the real import paths"
    );
    // The link is printed against the listener's real address once it is bound: a path here.
    let uocava = canvass_server::demo_uocava::load(store.as_ref(), &audit, node.keys(), &loaded.content, "").await?;
    let downloaded =
        canvass_server::demo_uocava::load_downloaded(store.as_ref(), &audit, node.keys(), &loaded.content).await?;
    // Someone asks for the first overseas voter's ballot at another address: held for a clerk.
    let held = canvass_server::demo_uocava::load_held(store.as_ref(), &audit, node.keys(), &loaded.content).await?;
    tracing::info!(id = %held, "demo FPCA held for confirmation at /uocava/pending");
    let mut ballot_lookups: Vec<String> = roll
        .ballots
        .iter()
        .map(|ballot| {
            let voter = &ballot.voter;
            format!(
                "first name {}, last name {}, date of birth {}, county {} ({})",
                voter.first_name, voter.last_name, voter.birth_date, voter.county.name, ballot.story
            )
        })
        .collect();
    // The overseas voters' ballots show their steps: one downloaded, one not yet.
    ballot_lookups.extend([uocava.lookup.clone(), downloaded.lookup]);
    let lookup = roll.example.map(|example| {
        format!(
            "first name {}, last name {}, date of birth {}, county {} (precinct {})",
            example.first_name, example.last_name, example.birth_date, example.county.name, example.precinct
        )
    });
    let secrets = write_demo_secrets(temporary.path(), &loaded)?;
    let password = initialised.generated_password.as_ref().map(|password| password.expose_secret().to_owned());
    // The API takes tokens, not passwords: one for the demo administrator, valid for a day.
    let node_wide = Grant::permanent(StaffRole::StateAdministrator, None);
    let (_, token) =
        canvass_server::access::issue_token(store.as_ref(), &audit, &username, &node_wide, "demo", 1).await?;
    let staff = loaded
        .staff
        .iter()
        .map(|member| {
            let scope = member.jurisdiction.as_ref().map_or_else(|| "the whole node".to_owned(), short_name);
            format!(
                "{:<13} {:<27} {}",
                member.username.as_str(),
                format!("{} ({scope})", member.role.title()),
                member.password.expose_secret()
            )
        })
        .collect();
    let demo = DemoPrint {
        password: password.unwrap_or_default(),
        token,
        staff,
        data,
        secrets,
        witness: (witness_file, witness_name),
        lookup,
        ballot_lookups,
        uocava: (uocava.link, uocava.birth_date),
        election: loaded.content.election.id.to_string(),
    };
    let result = serve_until_stopped(node, store, &arguments, Some(&demo)).await;
    drop(temporary);
    result
}

fn start_logging(arguments: &ServeArguments, config: &NodeConfig) {
    let json = match arguments.log_format.as_deref() {
        Some(format) => format == "json",
        None => config.log_format == LogFormat::Json,
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CANVASS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colour).with_writer(std::io::stderr);
    // A second call (tests in one process) keeps the first subscriber; that is fine.
    let _already = if json { builder.json().try_init() } else { builder.try_init() };
}

/// What the demo prints for a newcomer.
struct DemoPrint {
    password: String,
    token: String,
    /// One line per demo staff account: name, role and scope, password.
    staff: Vec<String>,
    data: PathBuf,
    secrets: PathBuf,
    witness: (PathBuf, &'static str),
    /// A made-up voter of the imported roll to type into "Am I registered?".
    lookup: Option<String>,
    /// Made-up voters with a demo ballot, to type into "Did my ballot count?".
    ballot_lookups: Vec<String>,
    /// The demo overseas voter's one-time ballot link (a path) and date of birth.
    uocava: (String, String),
    /// The demo election, whose results two of three counties have reported.
    election: String,
}

/// The last segment of an OCD-ID (`county:alder` -> `alder`), for file names.
fn short_name(id: &JurisdictionId) -> String {
    id.as_str().rsplit(['/', ':']).next().unwrap_or("jurisdiction").to_owned()
}

/// Writes each demo jurisdiction's passphrase and one county's shares to owner-only files.
fn write_demo_secrets(directory: &Path, loaded: &service::DemoLoaded) -> anyhow::Result<PathBuf> {
    let secrets = directory.join("demo-secrets");
    std::fs::DirBuilder::new().mode(0o700).create(&secrets)?;
    for (jurisdiction, passphrase) in &loaded.passphrases {
        let file = secrets.join(format!("{}.passphrase", short_name(jurisdiction)));
        data_dir::write_private_file(&file, format!("{}\n", passphrase.expose_secret()).as_bytes())?;
    }
    let (county, shares) = &loaded.shares;
    for (number, share) in shares.iter().enumerate() {
        let file = secrets.join(format!("{}-share-{}-of-{}.txt", short_name(county), number + 1, shares.len()));
        data_dir::write_private_file(&file, format!("{}\n", share.to_text().as_str()).as_bytes())?;
    }
    Ok(secrets)
}

async fn serve_until_stopped(
    node: Node,
    store: Arc<dyn Store>,
    arguments: &ServeArguments,
    demo: Option<&DemoPrint>,
) -> anyhow::Result<ExitCode> {
    let stop = stop_signal();
    let public = arguments.public_listen.unwrap_or(node.config().public.listen);
    let admin = arguments.admin_listen.unwrap_or(node.config().admin.listen);
    let mut listeners = listen::start(node.clone(), public, admin)?;
    let scheme = if listeners.tls { "https" } else { "http" };
    if let Some(demo) = demo {
        let password = &demo.password;
        println!("Canvass demo is running. Everything in it is fictional and is deleted when you stop it.");
        println!("  Public site:  {scheme}://{}/", listeners.public);
        println!("  Admin:        {scheme}://{}/   (API description at /api/openapi.json)", listeners.admin);
        if let Some(lookup) = &demo.lookup {
            println!("  Am I registered?  {scheme}://{}/lookup/registration   try: {lookup}", listeners.public);
        }
        for ballot in &demo.ballot_lookups {
            println!("  Did my ballot count?  {scheme}://{}/lookup/ballot   try: {ballot}", listeners.public);
        }
        println!("  Overseas voters (FPCA): {scheme}://{}/uocava/fpca", listeners.public);
        println!(
            "  UOCAVA ballot link (works once): {scheme}://{}{}   date of birth {}",
            listeners.public, demo.uocava.0, demo.uocava.1
        );
        println!(
            "  UOCAVA deadlines: {scheme}://{}/elections/{}/uocava   (or: canvass uocava deadlines --election {})",
            listeners.admin, demo.election, demo.election
        );
        println!(
            "  Live results: {scheme}://{}/results/{}/   (signed snapshots; the archive at /results/)",
            listeners.public, demo.election
        );
        println!(
            "  Transparency: {scheme}://{}/transparency   (incidents, statistics; signed feed.json, feed.atom)",
            listeners.public
        );
        println!(
            "  Results:      {scheme}://{}/elections/{}/results   (two of three counties reported; try: canvass results show --data {} --election {})",
            listeners.admin,
            demo.election,
            demo.data.display(),
            demo.election
        );
        println!("  Admin sign-in, shown once: user admin, password {password}   (then enrol a second factor)");
        println!("  Admin API token, shown once: {}", demo.token);
        println!(
            "  Demo staff, one per role (passwords shown once; each enrols an authenticator app at first sign-in):"
        );
        for line in &demo.staff {
            println!("    {line}");
        }
        println!(
            "  Waiting for a second administrator: county-admin's voter-file export (sign in as deputy-admin to approve it)."
        );
        println!(
            "  Try: curl -H 'Authorization: Bearer {}' {scheme}://{}/api/jurisdictions",
            demo.token, listeners.admin
        );
        println!(
            "  Data dir:     {}   (voter names and PII are sealed under each county's key ring)",
            demo.data.display()
        );
        println!("  Key secrets:  {}   (passphrases; 2-of-3 shares for Alder County)", demo.secrets.display());
        println!("  Try: canvass keys status --data {}", demo.data.display());
        println!(
            "  Audit log:    {scheme}://{}/audit   (every change, signed; a demo witness cosigns it)",
            listeners.public
        );
        println!("  Try: canvass audit verify --log {scheme}://{}/log", listeners.public);
        start_demo_witness(&demo.witness, &format!("{scheme}://{}/log", listeners.public));
    } else {
        println!("Canvass is serving.");
        println!("  Public site:  {scheme}://{}/", listeners.public);
        println!("  Admin:        {scheme}://{}/", listeners.admin);
    }
    println!("Stop with Ctrl-C.");
    tracing::info!(public = %listeners.public, admin = %listeners.admin, tls = listeners.tls, "listening");
    let outcome = tokio::select! {
        result = listeners.wait() => result.map_err(anyhow::Error::from),
        () = stop => Ok(()),
    };
    tracing::info!("shutting down");
    listeners.shutdown().await;
    store.close().await;
    outcome.map(|()| ExitCode::SUCCESS)
}

/// Runs the demo's witness every few seconds on its own thread, for the life of the process.
/// A refusal (`REFUSED: ...`: the log shrank or forked) is posted to the node, which opens
/// an incident.
fn start_demo_witness((key_file, name): &(PathBuf, &'static str), log_url: &str) {
    let arguments = crate::witness::WitnessArguments {
        command: None,
        log: Some(log_url.to_owned()),
        key: Some(key_file.clone()),
        name: Some((*name).to_owned()),
        log_key: None,
        state: Some(key_file.with_extension("state.json")),
        once: false,
        interval: 5,
    };
    let key_file = key_file.clone();
    let spawned = std::thread::Builder::new().name("demo-witness".into()).spawn(move || {
        let Ok(pem) = std::fs::read_to_string(&key_file) else { return };
        let Ok(key) = canvass_crypto::NodeSigningKey::from_pem(&pem) else { return };
        let Ok(signer) = canvass_ledger::NoteSigner::new(arguments.name.as_deref().unwrap_or("demo-witness"), &key)
        else {
            return;
        };
        let state = arguments.state.clone().unwrap_or_default();
        let mut source = crate::log_source::LogSource::open(arguments.log.as_deref().unwrap_or_default());
        loop {
            // Give the integrator time to sign the first checkpoint, then keep up with it.
            std::thread::sleep(std::time::Duration::from_secs(arguments.interval));
            // A refusal goes to the node through `POST /log/refusal` (the demo witness is in
            // `ledger.witnesses`), which opens the incident: nothing more to do here.
            if let Err(error) = crate::witness::witness_once(&arguments, &signer, &state, &mut source) {
                tracing::warn!(error = %format!("{error:#}"), "the demo witness did not cosign");
            }
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start the demo witness");
    }
}

/// Ctrl-C or SIGTERM (what systemd and container runtimes send). The SIGTERM handler is
/// installed when this is called, not when first polled: a supervisor (or test) that stops the
/// node as soon as it prints its addresses must not hit the default action and kill it.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        if let Some(mut terminate) = terminate {
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
            return;
        }
        let _interrupted = interrupt.await;
    }
}
