//! Which events a rule sees (its logsource), and where a Sigma field name
//! is found in Garrison's schema for that logsource.
//!
//! The tables follow pySigma's Windows pipelines (`windows_logsource`,
//! Sysmon) and sigma-cli's common mappings; `docs/sigma.md` lists them.

/// A rule's `logsource`, lowercased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

/// Where a rule is routed: the event sources it can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// Every Windows event.
    WinAll,
    /// Windows events of one channel (lowercased), any event id.
    WinChannel(&'static str),
    /// Windows events of one channel (lowercased) and event id.
    WinEvent(&'static str, i64),
    /// A non-Windows source key (see [`event_keys`](super::SigmaRules)):
    /// `suricata:dns`, `zeek:conn`, `syslog`, `syslog:app:sshd`, ...
    Source(String),
}

pub(crate) const SYSMON: &str = "microsoft-windows-sysmon/operational";
const SECURITY: &str = "security";
const PS_OPERATIONAL: &str = "microsoft-windows-powershell/operational";
const PS_CORE: &str = "powershellcore/operational";
const PS_CLASSIC: &str = "windows powershell";

/// Windows `service` → channels (pySigma `windows_logsource_mapping`).
fn windows_service_channels(service: &str) -> Option<&'static [&'static str]> {
    Some(match service {
        "security" => &[SECURITY],
        "system" => &["system"],
        "application" => &["application"],
        "sysmon" => &[SYSMON],
        "powershell" => &[PS_OPERATIONAL, PS_CORE],
        "powershell-classic" => &[PS_CLASSIC],
        "taskscheduler" => &["microsoft-windows-taskscheduler/operational"],
        "wmi" => &["microsoft-windows-wmi-activity/operational"],
        "dns-server" => &["dns server"],
        "dns-server-audit" => &["microsoft-windows-dns-server/audit"],
        "dns-server-analytic" => &["microsoft-windows-dns-server/analytical"],
        "dns-client" => &["microsoft-windows-dns client events/operational"],
        "driver-framework" => &["microsoft-windows-driverframeworks-usermode/operational"],
        "ntlm" => &["microsoft-windows-ntlm/operational"],
        "windefend" => &["microsoft-windows-windows defender/operational"],
        "printservice-admin" => &["microsoft-windows-printservice/admin"],
        "printservice-operational" => &["microsoft-windows-printservice/operational"],
        "smbclient-security" => &["microsoft-windows-smbclient/security"],
        "smbclient-connectivity" => &["microsoft-windows-smbclient/connectivity"],
        "applocker" => &[
            "microsoft-windows-applocker/msi and script",
            "microsoft-windows-applocker/exe and dll",
            "microsoft-windows-applocker/packaged app-deployment",
            "microsoft-windows-applocker/packaged app-execution",
        ],
        "msexchange-management" => &["msexchange management"],
        "microsoft-servicebus-client" => &["microsoft-servicebus-client"],
        "ldap_debug" => &["microsoft-windows-ldap-client/debug"],
        "codeintegrity-operational" => &["microsoft-windows-codeintegrity/operational"],
        "firewall-as" => &["microsoft-windows-windows firewall with advanced security/firewall"],
        "bits-client" => &["microsoft-windows-bits-client/operational"],
        "security-mitigations" => &[
            "microsoft-windows-security-mitigations/kernel mode",
            "microsoft-windows-security-mitigations/user mode",
        ],
        "diagnosis-scripted" => &["microsoft-windows-diagnosis-scripted/operational"],
        "shell-core" => &["microsoft-windows-shell-core/operational"],
        "openssh" => &["openssh/operational"],
        "bitlocker" => &["microsoft-windows-bitlocker/bitlocker management"],
        "vhdmp" => &["microsoft-windows-vhdmp-operational"],
        "appxdeployment-server" => &["microsoft-windows-appxdeploymentserver/operational"],
        "lsa-server" => &["microsoft-windows-lsa/operational"],
        "appxpackaging-om" => &["microsoft-windows-appxpackaging/operational"],
        "dns-client-operational" => &["microsoft-windows-dns-client/operational"],
        "capi2" => &["microsoft-windows-capi2/operational"],
        "certificateservicesclient-lifecycle-system" => {
            &["microsoft-windows-certificateservicesclient-lifecycle-system/operational"]
        }
        "terminalservices-localsessionmanager" => {
            &["microsoft-windows-terminalservices-localsessionmanager/operational"]
        }
        "hyper-v-worker" => &["microsoft-windows-hyper-v-worker"],
        "kernel-shimengine" => &[
            "microsoft-windows-kernel-shimengine/operational",
            "microsoft-windows-kernel-shimengine/diagnostic",
        ],
        "iis-configuration" => &[
            "microsoft-iis-configuration/operational",
            "microsoft-iis-configuration/administrative",
        ],
        "sense" => &["microsoft-windows-sense/operational"],
        "wmi-activity" => &["microsoft-windows-wmi-activity/operational"],
        "winrm" => &["microsoft-windows-winrm/operational"],
        "rdp" | "terminalservices-remoteconnectionmanager" => {
            &["microsoft-windows-terminalservices-remoteconnectionmanager/operational"]
        }
        _ => return None,
    })
}

