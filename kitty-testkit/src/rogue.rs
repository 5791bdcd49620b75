//! `RogueServer`: a loopback "hosted service" that misbehaves at the HTTP level, for fault tests.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// How a [`RogueServer`] answers every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Accept, read the request, never answer.
    Hang,
    /// Accept, then close the connection without a word.
    Reset,
    /// Answer bytes that are not HTTP.
    Garbage,
    /// `200 OK` with a 64 MiB body.
    HugeBody,
    /// Send the status line and headers one byte every 50 ms.
    SlowHeaders,
    /// `302` to itself, forever.
    RedirectLoop,
    /// `200 OK` with an HTML page.
    WrongContentType,
}

impl Misbehaviour {
    /// Every misbehaviour.
    pub const ALL: [Misbehaviour; 7] = [
        Self::Hang,
        Self::Reset,
        Self::Garbage,
        Self::HugeBody,
        Self::SlowHeaders,
        Self::RedirectLoop,
        Self::WrongContentType,
    ];
}

/// A server on `127.0.0.1:<OS port>` that answers every request with one [`Misbehaviour`].
/// Dropping it stops it (a hanging connection is released).
///
/// ```
/// use kitty_testkit::{Misbehaviour, RogueServer};
/// let rogue = RogueServer::start(Misbehaviour::Garbage);
/// assert!(rogue.url().starts_with("http://127.0.0.1:"));
/// assert_eq!(rogue.connections(), 0);
/// ```
#[derive(Debug)]
pub struct RogueServer {
    url: String,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
}

impl RogueServer {
    /// Start it.
    pub fn start(how: Misbehaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let url = format!("http://{addr}");
        {
            let (stop, connections, url) = (stop.clone(), connections.clone(), url.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::Relaxed);
                            let (stop, url) = (stop.clone(), url.clone());
                            std::thread::spawn(move || serve(stream, how, &stop, &url));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        Self {
            url,
            stop,
            connections,
        }
    }

    /// The base URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for RogueServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(stream: &mut TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 65536];
    let mut seen = Vec::new();
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                break;
            }
        }
    }
}

fn serve(mut stream: TcpStream, how: Misbehaviour, stop: &AtomicBool, url: &str) {
    read_request(&mut stream);
    let _ = match how {
        Misbehaviour::Hang => {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(())
        }
        Misbehaviour::Reset => Ok(()),
        Misbehaviour::Garbage => stream.write_all(b"\x00\x01NOT HTTP AT ALL\r\n\r\n\xff\xfe garbage"),
        Misbehaviour::HugeBody => {
            let size = 64 * 1024 * 1024;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
            );
            let chunk = vec![b' '; 1024 * 1024];
            stream.write_all(head.as_bytes()).and_then(|()| {
                for _ in 0..64 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    stream.write_all(&chunk)?;
                }
                Ok(())
            })
        }
        Misbehaviour::SlowHeaders => {
            let answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
            let mut result = Ok(());
            for b in answer {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                result = stream.write_all(&[*b]);
                if result.is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            result
        }
        Misbehaviour::RedirectLoop => stream.write_all(
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {url}/api/v1/events/batch/\r\nContent-Length: 0\r\n\r\n"
            )
            .as_bytes(),
        ),
        Misbehaviour::WrongContentType => {
            let body = "<html><body>Welcome to the captive portal</body></html>";
            stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
        }
    };
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    const GARBAGE: &[u8] = b"\x00\x01NOT HTTP AT ALL\r\n\r\n\xff\xfe garbage";

    fn connect(rogue: &RogueServer) -> TcpStream {
        let stream = TcpStream::connect(rogue.url().trim_start_matches("http://")).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
    }

    fn wait_for(done: impl FnMut() -> bool) -> bool {
        crate::poll::poll_until(Duration::from_secs(5), done)
    }

    #[test]
    fn it_answers_only_after_the_whole_request_and_counts_connections() {
        let rogue = RogueServer::start(Misbehaviour::Garbage);
        let mut stream = connect(&rogue);
        stream
            .write_all(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
            .unwrap();
        // Half the body is missing: no answer yet.
        stream
            .set_read_timeout(Some(Duration::from_millis(150)))
            .unwrap();
        let mut byte = [0u8; 1];
        assert!(
            stream.read(&mut byte).is_err(),
            "answered before the body arrived"
        );
        stream.write_all(b"cd").unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        assert_eq!(answer, GARBAGE);
        let _second = connect(&rogue);
        assert!(
            wait_for(|| rogue.connections() == 2),
            "{} connections",
            rogue.connections()
        );
    }

    #[test]
    fn a_request_cut_short_is_still_answered() {
        let rogue = RogueServer::start(Misbehaviour::Garbage);
        let mut stream = connect(&rogue);
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x").unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        assert_eq!(answer, GARBAGE);
    }

    #[test]
    fn dropping_the_server_releases_a_hanging_connection() {
        let rogue = RogueServer::start(Misbehaviour::Hang);
        let mut stream = connect(&rogue);
        stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert!(wait_for(|| rogue.connections() == 1));
        drop(rogue);
        let mut rest = Vec::new();
        stream
            .read_to_end(&mut rest)
            .expect("closed, not left hanging");
        assert!(rest.is_empty());
    }
}
