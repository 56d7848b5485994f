//! `lvmetad-audit --json`: the report as one JSON object (schema 1, docs/audit.md).

use super::{mm, Difference, Outcome};

/// The schema version; raised only when a field changes meaning or goes away.
pub const SCHEMA: u32 = 1;

/// A JSON string literal.
pub fn string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn opt(s: Option<&str>) -> String {
    s.map(string).unwrap_or_else(|| "null".into())
}

fn list(items: &[String]) -> String {
    let v: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", v.join(","))
}

/// One difference.
pub fn difference(d: &Difference) -> String {
    format!(
        "{{\"kind\":{},\"vg\":{},\"pv_uuid\":{},\"device\":{},\"devno\":{},\"cached\":{},\"on_disk\":{},\"message\":{}}}",
        string(d.kind.as_str()),
        opt(d.vg.as_deref()),
        opt(d.pv_uuid.as_deref()),
        opt(d.device.as_deref()),
        opt(d.devno.map(mm).as_deref()),
        opt(d.cached.as_deref()),
        opt(d.on_disk.as_deref()),
        string(&d.message())
    )
}

fn differences(ds: &[Difference]) -> String {
    let v: Vec<String> = ds.iter().map(difference).collect();
    format!("[{}]", v.join(","))
}

/// The whole report of a run that could audit.
pub fn outcome(o: &Outcome) -> String {
    let repair = match &o.repair {
        None => "null".to_string(),
        Some(r) => format!(
            "{{\"mode\":{},\"ok\":{},\"rescanned\":{},\"forgotten\":{},\"remaining\":{}}}",
            string(r.mode),
            r.ok,
            list(&r.rescanned),
            list(&r.forgotten),
            differences(&r.remaining)
        ),
    };
    format!(
        "{{\"schema\":{},\"status\":{},\"error\":null,\"differences\":{},\"repair\":{}}}",
        SCHEMA,
        o.status(),
        differences(&o.differences),
        repair
    )
}

/// The report of a run that could not audit (exit status 2).
pub fn failure(msg: &str) -> String {
    format!(
        "{{\"schema\":{},\"status\":2,\"error\":{},\"differences\":[],\"repair\":null}}",
        SCHEMA,
        string(msg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(
            failure("no \"daemon\""),
            "{\"schema\":1,\"status\":2,\"error\":\"no \\\"daemon\\\"\",\"differences\":[],\"repair\":null}"
        );
    }
}
