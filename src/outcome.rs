//! The one result type every probe returns.
//!
//! A run ends in exactly one [`Outcome`]. `Failure` means the *target* misbehaved (an
//! assertion failed, an element is missing, the page is an HTTP error); `Error` means the
//! *prober* could not measure (WebDriver unreachable, session lost). The split is the
//! product's core promise: an `Error` never counts against a BPM and never pages the
//! service owner. Which side a [`Reason`] falls on is decided once, in [`Reason::class`].

crate::closed::closed_set! {
    /// How a run ended.
    #[derive(PartialOrd, Ord)]
    pub enum Outcome {
        Success => "success",
        Failure => "failure",
        Error => "error",
    }
}

crate::closed::closed_set! {
    /// Why a run did not succeed. A closed set: metric labels and report consumers rely on it.
    #[derive(PartialOrd, Ord)]
    pub enum Reason {
        // --- the target misbehaved (failure) ---
        /// No element matched the selector before the step's deadline.
        ElementNotFound => "element_not_found",
        /// The element exists but could not be interacted with (hidden, disabled, covered).
        NotInteractable => "not_interactable",
        /// A text, URL or title assertion did not hold before the deadline.
        AssertionFailed => "assertion_failed",
        /// `assert_visible`: not displayed, zero size or outside the viewport.
        NotVisible => "not_visible",
        /// `assert_visible`: another element is on top of it at its centre.
        Covered => "covered",
        /// `assert_visible`: text/background contrast below `min_contrast`.
        LowContrast => "low_contrast",
        /// A navigation (goto, or a click that navigates) did not finish loading in time.
        NavigationTimeout => "navigation_timeout",
        /// The browser could not load the page at all (connection refused, DNS failure, reset).
        NavigationFailed => "navigation_failed",
        /// A wait did not complete within the step's timeout.
        StepTimeout => "step_timeout",
        /// The whole journey ran out of its `timeout`.
        JourneyTimeout => "journey_timeout",
        /// The page the browser is on was served with an HTTP status >= 400.
        HttpErrorPage => "http_error_page",
        // --- checks: the target misbehaved (failure) ---
        /// DNS: the name does not exist (NXDOMAIN) where it should.
        DnsNxdomain => "dns_nxdomain",
        /// DNS: the server answered SERVFAIL.
        DnsServfail => "dns_servfail",
        /// DNS: the server refused the query.
        DnsRefused => "dns_refused",
        /// DNS: another response code than the one expected.
        DnsRcodeMismatch => "dns_rcode_mismatch",
        /// DNS: the name exists but has no record of the asked type.
        DnsNoAnswer => "dns_no_answer",
        /// DNS: the answers are not the expected ones.
        DnsAnswerMismatch => "dns_answer_mismatch",
        /// DNS: the nameserver under test did not answer in time.
        DnsTimeout => "dns_timeout",
        /// HTTP/TLS: the target's host name does not resolve.
        NameNotResolved => "name_not_resolved",
        /// HTTP/TLS: nothing accepts connections at the target's address.
        ConnectRefused => "connect_refused",
        /// HTTP/TLS: the connection could not be made (unreachable, reset).
        ConnectFailed => "connect_failed",
        /// HTTP/TLS: the target did not complete the exchange within the check's timeout.
        Timeout => "timeout",
        /// HTTP: the response status is not one of those expected.
        StatusMismatch => "status_mismatch",
        /// HTTP: the redirect is missing or goes elsewhere.
        RedirectMismatch => "redirect_mismatch",
        /// HTTP: the body does not contain or match what is expected.
        BodyMismatch => "body_mismatch",
        /// HTTP: a response header is missing or does not match.
        HeaderMismatch => "header_mismatch",
        /// HTTP/DNS: the answer came, but later than `max_latency`.
        LatencyExceeded => "latency_exceeded",
        /// HTTP/TLS: the certificate is not valid for this host (untrusted, expired, wrong name).
        TlsInvalid => "tls_invalid",
        /// HTTP/TLS: the target's answer is not valid HTTP or TLS.
        ProtocolError => "protocol_error",
        /// TLS: the certificate is valid but expires in fewer days than `min_days_left`.
        TlsExpiring => "tls_expiring",
        /// TLS: the certificate has expired (or is not valid yet).
        TlsExpired => "tls_expired",
        /// TLS: the certificate is not valid for the host name.
        TlsHostnameMismatch => "tls_hostname_mismatch",
        /// TLS: the certificate chain does not lead to a trusted root.
        TlsUntrusted => "tls_untrusted",
        /// Bucket: the bucket does not exist (NoSuchBucket).
        BucketNotFound => "bucket_not_found",
        /// Bucket: the bucket or object exists but may not be read with these credentials.
        BucketAccessDenied => "bucket_access_denied",
        /// Bucket: the object does not exist (NoSuchKey).
        ObjectNotFound => "object_not_found",
        /// Bucket: the object is there but its size, ETag or sha256 is not the expected one.
        ObjectMismatch => "object_mismatch",
        // --- the prober could not measure (error) ---
        /// No WebDriver server answered at the configured URL.
        WebdriverUnreachable => "webdriver_unreachable",
        /// The WebDriver server refused to create a browser session.
        SessionNotCreated => "session_not_created",
        /// The session or the driver went away in the middle of the run.
        SessionLost => "session_lost",
        /// A WebDriver command did not answer within its deadline.
        WebdriverTimeout => "webdriver_timeout",
        /// The WebDriver server answered with something we could not interpret.
        WebdriverError => "webdriver_error",
        /// No driver binary (chromedriver, geckodriver) could be found.
        DriverNotFound => "driver_not_found",
        /// The driver (chromedriver, geckodriver) was found but did not start.
        DriverStartFailed => "driver_start_failed",
        /// The journey's timeout ran out while most of it had gone to the browser starting
        /// (a cold first start: profile, font cache): the prober's time, not the target's.
        BrowserStartSlow => "browser_start_slow",
        /// The browser rejected a selector (invalid CSS or XPath): the probe file is wrong.
        InvalidSelector => "invalid_selector",
        /// The prober's own network is unusable (no connectivity, proxy failure, out of
        /// resources), as Chromium reports it on its error page.
        ProberNetwork => "prober_network",
        /// The system DNS resolver (resolv.conf) is unusable: none configured, none answers, or
        /// it answers with an error it does not explain (SERVFAIL, REFUSED).
        ResolverUnavailable => "resolver_unavailable",
        /// The prober has no trust anchors to verify certificates with (no CA bundle).
        NoTrustAnchors => "no_trust_anchors",
        /// The prober's clock is too far off for a signed request (RequestTimeTooSkewed).
        ClockSkew => "clock_skew",
        /// The probe's own settings do not fit the target (a wrong region or endpoint, an object
        /// too large to hash): the probe file is wrong, not the target.
        ProbeMisconfigured => "probe_misconfigured",
        /// The run was cancelled (Ctrl-C) before it finished.
        Cancelled => "cancelled",
    }
}

