//! `canvass doctor`: gathers facts about a data dir (modes, config, database, administrator
//! accounts) and prints canvass-core's findings, each with its severity and fix.

use std::{path::Path, process::ExitCode};

use canvass_core::doctor::{AdministratorFact, NodeFacts, PathFact, Severity, any_high, assess};
use canvass_server::staff;

use crate::data_dir::{self, config_path, mode, signing_key_path};

#[derive(Debug, clap::Args)]
pub struct DoctorArguments {
    /// Print the findings as JSON (one object with a `findings` array) for scripts.
    #[arg(long)]
    pub json: bool,
}

fn path_fact(path: &Path) -> PathFact {
    PathFact { path: path.display().to_string(), mode: mode(path) }
}

pub async fn run(data: &Path, arguments: DoctorArguments) -> anyhow::Result<ExitCode> {
    let config = data_dir::load_config(data)?;
    let mut secret_files = vec![path_fact(&signing_key_path(data))];
    let mut required_files = Vec::new();
    if let canvass_core::config::DatabaseUrl::Sqlite { path } = &config.database {
        secret_files.push(path_fact(&data_dir::sqlite_path(data, path)));
    }
    if let Some(tls) = &config.tls {
        secret_files.push(path_fact(&tls.private_key));
        required_files.push(path_fact(&tls.certificate));
    }
    let (database, administrators) =
        match data_dir::open_store(data, &config.database, canvass_store_sqlite::OpenMode::Existing).await {
            Ok(store) => {
                let administrators = staff::administrator_fact(store.as_ref()).await;
                store.close().await;
                (Ok(()), administrators)
            }
            Err(error) => (Err(format!("{error:#}")), AdministratorFact::Unknown),
        };
    let facts = NodeFacts {
        data_dir: path_fact(data),
        config_file: path_fact(&config_path(data)),
        config,
        secret_files,
        required_files,
        administrators,
        database,
    };
    let findings = assess(&facts);
    if arguments.json {
        let items: Vec<serde_json::Value> = findings
            .iter()
            .map(|finding| {
                serde_json::json!({
                    "severity": finding.severity.as_str(),
                    "code": finding.code,
                    "message": finding.message,
                    "fix": finding.fix,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "data_dir": data.display().to_string(), "findings": items }));
    } else {
        print_findings(data, &findings);
    }
    Ok(if any_high(&findings) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn print_findings(data: &Path, findings: &[canvass_core::doctor::Finding]) {
    println!("canvass doctor: {}", data.display());
    if findings.is_empty() {
        println!("No findings: this node's set-up is sound.");
        return;
    }
    for finding in findings {
        println!("{:<7} {}: {}", finding.severity.as_str().to_uppercase(), finding.code, finding.message);
        println!("        fix: {}", finding.fix);
    }
    let count = |severity| findings.iter().filter(|finding| finding.severity == severity).count();
    println!(
        "{} finding(s): {} high, {} medium, {} low. {}",
        findings.len(),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        if any_high(findings) { "Fix the high ones before serving." } else { "Nothing blocks serving." }
    );
}
