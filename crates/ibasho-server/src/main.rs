//! The `ibasho` command: `serve`, `migrate`, `admin`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use ibasho_hub::store::ModerationStore;
use ibasho_hub::{Clock, SystemClock};
use ibasho_protocol::{Avatar, AvatarColor, AvatarShape, Role};
use ibasho_server::config::{Config, LogFormat, Overrides};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "ibasho",
    version,
    about = "ibasho: a realtime server for online drop-in spaces (居場所)"
)]
struct Cli {
    /// A TOML configuration file (default: config/default.toml when it exists).
    #[arg(long, global = true, env = "IBASHO_CONFIG")]
    config: Option<PathBuf>,
    /// Where the database and generated secrets live (overrides `data_dir`).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve {
        /// Address and port to listen on (overrides `listen`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create an account and print a sign-in link for it.
    Create {
        /// participant, family, counsellor, staff or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The handle others will see.
        #[arg(long)]
        handle: String,
    },
    /// List accounts.
    List,
    /// Show the newest lines of the audit log.
    Audit {
        /// How many lines.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!("unknown role {s:?}; use participant, family, counsellor, staff or admin")
    })
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } => *listen,
        _ => None,
    };
    let overrides = Overrides {
        listen,
        data_dir: cli.data_dir.clone(),
    };
    let config =
        Config::load(cli.config.as_deref(), &overrides).context("reading configuration")?;
    init_tracing(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { .. } => serve(config).await,
            Command::Migrate => {
                ibasho_server::open_store(&config).await?;
                println!(
                    "database schema is up to date in {}",
                    config.data_dir.display()
                );
                Ok(())
            }
            Command::Admin { command } => admin(config, command).await,
        }
    })
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("IBASHO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    config.validate().map_err(|e| anyhow::anyhow!(e))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let configured_url = config.public_url.clone();
    let server = ibasho_server::start(config, listener, shutdown_signal()).await?;
    let url = if configured_url.is_empty() {
        format!("http://{}", server.addr)
    } else {
        configured_url
    };
    eprintln!("ibasho is open at {}/", url.trim_end_matches('/'));
    server.wait().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

async fn admin(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    let store = ibasho_server::open_store(&config).await?;
    match command {
        AdminCommand::Create { role, handle } => {
            let keys = ibasho_server::auth::TokenKeys::from_config(&config)?;
            let avatar = Avatar {
                shape: AvatarShape::Star,
                color: AvatarColor::Umi,
            };
            let record = ibasho_server::accounts::create_account(
                &store,
                &config.limits,
                &handle,
                avatar,
                role,
                SystemClock.now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.describe()))?;
            let identity = record.identity();
            let token = keys.issue(
                &identity,
                Duration::from_secs(config.auth.admin_token_hours * 3600),
            )?;
            println!(
                "created {} {:?} ({})",
                record.role.as_str(),
                record.handle,
                record.id
            );
            println!(
                "sign-in link (valid {} hours): {}/#token={token}",
                config.auth.admin_token_hours,
                config.public_url()
            );
            println!("token: {token}");
        }
        AdminCommand::List => {
            for a in store.accounts().await? {
                println!("{}\t{}\t{}", a.id, a.role.as_str(), a.handle);
            }
        }
        AdminCommand::Audit { limit } => {
            for e in store.audit_log(limit).await? {
                println!(
                    "{}\t{}\t{}\troom={}\ttarget={}\t{}",
                    e.at,
                    e.actor,
                    e.action,
                    e.room.as_ref().map_or("-", |r| r.as_str()),
                    e.target_account
                        .map_or_else(|| "-".to_owned(), |a| a.to_string()),
                    e.reason
                );
            }
        }
    }
    store.close().await;
    Ok(())
}