impl Reason {
    /// Which side of the core split this reason is on.
    pub fn class(self) -> Outcome {
        use Reason::*;
        match self {
            ElementNotFound | NotInteractable | AssertionFailed | NotVisible | Covered
            | LowContrast | NavigationTimeout | NavigationFailed | StepTimeout | JourneyTimeout
            | HttpErrorPage | DnsNxdomain | DnsServfail | DnsRefused | DnsRcodeMismatch
            | DnsNoAnswer | DnsAnswerMismatch | DnsTimeout | NameNotResolved | ConnectRefused
            | ConnectFailed | Timeout | StatusMismatch | RedirectMismatch | BodyMismatch
            | HeaderMismatch | LatencyExceeded | TlsInvalid | ProtocolError | TlsExpiring
            | TlsExpired | TlsHostnameMismatch | TlsUntrusted | BucketNotFound
            | BucketAccessDenied | ObjectNotFound | ObjectMismatch => Outcome::Failure,
            WebdriverUnreachable | SessionNotCreated | SessionLost | WebdriverTimeout
            | WebdriverError | DriverNotFound | DriverStartFailed | BrowserStartSlow
            | InvalidSelector | ProberNetwork | ResolverUnavailable | NoTrustAnchors
            | ClockSkew | ProbeMisconfigured | Cancelled => Outcome::Error,
        }
    }
}

