#!/usr/bin/env python3
"""Writes the demo inventory that `garrison demo` imports, into
crates/garrison/demo/: each demo tenant's CMDB export, two weekly Nessus
scans and an Nmap scan of Acme's DMZ, an OpenVAS report and a JSON asset
list for Globex, and an excerpt of the CISA KEV catalogue (CC0) for the
CVEs the scans report.

The hosts, names and findings are invented (addresses from the
documentation ranges and RFC 1918); the CVEs, their KEV entries and the
vulnerable products are real, so the demo shows what a real estate looks
like. Run it again after changing it; the output is deterministic.

    python3 scripts/demo-data.py [path/to/known_exploited_vulnerabilities.json]
"""

import csv
import io
import json
import os
import sys
from xml.sax.saxutils import escape, quoteattr

ROOT = os.path.join(os.path.dirname(__file__), "..", "crates", "garrison", "demo")

# --- Acme Manufacturing ---------------------------------------------------
# (hostname, fqdn, ip, mac, os, type, criticality, sensitivity, regulations,
#  owner, business unit, location, internet-exposed, tags, in CMDB)
ACME = [
    ("fw-edge-01", "fw-edge-01.acme.example", "203.0.113.1", "00:09:0f:4a:11:01", "FortiOS 6.0.4", "firewall", "critical", "internal", "NIS2", "Network Team", "IT", "Leeds HQ", "yes", "perimeter", True),
    ("vpn-gw-01", "vpn.acme.example", "203.0.113.10", "00:e0:ed:3c:22:10", "Citrix NetScaler ADC 13.1", "network-device", "critical", "confidential", "NIS2", "Network Team", "IT", "Leeds HQ", "yes", "perimeter;remote-access", True),
    ("www-01", "www.acme.example", "203.0.113.20", "00:50:56:9a:20:20", "Ubuntu 20.04", "server", "high", "public", "", "Web Team", "Marketing", "Leeds HQ", "yes", "dmz;web", True),
    ("mail-01", "mail.acme.example", "10.10.1.25", "00:50:56:9a:01:25", "Windows Server 2016", "server", "high", "confidential", "GDPR", "IT Operations", "IT", "Leeds HQ", "no", "email", True),
    ("dc01", "dc01.corp.acme.example", "10.10.1.10", "00:50:56:9a:01:10", "Windows Server 2019", "server", "critical", "restricted", "SOX;NIS2", "IT Operations", "IT", "Leeds HQ", "no", "identity;tier0", True),
    ("print-01", "print-01.corp.acme.example", "10.10.1.30", "00:50:56:9a:01:30", "Windows Server 2016", "server", "low", "internal", "", "IT Operations", "IT", "Leeds HQ", "no", "print", True),
    ("file-01", "file-01.corp.acme.example", "10.10.1.40", "00:50:56:9a:01:40", "Windows Server 2019", "server", "high", "confidential", "GDPR", "IT Operations", "Finance", "Leeds HQ", "no", "file-share", True),
    ("erp-app-01", "erp-app-01.corp.acme.example", "10.10.5.20", "00:50:56:9a:05:20", "Red Hat Enterprise Linux 8.6", "server", "critical", "restricted", "SOX;GDPR", "ERP Team", "Finance", "Leeds HQ", "no", "erp;java", True),
    ("erp-db-01", "erp-db-01.corp.acme.example", "10.10.5.21", "00:50:56:9a:05:21", "Red Hat Enterprise Linux 8.6", "server", "critical", "restricted", "SOX;GDPR", "ERP Team", "Finance", "Leeds HQ", "no", "erp;database", True),
    ("hmi-line3", "", "10.20.3.15", "00:1b:1b:6e:03:15", "Windows 7 Professional SP1", "iot-ot", "high", "internal", "NIS2", "Plant Engineering", "Operations", "Sheffield Plant, Line 3", "no", "ot;legacy", True),
    ("plc-gw-01", "", "10.20.3.2", "00:1d:9c:70:03:02", "Siemens SCALANCE", "network-device", "critical", "internal", "NIS2", "Plant Engineering", "Operations", "Sheffield Plant", "no", "ot", True),
    ("historian-01", "historian-01.plant.acme.example", "10.20.1.50", "00:50:56:9b:01:50", "Windows Server 2012 R2", "server", "high", "internal", "NIS2", "Plant Engineering", "Operations", "Sheffield Plant", "no", "ot;database", True),
]
# Workstations: in the scans, and in the CMDB with less detail.
for n in range(1, 25):
    ACME.append((
        f"ws-{n:04d}", f"ws-{n:04d}.corp.acme.example", f"10.10.20.{100 + n}",
        f"00:50:56:9c:20:{n:02x}", "Windows 11 Enterprise 23H2", "workstation", "low", "internal", "",
        "Service Desk", "Office", "Leeds HQ", "no", "endpoint", n <= 20,
    ))
