//! Synthetic inputs of any size for benchmarks (`cargo bench`,
//! `garrison bench`): a Nessus report shaped like a real credentialed scan,
//! an asset-list CSV, and hostile XML. Deterministic: the same arguments
//! write the same bytes.

use garrison_core::rng::Rng;
use std::io::{self, Write};

/// Words for descriptions and plugin output, so that text compresses and
/// parses like real prose rather than one repeated byte.
const WORDS: &[&str] = &[
    "remote",
    "host",
    "affected",
    "vulnerability",
    "version",
    "update",
    "service",
    "attacker",
    "unauthenticated",
    "arbitrary",
    "code",
    "execution",
    "installed",
    "package",
    "kernel",
    "library",
    "configuration",
    "TLS",
    "cipher",
    "certificate",
    "request",
    "response",
    "buffer",
    "overflow",
    "denial",
    "privilege",
    "escalation",
    "patch",
    "vendor",
    "advisory",
    "fixed",
    "release",
    "module",
    "component",
];

fn prose(rng: &mut Rng, words: usize) -> String {
    let mut s = String::with_capacity(words * 8);
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        let n = rng.index(WORDS.len());
        s.push_str(WORDS[n]);
    }
    s
}

/// The shape of a synthetic Nessus report.
#[derive(Debug, Clone, Copy)]
pub struct NessusShape {
    pub hosts: u64,
    pub findings_per_host: u64,
    /// Words of plugin output per finding (real outputs run from a line to
    /// a few kilobytes).
    pub output_words: usize,
}

impl NessusShape {
    /// A shape of about `bytes` bytes: 40 findings per host with about a
    /// kilobyte of text each, as a credentialed scan of servers writes.
    #[must_use]
    pub fn of_size(bytes: u64) -> Self {
        let per_host = 40 * 1_490 + 600;
        Self {
            hosts: (bytes / per_host).max(1),
            findings_per_host: 40,
            output_words: 60,
        }
    }
}

/// Writes a Nessus v2 report; returns the bytes written. Hosts are spread
/// over 10.0.0.0/8, each with 40 findings over a few ports, CVEs and CVSS
/// v3 scores, and a plugin output of `output_words` words.
///
/// # Errors
/// When writing fails.
pub fn nessus(out: &mut impl Write, shape: NessusShape) -> io::Result<u64> {
    let mut w = CountingWriter { inner: out, n: 0 };
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    writeln!(
        w,
        "<?xml version=\"1.0\" ?>\n<NessusClientData_v2>\n<Report name=\"synthetic\" xmlns:cm=\"http://www.nessus.org/cm\">"
    )?;
    for h in 0..shape.hosts {
        let ip = format!("10.{}.{}.{}", (h >> 16) & 255, (h >> 8) & 255, h & 255);
        writeln!(
            w,
            "<ReportHost name=\"{ip}\"><HostProperties>\n<tag name=\"HOST_END\">Mon Nov 16 02:39:54 2026</tag>\n<tag name=\"HOST_START\">Mon Nov 16 02:00:09 2026</tag>\n<tag name=\"host-ip\">{ip}</tag>\n<tag name=\"host-fqdn\">host-{h}.corp.example</tag>\n<tag name=\"netbios-name\">HOST-{h}</tag>\n<tag name=\"mac-address\">02:00:{:02x}:{:02x}:{:02x}:{:02x}</tag>\n<tag name=\"operating-system\">Ubuntu 22.04 Linux Kernel 5.15</tag>\n</HostProperties>",
            (h >> 24) & 255,
            (h >> 16) & 255,
            (h >> 8) & 255,
            h & 255
        )?;
        for f in 0..shape.findings_per_host {
            let plugin = 100_000 + rng.below(5_000);
            let port = [22, 80, 443, 445, 3389, 8443, 0][usize::try_from(f % 7).unwrap_or(0)];
            let severity = rng.below(5);
            let score = 1.0 + (rng.below(90) as f64) / 10.0;
            let cve = format!("CVE-20{}-{}", 15 + rng.below(10), 1000 + rng.below(40_000));
            writeln!(
                w,
                "<ReportItem port=\"{port}\" svc_name=\"svc\" protocol=\"tcp\" severity=\"{severity}\" pluginID=\"{plugin}\" pluginName=\"Synthetic check {plugin}\" pluginFamily=\"General\">\n<cvss3_base_score>{score:.1}</cvss3_base_score>\n<cvss3_vector>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>\n<cve>{cve}</cve>\n<risk_factor>High</risk_factor>\n<synopsis>{}</synopsis>\n<description>{}</description>\n<solution>{}</solution>\n<plugin_output>{}</plugin_output>\n</ReportItem>",
                prose(&mut rng, 10),
                prose(&mut rng, 40),
                prose(&mut rng, 12),
                prose(&mut rng, shape.output_words),
            )?;
        }
        writeln!(w, "</ReportHost>")?;
    }
    writeln!(w, "</Report>\n</NessusClientData_v2>")?;
    Ok(w.n)
}

