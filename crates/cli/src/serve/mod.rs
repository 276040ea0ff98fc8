//! `serve`: the hub, started by the server crate's one startup path
//! ([`Application`]) from the flags, and stopped on SIGTERM or Ctrl-C: calls
//! in flight finish, streams end so receivers resume elsewhere, and what was
//! acknowledged is committed before the process exits.

mod args;
mod settings;

pub use args::ServeArgs;

use args::MigrationsArg;

use referral_hub_server::{Application, keys, telemetry};
use referral_hub_store::Store;

use crate::{CliError, open_migrated_store, open_store};

/// Runs the hub until SIGTERM or Ctrl-C.
pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let telemetry = telemetry::init(&args.log_level, args.log_format(), args.otlp_endpoint.as_deref())
        .map_err(|e| CliError::Config(e.to_string()))?;
    let stop = shutdown_signal();
    let (settings, key) = settings::settings(&args).await?;
    let store = store(&args).await?;
    let application = Application::build(settings, store.clone()).await?;
    if args.dev {
        let lifetime = settings::max_token_lifetime(&args);
        let claims = (args.token.issuer.as_str(), args.token.audience.as_str(), lifetime);
        crate::dev::print_banner(&key, claims, application.address(), &args.database.data_dir)?;
    }
    application.run_until_stopped(stop).await?;
    store.close().await;
    // Export the last spans before exiting.
    drop(telemetry);
    tracing::info!("stopped");
    Ok(())
}

/// The hub's store: migrated (or checked to be, `--migrations check`),
/// sealing payloads with the configured key, and in dev mode holding the demo
/// directory.
async fn store(args: &ServeArgs) -> Result<Store, CliError> {
    let store = match args.migrations {
        MigrationsArg::Apply => open_store(&args.database).await?,
        MigrationsArg::Check => open_migrated_store(&args.database).await?,
    };
    store.seal_with(keys::load_or_create_payload_keys(&args.database.data_dir, &args.payload_key_id)?);
    if args.dev {
        referral_hub_server::demo::seed(&store).await?;
    }
    Ok(store)
}

/// Completes on SIGTERM or Ctrl-C. The SIGTERM handler is installed at the
/// call, so one that comes while the hub starts stops it cleanly instead of
/// ending the process at once (the signal's default).
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
}