/// Windows `category` → (channel, event ids): Sysmon's event ids, and the
/// Security and PowerShell equivalents pySigma maps.
fn windows_category_events(category: &str) -> Option<&'static [(&'static str, &'static [i64])]> {
    Some(match category {
        "process_creation" => &[(SYSMON, &[1]), (SECURITY, &[4688])],
        "file_change" => &[(SYSMON, &[2])],
        "network_connection" => &[(SYSMON, &[3]), (SECURITY, &[5156])],
        "sysmon_status" => &[(SYSMON, &[4, 16])],
        "process_termination" => &[(SYSMON, &[5]), (SECURITY, &[4689])],
        "driver_load" => &[(SYSMON, &[6])],
        "image_load" => &[(SYSMON, &[7])],
        "create_remote_thread" => &[(SYSMON, &[8])],
        "raw_access_thread" => &[(SYSMON, &[9])],
        "process_access" => &[(SYSMON, &[10])],
        "file_event" => &[(SYSMON, &[11])],
        "registry_add" | "registry_delete" => &[(SYSMON, &[12])],
        "registry_set" => &[(SYSMON, &[13])],
        "registry_rename" => &[(SYSMON, &[14])],
        "registry_event" => &[(SYSMON, &[12, 13, 14])],
        "create_stream_hash" => &[(SYSMON, &[15])],
        "pipe_created" => &[(SYSMON, &[17, 18])],
        "wmi_event" => &[(SYSMON, &[19, 20, 21])],
        "dns_query" => &[(SYSMON, &[22])],
        "file_delete" => &[(SYSMON, &[23, 26])],
        "clipboard_capture" => &[(SYSMON, &[24])],
        "process_tampering" => &[(SYSMON, &[25])],
        "file_delete_detected" => &[(SYSMON, &[26])],
        "file_block_executable" => &[(SYSMON, &[27])],
        "file_block_shredding" => &[(SYSMON, &[28])],
        "file_executable_detected" => &[(SYSMON, &[29])],
        "sysmon_error" => &[(SYSMON, &[255])],
        "ps_module" => &[(PS_OPERATIONAL, &[4103]), (PS_CORE, &[4103])],
        "ps_script" => &[(PS_OPERATIONAL, &[4104]), (PS_CORE, &[4104])],
        "ps_classic_start" => &[(PS_CLASSIC, &[400])],
        "ps_classic_provider_start" => &[(PS_CLASSIC, &[600])],
        "ps_classic_script" => &[(PS_CLASSIC, &[800])],
        "file_access" => &[(SECURITY, &[4663])],
        _ => return None,
    })
}

/// The routes of a logsource, or why it has none (a logsource none of
/// Garrison's parsers produces).
pub(crate) fn routes(ls: &LogSource) -> Result<Vec<Route>, String> {
    let product = ls.product.as_deref();
    let category = ls.category.as_deref();
    let service = ls.service.as_deref();
    match product {
        Some("windows") => windows_routes(category, service),
        Some("linux") => linux_routes(category, service),
        Some("zeek") => {
            let mut out = Vec::new();
            match (service, category) {
                (Some(s), _) => out.push(Route::Source(format!("zeek:{s}"))),
                (None, Some(c)) => {
                    for key in network_category_keys(c).ok_or_else(|| unrouted(ls))? {
                        if key.starts_with("zeek:") {
                            out.push(Route::Source((*key).to_owned()));
                        }
                    }
                }
                (None, None) => out.push(Route::Source("zeek".to_owned())),
            }
            Ok(out)
        }
        Some("suricata") => Ok(vec![Route::Source(match service.or(category) {
            Some(s) => format!("suricata:{s}"),
            None => "suricata".to_owned(),
        })]),
        None | Some("") => match category.and_then(network_category_keys) {
            Some(keys) if service.is_none() => Ok(keys
                .iter()
                .map(|k| Route::Source((*k).to_owned()))
                .collect()),
            _ => Err(unrouted(ls)),
        },
        Some(_) => Err(unrouted(ls)),
    }
}