/// Writes an asset-list CSV of `rows` hosts with every usual column;
/// returns the bytes written.
///
/// # Errors
/// When writing fails.
pub fn asset_csv(out: &mut impl Write, rows: u64) -> io::Result<u64> {
    let mut w = CountingWriter { inner: out, n: 0 };
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    writeln!(
        w,
        "hostname,fqdn,ip,mac,os,type,owner,business_unit,location,criticality,sensitivity,regulations,tags,internet_exposed"
    )?;
    let crit = ["low", "medium", "high", "critical"];
    let sens = ["public", "internal", "confidential", "restricted"];
    let types = ["server", "workstation", "network-device", "cloud-resource"];
    for r in 0..rows {
        let pick = |rng: &mut Rng, n: usize| rng.index(n);
        writeln!(
            w,
            "asset-{r},asset-{r}.corp.example,10.{}.{}.{},02:00:{:02x}:{:02x}:{:02x}:{:02x},Windows Server 2022,{},Team {},BU {},Site {},{},{},PCI-DSS;GDPR,tag{};batch,{}",
            (r >> 16) & 255,
            (r >> 8) & 255,
            r & 255,
            (r >> 24) & 255,
            (r >> 16) & 255,
            (r >> 8) & 255,
            r & 255,
            types[pick(&mut rng, 4)],
            rng.below(50),
            rng.below(10),
            rng.below(20),
            crit[pick(&mut rng, 4)],
            sens[pick(&mut rng, 4)],
            rng.below(30),
            if rng.below(10) == 0 { "yes" } else { "no" },
        )?;
    }
    Ok(w.n)
}

/// "Billion laughs": ten levels of ten entity references, a gigabyte once
/// expanded; a safe reader refuses it at the declarations.
#[must_use]
pub fn entity_bomb() -> String {
    let mut s = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        s.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    s.push_str("]>\n<NessusClientData_v2><Report name=\"bomb\"><ReportHost name=\"10.0.0.1\"><HostProperties><tag name=\"host-fqdn\">&lol9;</tag></HostProperties></ReportHost></Report></NessusClientData_v2>\n");
    s
}

/// An external entity pointing at `target` (a local file or a URL); a
/// safe reader refuses it without reading or fetching anything.
#[must_use]
pub fn external_entity(target: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE NessusClientData_v2 [<!ENTITY xxe SYSTEM \"{target}\">]>\n<NessusClientData_v2><Report name=\"xxe\"><ReportHost name=\"10.0.0.1\"><HostProperties><tag name=\"host-fqdn\">&xxe;</tag></HostProperties></ReportHost></Report></NessusClientData_v2>\n"
    )
}

struct CountingWriter<'a, W: Write> {
    inner: &'a mut W,
    n: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counted, Limits, ScanItem, nessus as reader};

    #[test]
    fn the_synthetic_report_reads_back_with_every_host_and_finding() {
        let shape = NessusShape {
            hosts: 30,
            findings_per_host: 40,
            output_words: 20,
        };
        let mut buf = Vec::new();
        let n = nessus(&mut buf, shape).expect("write");
        assert_eq!(n, buf.len() as u64);
        let (mut hosts, mut findings) = (0, 0);
        for item in reader::read(Counted::new(&buf[..]), Limits::default()) {
            if let ScanItem::Host(h) = item.expect("item") {
                hosts += 1;
                findings += h.findings.len();
            }
        }
        assert_eq!(hosts, 30);
        // Findings sharing plugin and port on a host are one finding.
        assert!(findings > 30 * 30 && findings <= 30 * 40, "{findings}");
    }

    #[test]
    fn sizes_are_close_to_what_was_asked() {
        let mut sink = io::sink();
        let n = nessus(&mut sink, NessusShape::of_size(5_000_000)).expect("write");
        assert!((4_000_000..6_500_000).contains(&n), "{n}");
        let mut buf = Vec::new();
        asset_csv(&mut buf, 100).expect("csv");
        assert_eq!(buf.iter().filter(|b| **b == b'\n').count(), 101);
    }

    #[test]
    fn the_hostile_documents_are_refused() {
        for doc in [entity_bomb(), external_entity("file:///etc/passwd")] {
            let items: Vec<_> =
                reader::read(Counted::new(doc.as_bytes()), Limits::default()).collect();
            assert!(items.iter().any(Result::is_err), "refused");
        }
    }
}
