//! JSON lines: one object per journey, written as each journey finishes, so a consumer can
//! stream them (`jq` reads the lines one by one). The object is [`RunResult`] as is.

use std::io::Write;

use crate::journey::RunResult;

pub fn write_result(out: &mut dyn Write, result: &RunResult) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, result)?;
    out.write_all(b"\n")?;
    out.flush()
}