crate::closed::closed_set! {
    /// A timed phase of a check's exchange: a key of a result's `timings`, in the order the
    /// phases happen. Every check kind reports the phases it has (a DNS check only `dns`);
    /// `net` measures them, the reports and the board show them.
    pub enum NetPhase {
        Dns => "dns",
        Connect => "connect",
        Tls => "tls",
        FirstByte => "first_byte",
        Transfer => "transfer",
        /// The whole exchange, redirects included (HTTP).
        Total => "total",
    }
}

/// A reason with the human message that explains it. Produced where the problem is seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub reason: Reason,
    pub message: String,
    /// When a locator matched nothing: the nearest selectors and texts the page had instead,
    /// as a journey file writes them (`#welcome-banner`, `text=Log out`), best first, at most
    /// three; the message names them too. Empty for every other problem.
    pub candidates: Vec<String>,
}

impl Problem {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Problem {
            reason,
            message: message.into(),
            candidates: Vec::new(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

/// How a command ends: its process exit code (README.md, "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: every probe passed, or the command did what it was asked.
    Passed,
    /// 1: at least one target failed (`event`: the server refused the event).
    TargetFailed,
    /// 2: a usage or configuration error; nothing ran.
    Usage,
    /// 3: the prober could not verify (errors and no failures), or could not work at all.
    ProberError,
    /// 130 (128 + SIGINT): interrupted with Ctrl-C, or stopped by a signal.
    Interrupted,
}

impl ExitCode {
    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        match self {
            ExitCode::Passed => 0,
            ExitCode::TargetFailed => 1,
            ExitCode::Usage => 2,
            ExitCode::ProberError => 3,
            ExitCode::Interrupted => 130,
        }
    }
}

/// Exit code of a one-shot command (README.md, "Exit codes"): a failure outweighs an error.
pub fn exit_code<I: IntoIterator<Item = Outcome>>(outcomes: I) -> ExitCode {
    let (mut failed, mut errored) = (false, false);
    for o in outcomes {
        match o {
            Outcome::Success => {}
            Outcome::Failure => failed = true,
            Outcome::Error => errored = true,
        }
    }
    if failed {
        ExitCode::TargetFailed
    } else if errored {
        ExitCode::ProberError
    } else {
        ExitCode::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_wins_over_error_in_exit_code() {
        let code = |o: &[Outcome]| exit_code(o.iter().copied()).code();
        assert_eq!(code(&[Outcome::Success, Outcome::Success]), 0);
        assert_eq!(code(&[Outcome::Error, Outcome::Success]), 3);
        assert_eq!(code(&[Outcome::Error, Outcome::Failure]), 1);
        assert_eq!(code(&[]), 0);
        assert_eq!(
            [ExitCode::Usage, ExitCode::Interrupted].map(ExitCode::code),
            [2, 130]
        );
    }

    #[test]
    fn prober_faults_are_errors_not_failures() {
        for r in [
            Reason::WebdriverUnreachable,
            Reason::SessionLost,
            Reason::WebdriverTimeout,
            Reason::DriverNotFound,
            Reason::Cancelled,
        ] {
            assert_eq!(r.class(), Outcome::Error, "{r}");
        }
        assert_eq!(Reason::LowContrast.class(), Outcome::Failure);
        assert_eq!(Reason::HttpErrorPage.class(), Outcome::Failure);
    }
}
