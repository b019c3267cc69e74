//! The subcommands.

pub mod admin;
pub mod bench;
pub mod bench_ingest;
pub mod demo;
pub mod events;
pub mod import;
pub mod ingest;
pub mod serve;

/// A progress bar over `size` bytes, moved by `progress` until the
/// returned task is aborted.
pub(crate) fn progress_bar(
    size: u64,
    message: &str,
    progress: &std::sync::Arc<garrison_scan::Progress>,
) -> (indicatif::ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    let ticker = {
        let bar = bar.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
            loop {
                tick.tick().await;
                bar.set_position(progress.bytes());
            }
        })
    };
    (bar, ticker)
}
