//! Fetching a subgraph's SDL from a running subgraph: `POST
//! {"query":"{ _service { sdl } }"}` over plain HTTP/1.1 (std `TcpStream`;
//! `https` endpoints are not supported, use a file instead).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const QUERY: &str = r#"{"query":"{ _service { sdl } }"}"#;

/// Asks the subgraph at `url` for its SDL (`{ _service { sdl } }`).
pub fn fetch_sdl(url: &str) -> Result<String, String> {
    let (host, port, path) = split_url(url)?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .and_then(|_| stream.set_write_timeout(Some(Duration::from_secs(30))))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{QUERY}",
        QUERY.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send the request to {url}: {e}"))?;
    let raw =
        read_response(&mut stream).map_err(|e| format!("cannot read the answer of {url}: {e}"))?;
    let body = parse_response(&raw).map_err(|e| format!("{url}: {e}"))?;
    sdl_from_body(&body).map_err(|e| format!("{url}: {e}"))
}

/// Reads one HTTP response: up to its `Content-Length`, the end of its
/// chunks, or the end of the connection.
fn read_response(stream: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(raw);
        }
        raw.extend_from_slice(&buf[..n]);
        if response_complete(&raw) {
            return Ok(raw);
        }
    }
}

/// True when `raw` holds a whole response whose length is known.
fn response_complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    for line in head.lines() {
        if let Some(v) = line.strip_prefix("content-length:") {
            return v.trim().parse::<usize>().is_ok_and(|n| body.len() >= n);
        }
        if line.starts_with("transfer-encoding:") && line.contains("chunked") {
            return body.ends_with(b"0\r\n\r\n");
        }
    }
    false
}

/// `(host, port, path)` of an `http://` URL.
fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("{url}: only http:// subgraph URLs can be fetched (use `schema: {{ file: ... }}` for others)")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
            h.trim_start_matches('[').trim_end_matches(']'),
            p.parse::<u16>()
                .map_err(|_| format!("{url}: invalid port {p:?}"))?,
        ),
        _ => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok((host.to_owned(), port, path.to_owned()))
}

/// The body of an HTTP/1.x response (chunked or not), if its status is 2xx.
fn parse_response(raw: &[u8]) -> Result<String, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut body = raw[split + 4..].to_vec();
    let length = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    if let Some(n) = length {
        body.truncate(n);
    }
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    let code: u16 = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("malformed status line {status:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    let body = String::from_utf8(body).map_err(|_| "the answer is not UTF-8")?;
    if !(200..300).contains(&code) {
        return Err(format!("HTTP status {code}: {}", body.trim()));
    }
    Ok(body)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("malformed chunked body")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "malformed chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err("truncated chunked body".into());
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

fn sdl_from_body(body: &str) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    if let Some(sdl) = v.pointer("/data/_service/sdl").and_then(|s| s.as_str()) {
        return Ok(sdl.to_owned());
    }
    let errors = v
        .get("errors")
        .map(|e| e.to_string())
        .unwrap_or_else(|| "no data._service.sdl in the answer".into());
    Err(format!("the subgraph did not return its SDL: {errors}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("http://localhost:4001/graphql").unwrap(),
            ("localhost".into(), 4001, "/graphql".into())
        );
        assert_eq!(
            split_url("http://example.com").unwrap(),
            ("example.com".into(), 80, "/".into())
        );
        assert!(split_url("https://example.com").is_err());
    }

    #[test]
    fn reads_plain_and_chunked_responses() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"data\":{\"_service\":{\"sdl\":\"type Query { a: Int }\"}}}";
        let body = parse_response(plain).unwrap();
        assert_eq!(sdl_from_body(&body).unwrap(), "type Query { a: Int }");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), "hello world");
        let failed = b"HTTP/1.1 500 Internal Server Error\r\n\r\noops";
        assert!(parse_response(failed).is_err());
    }
}
