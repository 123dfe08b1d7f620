//! Which side a WebDriver error falls on: the target's (failure) or ours (error).
//!
//! Classified by the error's W3C status and transport kind, never by message text.
//! "no such element" is the target's fault; "invalid session id", a refused or dropped
//! connection to the driver, or a malformed reply are ours. The network error code on a
//! browser's own error page is sorted by its engine (`Engine::net_error_reason`).

use fantoccini::error::{CmdError, ErrorStatus, NewSessionError};

use crate::outcome::{Problem, Reason};

/// A classified command error, and whether trying again within the deadline makes sense
/// (the page navigated under us, an element went stale).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub problem: Problem,
    pub retryable: bool,
}

/// Classify an error from a command sent while doing `what` (a step description).
/// `navigating`: the command may load a page (goto, click, keys), so the driver's `timeout`
/// status means the page did not load in time. On any other command the same status means
/// the browser did not answer (an overloaded renderer): ours.
pub fn classify_cmd(err: &CmdError, what: &str, navigating: bool) -> Classified {
    let (reason, retryable) = match err {
        CmdError::Standard(wd) if wd.error == ErrorStatus::Timeout && !navigating => {
            (Reason::WebdriverTimeout, false)
        }
        CmdError::Standard(wd) => status_reason(&wd.error),
        CmdError::Failed(_) | CmdError::FailedC(_) | CmdError::Lost(_) => {
            (Reason::SessionLost, false)
        }
        CmdError::NotJson(_) | CmdError::Json(_) | CmdError::NotW3C(_) => {
            (Reason::WebdriverError, false)
        }
        CmdError::BadUrl(_) | CmdError::InvalidArgument(..) => (Reason::WebdriverError, false),
        CmdError::ImageDecodeError(_) | CmdError::PdfDecodeError(_) => {
            (Reason::WebdriverError, false)
        }
        CmdError::WaitTimeout => (Reason::StepTimeout, false),
        // CmdError is non-exhaustive upstream; anything new is ours until proven otherwise.
        #[allow(unreachable_patterns)]
        _ => (Reason::WebdriverError, false),
    };
    Classified {
        problem: Problem::new(reason, format!("{what}: {}", describe(err))),
        retryable,
    }
}

fn status_reason(status: &ErrorStatus) -> (Reason, bool) {
    use ErrorStatus::*;
    match status {
        NoSuchElement => (Reason::ElementNotFound, true),
        StaleElementReference | DetachedShadowRoot => (Reason::ElementNotFound, true),
        ElementNotInteractable
        | ElementClickIntercepted
        | InvalidElementState
        | ElementNotSelectable => (Reason::NotInteractable, true),
        // A script of ours broke because the page navigated under it: look again.
        JavascriptError => (Reason::WebdriverError, true),
        Timeout => (Reason::NavigationTimeout, false),
        ScriptTimeout => (Reason::StepTimeout, false),
        InvalidSelector => (Reason::InvalidSelector, false),
        InvalidSessionId | NoSuchWindow | SessionNotCreated => (Reason::SessionLost, false),
        UnexpectedAlertOpen => (Reason::NotInteractable, false),
        NoSuchFrame | NoSuchShadowRoot | NoSuchAlert | NoSuchCookie => {
            (Reason::ElementNotFound, false)
        }
        // The site's certificate is not trusted: the browser would not show the page.
        InsecureCertificate => (Reason::NavigationFailed, false),
        InvalidArgument
        | InvalidCookieDomain
        | InvalidCoordinates
        | MoveTargetOutOfBounds
        | UnableToCaptureScreen
        | UnableToSetCookie
        | UnknownCommand
        | UnknownError
        | UnknownMethod
        | UnknownPath
        | UnsupportedOperation => (Reason::WebdriverError, false),
        #[allow(unreachable_patterns)]
        _ => (Reason::WebdriverError, false),
    }
}

/// Classify a failure to create a session.
pub fn classify_new_session(err: &NewSessionError, url: &str) -> Problem {
    match err {
        NewSessionError::Failed(_) | NewSessionError::FailedC(_) | NewSessionError::Lost(_) => {
            Problem::new(
                Reason::WebdriverUnreachable,
                format!("no WebDriver server answered at {url}: {err}"),
            )
        }
        NewSessionError::BadWebdriverUrl(e) => Problem::new(
            Reason::WebdriverUnreachable,
            format!("'{url}' is not a usable WebDriver URL: {e}"),
        ),
        NewSessionError::SessionNotCreated(wd) => Problem::new(
            Reason::SessionNotCreated,
            format!("the WebDriver server at {url} did not start a browser: {wd}"),
        ),
        NewSessionError::NotW3C(_) | NewSessionError::UnexpectedError(_) => Problem::new(
            Reason::WebdriverError,
            format!("unexpected reply from the WebDriver server at {url}: {err}"),
        ),
        #[allow(unreachable_patterns)]
        _ => Problem::new(Reason::WebdriverError, format!("{url}: {err}")),
    }
}

/// A one-line description of an error (WebDriver messages can run over many lines).
fn describe(err: &CmdError) -> String {
    let text = match err {
        CmdError::Standard(wd) => format!("{}: {}", wd.error, wd.message),
        other => other.to_string(),
    };
    text.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fantoccini::error::WebDriver;

    fn standard(status: ErrorStatus) -> CmdError {
        CmdError::Standard(WebDriver::new(status, "msg\nstack"))
    }

    #[test]
    fn missing_element_is_the_targets_fault() {
        let c = classify_cmd(&standard(ErrorStatus::NoSuchElement), "click #x", true);
        assert_eq!(c.problem.reason, Reason::ElementNotFound);
        assert!(c.retryable);
        assert!(!c.problem.message.contains("stack"), "only the first line");
    }

    #[test]
    fn lost_session_and_transport_are_ours() {
        for e in [
            standard(ErrorStatus::InvalidSessionId),
            CmdError::Lost(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
            CmdError::NotJson("<html>".into()),
        ] {
            let c = classify_cmd(&e, "step", false);
            assert_eq!(
                c.problem.reason.class(),
                crate::outcome::Outcome::Error,
                "{e:?}"
            );
        }
    }

    #[test]
    fn driver_timeout_is_the_targets_only_while_navigating() {
        let c = classify_cmd(&standard(ErrorStatus::Timeout), "goto", true);
        assert_eq!(c.problem.reason, Reason::NavigationTimeout);
        let c = classify_cmd(&standard(ErrorStatus::Timeout), "probe", false);
        assert_eq!(c.problem.reason, Reason::WebdriverTimeout);
    }
}
