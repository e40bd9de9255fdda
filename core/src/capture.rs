//! A packet capture of a run's network exchanges, as pcapng (the PCAP Next
//! Generation format, draft-ietf-opsawg-pcapng): one Section Header Block,
//! one Interface Description Block for raw IPv4 (LINKTYPE_RAW, 101), and
//! an Enhanced Packet Block per IPv4/TCP packet, so Wireshark and tshark
//! dissect it. Each exchange is a TCP connection of its own: the handshake,
//! the request and the reply as segments with their real checksums, the
//! close. Kerberos over TCP puts a four-byte length before each message
//! (RFC 4120 §7.2.2).
//!
//! Written for the Kerberos exchange first; the run's whole capture
//! (`network.rs`: HTTP and Kerberos) uses the same writer.

use crate::clock::SimTime;

/// One request and its reply over a TCP connection, each as its bytes
/// travel in the stream (a Kerberos message with its length before it).
#[derive(Clone, Debug)]
pub struct Exchange {
    pub client: [u8; 4],
    pub server: [u8; 4],
    pub client_port: u16,
    pub server_port: u16,
    pub request: Vec<u8>,
    pub reply: Vec<u8>,
    pub time: SimTime,
}

/// Kerberos's framing over TCP: a 32-bit big-endian length, then the
/// message (RFC 4120 §7.2.2).
pub fn kerberos_record(message: &[u8]) -> Vec<u8> {
    let mut out = (message.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(message);
    out
}

const LINKTYPE_RAW: u16 = 101;

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    // Bodies are padded to 32 bits; the total length is written at both ends.
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(8 + padded, 0);
    out.extend_from_slice(&total.to_le_bytes());
    out
}

fn section_header() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes()); // byte-order magic
    body.extend_from_slice(&1u16.to_le_bytes()); // major
    body.extend_from_slice(&0u16.to_le_bytes()); // minor
    body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
    block(0x0A0D_0D0A, &body)
}

fn interface() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes()); // reserved
    body.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
                                                 // Default resolution: microseconds.
    block(0x0000_0001, &body)
}

fn packet(micros: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0u32.to_le_bytes()); // interface 0
    body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
    body.extend_from_slice(&(micros as u32).to_le_bytes());
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    block(0x0000_0006, &body)
}

/// The Internet checksum (RFC 1071): ones' complement of the ones'
/// complement sum of 16-bit words.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                None => odd = Some(b),
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

/// An IPv4 packet carrying one TCP segment (RFC 791, RFC 9293), with both
/// checksums.
#[allow(clippy::too_many_arguments)]
fn tcp_packet(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20 + payload.len());
    tcp.extend_from_slice(&sport.to_be_bytes());
    tcp.extend_from_slice(&dport.to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&ack.to_be_bytes());
    tcp.push(5 << 4); // data offset: 5 words, no options
    tcp.push(flags);
    tcp.extend_from_slice(&64_240u16.to_be_bytes()); // window
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    tcp.extend_from_slice(payload);
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
    let sum = checksum(&[&pseudo, &tcp]);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());

    let mut ip = Vec::with_capacity(20 + tcp.len());
    ip.push(0x45); // version 4, header 5 words
    ip.push(0);
    ip.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    ip.push(128); // TTL, as Windows sets it
    ip.push(6); // TCP
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&tcp);
    ip
}

/// The capture of `exchanges`, in order, as pcapng bytes. Each exchange
/// opens its own connection at its time; packets follow a millisecond
/// apart.
pub fn pcapng(exchanges: &[Exchange]) -> Vec<u8> {
    let mut out = section_header();
    out.extend(interface());
    for (n, x) in exchanges.iter().enumerate() {
        let mut micros = x.time.unix_seconds() * 1_000_000;
        let mut next = |data: Vec<u8>, out: &mut Vec<u8>| {
            out.extend(packet(micros, &data));
            micros += 1_000;
        };
        // Initial sequence numbers from the exchange's position: the
        // capture is as reproducible as the run.
        let c_isn = 0x1000_0000u32.wrapping_add((n as u32) << 20);
        let s_isn = 0x7000_0000u32.wrapping_add((n as u32) << 20);
        let id = (n as u16) << 8;
        let (c, s, cp, sp) = (x.client, x.server, x.client_port, x.server_port);
        let (request, reply) = (&x.request, &x.reply);
        let c_data = c_isn.wrapping_add(1);
        let s_data = s_isn.wrapping_add(1);
        let c_end = c_data.wrapping_add(request.len() as u32);
        let s_end = s_data.wrapping_add(reply.len() as u32);
        next(tcp_packet(c, s, cp, sp, c_isn, 0, SYN, id, &[]), &mut out);
        next(
            tcp_packet(s, c, sp, cp, s_isn, c_data, SYN | ACK, id, &[]),
            &mut out,
        );
        next(
            tcp_packet(c, s, cp, sp, c_data, s_data, ACK, id + 1, &[]),
            &mut out,
        );
        next(
            tcp_packet(c, s, cp, sp, c_data, s_data, PSH | ACK, id + 2, request),
            &mut out,
        );
        next(
            tcp_packet(s, c, sp, cp, s_data, c_end, ACK, id + 1, &[]),
            &mut out,
        );
        next(
            tcp_packet(s, c, sp, cp, s_data, c_end, PSH | ACK, id + 2, reply),
            &mut out,
        );
        next(
            tcp_packet(c, s, cp, sp, c_end, s_end, FIN | ACK, id + 3, &[]),
            &mut out,
        );
        next(
            tcp_packet(
                s,
                c,
                sp,
                cp,
                s_end,
                c_end.wrapping_add(1),
                FIN | ACK,
                id + 3,
                &[],
            ),
            &mut out,
        );
        next(
            tcp_packet(
                c,
                s,
                cp,
                sp,
                c_end.wrapping_add(1),
                s_end.wrapping_add(1),
                ACK,
                id + 4,
                &[],
            ),
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_internet_checksum_is_rfc_1071_s() {
        // RFC 1071 §3's example: 0001 f203 f4f5 f6f7 sums to ddf2.
        assert_eq!(
            checksum(&[&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]]),
            !0xddf2
        );
        // A header with its checksum in place sums to zero.
        let p = tcp_packet([10, 0, 0, 2], [10, 0, 0, 1], 49_800, 88, 1, 0, SYN, 7, b"");
        assert_eq!(checksum(&[&p[..20]]), 0);
    }

    #[test]
    fn blocks_are_aligned_and_framed_at_both_ends() {
        let x = Exchange {
            client: [10, 0, 0, 2],
            server: [10, 0, 0, 1],
            client_port: 49_800,
            server_port: 88,
            request: vec![0x6A, 3, 1, 2, 3],
            reply: vec![0x6B, 0],
            time: SimTime::DEFAULT_START,
        };
        let bytes = pcapng(&[x]);
        let mut at = 0;
        let mut kinds = Vec::new();
        while at < bytes.len() {
            let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0);
            assert_eq!(&bytes[at + len - 4..at + len], &(len as u32).to_le_bytes());
            kinds.push(kind);
            at += len;
        }
        assert_eq!(at, bytes.len());
        assert_eq!(kinds[..2], [0x0A0D_0D0A, 1]);
        assert_eq!(kinds.len(), 2 + 9);
        assert_eq!(kerberos_record(&[9, 9]), [0, 0, 0, 2, 9, 9]);
    }
}
