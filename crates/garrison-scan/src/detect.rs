//! Recognising a file's format from its first bytes.

/// The formats Garrison reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Nmap,
    Nessus,
    Openvas,
    /// Qualys VM scan report (`ASSET_DATA_REPORT`), infrastructure scan
    /// (`SCAN`) or host detection list (`HOST_LIST_VM_DETECTION_OUTPUT`).
    Qualys,
    AssetsCsv,
    AssetsJson,
    NvdJson,
    KevJson,
    EpssCsv,
}

impl Format {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nmap => "nmap",
            Self::Nessus => "nessus",
            Self::Openvas => "openvas",
            Self::Qualys => "qualys",
            Self::AssetsCsv => "csv",
            Self::AssetsJson => "json",
            Self::NvdJson => "nvd",
            Self::KevJson => "kev",
            Self::EpssCsv => "epss",
        }
    }

    /// From a `--format` value.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "nmap" => Self::Nmap,
            "nessus" => Self::Nessus,
            "openvas" | "gvm" => Self::Openvas,
            "qualys" => Self::Qualys,
            "csv" => Self::AssetsCsv,
            "json" => Self::AssetsJson,
            "nvd" => Self::NvdJson,
            "kev" => Self::KevJson,
            "epss" => Self::EpssCsv,
            _ => return None,
        })
    }
}

/// Guesses the format from the first few kilobytes of a file; `None` when
/// nothing fits (the caller then asks for `--format`).
#[must_use]
pub fn detect(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        // The root element: the first start tag that is not a declaration,
        // comment or doctype.
        let root = text
            .match_indices('<')
            .map(|(i, _)| &text[i + 1..])
            .find(|rest| !rest.starts_with('?') && !rest.starts_with('!'))?;
        let name: String = root
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return match name.as_str() {
            "nmaprun" => Some(Format::Nmap),
            "NessusClientData_v2" => Some(Format::Nessus),
            "report" | "get_reports_response" => Some(Format::Openvas),
            "ASSET_DATA_REPORT" | "SCAN" | "HOST_LIST_VM_DETECTION_OUTPUT" => Some(Format::Qualys),
            _ => None,
        };
    }
    if text.starts_with('{') || text.starts_with('[') {
        if text.contains("\"vulnerabilities\"")
            && (text.contains("\"cveID\"") || text.contains("catalogVersion"))
        {
            return Some(Format::KevJson);
        }
        if text.contains("\"vulnerabilities\"")
            || text.contains("\"CVE_Items\"")
            || text.contains("\"cve\"")
        {
            return Some(Format::NvdJson);
        }
        return Some(Format::AssetsJson);
    }
    let first_line = text
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if text.starts_with("#model_version") || first_line.starts_with("cve,epss") {
        return Some(Format::EpssCsv);
    }
    if first_line.contains(',') || first_line.contains(';') {
        return Some(Format::AssetsCsv);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_headers() {
        let cases: &[(&str, Option<Format>)] = &[
            (
                "<?xml version=\"1.0\"?>\n<!-- x -->\n<nmaprun scanner=\"nmap\">",
                Some(Format::Nmap),
            ),
            (
                "<?xml version=\"1.0\" ?>\n<NessusClientData_v2>",
                Some(Format::Nessus),
            ),
            ("<report id=\"x\">", Some(Format::Openvas)),
            (
                "<?xml version=\"1.0\"?><!DOCTYPE ASSET_DATA_REPORT SYSTEM \"x.dtd\"><ASSET_DATA_REPORT>",
                Some(Format::Qualys),
            ),
            ("<SCAN value=\"scan/1\">", Some(Format::Qualys)),
            (
                "{\"title\": \"CISA Catalog\", \"catalogVersion\": \"2025.03.03\", \"vulnerabilities\": [",
                Some(Format::KevJson),
            ),
            (
                "{\"resultsPerPage\": 1, \"vulnerabilities\": [{\"cve\": {",
                Some(Format::NvdJson),
            ),
            ("[{\"hostname\": \"web1\"}]", Some(Format::AssetsJson)),
            (
                "#model_version:v2023.03.01,score_date:2025-02-20\ncve,epss,percentile\n",
                Some(Format::EpssCsv),
            ),
            (
                "hostname,ip,criticality\nweb1,10.0.0.1,high\n",
                Some(Format::AssetsCsv),
            ),
            ("<html>", None),
            ("just words", None),
        ];
        for (head, want) in cases {
            assert_eq!(detect(head.as_bytes()), *want, "{head}");
        }
    }
}
