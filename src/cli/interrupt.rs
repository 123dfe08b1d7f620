//! Signals. The first SIGINT, SIGTERM, SIGHUP or SIGQUIT cancels the runs in flight: they
//! end as `cancelled`, their sessions are closed (within 2 s) and the driver is stopped. A
//! second signal does not wait: it kills the managed driver's process group and every browser
//! using our profiles, then exits with 130.

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::ExitCode;
use crate::browser::driver::KillSwitch;

pub struct Interrupt {
    token: CancellationToken,
    armed: KillSwitch,
}

impl Interrupt {
    /// Start listening for the signals.
    pub fn install() -> Interrupt {
        let token = CancellationToken::new();
        let armed = KillSwitch::default();
        let (t, a) = (token.clone(), armed.clone());
        tokio::spawn(async move {
            let kinds = [
                SignalKind::interrupt(),
                SignalKind::terminate(),
                SignalKind::hangup(),
                SignalKind::quit(),
            ];
            let mut streams: Vec<_> = kinds.into_iter().filter_map(|k| signal(k).ok()).collect();
            if streams.is_empty() {
                return;
            }
            for n in 0.. {
                let recv = streams.iter_mut().map(|s| Box::pin(s.recv()));
                futures_select_all(recv).await;
                if n == 0 {
                    t.cancel();
                    continue;
                }
                a.fire();
                eprintln!("interrupted twice: driver and browsers killed");
                std::process::exit(ExitCode::Interrupted.code());
            }
        });
        Interrupt { token, armed }
    }

    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// What a second signal kills: the driver armed in it at the time.
    pub fn kill_switch(&self) -> KillSwitch {
        self.armed.clone()
    }
}

/// Wait for the first of several futures.
async fn futures_select_all<F: Future + Unpin>(futs: impl Iterator<Item = F>) {
    let mut futs: Vec<F> = futs.collect();
    std::future::poll_fn(|cx| {
        for f in futs.iter_mut() {
            if std::pin::Pin::new(f).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}
