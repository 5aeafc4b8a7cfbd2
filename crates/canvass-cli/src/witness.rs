//! `canvass witness`: watch another office's log and cosign each checkpoint only after proving,
//! from the log's own tiles, that it extends the last one this witness cosigned (C2SP
//! tlog-witness rules). The cosigned checkpoint goes back to the node, which serves it; a
//! refusal goes back too, signed, and opens an incident on a node that trusts this witness.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context, bail};
use canvass_crypto::NodeSigningKey;
use canvass_ledger::{
    AddCheckpoint, Checkpoint, Note, NoteSigner, NoteVerifier, Refusal, TileReader, TileSource, Witness, WitnessState,
    consistency_proof, sign_refusal,
};
use clap::{Args, Subcommand};

use crate::{
    data_dir,
    log_source::{LogSource, read_state, trusted_log_key, write_state},
};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WitnessArguments {
    #[command(subcommand)]
    pub command: Option<WitnessCommand>,
    /// The log to witness: a node's `http(s)://HOST/log`.
    #[arg(long, value_name = "URL")]
    pub log: Option<String>,
    /// The witness's private key (from `canvass witness keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The witness's name in its cosignatures; by default derived from its key.
    #[arg(long)]
    pub name: Option<String>,
    /// The log's key; pinned in the state file at first contact otherwise.
    #[arg(long, value_name = "KEY", env = "CANVASS_LOG_KEY")]
    pub log_key: Option<String>,
    /// What this witness last cosigned, per log (default: KEY-FILE.state.json).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Check once and exit (non-zero if the checkpoint was refused).
    #[arg(long)]
    pub once: bool,
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub interval: u64,
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create a witness key and print the public key logs must trust.
    Keygen {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
}

pub(crate) fn default_name(key: &NodeSigningKey) -> String {
    format!("witness-{}", &key.public_key().to_hex()[..16])
}

pub fn run(arguments: WitnessArguments) -> anyhow::Result<ExitCode> {
    if let Some(WitnessCommand::Keygen { key, name }) = arguments.command {
        return keygen(&key, name);
    }
    let (Some(log), Some(key_path)) = (arguments.log.clone(), arguments.key.clone()) else {
        bail!("give --log URL and --key FILE (create a key with `canvass witness keygen --key FILE`)");
    };
    let key = load_key(&key_path)?;
    let name = arguments.name.clone().unwrap_or_else(|| default_name(&key));
    let signer = NoteSigner::new(&name, &key)?;
    let state_path = arguments.state.clone().unwrap_or_else(|| key_path.with_extension("state.json"));
    let mut source = LogSource::open(&log);
    loop {
        match witness_once(&arguments, &signer, &state_path, &mut source) {
            Ok(message) => println!("{message}"),
            Err(error) if arguments.once => {
                eprintln!("witness: {error:#}");
                return Ok(ExitCode::FAILURE);
            }
            Err(error) => eprintln!("witness: {error:#}"),
        }
        if arguments.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(arguments.interval.max(1)));
    }
}

fn keygen(path: &Path, name: Option<String>) -> anyhow::Result<ExitCode> {
    if path.exists() {
        bail!("{} exists; a witness key is never overwritten", path.display());
    }
    let key = NodeSigningKey::generate()?;
    let name = name.unwrap_or_else(|| default_name(&key));
    let signer = NoteSigner::new(&name, &key)?;
    data_dir::write_private_file(path, key.to_pem()?.as_bytes())?;
    println!("Wrote the witness key {} (readable by this user only).", path.display());
    println!("Its cosignature key, for the log's `ledger.witnesses` in canvass.toml:");
    println!("{}", signer.cosignature_key().0);
    if name.starts_with("witness-") {
        println!("(Run the witness without --name, or with --name {name}, so its cosignatures match this key.)");
    }
    Ok(ExitCode::SUCCESS)
}

fn load_key(path: &Path) -> anyhow::Result<NodeSigningKey> {
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the witness key {}", path.display()))?;
    Ok(NodeSigningKey::from_pem(&pem)?)
}

/// One round: fetch, check, cosign, hand back. Returns what happened, or why it refused.
pub(crate) fn witness_once(
    arguments: &WitnessArguments,
    signer: &NoteSigner<'_>,
    state_path: &Path,
    source: &mut LogSource,
) -> anyhow::Result<String> {
    let note_bytes = source.fetch("checkpoint")?.context("the log has no checkpoint yet")?;
    let note = Note::parse(&note_bytes)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    let mut states: BTreeMap<String, WitnessState> = read_state(state_path, "a witness state")?.unwrap_or_default();
    let pinned = states.get(&checkpoint.origin).map(|state| state.log_key.as_str());
    let log_key = trusted_log_key(arguments.log_key.as_deref(), pinned, source)?;
    let mut witness = match states.get(&checkpoint.origin) {
        Some(state) => Witness::resume(signer.clone(), state)?,
        None => Witness::new(signer.clone(), log_key.clone(), &checkpoint.origin),
    };
    log_key.verify(&note).context("the checkpoint is not signed by the log's key")?;
    let old_size = witness.state().size;
    if old_size > checkpoint.size {
        let reason =
            format!("the log shrank from {old_size} to {} entries (truncation); not cosigning", checkpoint.size);
        return Err(refuse(signer, source, &checkpoint, old_size, &reason));
    }
    let proof = if old_size == 0 || old_size == checkpoint.size {
        Vec::new()
    } else {
        let mut tiles = TileReader::new(&mut *source, checkpoint.size);
        consistency_proof(old_size, checkpoint.size, &mut tiles)?
    };
    let request = AddCheckpoint { old_size, proof, checkpoint: note.clone() };
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let cosignature = witness
        .add_checkpoint(&request, now)
        .map_err(|refusal| refuse(signer, source, &checkpoint, old_size, &refusal.to_string()))?;
    states.insert(checkpoint.origin.clone(), witness.state());
    write_state(state_path, &states)?;
    let mut cosigned = note;
    cosigned.add_signature(cosignature);
    let reply = source.post("cosignature", cosigned.to_text().as_bytes()).map_err(|error| anyhow::anyhow!(error))?;
    Ok(format!("cosigned {} at size {} ({})", checkpoint.origin, checkpoint.size, reply.trim()))
}

/// The `REFUSED: ...` error of a round that will not cosign, after telling the node: a
/// refusal signed by this witness goes to the log's `/refusal`, where a node that trusts this
/// witness opens an incident. A directory cannot take it; a node that cannot be reached is
/// named in the error, which is what the operator sees either way.
fn refuse(
    signer: &NoteSigner<'_>,
    source: &LogSource,
    checkpoint: &Checkpoint,
    cosigned_size: u64,
    reason: &str,
) -> anyhow::Error {
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let refusal = Refusal::new(&checkpoint.origin, now, (checkpoint.size, checkpoint.root), cosigned_size, reason);
    let delivery = match source {
        LogSource::Directory(_) => "not sent: a directory cannot take a refusal".to_owned(),
        LogSource::Http { .. } => match source.post("refusal", sign_refusal(&refusal, signer).to_text().as_bytes()) {
            Ok(_) => "the node recorded the refusal".to_owned(),
            Err(error) => format!("the node was not told: {error}"),
        },
    };
    anyhow::anyhow!("REFUSED: {reason} ({delivery})")
}
