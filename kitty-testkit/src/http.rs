//! A minimal HTTP/1.1 server on loopback for the fakes: keep-alive, `Content-Length` bodies, and
//! each answer sent in one write with `TCP_NODELAY` (so no answer waits on a delayed ACK).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request, body read in full.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Lower-case names.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// What the handler answers: status, JSON body, and a delay before answering.
pub(crate) type Answer = (u16, String, Duration);

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(
        handler: impl Fn(Request) -> Answer + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (stop, handler) = (stop.clone(), handler.clone());
                            std::thread::spawn(move || serve(stream, &*handler, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &(impl Fn(Request) -> Answer + ?Sized), stop: &AtomicBool) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while !stop.load(Ordering::Relaxed) {
        let request = match read_request(&mut reader, stop) {
            Some(r) => r,
            None => return,
        };
        let close = request
            .headers
            .iter()
            .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"));
        let (status, body, delay) = handler(request);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            reason(status),
            body.len()
        );
        let mut message = head.into_bytes();
        message.extend_from_slice(body.as_bytes());
        if writer.write_all(&message).is_err() || close {
            return;
        }
    }
}

/// The next request on a connection; `None` when the peer is gone (or the server stops).
fn read_request(reader: &mut BufReader<TcpStream>, stop: &AtomicBool) -> Option<Request> {
    let mut line = String::new();
    loop {
        match reader.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) if line.trim().is_empty() => line.clear(),
            Ok(_) => break,
            Err(e) if is_timeout(&e) => {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let mut read = 0;
    while read < length {
        match reader.read(&mut body[read..]) {
            Ok(0) => return None,
            Ok(n) => read += n,
            Err(e) if is_timeout(&e) => {}
            Err(_) => return None,
        }
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// The socket's read timeout expired (the peer is slow, not gone).
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that echoes what it parsed, answering with the status given in the path.
    fn echo() -> Server {
        Server::start(|req: Request| {
            let status: u16 = req.target.trim_start_matches('/').parse().unwrap_or(200);
            let headers: Vec<String> = req
                .headers
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let body = format!(
                "{} {} [{}] {}",
                req.method,
                req.target,
                headers.join(","),
                String::from_utf8_lossy(&req.body)
            );
            let delay = if req.target == "/slow" {
                Duration::from_millis(50)
            } else {
                Duration::ZERO
            };
            (status, body, delay)
        })
        .unwrap()
    }

    /// Read one answer: the status line, and the body by its Content-Length.
    fn answer(reader: &mut BufReader<TcpStream>) -> (String, String) {
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let mut length = 0;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            if h.trim_end().is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (
            status.trim_end().to_string(),
            String::from_utf8(body).unwrap(),
        )
    }

    /// A connection to `server`: its writing half and a reader of its answers.
    fn open(server: &Server) -> (TcpStream, BufReader<TcpStream>) {
        let stream = TcpStream::connect(server.addr).unwrap();
        (stream.try_clone().unwrap(), BufReader::new(stream))
    }

    #[test]
    fn requests_on_one_connection_are_parsed_and_answered_in_turn() {
        let server = echo();
        let (mut writer, mut reader) = open(&server);
        writer
            .write_all(b"\r\nPOST /a?x=1 HTTP/1.1\r\nX-Kitty:  v 1 \r\nContent-Length: 5\r\n\r\nhelloGET /404 HTTP/1.1\r\n\r\n")
            .unwrap();
        assert_eq!(
            answer(&mut reader),
            (
                "HTTP/1.1 200 OK".into(),
                "POST /a?x=1 [x-kitty=v 1,content-length=5] hello".into()
            )
        );
        assert_eq!(
            answer(&mut reader),
            ("HTTP/1.1 404 Not Found".into(), "GET /404 [] ".into())
        );
        writer
            .write_all(b"GET /slow HTTP/1.1\r\nConnection: Close\r\n\r\n")
            .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(answer(&mut reader).0, "HTTP/1.1 200 OK");
        assert!(
            started.elapsed() >= Duration::from_millis(50),
            "the delay is applied"
        );
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert!(
            rest.is_empty(),
            "the connection closes after a `Connection: close` answer"
        );
    }

    #[test]
    fn only_connection_close_closes_and_an_idle_connection_stays_open() {
        let server = echo();
        let (mut writer, mut reader) = open(&server);
        // `keep-alive`, and `close` as another header's value, keep the connection...
        writer
            .write_all(b"GET /a HTTP/1.1\r\nConnection: keep-alive\r\nX-Note: close\r\n\r\n")
            .unwrap();
        assert_eq!(answer(&mut reader).0, "HTTP/1.1 200 OK");
        // ...and so does idling longer than the server's 200 ms read timeout.
        std::thread::sleep(Duration::from_millis(300));
        writer.write_all(b"GET /b HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(
            answer(&mut reader),
            ("HTTP/1.1 200 OK".into(), "GET /b [] ".into())
        );
    }

    #[test]
    fn a_slow_body_is_waited_for() {
        let server = echo();
        let (mut writer, mut reader) = open(&server);
        writer
            .write_all(b"POST /b HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
            .unwrap();
        // Longer than the server's 200 ms read timeout.
        std::thread::sleep(Duration::from_millis(300));
        writer.write_all(b"cd").unwrap();
        assert_eq!(answer(&mut reader).1, "POST /b [content-length=4] abcd");
    }

    #[test]
    fn a_dropped_server_stops_listening() {
        let server = echo();
        let addr = server.addr;
        TcpStream::connect(addr).unwrap();
        drop(server);
        assert!(TcpStream::connect(addr).is_err());
    }

    #[test]
    fn each_status_has_its_reason_phrase() {
        let phrases: Vec<&str> = [200, 400, 401, 403, 404, 500, 502, 503, 418]
            .map(reason)
            .to_vec();
        assert_eq!(
            phrases,
            [
                "OK",
                "Bad Request",
                "Unauthorized",
                "Forbidden",
                "Not Found",
                "Internal Server Error",
                "Bad Gateway",
                "Service Unavailable",
                "Status"
            ]
        );
    }

    #[test]
    fn a_malformed_request_closes_the_connection() {
        let server = echo();
        for garbage in [
            &b"GET\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nshort",
            // Not UTF-8: the connection is dropped, and the request after it never answered.
            b"\xff\xfe\r\nGET / HTTP/1.1\r\n\r\n",
        ] {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            stream.write_all(garbage).unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            let mut out = Vec::new();
            stream.read_to_end(&mut out).unwrap();
            assert!(
                out.is_empty(),
                "{:?} got {:?}",
                String::from_utf8_lossy(garbage),
                String::from_utf8_lossy(&out)
            );
        }
    }
}