# A device nobody registered: found only by the scans.
SHADOW = ("", "", "10.10.30.77", "b8:27:eb:12:34:56", "Linux Kernel 4.19 on Raspbian", "", "", "", "", "", "", "", "", "", False)
ACME.append(SHADOW)

# Findings: host ip -> list of (plugin id, name, port, protocol, svc, severity 0-4,
#   cvss3, vector, [cves], synopsis, solution, output, weeks present)
V = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
VS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
ACME_FINDINGS = {
    "203.0.113.1": [
        ("117878", "Fortinet FortiOS SSL VPN Path Traversal (FG-IR-18-384)", 10443, "tcp", "www", 4, 9.8, V, ["CVE-2018-13379"],
         "The remote FortiGate SSL VPN web portal allows unauthenticated file download.",
         "Upgrade FortiOS to 6.0.5, 5.6.8, 5.4.13 or later.", "Requested /remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession\nReceived 200 with session data.", (1, 2)),
    ],
    "203.0.113.10": [
        ("183026", "Citrix NetScaler ADC and Gateway Information Disclosure (CitrixBleed)", 443, "tcp", "www", 4, 9.4, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:L", ["CVE-2023-4966"],
         "The remote NetScaler appliance discloses session tokens in memory.",
         "Upgrade to NetScaler ADC 13.1-49.15 or later and kill all active sessions.", "Version: 13.1-48.47", (1, 2)),
        ("104743", "TLS Version 1.0 Protocol Detection", 443, "tcp", "www", 2, 6.5, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", [],
         "The remote service accepts connections encrypted using TLS 1.0.", "Enable TLS 1.2 or later and disable TLS 1.0.", "TLSv1 is enabled.", (1, 2)),
    ],
    "203.0.113.20": [
        ("153584", "Apache 2.4.49 Path Traversal and Remote Code Execution", 443, "tcp", "www", 4, 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", ["CVE-2021-41773"],
         "The remote web server is affected by a path traversal vulnerability.", "Upgrade to Apache HTTP Server 2.4.51 or later.", "Server: Apache/2.4.49 (Unix)\nGET /cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd -> 200", (1, 2)),
        ("51192", "SSL Certificate Cannot Be Trusted", 443, "tcp", "www", 2, 6.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N", [],
         "The SSL certificate for this service cannot be trusted.", "Purchase or generate a proper certificate for this service.", "Issuer: CN=www.acme.example (self-signed)", (1,)),
    ],
    "10.10.1.25": [
        ("147003", "Microsoft Exchange Server ProxyLogon Remote Code Execution", 443, "tcp", "www", 4, 9.8, V, ["CVE-2021-26855"],
         "The remote Exchange server is missing a security update.", "Apply the March 2021 Exchange cumulative update.", "Exchange 2016 CU18 (15.1.2106.2)", (1, 2)),
    ],
    "10.10.1.10": [
        ("140657", "Netlogon Elevation of Privilege (Zerologon)", 445, "tcp", "cifs", 4, 10.0, VS, ["CVE-2020-1472"],
         "The remote domain controller accepts vulnerable Netlogon secure channel connections.", "Apply the August 2020 security update and enforce secure RPC.", "Netlogon authentication bypassed after 256 attempts.", (1,)),
        ("57608", "SMB Signing not required", 445, "tcp", "cifs", 2, 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", [],
         "Signing is not required on the remote SMB server.", "Enforce message signing in the host's configuration.", "", (1, 2)),
    ],
    "10.10.1.30": [
        ("151440", "Windows Print Spooler Remote Code Execution (PrintNightmare)", 445, "tcp", "cifs", 4, 8.8, "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", ["CVE-2021-34527"],
         "The remote host's Print Spooler service allows remote code execution.", "Apply the July 2021 out-of-band update and disable the spooler where not needed.", "spoolsv.exe 10.0.14393.4467", (1, 2)),
    ],
    "10.10.1.40": [
        ("57608", "SMB Signing not required", 445, "tcp", "cifs", 2, 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", [],
         "Signing is not required on the remote SMB server.", "Enforce message signing in the host's configuration.", "", (1, 2)),
    ],
    "10.10.5.20": [
        ("156014", "Apache Log4Shell RCE Detection via Callback Correlation", 8443, "tcp", "www", 4, 10.0, VS, ["CVE-2021-44228"],
         "The remote application uses a vulnerable version of Apache Log4j.", "Upgrade Log4j to 2.17.1 or later.", "JNDI callback received from 10.10.5.20 for ${jndi:ldap://scanner/a}", (1, 2)),
        ("159374", "Spring Framework Remote Code Execution (Spring4Shell)", 8443, "tcp", "www", 4, 9.8, V, ["CVE-2022-22965"],
         "The remote application uses a vulnerable version of Spring Framework.", "Upgrade Spring Framework to 5.3.18 or 5.2.20.", "spring-beans-5.3.15.jar", (2,)),
    ],
    "10.10.5.21": [
        ("187315", "OpenSSH < 9.8 Signal Handler Race (regreSSHion)", 22, "tcp", "ssh", 3, 8.1, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", ["CVE-2024-6387"],
         "The remote OpenSSH server is affected by a race condition in its signal handler.", "Upgrade to OpenSSH 9.8p1 or later.", "SSH-2.0-OpenSSH_8.0", (1, 2)),
    ],
    "10.20.3.15": [
        ("97833", "MS17-010: Security Update for Microsoft Windows SMB Server (ETERNALBLUE)", 445, "tcp", "cifs", 4, 8.1, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", ["CVE-2017-0144"],
         "The remote Windows host is affected by multiple SMBv1 vulnerabilities.", "Apply MS17-010 or disable SMBv1.", "SMBv1 accepted; transaction response indicates a missing patch.", (1, 2)),
        ("125313", "Microsoft RDP RCE (BlueKeep)", 3389, "tcp", "msrdp", 4, 9.8, V, ["CVE-2019-0708"],
         "The remote host is affected by a remote code execution vulnerability in Remote Desktop Services.", "Apply the May 2019 update or disable RDP.", "", (1, 2)),
    ],
    "10.20.3.2": [
        ("70658", "SSH Server CBC Mode Ciphers Enabled", 22, "tcp", "ssh", 1, 3.7, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N", [],
         "The SSH server is configured to use Cipher Block Chaining.", "Disable CBC mode ciphers.", "aes128-cbc, 3des-cbc", (1, 2)),
    ],
    "10.20.1.50": [
        ("57608", "SMB Signing not required", 445, "tcp", "cifs", 2, 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", [],
         "Signing is not required on the remote SMB server.", "Enforce message signing in the host's configuration.", "", (1, 2)),
    ],
    "10.10.30.77": [
        ("10881", "SSH Protocol Versions Supported", 22, "tcp", "ssh", 0, None, None, [],
         "A SSH server is running on the remote host.", "", "SSH-2.0-OpenSSH_7.9p1 Raspbian-10", (1, 2)),
        ("42873", "SSL Medium Strength Cipher Suites Supported (SWEET32)", 8883, "tcp", "mqtt", 2, 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", ["CVE-2016-2183"],
         "The remote service supports 64-bit block ciphers.", "Reconfigure the service to avoid 3DES and other 64-bit block ciphers.", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", (1, 2)),
    ],
}
# Workstations: an out-of-date browser on some, fixed on a few by week 2.
for n in range(1, 25):
    ip = f"10.10.20.{100 + n}"
    if n % 3 == 0:
        ACME_FINDINGS[ip] = [
            ("178250", "Google Chrome < 114.0.5735.198 Multiple Vulnerabilities", 0, "tcp", "general", 3, 8.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", ["CVE-2023-3420"],
             "The version of Google Chrome installed on the remote host is prior to 114.0.5735.198.", "Upgrade to Google Chrome 114.0.5735.198 or later.", "Installed version: 114.0.5735.110", (1,) if n % 2 == 0 else (1, 2)),
        ]

NESSUS_DATES = {1: ("Mon Nov  9 02:00:12 2026", "Mon Nov  9 02:41:37 2026"), 2: ("Mon Nov 16 02:00:09 2026", "Mon Nov 16 02:39:54 2026")}


def nessus(week):
    start, end = NESSUS_DATES[week]
    out = io.StringIO()
    out.write('<?xml version="1.0" ?>\n<NessusClientData_v2>\n')
    out.write(f'<Report name="Acme weekly credentialed scan - week {week}" xmlns:cm="http://www.nessus.org/cm">\n')
    for h in ACME:
        host, fqdn, ip, mac, os_name = h[0], h[1], h[2], h[3], h[4]
        out.write(f'<ReportHost name={quoteattr(ip)}><HostProperties>\n')
        out.write(f'<tag name="HOST_END">{end}</tag>\n<tag name="HOST_START">{start}</tag>\n')
        out.write(f'<tag name="host-ip">{ip}</tag>\n<tag name="mac-address">{mac}</tag>\n')
        if fqdn:
            out.write(f'<tag name="host-fqdn">{escape(fqdn)}</tag>\n')
        if host:
            out.write(f'<tag name="netbios-name">{escape(host.upper())}</tag>\n<tag name="hostname">{escape(host)}</tag>\n')
        out.write(f'<tag name="operating-system">{escape(os_name)}</tag>\n</HostProperties>\n')
        for f in ACME_FINDINGS.get(ip, []):
            pid, name, port, proto, svc, sev, cvss, vector, cves, syn, sol, output, weeks = f
            if week not in weeks:
                continue
            risk = ["None", "Low", "Medium", "High", "Critical"][sev]
            out.write(f'<ReportItem port="{port}" svc_name="{svc}" protocol="{proto}" severity="{sev}" pluginID="{pid}" pluginName={quoteattr(name)} pluginFamily="General">\n')
            if cvss is not None:
                out.write(f'<cvss3_base_score>{cvss}</cvss3_base_score>\n<cvss3_vector>{vector}</cvss3_vector>\n')
            for c in cves:
                out.write(f'<cve>{c}</cve>\n')
            out.write(f'<risk_factor>{risk}</risk_factor>\n<synopsis>{escape(syn)}</synopsis>\n')
            out.write(f'<description>{escape(syn)}</description>\n')
            if sol:
                out.write(f'<solution>{escape(sol)}</solution>\n')
            if output:
                out.write(f'<plugin_output>{escape(output)}</plugin_output>\n')
            out.write('</ReportItem>\n')
        out.write('</ReportHost>\n')
    out.write('</Report>\n</NessusClientData_v2>\n')
    return out.getvalue()


def acme_cmdb():
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["hostname", "fqdn", "ip", "mac", "os", "type", "criticality", "sensitivity", "regulations", "owner", "business_unit", "location", "internet_exposed", "tags"])
    for h in ACME:
        if not h[14]:
            continue
        w.writerow(list(h[:14]))
    return out.getvalue()


