//! `canvass`: the one binary of a Canvass node. Parses arguments, validates them into
//! settings, and calls the library crates; business rules live in canvass-core and the
//! services of canvass-server.

mod admin_client;
mod audit;
mod backup;
mod ballot_pdfs;
mod ballots;
mod catalog;
mod data_dir;
mod doctor;
mod duplicates;
mod elections;
mod incidents;
mod incidents_affected;
mod init;
mod keys;
mod log_source;
mod places;
mod results;
mod results_publish;
mod serve;
mod sign_in;
mod transparency;
mod uocava;
mod uocava_pending;
mod users;
mod voter_records;
mod voters;
mod vri;
mod witness;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

/// Host and protect election data: jurisdictions, precincts, elections, voter rolls, public
/// pages. Every command runs unattended: secrets come from --*-file flags or CANVASS_*
/// variables, never from prompts.
#[derive(Debug, Parser)]
#[command(name = "canvass", version, propagate_version = true)]
struct Cli {
    /// The node's data directory (config, signing key, embedded database).
    #[arg(long, global = true, env = "CANVASS_DATA", default_value = "./canvass-data", value_name = "DIR")]
    data: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new data directory: config, signing key, database, first administrator.
    Init(init::InitArguments),
    /// Serve the public and admin listeners (or, with --demo, a throwaway demo node).
    Serve(serve::ServeArguments),
    /// Check a data directory and its config for insecure set-ups; exit 1 if any is high.
    Doctor(doctor::DoctorArguments),
    /// Add and list jurisdictions (state, county, municipality).
    #[command(subcommand)]
    Jurisdiction(catalog::JurisdictionCommand),
    /// Add and list precincts.
    #[command(subcommand)]
    Precinct(catalog::PrecinctCommand),
    /// Node-wide administrator accounts: create one or replace its password.
    #[command(subcommand)]
    Admin(catalog::AdminCommand),
    /// Staff accounts: add with a role, list, suspend or reinstate, reset a second factor.
    #[command(subcommand)]
    User(users::UserCommand),
    /// API tokens for machines, acting as a staff member with one of their roles.
    #[command(subcommand)]
    Token(users::TokenCommand),
    /// Print the access policy: which role may do what, and what needs a reason, a second
    /// approver or a second factor.
    Policy,
    /// Encrypted backups of the whole node: create, verify, restore.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Key rings: create, split into officials' shares, unseal, seal, rotate, status.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The audit ledger: verify any log, search and export this node's.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Witness another node's audit log: cosign its checkpoints while it only grows.
    Witness(witness::WitnessArguments),
    /// The voter roll: import a voter file, write the public extract, generate a synthetic file.
    #[command(subcommand)]
    Voters(voters::VotersCommand),
    /// Polling places: import a jurisdiction's from a Voting Information Project 5 feed.
    #[command(subcommand)]
    Places(places::PlacesCommand),
    /// Election definitions: import (NIST 1500-100 XML or JSON, or CSV), list, show.
    #[command(subcommand)]
    Election(elections::ElectionCommand),
    /// Absentee and provisional ballots: record each step, show a voter's ballots.
    #[command(subcommand)]
    Ballots(ballots::BallotsCommand),
    /// Election-night results: import a county's file, certify, show the totals, write the
    /// published snapshots as a static site, verify a published site.
    #[command(subcommand)]
    Results(results::ResultsCommand),
    /// Security incidents: list, show with the timeline, open by hand, add an update.
    #[command(subcommand)]
    Incidents(incidents::IncidentsCommand),
    /// The public transparency report: write it (incidents, statistics, signed feeds) as static files.
    #[command(subcommand)]
    Transparency(transparency::TransparencyCommand),
    /// Overseas and military voters (UOCAVA): send blank ballots, the 45-day deadline check,
    /// record a Federal Write-In Absentee Ballot.
    #[command(subcommand)]
    Uocava(uocava::UocavaCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Init(arguments) => init::run(&cli.data, arguments).await,
            Command::Serve(arguments) => serve::run(&cli.data, arguments).await,
            Command::Doctor(arguments) => doctor::run(&cli.data, arguments).await,
            Command::Jurisdiction(command) => catalog::jurisdiction(&cli.data, command).await,
            Command::Precinct(command) => catalog::precinct(&cli.data, command).await,
            Command::Admin(command) => catalog::admin(&cli.data, command).await,
            Command::User(command) => users::user(&cli.data, command).await,
            Command::Token(command) => users::token(&cli.data, command).await,
            Command::Policy => Ok(users::policy()),
            Command::Keys(command) => keys::run(&cli.data, command).await,
            Command::Backup(command) => backup::run(&cli.data, command).await,
            Command::Audit(command) => audit::run(&cli.data, command).await,
            Command::Voters(command) => voters::run(&cli.data, command).await,
            Command::Places(command) => places::run(&cli.data, command).await,
            Command::Ballots(command) => ballots::run(&cli.data, command).await,
            Command::Election(command) => elections::run(&cli.data, command).await,
            Command::Results(command) => results::run(&cli.data, command).await,
            Command::Incidents(command) => incidents::run(&cli.data, command).await,
            Command::Transparency(command) => transparency::run(&cli.data, command).await,
            Command::Uocava(command) => uocava::run(&cli.data, command).await,
            Command::Witness(arguments) => tokio::task::spawn_blocking(move || witness::run(arguments))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|result| result),
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", operator_message(&error));
            ExitCode::from(2)
        }
    }
}

/// The error chain as `{:#}` prints it, except that a server's internal failure shows its
/// detail: it is withheld from HTTP clients, but the person at this terminal is the operator
/// (a node refusing to start over a damaged ledger must say why).
pub(crate) fn operator_message(error: &anyhow::Error) -> String {
    let causes: Vec<String> = error
        .chain()
        .map(|cause| match cause.downcast_ref::<canvass_server::ServerError>() {
            Some(canvass_server::ServerError::Internal(detail)) => detail.clone(),
            _ => cause.to_string(),
        })
        .collect();
    causes.join(": ")
}