fn unrouted(ls: &LogSource) -> String {
    format!(
        "logsource {} is not one Garrison's parsers produce",
        describe(ls)
    )
}

/// `product/category/service` for messages.
pub(crate) fn describe(ls: &LogSource) -> String {
    let parts: Vec<String> = [
        ("product", &ls.product),
        ("category", &ls.category),
        ("service", &ls.service),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .collect();
    if parts.is_empty() {
        "(empty)".to_owned()
    } else {
        parts.join(" ")
    }
}

fn windows_routes(category: Option<&str>, service: Option<&str>) -> Result<Vec<Route>, String> {
    let by_service = match service {
        Some(s) => Some(windows_service_channels(s).ok_or_else(|| {
            format!("logsource product=windows service={s}: no channel is mapped for this service")
        })?),
        None => None,
    };
    match category {
        Some(c) => {
            let events = windows_category_events(c).ok_or_else(|| {
                format!("logsource product=windows category={c}: no event ids are mapped for this category")
            })?;
            let mut out = Vec::new();
            for (channel, ids) in events {
                if by_service.is_some_and(|chs| !chs.contains(channel)) {
                    continue;
                }
                for id in *ids {
                    out.push(Route::WinEvent(channel, *id));
                }
            }
            if out.is_empty() {
                return Err(format!(
                    "logsource product=windows category={c} service={}: the service's channels hold no event of the category",
                    service.unwrap_or_default()
                ));
            }
            Ok(out)
        }
        None => Ok(match by_service {
            Some(chs) => chs.iter().map(|c| Route::WinChannel(c)).collect(),
            None => vec![Route::WinAll],
        }),
    }
}

fn linux_routes(category: Option<&str>, service: Option<&str>) -> Result<Vec<Route>, String> {
    match (category, service) {
        (None, None | Some("syslog")) => Ok(vec![Route::Source("syslog".to_owned())]),
        (None, Some("auth")) => Ok(vec![
            Route::Source("syslog:facility:auth".to_owned()),
            Route::Source("syslog:facility:authpriv".to_owned()),
        ]),
        (None, Some(s)) if s != "auditd" => Ok(vec![Route::Source(format!("syslog:app:{s}"))]),
        _ => Err(format!(
            "logsource product=linux{}{}: Garrison reads Linux logs as syslog only (no auditd or Sysmon for Linux parser)",
            category
                .map(|c| format!(" category={c}"))
                .unwrap_or_default(),
            service.map(|s| format!(" service={s}")).unwrap_or_default()
        )),
    }
}

/// Network categories without a product → the EVE and Zeek records that
/// carry them.
fn network_category_keys(category: &str) -> Option<&'static [&'static str]> {
    Some(match category {
        "dns" => &["suricata:dns", "zeek:dns"],
        "proxy" | "webserver" => &["suricata:http", "zeek:http"],
        "firewall" => &["suricata:flow", "suricata:netflow", "zeek:conn"],
        _ => return None,
    })
}

/// Calls `f` with each source key of a non-Windows event (from its
/// parser and fields), built on the stack: no allocation.
pub(crate) fn source_keys<'a>(
    parser: &str,
    get: impl Fn(&str) -> Option<&'a str>,
    mut f: impl FnMut(&str),
) {
    let mut buf = [0u8; 160];
    let mut with = |prefix: &str, rest: &str| {
        let n = prefix.len() + rest.len();
        if let Some(b) = buf.get_mut(..n) {
            b[..prefix.len()].copy_from_slice(prefix.as_bytes());
            b[prefix.len()..].copy_from_slice(rest.as_bytes());
            if let Ok(k) = std::str::from_utf8(b) {
                f(k);
            }
        }
    };
    match parser {
        "suricata" => {
            with("suricata", "");
            if let Some(t) = get("suricata.eve.event_type") {
                with("suricata:", t);
            }
        }
        "zeek" => {
            with("zeek", "");
            if let Some(log) = get("event.dataset").and_then(|d| d.strip_prefix("zeek.")) {
                with("zeek:", log);
            }
        }
        "rfc5424" | "rfc3164" => {
            with("syslog", "");
            if let Some(app) = get("process.name") {
                with("syslog:app:", app);
            }
            if let Some(fac) = get("log.syslog.facility.name") {
                with("syslog:facility:", fac);
            }
        }
        _ => {}
    }
}