def acme_nmap():
    dmz = [h for h in ACME if h[2].startswith("203.0.113.")]
    services = {
        "203.0.113.1": [(443, "https", "Fortinet FortiGate", ""), (10443, "https", "Fortinet SSL VPN", "")],
        "203.0.113.10": [(443, "https", "Citrix NetScaler Gateway", "")],
        "203.0.113.20": [(80, "http", "Apache httpd", "2.4.49"), (443, "https", "Apache httpd", "2.4.49"), (22, "ssh", "OpenSSH", "8.2p1 Ubuntu 4ubuntu0.5")],
    }
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<nmaprun scanner="nmap" args="nmap -sV -oX dmz.xml 203.0.113.0/28" start="1794463200" startstr="Sun Nov 15 22:00:00 2026" version="7.94" xmloutputversion="1.05">\n')
    for h in dmz:
        out.write('<host starttime="1794463201" endtime="1794463290"><status state="up" reason="echo-reply"/>\n')
        out.write(f'<address addr="{h[2]}" addrtype="ipv4"/>\n<hostnames><hostname name="{h[1]}" type="PTR"/></hostnames>\n<ports>\n')
        for port, name, product, version in services[h[2]]:
            ver = f' version="{escape(version)}"' if version else ""
            out.write(f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack"/><service name="{name}" product="{escape(product)}"{ver} method="probed" conf="10"/></port>\n')
        out.write('</ports>\n</host>\n')
    out.write('<runstats><finished time="1794463290" timestr="Sun Nov 15 22:01:30 2026" elapsed="90" exit="success"/><hosts up="3" down="13" total="16"/></runstats>\n</nmaprun>\n')
    return out.getvalue()


# --- Globex Health --------------------------------------------------------
GLOBEX = [
    {"hostname": "ehr-web-01", "fqdn": "portal.globex-health.example", "ips": ["198.51.100.10"], "os": "Ubuntu 22.04", "type": "server", "criticality": "critical", "sensitivity": "restricted", "regulations": ["HIPAA", "GDPR"], "owner": "Clinical Apps", "business_unit": "Clinical", "location": "Cloud (eu-west-1)", "internet_exposed": True, "tags": ["ehr", "patient-portal"],
     "software": [{"name": "spring-webmvc", "version": "5.3.15"}, {"name": "openjdk", "version": "11.0.14"}]},
    {"hostname": "ehr-db-01", "fqdn": "ehr-db-01.clinic.globex-health.example", "ips": ["172.16.10.5"], "os": "Ubuntu 22.04", "type": "server", "criticality": "critical", "sensitivity": "restricted", "regulations": ["HIPAA", "GDPR"], "owner": "Clinical Apps", "business_unit": "Clinical", "location": "Manchester DC", "internet_exposed": False, "tags": ["ehr", "database"],
     "software": [{"name": "postgresql", "version": "14.10"}]},
    {"hostname": "mft-01", "fqdn": "transfer.globex-health.example", "ips": ["198.51.100.20"], "os": "Windows Server 2019", "type": "server", "criticality": "high", "sensitivity": "restricted", "regulations": ["HIPAA"], "owner": "Integration Team", "business_unit": "IT", "location": "Manchester DC", "internet_exposed": True, "tags": ["file-transfer"]},
    {"hostname": "pacs-01", "fqdn": "pacs-01.clinic.globex-health.example", "ips": ["172.16.20.8"], "os": "Windows Server 2008 R2", "type": "server", "criticality": "high", "sensitivity": "restricted", "regulations": ["HIPAA"], "owner": "Radiology IT", "business_unit": "Radiology", "location": "Manchester DC", "internet_exposed": False, "tags": ["imaging", "legacy"]},
    {"hostname": "core-sw-01", "fqdn": "core-sw-01.clinic.globex-health.example", "ips": ["172.16.0.1"], "os": "Cisco IOS XE 17.3", "type": "network-device", "criticality": "critical", "sensitivity": "internal", "regulations": [], "owner": "Network Team", "business_unit": "IT", "location": "Manchester DC", "internet_exposed": False, "tags": ["core-network"]},
    {"hostname": "infusion-gw", "ips": ["172.16.30.12"], "os": "Embedded Linux", "type": "iot-ot", "criticality": "high", "sensitivity": "confidential", "regulations": ["HIPAA"], "owner": "Biomedical Engineering", "business_unit": "Clinical", "location": "Ward 4", "internet_exposed": False, "tags": ["medical-device"]},
] + [
    {"hostname": f"nurse-{n:02d}", "ips": [f"172.16.40.{10 + n}"], "os": "Windows 10 Enterprise LTSC 2021", "type": "workstation", "criticality": "medium", "sensitivity": "confidential", "regulations": ["HIPAA"], "owner": "Service Desk", "business_unit": "Clinical", "location": "Ward 4", "internet_exposed": False, "tags": ["endpoint", "clinical"]}
    for n in range(1, 13)
]

# (host ip, hostname, oid, name, port, cvss, threat, [cves], summary, solution, detail)
GLOBEX_RESULTS = [
    ("198.51.100.10", "portal.globex-health.example", "1.3.6.1.4.1.25623.1.0.170115", "VMware Spring Framework RCE Vulnerability (Spring4Shell)", "443/tcp", 9.8, "High", ["CVE-2022-22965"],
     "Spring Framework is prone to a remote code execution vulnerability.", "Update to version 5.3.18, 5.2.20 or later.", "Installed version: 5.3.15\nFixed version: 5.3.18"),
    ("198.51.100.10", "portal.globex-health.example", "1.3.6.1.4.1.25623.1.0.151190", "HTTP/2 Rapid Reset Attack Vulnerability", "443/tcp", 7.5, "High", ["CVE-2023-44487"],
     "The remote HTTP/2 server is prone to a denial of service (rapid reset).", "Apply the vendor update or limit concurrent stream resets.", "HTTP/2 stream reset flood accepted"),
    ("198.51.100.20", "transfer.globex-health.example", "1.3.6.1.4.1.25623.1.0.104770", "Progress MOVEit Transfer SQL Injection Vulnerability", "443/tcp", 9.8, "High", ["CVE-2023-34362"],
     "MOVEit Transfer is prone to an SQL injection vulnerability.", "Update to 2023.0.1 (15.0.1) or later and review the human2.aspx indicators.", "Installed version: 15.0.0"),
    ("172.16.20.8", "pacs-01.clinic.globex-health.example", "1.3.6.1.4.1.25623.1.0.108611", "Microsoft Windows Remote Desktop Services RCE Vulnerability (BlueKeep)", "3389/tcp", 9.8, "High", ["CVE-2019-0708"],
     "The remote host is affected by a remote code execution vulnerability in Remote Desktop Services.", "Apply the vendor update.", "Host responded to an MS_T120 channel request"),
    ("172.16.0.1", "core-sw-01.clinic.globex-health.example", "1.3.6.1.4.1.25623.1.0.170618", "Cisco IOS XE Web UI Privilege Escalation Vulnerability", "443/tcp", 10.0, "High", ["CVE-2023-20198"],
     "The web UI of Cisco IOS XE allows an unauthenticated attacker to create a privileged account.", "Disable the HTTP server feature or update to a fixed release.", "Web UI reachable; version 17.3.4"),
    ("172.16.10.5", "ehr-db-01.clinic.globex-health.example", "1.3.6.1.4.1.25623.1.0.105044", "SSL/TLS: Report Vulnerable Cipher Suites for HTTPS", "5432/tcp", 5.9, "Medium", ["CVE-2016-2183"],
     "The remote service supports 64-bit block cipher suites (SWEET32).", "Disable 3DES cipher suites.", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    ("172.16.30.12", "", "1.3.6.1.4.1.25623.1.0.108440", "Telnet Unencrypted Cleartext Login", "23/tcp", 4.8, "Medium", [],
     "The remote host is running a Telnet service that allows cleartext logins.", "Replace Telnet with SSH.", "Telnet banner: infusion-gw login:"),
]


def openvas():
    out = io.StringIO()
    out.write('<report id="6f8a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5" extension="xml" content_type="text/xml">\n')
    out.write('<name>2026-11-14T01:00:00Z</name><creation_time>2026-11-14T01:00:00Z</creation_time>\n')
    out.write('<report id="6f8a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b">\n<scan_run_status>Done</scan_run_status>\n<results start="1" max="100">\n')
    for i, (ip, hostname, oid, name, port, cvss, threat, cves, summary, solution, detail) in enumerate(GLOBEX_RESULTS):
        out.write(f'<result id="0b5e{i:04d}-1c2d-4e3f-8a9b-0c1d2e3f4a5b">\n<name>{escape(name)}</name>\n')
        out.write('<creation_time>2026-11-14T01:12:00Z</creation_time>\n')
        out.write(f'<host>{ip}<asset asset_id=""/><hostname>{escape(hostname)}</hostname></host>\n<port>{port}</port>\n')
        out.write(f'<nvt oid="{oid}"><type>nvt</type><name>{escape(name)}</name><family>General</family><cvss_base>{cvss}</cvss_base>\n')
        out.write(f'<tags>summary={escape(summary)}|insight=|affected=|impact=|solution={escape(solution)}|vuldetect=|solution_type=VendorFix</tags>\n')
        out.write(f'<solution type="VendorFix">{escape(solution)}</solution>\n<refs>')
        for c in cves:
            out.write(f'<ref type="cve" id="{c}"/>')
        out.write('</refs></nvt>\n')
        out.write(f'<threat>{threat}</threat>\n<severity>{cvss}</severity>\n<qod><value>80</value><type>remote_banner</type></qod>\n')
        out.write(f'<description>{escape(detail)}</description>\n</result>\n')
    out.write('</results>\n</report>\n</report>\n')
    return out.getvalue()


def kev(source):
    wanted = set()
    for findings in ACME_FINDINGS.values():
        for f in findings:
            wanted.update(f[8])
    for r in GLOBEX_RESULTS:
        wanted.update(r[7])
    with open(source) as f:
        catalogue = json.load(f)
    entries = [v for v in catalogue["vulnerabilities"] if v["cveID"] in wanted]
    entries.sort(key=lambda v: v["cveID"])
    return json.dumps({
        "title": catalogue["title"] + " (excerpt for the Garrison demo)",
        "catalogVersion": catalogue["catalogVersion"],
        "dateReleased": catalogue["dateReleased"],
        "count": len(entries),
        "vulnerabilities": entries,
    }, indent=1) + "\n"


def main():
    os.makedirs(ROOT, exist_ok=True)
    files = {
        "acme-cmdb.csv": acme_cmdb(),
        "acme-nessus-week1.nessus": nessus(1),
        "acme-nessus-week2.nessus": nessus(2),
        "acme-dmz-nmap.xml": acme_nmap(),
        "globex-assets.json": json.dumps(GLOBEX, indent=1) + "\n",
        "globex-openvas.xml": openvas(),
    }
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "corpus", "cve", "kev",
        "known_exploited_vulnerabilities-2025-03-03.json")
    if os.path.exists(source):
        files["kev-excerpt.json"] = kev(source)
    else:
        print(f"{source} not found: kev-excerpt.json left as it is", file=sys.stderr)
    for name, text in files.items():
        with open(os.path.join(ROOT, name), "w") as f:
            f.write(text)
        print(f"wrote {name} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
