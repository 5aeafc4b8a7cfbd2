//! A throwaway PostgreSQL cluster for test suites: `initdb` into a temporary directory with the
//! system's binaries (`/usr/lib/postgresql/*/bin`), started on a free loopback port, removed
//! when dropped. PostgreSQL refuses to run as root, so as root the cluster runs as the
//! `postgres` user (via `runuser`) in a directory that user owns.
// Test-support code: errors are reported as strings to the test that asked for a cluster.

use std::{
    fs,
    net::TcpListener,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicU32, Ordering},
};

static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);
const SERVICE_USER: &str = "postgres";

/// A running cluster; stopped and deleted on drop.
#[derive(Debug)]
pub struct TestCluster {
    binaries: PathBuf,
    directory: PathBuf,
    port: u16,
    as_service_user: bool,
}

/// The newest `/usr/lib/postgresql/<version>/bin` that holds `initdb`.
fn find_binaries() -> Result<PathBuf, String> {
    let mut candidates: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| missing_message())?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let binaries = entry.path().join("bin");
            binaries.join("initdb").exists().then_some((version, binaries))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, path)| path).ok_or_else(missing_message)
}

fn missing_message() -> String {
    "PostgreSQL server binaries are not in /usr/lib/postgresql/*/bin; install them with \
     `apt-get install postgresql` (scripts/test does this for you)"
        .to_owned()
}

fn running_as_root() -> bool {
    // /proc/self is owned by the effective user of this process.
    fs::metadata("/proc/self").map(|metadata| metadata.uid() == 0).unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    listener.local_addr().map(|address| address.port()).map_err(|error| error.to_string())
}

fn checked(output: std::io::Result<Output>, what: &str) -> Result<Output, String> {
    let output = output.map_err(|error| format!("{what}: {error}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl TestCluster {
    /// Creates and starts a cluster. Takes a few seconds.
    pub fn start() -> Result<Self, String> {
        let binaries = find_binaries()?;
        let as_service_user = running_as_root();
        let directory = std::env::temp_dir().join(format!(
            "canvass-pg-{}-{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&directory).map_err(|error| format!("creating {}: {error}", directory.display()))?;
        let cluster = Self { binaries, directory, port: free_port()?, as_service_user };
        if as_service_user {
            checked(
                Command::new("chown").arg(format!("{SERVICE_USER}:")).arg(&cluster.directory).output(),
                "chown of the cluster directory to postgres",
            )?;
        }
        let data = cluster.data_dir();
        checked(
            cluster
                .command("initdb")
                .args(["--auth=trust", "--username=postgres", "--no-sync", "--encoding=UTF8", "--locale=C", "-D"])
                .arg(&data)
                .output(),
            "initdb",
        )?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            cluster.port,
            cluster.directory.display()
        );
        checked(
            cluster
                .command("pg_ctl")
                .args(["-w", "-t", "60", "-D"])
                .arg(&data)
                .args(["-o", &options, "-l"])
                .arg(cluster.directory.join("server.log"))
                .arg("start")
                .output(),
            "pg_ctl start",
        )?;
        Ok(cluster)
    }

    fn data_dir(&self) -> PathBuf {
        self.directory.join("data")
    }

    /// A command for one of the cluster's binaries (`psql`, `pg_dump`, ...), as the service
    /// user when we are root.
    pub fn command(&self, binary: &str) -> Command {
        let program = self.binaries.join(binary);
        if self.as_service_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SERVICE_USER, "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Creates a new, empty database and returns its URL.
    pub fn create_database(&self) -> Result<String, String> {
        let name = format!("canvass_test_{}", NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
        checked(
            self.command("createdb")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", &name])
                .output(),
            "createdb",
        )?;
        Ok(self.url(&name))
    }

    /// `pg_dump` of a database (plain SQL), for tests that inspect what is stored.
    pub fn dump(&self, url: &str) -> Result<Vec<u8>, String> {
        let database = url.rsplit('/').next().unwrap_or_default();
        let output = checked(
            self.command("pg_dump")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "--no-owner", database])
                .output(),
            "pg_dump",
        )?;
        Ok(output.stdout)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let _stopped =
            self.command("pg_ctl").args(["-D"]).arg(self.data_dir()).args(["-m", "immediate", "stop"]).output();
        let _removed = fs::remove_dir_all(&self.directory);
    }
}