/// The event field names (first present wins) holding the Sigma field
/// `name` for a rule of logsource `ls`.
pub(crate) fn field_names(ls: &LogSource, name: &str) -> Vec<String> {
    match ls.product.as_deref() {
        Some("windows") => windows_field(ls, name),
        Some("zeek") => {
            let mut out = Vec::new();
            if let Some(s) = ls.service.as_deref() {
                out.push(format!("zeek.{s}.{name}"));
            }
            if let Some(ecs) = network_field(ls.category.as_deref(), name) {
                out.push(ecs.to_owned());
            }
            out.push(name.to_owned());
            out
        }
        _ => match network_field(ls.category.as_deref(), name) {
            Some(ecs) => vec![ecs.to_owned(), name.to_owned()],
            None => vec![name.to_owned()],
        },
    }
}

fn windows_field(ls: &LogSource, name: &str) -> Vec<String> {
    let top = match name {
        "EventID" => Some("winlog.event_id"),
        "Channel" => Some("winlog.channel"),
        "Provider_Name" => Some("winlog.provider_name"),
        "Computer" => Some("winlog.computer_name"),
        _ => None,
    };
    if let Some(t) = top {
        return vec![t.to_owned()];
    }
    let mut out = vec![format!("winlog.event_data.{name}")];
    // Security 4688 / 5156 name the Sysmon fields differently (pySigma's
    // windows audit pipeline).
    let alias = match (ls.category.as_deref(), name) {
        (Some("process_creation"), "Image") => Some("NewProcessName"),
        (Some("process_creation"), "ParentImage") => Some("ParentProcessName"),
        (Some("process_creation"), "User") => Some("SubjectUserName"),
        (Some("network_connection"), "Image") => Some("Application"),
        (Some("network_connection"), "DestinationIp") => Some("DestAddress"),
        (Some("network_connection"), "DestinationPort") => Some("DestPort"),
        (Some("network_connection"), "SourceIp") => Some("SourceAddress"),
        (Some("process_termination"), "Image") => Some("ProcessName"),
        _ => None,
    };
    if let Some(a) = alias {
        out.push(format!("winlog.event_data.{a}"));
    }
    out.push(format!("winlog.user_data.{name}"));
    out
}

/// sigma-cli's common names for network categories → ECS.
fn network_field(category: Option<&str>, name: &str) -> Option<&'static str> {
    Some(match (category?, name) {
        ("dns", "query") => "dns.question.name",
        ("dns", "answer") => "dns.resolved_ip",
        ("dns", "record_type" | "QueryType" | "qtype_name") => "dns.question.type",
        ("dns", "rcode" | "rcode_name") => "dns.response_code",
        ("proxy", "c-uri" | "cs-uri") => "url.original",
        ("proxy", "c-uri-query" | "c-uri-stem" | "c-uri-extension") => "url.original",
        ("proxy", "c-useragent" | "cs-user-agent") => "user_agent.original",
        ("proxy", "cs-host" | "r-dns") => "url.domain",
        ("proxy", "cs-method") => "http.request.method",
        ("proxy", "cs-referrer" | "cs-referer") => "http.request.referrer",
        ("proxy", "sc-status") => "http.response.status_code",
        ("proxy", "c-ip" | "src_ip") => "source.ip",
        ("proxy", "dst_ip") => "destination.ip",
        ("webserver", "cs-uri-query" | "cs-uri-stem" | "cs-uri" | "c-uri") => "url.original",
        ("webserver", "cs-method") => "http.request.method",
        ("webserver", "cs-user-agent" | "c-useragent") => "user_agent.original",
        ("webserver", "cs-referer" | "cs-referrer") => "http.request.referrer",
        ("webserver", "sc-status") => "http.response.status_code",
        ("webserver", "c-ip" | "clientip") => "source.ip",
        ("webserver", "cs-host") => "url.domain",
        ("firewall", "src_ip") => "source.ip",
        ("firewall", "dst_ip") => "destination.ip",
        ("firewall", "src_port") => "source.port",
        ("firewall", "dst_port") => "destination.port",
        ("firewall", "action") => "event.action",
        _ => return None,
    })
}
